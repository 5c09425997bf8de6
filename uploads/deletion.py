"""Deleting uploads: everything in the upload's folder first, then the record.

The switch to `deleting` goes through `lifecycle.transition` (conditional, settling the quota);
a record stays `deleting` while the store refuses, and cleanup finishes it.
"""

from __future__ import annotations

from . import lifecycle
from .errors import StorageUnavailable
from .models import Upload
from .multipart import multipart_abort_for
from .s3 import S3Client
from .validation import folder_of


def upload_delete(*, upload: Upload) -> None:
    """Delete the upload: mark it deleting, delete everything in its folder, then the record.

    The whole folder: a policy still alive could have put a second object beside the recorded
    one. If S3 fails, the record stays (marked deleting, so nothing hands out its link) and the
    error says so; deleting again, or cleanup, finishes the job. A missing object is not an error.
    """
    was_complete = upload.status == Upload.Status.COMPLETE
    # Conditional: a delete racing another settles the quota once; deleting again finishes the job.
    lifecycle.transition(upload.pk, lifecycle.DELETING)
    if not was_complete:
        multipart_abort_for(upload)  # a multipart upload on its way leaves no parts behind
    client = S3Client()
    refused = client.delete_many(_object_keys(client, upload.pk, upload.key))
    if refused:
        raise StorageUnavailable(f"Storage refused to delete {len(refused)} of the upload's files.")
    lifecycle.forget([upload.pk])  # a policy still alive left a tombstone: cleanup sweeps its folder


def _object_keys(client: S3Client, upload_id, key: str) -> list[str]:
    """The keys to delete for an upload: its folder's objects (see `folder_of`), and its own key."""
    folder = folder_of(key, upload_id)
    listed = [info.key for info in client.iter_objects(prefix=folder)] if folder else []
    return sorted({key, *listed})


def upload_delete_many(*, upload_ids, owner=None) -> int:
    """Delete uploads (`owner`'s only, when given) as `upload_delete` does, in S3 batches of 1000.

    The records are marked deleting first; a record whose object S3 refused to delete (or all
    of them, if S3 can't be reached) stays deleting, and cleanup finishes it. Return how many went.
    """
    uploads = Upload.objects.all() if owner is None else Upload.objects.owned_by(owner)
    uploads = uploads.filter(pk__in=list(upload_ids))
    keys = dict(uploads.values_list("pk", "file"))
    if not keys:
        return 0
    lifecycle.transition_many(keys, lifecycle.DELETING)
    client = S3Client()
    # StorageUnavailable leaves them deleting. One listing per upload: bulk deletes are a page's rows.
    objects = {pk: _object_keys(client, pk, key) for pk, key in keys.items()}
    refused = set(client.delete_many(key for group in objects.values() for key in group))
    done = [pk for pk, group in objects.items() if not refused & set(group)]
    lifecycle.forget(done)
    if refused:
        raise StorageUnavailable(f"Storage refused to delete {len(refused)} of the files; try again later.")
    return len(done)
