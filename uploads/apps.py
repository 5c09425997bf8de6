from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Uploads"

    def ready(self) -> None:
        from . import checks, field_checks  # noqa: F401  (registers the system checks)
