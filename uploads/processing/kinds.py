"""Which uploads are processed, and as what: the one place that maps types to processors."""

from __future__ import annotations

from django.conf import settings

# Raster types Pillow reads safely; SVG never (it is a document that can carry script).
IMAGE_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "image/avif",
}


def kind_of(content_type: str, size: int | None = None) -> str | None:
    """ "image", "pdf", "video", "audio", or None when there is nothing to do for this file."""
    if size is not None and size > settings.UPLOADS_PROCESSING_MAX_SIZE:
        return None
    content_type = content_type.split(";")[0].strip().lower()
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type == "application/pdf":
        return "pdf"
    if content_type.startswith("video/"):
        return "video"
    if content_type.startswith("audio/"):
        return "audio"
    return None
