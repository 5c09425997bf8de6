from django.apps import AppConfig


class ExamplesConfig(AppConfig):
    """The README's example of `UploadField`, wired into the site so it runs for real."""

    name = "project.examples"
    label = "examples"
    verbose_name = "Examples"
    default_auto_field = "django.db.models.BigAutoField"
