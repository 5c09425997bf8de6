"""The record's life, in one place: how an upload is created, which status changes are allowed,
and the one function that changes a status.

Every change is conditional on the status the caller expects (`from_`), so racing processes
never undo each other: a settled upload stays settled, a deleting one only goes away. Each
change settles its owner's usage row (`uploads.quotas`) in the same transaction.

    pending  ──▶ complete    the object passed the checks (complete, cleanup, the no-JS finish)
    pending  ──▶ failed      no valid object arrived; the record stays so its owner sees why
    pending  ──▶ deleting    deleted before a file arrived
    complete ──▶ failed      its object is gone (cleanup --verify, the admin's check)
    complete ──▶ deleting
    failed   ──▶ deleting
    deleting ──▶ (row deleted once the store confirms: `forget`)

An upload that fails or is deleted while its policy still lives leaves a `PolicyTombstone`:
cleanup empties its folder once the policy has expired (plus UPLOADS_POLICY_GRACE), so no byte
the policy could still store outlives it by more than that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone

from . import quotas
from .events import emit, upload_failed
from .failures import failure_reason
from .models import PolicyTombstone, Upload

PENDING, COMPLETE, FAILED, DELETING = (
    Upload.Status.PENDING,
    Upload.Status.COMPLETE,
    Upload.Status.FAILED,
    Upload.Status.DELETING,
)

ALLOWED: dict[str, tuple[str, ...]] = {
    PENDING: (COMPLETE, FAILED, DELETING),
    COMPLETE: (FAILED, DELETING),
    FAILED: (DELETING,),
    DELETING: (),
}


def policy_grace() -> timedelta:
    """How long after its policy expires a folder is swept once more: uploads that started in time."""
    return timedelta(seconds=settings.UPLOADS_POLICY_GRACE)


def create(*, owner, reserve: bool = True, **fields: Any) -> Upload:
    """Insert a record, reserving its share of the owner's quota in the same transaction.

    `reserve=False` records without checking the limits (a file already accepted).
    Raises `QuotaExceeded` or `TooManyPending`, and then nothing is recorded.
    """
    upload = Upload(owner=owner, **fields)
    share = _share(upload.status, upload)
    with transaction.atomic():
        if owner is not None and reserve:
            size = share["bytes_reserved"] or share["bytes_stored"]
            quotas.reserve(owner=owner, size=size, share=share)  # checked and added in one UPDATE
        elif owner is not None:
            quotas.settle(owner.pk, before=quotas.NOTHING, after=share)
        upload.save(force_insert=True)
    return upload


def transition(upload_or_id: Upload | Any, to: str, from_: Iterable[str] = (), **fields: Any) -> bool:
    """Change one upload's status to `to` if it is in one of `from_` (default: any allowed); say whether it was.

    `fields` are written in the same UPDATE (sizes at complete, `failure_code` at failure; the
    catalogue's sentence fills `failure_reason` when not given). An `Upload` passed in is updated.
    """
    upload_id = getattr(upload_or_id, "pk", upload_or_id)
    won = False
    if isinstance(upload_or_id, Upload) and upload_or_id.status in _sources(to, from_):
        # The record in hand is its row: no read first, the UPDATE's status condition is the guard.
        with transaction.atomic():
            won = bool(_change([_row_of(upload_or_id)], to, _with_reason(fields)))
        if not won and len(_sources(to, from_)) == 1:
            return False  # it has left the one status it could change from
    if not won:  # its status changed since it was read (or only its id is known): read it, locked
        won = bool(transition_many([upload_id], to, from_, **fields))
    if won and isinstance(upload_or_id, Upload):
        upload_or_id.status = to
        for name, value in _with_reason(fields).items():
            setattr(upload_or_id, name, value)
    return won


def transition_many(upload_ids: Iterable, to: str, from_: Iterable[str] = (), **fields: Any) -> list:
    """`transition` for many uploads at once (the same `fields` for all); return the ids that changed."""
    sources = _sources(to, from_)
    with transaction.atomic():
        rows = (
            Upload.objects.select_for_update()
            .filter(pk__in=list(upload_ids), status__in=sources)
            .order_by("pk")
            .values(*ROW_FIELDS)
        )
        return _change(rows, to, _with_reason(fields))


# What a transition needs of each row: its status, its share of the quota, its tombstone.
ROW_FIELDS = ("pk", "owner_id", "status", "file", "expires_at", "expected_size", "max_size", "size")


def _sources(to: str, from_: Iterable[str]) -> tuple[str, ...]:
    sources = tuple(from_) or tuple(status for status, targets in ALLOWED.items() if to in targets)
    refused = [status for status in sources if to not in ALLOWED[status]]
    if refused:
        raise ValueError(f"An upload never goes from {refused[0]} to {to}.")
    return sources


def _row_of(upload: Upload) -> dict[str, Any]:
    return {name: upload.key if name == "file" else getattr(upload, name) for name in ROW_FIELDS}


def _change(rows: Iterable[dict], to: str, fields: dict[str, Any]) -> list:
    """Move each row from the status it was read in to `to`, inside the caller's transaction."""
    changed = []
    for row in rows:
        if not Upload.objects.filter(pk=row["pk"], status=row["status"]).update(status=to, **fields):
            continue  # another process changed it since it was read (no row locks on SQLite)
        _leave_tombstone(row, to)
        after = {**row, **fields}
        quotas.settle(row["owner_id"], before=_share(row["status"], row), after=_share(to, after))
        changed.append(row["pk"])
    if to == FAILED and changed:
        # Whatever failed it (complete's checks, cleanup, the trust steps): the site's code hears it.
        for upload in Upload.objects.filter(pk__in=changed):
            emit(upload_failed, upload, reason=upload.failure_reason)
    return changed


def forget(upload_ids: Iterable) -> int:
    """Delete the records of deleted uploads whose objects are gone (only rows still `deleting`)."""
    using = router.db_for_write(Upload)
    gone = Upload.objects.using(using).filter(pk__in=list(upload_ids), status=DELETING)
    with transaction.atomic(using=using):
        # Read once: the owners to touch, and the records the delete's receivers get (deleting
        # is final: no status changes meanwhile).
        records = list(gone)
        if not records:
            return 0
        collector = Collector(using=using, origin=gone)
        collector.collect(records)
        deleted = collector.delete()[0]
        quotas.touch(record.owner_id for record in records)
    return deleted


def _share(status: str, row) -> dict[str, int]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    reserved = get("expected_size") or get("max_size") or 0
    return quotas.share(status, reserved=reserved, size=get("size"))


def _leave_tombstone(row: dict, to: str) -> None:
    """An upload failed or deleted while its policy could still store bytes: sweep its folder later."""
    sweep_after = row["expires_at"] + policy_grace()
    if to in (FAILED, DELETING) and sweep_after > timezone.now():
        PolicyTombstone.objects.create(upload_id=row["pk"], key=row["file"], sweep_after=sweep_after)


def _with_reason(fields: dict[str, Any]) -> dict[str, Any]:
    if fields.get("failure_code") and not fields.get("failure_reason"):
        return {**fields, "failure_reason": failure_reason(fields["failure_code"])}
    return fields
