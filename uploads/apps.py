from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Uploads"

    def ready(self) -> None:
        from . import checks, events, field_checks  # noqa: F401  (system checks, signal receivers)
        from .processing import checks as processing_checks  # noqa: F401
