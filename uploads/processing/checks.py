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


@checks.register(checks.Tags.compatibility)
def check_scanner(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """UPLOADS_SCANNER names a scanner this site has, reachable by a socket it was given."""
    problems = []
    if settings.UPLOADS_SCANNER not in ("none", "clamav"):
        problems.append(
            checks.Error(
                f"UPLOADS_SCANNER is {settings.UPLOADS_SCANNER!r}.",
                hint='Set it to "none" or "clamav".',
                id="uploads.E041",
            )
        )
    if settings.UPLOADS_CLAMD_SOCKET and settings.UPLOADS_CLAMD_ADDRESS:
        problems.append(
            checks.Error(
                "UPLOADS_CLAMD_SOCKET and UPLOADS_CLAMD_ADDRESS are both set.",
                hint="Set one: a unix socket path, or host:port.",
                id="uploads.E042",
            )
        )
    if settings.UPLOADS_CLAMD_ADDRESS and not settings.UPLOADS_CLAMD_ADDRESS.rpartition(":")[2].isdigit():
        problems.append(
            checks.Error(
                f"UPLOADS_CLAMD_ADDRESS is {settings.UPLOADS_CLAMD_ADDRESS!r}.",
                hint="Write it as host:port, e.g. clamav:3310.",
                id="uploads.E043",
            )
        )
    if settings.UPLOADS_SCAN_TIMEOUT <= 0:
        problems.append(checks.Error("UPLOADS_SCAN_TIMEOUT must be positive.", id="uploads.E044"))
    if settings.UPLOADS_SCAN_MAX_SIZE <= 0:
        problems.append(checks.Error("UPLOADS_SCAN_MAX_SIZE must be positive.", id="uploads.E045"))
    elif (
        settings.UPLOADS_SCANNER != "none" and settings.UPLOADS_SCAN_MAX_SIZE < settings.UPLOADS_MAX_FILE_SIZE
    ):
        problems.append(
            checks.Warning(
                f"Uploads larger than UPLOADS_SCAN_MAX_SIZE ({settings.UPLOADS_SCAN_MAX_SIZE} bytes) are "
                f"accepted (UPLOADS_MAX_FILE_SIZE is {settings.UPLOADS_MAX_FILE_SIZE}) but never scanned, "
                "so never served.",
                hint="Raise clamd's StreamMaxLength and UPLOADS_SCAN_MAX_SIZE with it, or lower UPLOADS_MAX_FILE_SIZE.",
                id="uploads.W046",
            )
        )
    return problems
