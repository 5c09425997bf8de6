"""The Celery tasks: process one upload, requeue lost ones, and the scheduled cleanup.

Tasks take ids, never records: the record is read afresh, and a task whose upload was deleted
or already processed does nothing. All are acknowledged late (settings: CELERY_TASK_ACKS_LATE),
so a worker killed mid-task leaves the message to another worker, which runs it again.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from ..errors import StorageUnavailable
from . import state
from .errors import ProcessingRefused, UploadRefused
from .pipeline import run
from .scanner import ScannerUnavailable

logger = logging.getLogger("uploads.processing")

STORE_RETRIES = 6  # with backoff 2, 4, 8 … 64 s: about two minutes of outage


@shared_task(
    name="uploads.processing.process",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=STORE_RETRIES,
    soft_time_limit=settings.UPLOADS_PROCESSING_SOFT_TIME_LIMIT,
    time_limit=settings.UPLOADS_PROCESSING_TIME_LIMIT,
)
def process_upload(self, upload_id: str) -> str:
    """Run the pipeline on one upload; return the processing state it ends in (for logs)."""
    upload = state.claim(upload_id)
    if upload is None:
        return "skipped"  # deleted, not complete, or already processed by an earlier delivery
    try:
        outcome = run(upload)
    except UploadRefused as e:
        state.refuse(
            upload, failure_code=e.failure_code, reason=str(e), scan=e.scan, checksum_sha256=e.checksum_sha256
        )
        return "refused"
    except ProcessingRefused as e:
        state.fail(upload, str(e), checksum_sha256=e.checksum_sha256, scan=e.scan or "")
        return "failed"
    except SoftTimeLimitExceeded:
        state.fail(upload, f"Processing took longer than {settings.UPLOADS_PROCESSING_SOFT_TIME_LIMIT} s.")
        return "failed"
    except StorageUnavailable as e:
        if self.request.retries >= self.max_retries:
            state.fail(upload, "The store could not be reached; an administrator can process it again.")
            return "failed"
        # The state stays "running": a retry claims it again. Exponential backoff with jitter.
        raise self.retry(exc=e, countdown=_backoff(self.request.retries)) from e
    except ScannerUnavailable as e:
        if self.request.retries >= self.max_retries:
            state.scan_failed(upload, str(e))
            return "scan_error"
        raise self.retry(exc=e, countdown=_backoff(self.request.retries)) from e
    state.finish(
        upload,
        metadata=outcome.metadata,
        thumbnail=outcome.thumbnail,
        checksum_sha256=outcome.checksum_sha256,
        scan=outcome.scan,
    )
    return "done"


def _backoff(retries: int) -> float:
    base = settings.UPLOADS_PROCESSING_RETRY_BASE * 2**retries
    return base * (0.5 + random.random() / 2)


@shared_task(name="uploads.processing.requeue_stalled", acks_late=True)
def requeue_stalled() -> int:
    """Send again the uploads whose processing has waited longer than a task may take."""
    older_than = timedelta(seconds=settings.UPLOADS_PROCESSING_TIME_LIMIT * 2 + 60)
    count = 0
    for upload in state.stalled(older_than=older_than).only("pk")[:1000]:
        count += state.requeue(upload)
    if count:
        logger.warning("Requeued %d uploads whose processing stalled", count)
    return count


@shared_task(name="uploads.cleanup_uploads", acks_late=True, time_limit=3600)
def cleanup_uploads(*, orphans: bool = False, verify: bool = False) -> str:
    """`manage.py cleanup_uploads [--orphans] [--verify]` with its defaults, on Celery beat
    (UPLOADS_CLEANUP_INTERVAL, UPLOADS_CLEANUP_ORPHANS_INTERVAL, UPLOADS_CLEANUP_VERIFY_INTERVAL)."""
    from ..cleanup import CleanupRun

    report = CleanupRun(orphans=orphans, verify=verify).run()
    logger.info("Scheduled cleanup: %s", report.summary())
    return report.summary()
