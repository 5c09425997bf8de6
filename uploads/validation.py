"""Input rules and naming decisions: file names, object keys, types, sizes, ACLs.

Pure functions over values and settings: no database, no network. Every object key the app
writes, sweeps or signs a rule for is built here, so the layout is decided in one place.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import mimetypes
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from django.conf import settings
from django.utils.http import content_disposition_header

from .errors import (
    ContentTypeNotAllowed,
    InvalidChecksum,
    InvalidContentType,
    InvalidFilename,
    InvalidSize,
    ObjectEmpty,
    ObjectInvalid,
    ObjectSizeMismatch,
    ObjectTooLarge,
    ObjectTypeMismatch,
    UploadTooLarge,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_DISPLAY_NAME = 255
MAX_KEY_NAME = 120
_MIME_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
MIME_TYPE_PATTERN = re.compile(rf"{_MIME_TOKEN}/{_MIME_TOKEN}")
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


# --- Names ------------------------------------------------------------------------------------


def clean_filename(filename: str) -> str:
    """Return the name to show and to download as: no path, no control characters, <= 255 chars."""
    name = unicodedata.normalize("NFC", filename or "")
    # Control, format (e.g. right-to-left override), surrogate and unassigned characters go.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.split(r"[/\\]", name)[-1].strip()
    if name in {"", ".", ".."}:
        raise InvalidFilename(f"The file name {filename[:80]!r} is empty or not usable.")
    return _truncate_keeping_suffix(name, MAX_DISPLAY_NAME)


def key_filename(display_name: str) -> str:
    """Return an ASCII-only name for the object key, readable in S3 listings."""
    stem, suffix = (_ascii_key_part(part) for part in _split_suffix(display_name))
    # A name with no ASCII letters at all (e.g. Cyrillic) still keeps its extension.
    return _truncate_keeping_suffix((stem or "file") + (f".{suffix}" if suffix else ""), MAX_KEY_NAME)


def _ascii_key_part(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _UNSAFE_KEY_CHARS.sub("-", ascii_text).strip(".-_")


def _split_suffix(name: str) -> tuple[str, str]:
    suffix = PurePosixPath(name).suffix
    if len(suffix) > 16 or suffix == name:
        return name, ""
    return name[: len(name) - len(suffix)], suffix


def _truncate_keeping_suffix(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, suffix = _split_suffix(name)
    return stem[: limit - len(suffix)] + suffix


# --- Object keys ------------------------------------------------------------------------------


def uploads_root() -> str:
    """The key prefix every upload lives under (`UPLOADS_KEY_PREFIX`), with its trailing slash.

    Cleanup's orphan sweep and the bucket's lifecycle rule cover exactly this prefix.
    """
    return _clean_path(settings.UPLOADS_KEY_PREFIX) + "/"


def upload_folder(upload_id: uuid.UUID | str, *, prefix: str | None = None) -> str:
    """Return `<root>/[<prefix>/]<upload id>/`: the folder that holds one upload's object.

    A caller's `prefix` nests under the uploads root (unless it already starts with it), so
    every upload stays where cleanup and the lifecycle rule can see it.
    """
    root = uploads_root()
    nested = _clean_path(prefix or "")
    if nested and not (nested + "/").startswith(root):
        nested = root + nested
    return f"{nested or root.rstrip('/')}/{upload_id}/"


def folder_of(key: str, upload_id: uuid.UUID | str) -> str | None:
    """The upload's own folder, if `key` is in one (`…/<upload id>/name`); else None.

    Only such a folder is ever deleted whole: it holds that upload's objects and nothing else.
    """
    folder, _, _name = key.rpartition("/")
    return folder + "/" if folder.rsplit("/", 1)[-1] == str(upload_id) else None


def object_key(upload_id: uuid.UUID | str, filename: str, *, prefix: str | None = None) -> str:
    """Return the key of an upload's object: its folder, then an ASCII form of its name."""
    return upload_folder(upload_id, prefix=prefix) + key_filename(filename)


# Files the server derives from an upload (thumbnails) live in its folder, under this name, so
# deleting the folder deletes them and the orphan sweep can tell them from strays.
DERIVED_FOLDER = "_derived"


def derived_key(key: str, upload_id: uuid.UUID | str, name: str) -> str | None:
    """The key of a file derived from an upload, e.g. `<folder>/_derived/thumbnail.webp`.

    None for an upload outside a folder of its own (an old or external key): nothing is derived
    where deleting the upload would not delete it too.
    """
    folder = folder_of(key, upload_id)
    return f"{folder}{DERIVED_FOLDER}/{name}" if folder else None


# Every file the server derives from an upload, by name: deleting an upload deletes these keys
# with its own, without listing its folder.
DERIVED_NAMES = ("thumbnail.webp",)


def derived_keys(key: str, upload_id: uuid.UUID | str) -> list[str]:
    """The keys of every derived file an upload may have (those it lacks cost nothing to delete)."""
    return [derived for name in DERIVED_NAMES if (derived := derived_key(key, upload_id, name))]


def derived_owner_folder(key: str) -> str | None:
    """For a derived file's key, the folder of the upload it belongs to; else None."""
    folder, _, _name = key.rpartition("/")
    parent, _, last = folder.rpartition("/")
    return parent + "/" if last == DERIVED_FOLDER and parent else None


def _clean_path(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    if any(part in {".", ".."} for part in parts):
        raise InvalidFilename(f"The key prefix {path!r} may not contain '.' or '..'.")
    return "/".join(parts)


# --- Checksums --------------------------------------------------------------------------------


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


# --- Types ------------------------------------------------------------------------------------


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


# --- Sizes ------------------------------------------------------------------------------------


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


# S3 takes at most 5 GB in one POST or PUT; larger files need a multipart upload.
S3_MAX_SINGLE_UPLOAD = 5 * 1024**3


def single_upload_limit() -> int:
    """The largest file one POST may carry: the site's limit, within S3's (the no-JavaScript form)."""
    return min(settings.UPLOADS_MAX_FILE_SIZE, S3_MAX_SINGLE_UPLOAD)


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


# --- Access -----------------------------------------------------------------------------------


def acl_for(public: bool) -> str:
    """Return the canned ACL for a new object ("" for buckets with ACLs disabled)."""
    return "public-read" if public else settings.UPLOADS_PRIVATE_ACL
