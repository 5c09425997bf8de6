"""Deleting uploads: their objects, then their records, within one request's deadline however
many rows are selected.

The server knows every key it signed an exact policy for (the API's POST and PUT, multipart):
those are deleted with no listing, 1000 keys a request. Only a form upload's folder is listed,
and only while the form's policy may still put a second file there (its single-use receipt,
`UsedFormToken`, outlives every policy); after that, what a folder holds beyond the recorded
key is an orphan for `cleanup_uploads --orphans`. Per-row store work (those listings, aborting
a multipart upload still on its way) runs in parallel under the request's deadline; a row whose
work or delete is not confirmed by then stays `deleting`, and cleanup finishes it.

The switch to `deleting` goes through `lifecycle.transition_many` (conditional, settling the
quota; an upload whose policy still lives leaves a tombstone, and cleanup sweeps its folder once
the policy has expired); a record goes (`lifecycle.forget`) once the store confirms its objects gone.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Sequence

from . import lifecycle
from .deadline import map_within_deadline
from .errors import StorageUnavailable
from .keys import derived_keys, folder_of
from .models import Upload, UsedFormToken
from .s3 import S3Client

# What `_delete_objects` needs of each upload.
ROW_FIELDS = ("pk", "file", "status", "multipart_upload_id")
Row = namedtuple("Row", ROW_FIELDS)


def upload_delete(*, upload: Upload) -> None:
    """Delete the upload: mark it deleting, delete its object(s), then the record.

    If S3 fails or the deadline passes, the record stays (marked deleting, so nothing hands out its
    link) and the error says so; deleting again, or cleanup, finishes the job. A missing object is
    not an error.
    """
    # The caller has read the record: its row is known without reading it again.
    row = Row(upload.pk, upload.key, upload.status, upload.multipart_upload_id)
    lifecycle.transition(copy.copy(upload), lifecycle.DELETING)  # the caller's record stays as it was
    _delete_marked([row])


def upload_delete_many(*, upload_ids, owner=None) -> int:
    """Delete uploads (`owner`'s only, when given): their objects in S3 batches of 1000, then the records.

    The records are marked deleting first; one whose objects are not confirmed gone (S3 refused,
    or the request's deadline passed) stays deleting, and cleanup finishes it. Return how many
    went; raise `StorageUnavailable` if any stayed.
    """
    uploads = Upload.objects.all() if owner is None else Upload.objects.owned_by(owner)
    rows = [Row(*row) for row in uploads.filter(pk__in=list(upload_ids)).values_list(*ROW_FIELDS)]
    if not rows:
        return 0
    # Conditional: a delete racing another settles the quota once; deleting again finishes the job.
    lifecycle.transition_many([row.pk for row in rows], lifecycle.DELETING)
    return _delete_marked(rows)


def _delete_marked(rows: Sequence[Row]) -> int:
    """Delete the objects of rows marked deleting, then the records whose objects are gone."""
    done, problem = _delete_objects(rows)
    lifecycle.forget(done)
    if problem is not None:
        raise problem
    return len(done)


def _delete_objects(rows: Sequence) -> tuple[list, StorageUnavailable | None]:
    """Delete the objects (and unfinished multipart uploads) of `rows`; return the pks whose
    objects are confirmed gone, and what stopped the rest, if anything."""
    client = S3Client()
    receipts = set(
        UsedFormToken.objects.filter(upload_id__in=[row.pk for row in rows]).values_list("pk", flat=True)
    )
    needs_work = [row for row in rows if row.pk in receipts or _unfinished_multipart(row)]
    # Each row's own key and its derived files' (thumbnails), known without listing its folder.
    keys = {row.pk: [row.file, *derived_keys(row.file, row.pk)] for row in rows if row not in needs_work}
    problem: StorageUnavailable | None = None
    for row, result in map_within_deadline(
        lambda row: _row_keys(client, row, row.pk in receipts), needs_work
    ):
        if isinstance(result, StorageUnavailable):
            problem = result
        elif isinstance(result, Exception):
            raise result
        else:
            keys[row.pk] = result
    if len(keys) < len(rows) and problem is None:
        problem = StorageUnavailable("Storage did not answer in time; the rest is deleted shortly.")
    try:
        refused = set(client.delete_many(key for group in keys.values() for key in group))
    except StorageUnavailable as e:
        return [], e
    if refused:
        problem = StorageUnavailable(
            f"Storage refused to delete {len(refused)} of the files; try again later."
        )
    return [pk for pk, group in keys.items() if not refused & set(group)], problem


def _unfinished_multipart(row) -> bool:
    return bool(row.multipart_upload_id) and row.status != Upload.Status.COMPLETE


def _row_keys(client: S3Client, row, form_upload: bool) -> list[str]:
    """The row's keys once its store work is done: its own key, and its folder's objects for a form."""
    if _unfinished_multipart(row):
        client.abort_multipart(key=row.file, upload_id=row.multipart_upload_id)  # its parts go
    folder = folder_of(row.file, row.pk) if form_upload else None
    listed = [info.key for info in client.iter_objects(prefix=folder)] if folder else []
    return sorted({row.file, *derived_keys(row.file, row.pk), *listed})
