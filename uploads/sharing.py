"""Share links: a presigned GET for a chosen time, capped at UPLOADS_URL_MAX_EXPIRATION, served
as an attachment unless the file's type is safe inline (`services.upload_download_url` decides).
"""

from __future__ import annotations

from django.conf import settings

from .models import Upload
from .services import DownloadUrl, upload_download_url

# Lifetimes a share link may have, before the cap of UPLOADS_URL_MAX_EXPIRATION.
SHARE_LIFETIMES = ((3600, "1 hour"), (86400, "1 day"), (7 * 86400, "7 days"))


def share_lifetimes() -> list[tuple[int, str]]:
    """Return the share link lifetimes on offer: the usual ones, capped at the longest allowed."""
    cap = settings.UPLOADS_URL_MAX_EXPIRATION
    offered = [(seconds, label) for seconds, label in SHARE_LIFETIMES if seconds <= cap]
    if cap not in (seconds for seconds, _label in offered) and len(offered) < len(SHARE_LIFETIMES):
        offered.append((cap, _duration_label(cap)))
    return offered


def _duration_label(seconds: int) -> str:
    for unit, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= unit and seconds % unit == 0:
            count = seconds // unit
            return f"{count} {name}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def upload_share_url(*, upload: Upload, expires_in: int) -> DownloadUrl:
    """Return a link anyone may use until it expires (at most UPLOADS_URL_MAX_EXPIRATION).

    It shows the file in the browser only if its type is inline-safe; else it downloads.
    """
    return upload_download_url(upload=upload, expires_in=min(expires_in, settings.UPLOADS_URL_MAX_EXPIRATION))
