"""System checks of the processing settings (registered by UploadsConfig.ready)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility, deploy=True)
def check_broker(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: the embedded broker is one machine's SQLite file."""
    if settings.CELERY_BROKER_URL.startswith(("embedded+", "sqla+")):
        return [
            checks.Warning(
                "CELERY_BROKER_URL is not set: tasks queue in a SQLite file on this machine, which "
                "workers on other machines never see.",
                hint="Set CELERY_BROKER_URL to Redis or RabbitMQ, e.g. redis://redis:6379/1.",
                id="uploads.W040",
            )
        ]
    return []
