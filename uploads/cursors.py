"""Keyset (cursor) pagination of a user's list: each page costs the same, however deep it is.

A page is read in index order from where the last one ended, as `WHERE (key, id) > (last key,
last id) ORDER BY key, id LIMIT n` (a row comparison PostgreSQL answers from the index), instead
of `OFFSET`, which reads and throws away every row before the page. The cursor is that position,
opaque to clients: the sort it belongs to, the last row's key and id, URL-safe.

Every order of `listing.LIST_ORDERINGS` is one key and the id, both in the same direction; a
size is missing until an upload completes, and those rows come last in either direction, so a
page that reaches them reads the rest by id alone.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from .errors import InvalidCursor
from .models import Upload


@dataclass(frozen=True)
class Key:
    """The column a sort orders by, its direction, and whether it can be missing (NULL, sorted last)."""

    field: str
    descending: bool
    nullable: bool = False


KEYS: dict[str, Key] = {
    "-created": Key("created_at", descending=True),
    "created": Key("created_at", descending=False),
    "name": Key("original_filename", descending=False),
    "-name": Key("original_filename", descending=True),
    "-size": Key("size", descending=True, nullable=True),
    "size": Key("size", descending=False, nullable=True),
}


@dataclass(frozen=True)
class Page:
    items: list
    next: str | None  # the cursor of the following page, or None on the last one


def keyset_page(rows: QuerySet, *, sort: str, cursor: str | None, size: int) -> Page:
    """One page of `rows` (already filtered and sorted by `sort`), after `cursor` (None: the first)."""
    key = KEYS[sort]
    if not cursor:
        items = list(rows[: size + 1])
    else:
        value, after_id = decode(cursor, sort=sort)
        if value is None:  # already among the rows with no key: by id alone
            items = list(
                _after(rows.filter(**{f"{key.field}__isnull": True}), "id", after_id, key)[: size + 1]
            )
        else:
            items = list(_after(rows, (key.field, "id"), (value, after_id), key)[: size + 1])
            if key.nullable and len(items) <= size:  # the keyed rows ran out: the missing ones follow
                rest = rows.filter(**{f"{key.field}__isnull": True})[: size + 1 - len(items)]
                items += list(rest)
    more = len(items) > size
    items = items[:size]
    return Page(items=items, next=encode(items[-1], sort=sort) if more else None)


def offset_page(rows: QuerySet, *, sort: str, start: int, size: int) -> Page:
    """The older `?page=N` pages (OFFSET: its cost grows with the depth), with a cursor to go on."""
    items = list(rows[start : start + size + 1])
    more = len(items) > size
    items = items[:size]
    return Page(items=items, next=encode(items[-1], sort=sort) if more else None)


def encode(upload: Upload, *, sort: str) -> str:
    """The cursor that continues after `upload` in the order `sort`."""
    value = getattr(upload, KEYS[sort].field)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, upload.pk.hex], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, *, sort: str) -> tuple:
    """The (key value, id) a cursor stands for; `InvalidCursor` if it is not one of ours for `sort`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, upload_id = json.loads(raw)
        upload_id = uuid.UUID(upload_id)
        key = KEYS[sort]
        if cursor_sort != sort:
            raise ValueError("another sort's cursor")
        if value is None and not key.nullable:
            raise ValueError("a missing key")
        if value is not None:
            value = _typed(key.field, value)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as e:
        raise InvalidCursor("This cursor is not valid for this list; start again without one.") from e
    return value, upload_id


def _typed(field: str, value):
    if field == "created_at":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("a time without its zone")
        return parsed
    if field == "size":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("a size that is not a number")
        return value
    if not isinstance(value, str):
        raise ValueError("a name that is not text")
    return value


def _after(rows: QuerySet, columns, values, key: Key) -> QuerySet:
    """`rows` past `values` in the order of `key`: one row comparison, an index condition."""
    columns = (columns,) if isinstance(columns, str) else columns
    values = (values,) if not isinstance(values, tuple) else values
    table = connection.ops.quote_name(Upload._meta.db_table)
    names = ", ".join(
        f"{table}.{connection.ops.quote_name(Upload._meta.get_field(c).column)}" for c in columns
    )
    params = [
        Upload._meta.get_field(c).get_db_prep_value(v, connection)
        for c, v in zip(columns, values, strict=True)
    ]
    marks = ", ".join(["%s"] * len(params))
    operator = "<" if key.descending else ">"
    condition = RawSQL(f"({names}) {operator} ({marks})", params, output_field=BooleanField())
    return rows.filter(condition)
