"""What processing left on an upload, as the API, the page and the admin show it."""

from __future__ import annotations

from django.conf import settings

from ..models import Processing, Upload
from ..s3 import S3Client

# The keys each kind of file may have in `metadata`: the contract shows only these.
PUBLIC_METADATA = ("width", "height", "pages", "duration")


def thumbnail_out(upload: Upload, *, client: S3Client | None = None) -> dict | None:
    """The thumbnail with a short presigned GET URL, or None (signing is local: no request to S3)."""
    thumbnail = upload.thumbnail
    if not thumbnail or upload.status != Upload.Status.COMPLETE or upload.processing != Processing.DONE:
        return None
    url = (client or S3Client()).presigned_get_url(
        key=thumbnail["key"],
        expires_in=settings.UPLOADS_THUMBNAIL_URL_EXPIRATION,
    )
    return {
        "url": url,
        "width": thumbnail["width"],
        "height": thumbnail["height"],
        "content_type": thumbnail["content_type"],
    }


def metadata_out(upload: Upload) -> dict:
    return {key: upload.metadata[key] for key in PUBLIC_METADATA if key in (upload.metadata or {})}


def metadata_summary(metadata: dict) -> str:
    """A few words for people: "640×480", "3 pages", "0:03", "1920×1080 · 1:02:05"."""
    words = []
    if "width" in metadata and "height" in metadata:
        words.append(f"{metadata['width']}×{metadata['height']}")
    if "pages" in metadata:
        words.append(f"{metadata['pages']} page{'s' if metadata['pages'] != 1 else ''}")
    if "duration" in metadata:
        seconds = round(metadata["duration"])
        hours, rest = divmod(seconds, 3600)
        words.append(f"{hours}:{rest // 60:02}:{rest % 60:02}" if hours else f"{rest // 60}:{rest % 60:02}")
    return " · ".join(words)
