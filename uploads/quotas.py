"""What each user stores and may still store: one `Usage` row per user, reserved atomically.

A presign checks the limits and reserves in one conditional UPDATE of its user's row, which stays
locked until the upload's insert commits, so a burst of presigns can never pass a limit together;
each `lifecycle.transition` settles the row in the transaction that changes the status.
The check reads one row: its cost does not grow with the user's uploads.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.db.models.lookups import LessThan, LessThanOrEqual

from .errors import QuotaExceeded, TooManyPending
from .models import Upload, Usage


@dataclass(frozen=True)
class UploadUsage:
    """What a user stores (or has reserved with pending uploads) against the limits; 0 = no limit."""

    bytes_used: int
    bytes_limit: int
    pending: int
    pending_limit: int
    list_version: int = 0  # read from the same row, for the page's list fingerprint


def upload_usage(*, owner) -> UploadUsage:
    """Return what `owner` stores and has pending, with the limits (one row)."""
    row = Usage.objects.filter(user_id=owner.pk).first() or Usage(**_counted(owner.pk))
    return UploadUsage(
        bytes_used=row.bytes_stored + row.bytes_reserved,
        bytes_limit=settings.UPLOADS_QUOTA_BYTES,
        pending=row.pending,
        pending_limit=settings.UPLOADS_QUOTA_PENDING,
        list_version=row.list_version or 0,
    )


def require_room(*, owner, size: int, pending: bool = True) -> None:
    """Refuse a file of `size` bytes that `owner` has no room for (and, with `pending`, a new pending upload).

    Locks the user's usage row until the surrounding transaction ends: called in the transaction
    that inserts the upload (`lifecycle.create`), concurrent presigns check one after the other.
    """
    # No savepoint inside the caller's transaction: nothing here is rolled back on its own.
    with transaction.atomic(savepoint=False):
        row = _locked_row(owner.pk)
    _refuse_beyond_limits(row, size=size, pending=pending)


def reserve(*, owner, size: int, share: dict[str, int]) -> None:
    """`require_room`, then add a new record's `share` to the usage row, in ONE conditional UPDATE.

    The UPDATE's condition is the check, and the row it changes stays locked until the
    surrounding transaction ends (the presign's insert), so concurrent presigns still check one
    after the other. Only when it changes nothing (no row yet, or a limit) is the row read: to
    create it, or to say which limit.
    """
    pending = bool(share["pending"])
    bytes_limit, pending_limit = settings.UPLOADS_QUOTA_BYTES, settings.UPLOADS_QUOTA_PENDING
    room = []
    if pending and pending_limit:
        room.append(LessThan(F("pending"), pending_limit))
    if bytes_limit:
        room.append(LessThanOrEqual(F("bytes_stored") + F("bytes_reserved"), bytes_limit - size))
    changes = _changes(**share, list_version=1)
    if Usage.objects.filter(*room, user_id=owner.pk).update(**changes):
        return
    require_room(owner=owner, size=size, pending=pending)  # raises, unless the row was missing
    _add(owner.pk, **share, list_version=1)


def _refuse_beyond_limits(row: Usage, *, size: int, pending: bool) -> None:
    bytes_limit, pending_limit = settings.UPLOADS_QUOTA_BYTES, settings.UPLOADS_QUOTA_PENDING
    if pending and pending_limit and row.pending >= pending_limit:
        raise TooManyPending(
            f"{row.pending} uploads are pending; at most {pending_limit} may be at once. "
            "Complete or cancel some first."
        )
    used = row.bytes_stored + row.bytes_reserved
    if bytes_limit and used + size > bytes_limit:
        raise QuotaExceeded(
            f"This file needs {size} bytes and {used} of your {bytes_limit} bytes "
            f"are used; {max(bytes_limit - used, 0)} are left."
        )


NOTHING = {"pending": 0, "bytes_reserved": 0, "bytes_stored": 0}


def share(status: str, *, reserved: int, size: int | None) -> dict[str, int]:
    """What one record in `status` counts in its owner's usage row."""
    if status == Upload.Status.PENDING:
        return {"pending": 1, "bytes_reserved": reserved, "bytes_stored": 0}
    if status == Upload.Status.COMPLETE:
        return {"pending": 0, "bytes_reserved": 0, "bytes_stored": size or 0}
    return NOTHING


def settle(owner_id, *, before: dict[str, int], after: dict[str, int]) -> None:
    """Move a record's share of the usage row from `before` to `after` (see `share`); the list changed."""
    delta = {name: after[name] - before[name] for name in before}
    if owner_id is not None:
        _add(owner_id, **delta, list_version=1)


def touch(owner_ids) -> None:
    """Say that these users' lists changed (rows deleted, or a field the list shows rewritten)."""
    for owner_id in sorted({owner_id for owner_id in owner_ids if owner_id is not None}):
        _add(owner_id, list_version=1)


def list_version(owner_id) -> int:
    """The user's list version: one row, whatever the number of uploads."""
    return Usage.objects.filter(user_id=owner_id).values_list("list_version", flat=True).first() or 0


def recount_usage(owner_id) -> Usage:
    """Rebuild a user's usage row from their records (the migration's backfill, and a repair)."""
    row, _ = Usage.objects.update_or_create(user_id=owner_id, defaults=_counted(owner_id))
    # Records were written by hand: whatever the page shows of them may have changed.
    Usage.objects.filter(user_id=owner_id).update(list_version=F("list_version") + 1)
    row.refresh_from_db(fields=["list_version"])
    return row


def _counted(owner_id) -> dict[str, int]:
    return {"user_id": owner_id, **Upload.objects.filter(owner_id=owner_id).usage()}


def _locked_row(owner_id) -> Usage:
    row = Usage.objects.select_for_update().filter(user_id=owner_id).first()
    if row is None:
        try:
            with transaction.atomic():
                Usage.objects.create(**_counted(owner_id))
        except IntegrityError:
            pass  # a concurrent first presign created it
        row = Usage.objects.select_for_update().get(user_id=owner_id)
    return row


def _changes(**delta: int) -> dict:
    # Never below zero: records written outside the lifecycle (a raw edit) must not wrap a counter.
    return {name: Greatest(F(name) + Value(amount), Value(0)) for name, amount in delta.items() if amount}


def _add(owner_id, **delta: int) -> None:
    changes = _changes(**delta)
    if changes and not Usage.objects.filter(user_id=owner_id).update(**changes):
        recount_usage(owner_id)  # the first change for a user with no row yet: count from the records
        # (which bumps the list version)
