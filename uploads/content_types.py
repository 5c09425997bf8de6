"""Declared content types: their syntax, the type a file gets by its name, and the site's allowed
patterns (`UPLOADS_ALLOWED_CONTENT_TYPES`). What the bytes say is `content.py`'s."""

from __future__ import annotations

import fnmatch
import mimetypes
import re

from django.conf import settings

from .errors import ContentTypeNotAllowed, InvalidContentType

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_MIME_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
MIME_TYPE_PATTERN = re.compile(rf"{_MIME_TOKEN}/{_MIME_TOKEN}")


def clean_content_type(content_type: str) -> str:
    """Return the bare, lower-case MIME type (no parameters); an empty type is octet-stream."""
    bare = (content_type or "").split(";")[0].strip().lower()
    if not bare:
        return DEFAULT_CONTENT_TYPE
    if not MIME_TYPE_PATTERN.fullmatch(bare):
        raise InvalidContentType(f"{content_type[:80]!r} is not a valid content type.")
    return bare


def guess_content_type(filename: str) -> str:
    """Return the type the server assigns a file by its name (when the client can't declare one)."""
    return mimetypes.guess_type(filename)[0] or DEFAULT_CONTENT_TYPE


def require_allowed_type(content_type: str) -> None:
    if not any(
        fnmatch.fnmatchcase(content_type, pattern.lower())
        for pattern in settings.UPLOADS_ALLOWED_CONTENT_TYPES
    ):
        raise ContentTypeNotAllowed(f"Files of type {content_type} are not accepted.")
