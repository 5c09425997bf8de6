"""Names and object keys: the name shown for a file, and every key the app writes, sweeps or
signs a rule for (`<UPLOADS_KEY_PREFIX>/[<prefix>/]<upload id>/<ascii name>`), decided here once.

Pure functions over values and settings: no database, no network.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from pathlib import PurePosixPath

from django.conf import settings

from .errors import InvalidFilename

MAX_DISPLAY_NAME = 255
MAX_KEY_NAME = 120
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
