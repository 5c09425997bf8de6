"""What happens to uploads, for the site's own code: Django signals, and the same as webhooks.

Receivers get `sender=Upload`, `upload` (the record as it was) and, for failures, `reason`:

    from uploads.events import upload_processed

    @receiver(upload_processed)
    def index_photo(sender, upload, **kwargs): ...

Signals are sent once the transaction that made the change has committed (never for a change
that rolled back), then a webhook delivery is recorded for each endpoint that wants the event
and handed to the worker.
"""

from __future__ import annotations

import copy
import logging

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import Signal, receiver

logger = logging.getLogger("uploads.events")

upload_completed = Signal()  # the bytes are stored and verified
upload_processed = Signal()  # metadata and thumbnail are recorded (processing "done")
upload_failed = Signal()  # the upload, or the processing of its bytes, failed: `reason` says why
upload_deleted = Signal()  # the record and its objects are gone

WEBHOOK_EVENTS = {
    upload_completed: "upload.completed",
    upload_processed: "upload.processed",
    upload_failed: "upload.failed",
    upload_deleted: "upload.deleted",
}


def describe(upload) -> dict:
    """The upload as events show it: no URLs (they expire), nothing private beyond its owner's id."""
    return {
        "id": str(upload.pk),
        "owner_id": upload.owner_id,
        "filename": upload.original_filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "status": upload.status,
        "processing": upload.processing,
        "metadata": upload.metadata or {},
    }


def emit(signal: Signal, upload, **extra) -> None:
    """Send `signal` and queue its webhooks once the current transaction commits."""
    data = {**describe(upload), **extra}

    def send() -> None:
        from .webhooks.delivery import create_deliveries
        from .webhooks.tasks import deliver

        signal.send(sender=type(upload), upload=upload, **extra)
        for delivery_id in create_deliveries(WEBHOOK_EVENTS[signal], data):
            try:
                deliver.delay(delivery_id)
            except Exception:  # the broker's own errors: the delivery stays pending, resent later
                logger.warning("Could not queue webhook delivery %s", delivery_id, exc_info=True)

    transaction.on_commit(send)


@receiver(post_delete, sender="uploads.Upload")
def _deleted(sender, instance, **kwargs) -> None:
    # Every path that deletes records (the API, the page, bulk deletes, cleanup) ends here. A
    # copy: Django clears the instance's pk once the delete is over, before receivers run.
    emit(upload_deleted, copy.copy(instance))
