"""How a stored file reaches a browser: who may read it (the ACL of a new object), inline or
attachment, and the type it is served as, for every URL handed out. Pure functions."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from django.conf import settings
from django.utils.http import content_disposition_header

from .content_types import DEFAULT_CONTENT_TYPE

# --- Access ----------------------------------------------------------------------------------


def acl_for(public: bool) -> str:
    """Return the canned ACL for a new object ("" for buckets with ACLs disabled)."""
    return "public-read" if public else settings.UPLOADS_PRIVATE_ACL


def pinned_headers(*, content_type: str, filename: str, public: bool) -> dict[str, str]:
    """What every signed upload of a new object pins besides its key: its type, its ACL and its
    Content-Disposition, stored with the object so even its plain URL never shows a
    script-capable file inline. For the policy, the PUT, and CreateMultipartUpload alike."""
    return {
        "content_type": content_type,
        "acl": acl_for(public),
        "content_disposition": serving_for(content_type, filename).disposition,
    }


# --- Serving ----------------------------------------------------------------------------------

# Types a browser renders with script, or as a document that can carry it: never inline, whatever
# UPLOADS_INLINE_TYPES says, and served as octet-stream so the browser won't sniff them into HTML.
SCRIPT_CAPABLE_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "*+xml",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "text/xsl",
    "multipart/x-mixed-replace",
)
# Bitmap formats: browsers decode them, never run them. Thumbnails are shown only for these.
RASTER_IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/x-icon"}
)


@dataclass(frozen=True)
class Serving:
    """How a stored object is handed to a browser: the response's type and disposition."""

    content_type: str
    disposition: str


def _matches(content_type: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(content_type, pattern.lower()) for pattern in patterns)


def is_script_capable(content_type: str) -> bool:
    """Whether a browser would run script in a file of this type (HTML, SVG, XML, JavaScript)."""
    return _matches(content_type, SCRIPT_CAPABLE_TYPES)


def serves_inline(content_type: str) -> bool:
    """Whether a file of this type may be shown in the browser (never a script-capable one)."""
    return _matches(content_type, settings.UPLOADS_INLINE_TYPES) and not is_script_capable(content_type)


def serving_for(content_type: str, filename: str, *, download: bool = False) -> Serving:
    """Return the type and disposition of every URL we hand out for a file.

    Only an inline-safe type is served inline (and only when not downloading); anything else
    is an attachment, and a script-capable type is served as octet-stream.
    """
    inline = not download and serves_inline(content_type)
    if is_script_capable(content_type):
        content_type = DEFAULT_CONTENT_TYPE
    return Serving(content_type, content_disposition_header(not inline, filename))


def is_raster_image(content_type: str) -> bool:
    return content_type in RASTER_IMAGE_TYPES
