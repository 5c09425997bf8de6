"""The size and type rules of an upload: the size range a policy allows, and what is wrong, if
anything, with a stored object for the upload that expected it (`inspection.inspect()` calls it).
Pure functions over values and settings."""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

from django.conf import settings

from .content_types import clean_content_type
from .errors import (
    InvalidChecksum,
    InvalidContentType,
    InvalidSize,
    ObjectEmpty,
    ObjectInvalid,
    ObjectSizeMismatch,
    ObjectTooLarge,
    ObjectTypeMismatch,
    UploadTooLarge,
)
from .s3 import limits


def size_range(*, size: int | None, max_size: int | None) -> tuple[int, int]:
    """Return the (min, max) bytes a policy allows: the exact declared size, or 1..the limit."""
    limit = settings.UPLOADS_MAX_FILE_SIZE
    for value in (size, max_size):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            raise InvalidSize(f"The size must be a positive number of bytes, not {value!r}.")
    if size is not None:
        if size > limit or (max_size is not None and size > max_size):
            raise UploadTooLarge(
                f"The file is {size} bytes; at most {min(limit, max_size or limit)} are allowed."
            )
        return size, size
    if max_size is not None and max_size > limit:
        raise UploadTooLarge(f"The largest file allowed is {limit} bytes, not {max_size}.")
    return 1, max_size or limit


def single_upload_limit() -> int:
    """The largest file one POST may carry: the site's limit, within S3's (the no-JavaScript form)."""
    return min(settings.UPLOADS_MAX_FILE_SIZE, limits.MAX_SINGLE_UPLOAD)


class Expected(Protocol):
    """What an upload promised: a record, or a row claimed by cleanup."""

    max_size: int
    expected_size: int | None
    content_type: str


def size_problem(*, size: int, max_size: int) -> ObjectInvalid | None:
    if size > max_size:
        return ObjectTooLarge(f"The stored file is {size} bytes; at most {max_size} are allowed.")
    if size == 0:
        return ObjectEmpty()
    return None


def object_problem(expected: Expected, *, size: int, content_type: str) -> ObjectInvalid | None:
    """What is wrong with a stored object for an upload that expected `expected`, if anything."""
    problem = size_problem(size=size, max_size=expected.max_size)
    if problem is not None:
        return problem
    if expected.expected_size is not None and size != expected.expected_size:
        # The policy pinned it; a store that didn't enforce that still gets no truncated file.
        return ObjectSizeMismatch(
            f"The stored file is {size} bytes, not the {expected.expected_size} declared."
        )
    try:
        stored_type = clean_content_type(content_type)
    except InvalidContentType:
        stored_type = content_type
    if stored_type != expected.content_type:
        return ObjectTypeMismatch(
            f"The stored file is {stored_type or 'untyped'}, not {expected.content_type}."
        )
    return None


def clean_checksum(checksum: str, *, name: str = "checksum_sha256") -> str:
    """A declared SHA-256, as S3 writes it: base64 of the 32-byte digest; "" when none was declared."""
    checksum = (checksum or "").strip()
    if not checksum:
        return ""
    try:
        digest = base64.b64decode(checksum, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise InvalidChecksum(f"{name} must be the base64 of a SHA-256 digest (44 characters).")
    return checksum
