"""Which uploads the site's records point at through an `UploadField`, and what becomes of the rest.

A record that replaces or clears its file, or is deleted, releases its old upload: once the
transaction commits, an upload no `UploadField` points at any more is deleted like any other (its
object, then its record, through `deletion.upload_delete_many`); one another field still points at
is kept. An upload made through a field's widget that no record took within cleanup's
`--older-than` (the form was never saved) is abandoned, and `cleanup_uploads` deletes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import transaction

from .errors import StorageUnavailable
from .models import Upload

logger = logging.getLogger(__name__)

BATCH = 1000


def _fields_of(model):
    from .fields import UploadField

    return [field for field in model._meta.concrete_fields if isinstance(field, UploadField)]


def referenced(upload_ids: Iterable) -> set:
    """The ids among `upload_ids` that some record's `UploadField` points at (one query per field)."""
    from .fields import upload_fields

    ids = {upload_id for upload_id in upload_ids if upload_id is not None}
    found: set = set()
    for field in upload_fields() if ids else ():
        manager = field.model._base_manager
        found |= set(manager.filter(**{f"{field.attname}__in": ids}).values_list(field.attname, flat=True))
    return found


def release(upload_ids: Iterable) -> int:
    """Delete the uploads among `upload_ids` that no field points at any more; return how many went.

    A store outage leaves them marked deleting; cleanup finishes the job.
    """
    from . import deletion

    ids = {upload_id for upload_id in upload_ids if upload_id is not None}
    unused = ids - referenced(ids)
    if not unused:
        return 0
    try:
        return deletion.upload_delete_many(upload_ids=unused)
    except StorageUnavailable:
        logger.warning("Could not delete %d released uploads yet; cleanup will finish them", len(unused))
        return 0


# --- Signal receivers (connected by UploadField.contribute_to_class) ---------------------------


def remember_replaced(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Before a save: read the uploads the row pointed at, to release the ones it lets go."""
    fields = [
        field
        for field in _fields_of(sender)
        if update_fields is None or field.name in update_fields or field.attname in update_fields
    ]
    if raw or instance._state.adding or not fields:
        instance._uploads_before = {}
        return
    names = [field.attname for field in fields]
    instance._uploads_before = sender._base_manager.filter(pk=instance.pk).values(*names).first() or {}


def release_replaced(sender, instance, raw=False, **kwargs) -> None:
    before = getattr(instance, "_uploads_before", {})
    instance._uploads_before = {}
    gone = [old for name, old in before.items() if old is not None and old != getattr(instance, name)]
    if gone:
        transaction.on_commit(lambda: release(gone))


def release_deleted(sender, instance, **kwargs) -> None:
    held = [getattr(instance, field.attname) for field in _fields_of(sender)]
    if any(upload_id is not None for upload_id in held):
        transaction.on_commit(lambda: release(held))


# --- Cleanup ------------------------------------------------------------------------------------


def abandoned(*, before: datetime) -> Iterator[list]:
    """Complete uploads made through a field's widget before `before` that no record points at.

    Yielded a batch at a time, so memory stays flat however many field uploads there are.
    """
    candidates = (
        Upload.objects.filter(status=Upload.Status.COMPLETE, created_at__lt=before)
        .exclude(for_field="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last = None
    while True:
        page = candidates.filter(pk__gt=last) if last is not None else candidates
        batch = list(page[:BATCH])
        if not batch:
            return
        unused = sorted(set(batch) - referenced(batch))
        if unused:
            yield unused
        last = batch[-1]
