"""The upload's `processing` field: every change is conditional, so racing workers, a redelivered
task and a delete never undo each other. `status` (is the file there?) is not touched here.

    none ◀── complete (nothing to do)
    queued ──▶ running ──▶ done
                  │   ▲
                  ▼   └── a redelivered task (worker killed) runs again from `running`
                failed
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..events import emit, upload_completed, upload_failed, upload_processed
from ..models import Processing, Upload
from .kinds import kind_of

logger = logging.getLogger("uploads.processing")

UNFINISHED = (Processing.QUEUED, Processing.RUNNING)


def after_complete(upload: Upload) -> None:
    """An upload has just become complete: announce it and queue the work on its bytes.

    Runs inside the caller's transaction; the task is sent once it commits, so the worker
    always finds the complete record.
    """
    state = Processing.QUEUED if kind_of(upload.content_type, upload.size) else Processing.NONE
    Upload.objects.filter(pk=upload.pk, processing=Processing.NONE).update(
        processing=state, processing_queued_at=timezone.now()
    )
    upload.processing = state
    emit(upload_completed, upload)
    if state == Processing.QUEUED:
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


def finish(upload: Upload, *, metadata: dict, thumbnail: dict | None) -> bool:
    """Record the results and mark it done, unless it was deleted or settled meanwhile."""
    fields = {
        "processing": Processing.DONE,
        "processing_error": "",
        "metadata": metadata,
        "thumbnail": thumbnail,
    }
    with transaction.atomic():
        if not _running(upload).update(**fields):
            return False
        for name, value in fields.items():
            setattr(upload, name, value)
        emit(upload_processed, upload)
    return True


def fail(upload: Upload, reason: str) -> bool:
    """Mark processing failed with a sentence saying why; the upload itself stays complete."""
    fields = {"processing": Processing.FAILED, "processing_error": reason[:255]}
    with transaction.atomic():
        if not _running(upload).update(**fields):
            return False
        upload.processing, upload.processing_error = fields["processing"], fields["processing_error"]
        emit(upload_failed, upload, reason=upload.processing_error)
    return True


def requeue(upload: Upload) -> bool:
    """Process a complete upload again (staff's "Process again", or after a lost message)."""
    if not Upload.objects.filter(pk=upload.pk, status=Upload.Status.COMPLETE).update(
        processing=Processing.QUEUED, processing_queued_at=timezone.now()
    ):
        return False
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
