"""What each user stores and may still store: usage, and the quotas checked when an upload starts."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from .errors import QuotaExceeded, TooManyPending
from .models import Upload


@dataclass(frozen=True)
class UploadUsage:
    """What a user stores (or has reserved with pending uploads) against the limits; 0 = no limit."""

    bytes_used: int
    bytes_limit: int
    pending: int
    pending_limit: int


def upload_usage(*, owner) -> UploadUsage:
    """Return what `owner` stores and has pending, with the limits (one query)."""
    usage = Upload.objects.owned_by(owner).usage()
    return UploadUsage(
        bytes_used=usage["bytes"],
        bytes_limit=settings.UPLOADS_QUOTA_BYTES,
        pending=usage["pending"],
        pending_limit=settings.UPLOADS_QUOTA_PENDING,
    )


def require_room(*, owner, size: int, pending: bool = True) -> None:
    """Refuse a file of `size` bytes that `owner` has no room for (and, with `pending`, a new pending upload).

    One query. Two uploads started at the same instant may both fit where only one does: the
    rate limit bounds how far that can go.
    """
    if not (settings.UPLOADS_QUOTA_BYTES or settings.UPLOADS_QUOTA_PENDING):
        return
    usage = upload_usage(owner=owner)
    if pending and usage.pending_limit and usage.pending >= usage.pending_limit:
        raise TooManyPending(
            f"{usage.pending} uploads are pending; at most {usage.pending_limit} may be at once. "
            "Complete or cancel some first."
        )
    if usage.bytes_limit and usage.bytes_used + size > usage.bytes_limit:
        raise QuotaExceeded(
            f"This file needs {size} bytes and {usage.bytes_used} of your {usage.bytes_limit} bytes "
            f"are used; {max(usage.bytes_limit - usage.bytes_used, 0)} are left."
        )
