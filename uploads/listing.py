"""A user's list of uploads: search, type families, sort, pages, and the fingerprint the page polls."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q

from . import quotas
from .errors import InvalidPage
from .models import Upload

# Past this page a list's OFFSET overflows the database's integers (SQLite, PostgreSQL's bigint);
# no one has 100,000 pages of uploads.
MAX_PAGE = 100_000


def upload_page_start(page: int, page_size: int) -> int:
    """Return the offset of a list page; a page past MAX_PAGE is refused (422), never a database overflow."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidPage(f"The page must be between 1 and {MAX_PAGE}.")
    return (page - 1) * page_size


# Type families the list filters by: MIME patterns, matched as prefixes or whole types.
TYPE_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "image": ("Images", ("image/",)),
    "video": ("Video", ("video/",)),
    "audio": ("Audio", ("audio/",)),
    "document": (
        "Documents",
        (
            "application/pdf",
            "text/",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.",
            "application/vnd.oasis.opendocument.",
            "application/vnd.ms-",
            "application/rtf",
            "application/json",
        ),
    ),
    "archive": (
        "Archives",
        (
            "application/zip",
            "application/x-tar",
            "application/gzip",
            "application/x-gzip",
            "application/x-7z-compressed",
            "application/x-bzip2",
            "application/x-xz",
            "application/vnd.rar",
            "application/x-rar-compressed",
        ),
    ),
}
OTHER_FAMILY = "other"
# The list's sort orders; the id keeps pages stable when the first key ties, and makes every
# order total, as keyset pagination needs (uploads/cursors.py). Each has an index (models.py).
# Uploads without a size yet (pending) sort last either way.
LIST_ORDERINGS: dict[str, tuple[Any, ...]] = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("original_filename", "id"),
    "-name": ("-original_filename", "-id"),
    "-size": (F("size").desc(nulls_last=True), "-id"),
    "size": (F("size").asc(nulls_last=True), "id"),
}


def _is_prefix(pattern: str) -> bool:
    return pattern.endswith(("/", ".", "-"))


def family_q(family: str) -> Q:
    """The uploads of a type family (a key of TYPE_FAMILIES, or "other")."""
    if family == OTHER_FAMILY:
        return ~_anyfamily_q()
    q = Q()
    for pattern in TYPE_FAMILIES[family][1]:
        q |= Q(content_type__startswith=pattern) if _is_prefix(pattern) else Q(content_type=pattern)
    return q


def _anyfamily_q() -> Q:
    q = Q()
    for family in TYPE_FAMILIES:
        q |= family_q(family)
    return q


def type_family(content_type: str) -> str:
    """Return the family a type belongs to (a key of TYPE_FAMILIES, or "other")."""
    for family, (_label, patterns) in TYPE_FAMILIES.items():
        for pattern in patterns:
            if content_type == pattern or (_is_prefix(pattern) and content_type.startswith(pattern)):
                return family
    return OTHER_FAMILY


def upload_list(
    *, owner=None, status: str | None = None, search: str = "", family: str = "", sort: str = "-created"
):
    """Return uploads (`owner`'s, when given) matching a name, status and type family, sorted."""
    uploads = Upload.objects.all() if owner is None else Upload.objects.owned_by(owner)
    if status:
        uploads = uploads.filter(status=status)
    if search:
        uploads = uploads.filter(original_filename__icontains=search)
    if family:
        uploads = uploads.filter(family_q(family))
    return uploads.order_by(*LIST_ORDERINGS.get(sort, LIST_ORDERINGS["-created"]))


def upload_list_version(*, owner) -> str:
    """A short fingerprint of `owner`'s list that changes when a row appears, changes or goes.

    The page polls it and reloads the list only when it changed. It is the version on the user's
    usage row, bumped in the transaction of each insert, status change and delete
    (`uploads.lifecycle`) and when processing ends (the page then shows the thumbnail): one row
    read, however many uploads the user has.
    """
    return str(quotas.list_version(owner.pk))


def list_version_of(usage: quotas.UploadUsage) -> str:
    """The same fingerprint, from a usage the caller has read already (the page reads it once)."""
    return str(usage.list_version)
