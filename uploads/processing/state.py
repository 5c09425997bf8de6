"""The upload's `processing` and `scan` fields: every change is conditional, so racing workers, a
redelivered task and a delete never undo each other. `status` (is the file there?) changes here
only when the trust steps refuse the bytes (`refuse`, through `lifecycle.transition`).

    queued ──▶ running ──▶ done   (none: a type with nothing to derive, once its bytes are trusted)
                  │   ▲
                  ▼   └── a redelivered task (worker killed) runs again from `running`
                failed
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import lifecycle, quotas
from ..events import emit, upload_completed, upload_failed, upload_processed
from ..models import Processing, Scan, Upload
from ..s3 import S3Client
from .kinds import kind_of
from .trust import scan_at_complete

logger = logging.getLogger("uploads.processing")

UNFINISHED = (Processing.QUEUED, Processing.RUNNING)


def queued_at_complete() -> dict:
    """The fields of a newly complete upload's queued processing. Complete writes them in the
    UPDATE that completes it (one write, not two), then calls `after_complete(queued=True)`."""
    return {
        "processing": Processing.QUEUED,
        "processing_queued_at": timezone.now(),
        "scan": scan_at_complete(),
    }


def after_complete(upload: Upload, *, queued: bool = False) -> None:
    """An upload has just become complete: announce it and queue the work on its bytes.

    Runs inside the caller's transaction; the task is sent once it commits, so the worker
    always finds the complete record. Every upload is queued: its SHA-256 is always recorded.
    `queued`: the caller's UPDATE wrote `queued_at_complete()` already (and on `upload`).
    """
    if not queued:
        fields = queued_at_complete()
        Upload.objects.filter(pk=upload.pk, processing=Processing.NONE).update(**fields)
        upload.processing, upload.scan = fields["processing"], fields["scan"]
    emit(upload_completed, upload)
    transaction.on_commit(lambda: enqueue(upload.pk))


def enqueue(upload_id) -> None:
    """Send the task; a broker outage only delays it (`requeue_stalled` sends it again)."""
    from .tasks import process_upload

    try:
        process_upload.delay(str(upload_id))
    except Exception:  # kombu raises its transport's own errors; the record keeps "queued"
        logger.warning(
            "Could not queue processing of upload %s; it will be requeued", upload_id, exc_info=True
        )


def claim(upload_id) -> Upload | None:
    """Mark the upload running and return it, if it is complete and its processing unfinished."""
    claimed = Upload.objects.filter(pk=upload_id, status=Upload.Status.COMPLETE, processing__in=UNFINISHED)
    if not claimed.update(processing=Processing.RUNNING):
        return None
    return Upload.objects.filter(pk=upload_id).first()


def finish(
    upload: Upload, *, metadata: dict, thumbnail: dict | None, checksum_sha256: str = "", scan: str = ""
) -> bool:
    """Record the results and mark it done, unless it was deleted or settled meanwhile."""
    nothing_derived = kind_of(upload.content_type, upload.size) is None
    fields = {
        "processing": Processing.NONE if nothing_derived else Processing.DONE,
        "processing_error": "",
        "metadata": metadata,
        "thumbnail": thumbnail,
        "checksum_sha256": checksum_sha256,
        "scan": scan or upload.scan,
    }
    with transaction.atomic():
        if not _running(upload).update(**fields):
            return False
        for name, value in fields.items():
            setattr(upload, name, value)
        quotas.touch([upload.owner_id])  # the page's poll: the thumbnail is there
        emit(upload_processed, upload)
    return True


def fail(upload: Upload, reason: str, *, checksum_sha256: str = "", scan: str = "") -> bool:
    """Mark processing failed with a sentence saying why; the upload itself stays complete.

    What the trust steps found is recorded (a clean file stays served). A scan that gave no verdict
    becomes "error": processing stopped for good, so it would otherwise stay "pending" forever.
    """
    fields = {
        "processing": Processing.FAILED,
        "processing_error": reason[:255],
        "scan": scan or (Scan.ERROR if upload.scan == Scan.PENDING else upload.scan),
    }
    if checksum_sha256:
        fields["checksum_sha256"] = checksum_sha256
    with transaction.atomic():
        if not _running(upload).update(**fields):
            return False
        for name, value in fields.items():
            setattr(upload, name, value)
        quotas.touch([upload.owner_id])
        emit(upload_failed, upload, reason=upload.processing_error)
    return True


def refuse(
    upload: Upload, *, failure_code: str, reason: str, scan: str | None = None, checksum_sha256: str = ""
) -> bool:
    """The trust steps refused the stored bytes: the upload fails (its owner sees why) and its
    object is removed (deleted, or moved under UPLOADS_QUARANTINE_PREFIX, which nothing serves).

    The record fails first: a crash before the object goes leaves a failed record that is never
    served, not a complete record without its object.
    """
    fields = {
        "failure_code": failure_code,
        "failure_reason": reason[:500],
        "processing": Processing.FAILED,
        "processing_error": reason[:255],
        "checksum_sha256": checksum_sha256,
    }
    if scan:
        fields["scan"] = scan
    with transaction.atomic():
        # The transition announces upload_failed with the reason.
        if not lifecycle.transition(upload, lifecycle.FAILED, from_=(lifecycle.COMPLETE,), **fields):
            return False
    remove_object(upload.key)
    return True


def remove_object(key: str) -> None:
    """Delete a refused object, or move it into quarantine; a store outage leaves it to the owner's delete."""
    client = S3Client(timeouts="batch")
    try:
        if settings.UPLOADS_QUARANTINE_PREFIX:
            prefix = settings.UPLOADS_QUARANTINE_PREFIX.strip("/")
            client.client.copy_object(
                Bucket=client.bucket_name,
                Key=f"{prefix}/{key}",
                CopySource={"Bucket": client.bucket_name, "Key": key},
            )
        client.delete_object(key)
    except Exception:  # botocore's errors or StorageUnavailable: the record is failed, never served
        logger.warning("Could not remove refused object %s; it is never served", key, exc_info=True)


def scan_failed(upload: Upload, reason: str) -> bool:
    """The scanner gave no verdict after every retry: `scan: "error"`, shown to staff ("Scan again")."""
    fields = {"processing": Processing.FAILED, "processing_error": reason[:255], "scan": Scan.ERROR}
    with transaction.atomic():
        if not _running(upload).update(**fields):
            return False
        upload.processing, upload.processing_error, upload.scan = (
            fields["processing"],
            fields["processing_error"],
            Scan.ERROR,
        )
        emit(upload_failed, upload, reason=upload.processing_error)
    return True


def requeue(upload: Upload) -> bool:
    """Process a complete upload again (staff's "Process again" and "Scan again", or after a lost message)."""
    fields = {"processing": Processing.QUEUED, "processing_queued_at": timezone.now()}
    if upload.scan in (Scan.ERROR, Scan.PENDING):
        fields["scan"] = scan_at_complete()
    if not Upload.objects.filter(pk=upload.pk, status=Upload.Status.COMPLETE).update(**fields):
        return False
    quotas.touch([upload.owner_id])
    transaction.on_commit(lambda: enqueue(upload.pk))
    return True


def stalled(*, older_than: timedelta):
    """Unfinished uploads queued longer ago than `older_than`: their message was lost (a broker
    outage at enqueue, a worker killed on a broker that can't redeliver)."""
    return Upload.objects.filter(
        status=Upload.Status.COMPLETE,
        processing__in=UNFINISHED,
        processing_queued_at__lt=timezone.now() - older_than,
    )


def _running(upload: Upload):
    return Upload.objects.filter(pk=upload.pk, status=Upload.Status.COMPLETE, processing=Processing.RUNNING)
