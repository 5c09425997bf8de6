"""Cleanup and reconciliation (manage.py cleanup_uploads): finish interrupted deletes, settle stale
pending uploads, verify complete uploads against the bucket, abort abandoned multipart uploads,
delete orphan objects.

A `CleanupRun` owns its options and enforces their safety rules itself, so a Python caller can't
touch an upload whose browser may still be sending it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import field_refs, lifecycle
from .bucket_walks import HEAD_CONCURRENCY, BucketWalks, pages
from .cleanup_report import CleanupReport
from .deletion import upload_delete_many
from .errors import InvalidCleanupOption, StorageUnavailable
from .failures import failure_of
from .field_signing import VALUE_MAX_AGE
from .form_uploads import FORM_TOKEN_MAX_AGE, PLACEHOLDER_SUFFIX, form_upload_settle
from .inspection import inspect, rules_for
from .keys import folder_of, uploads_root
from .models import PolicyTombstone, Upload
from .processing.state import after_complete
from .s3 import S3Client, StoredSample

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]

# Stale uploads are settled a batch at a time: one transaction and two UPDATEs per batch, and the
# batch's inspections in parallel (one ranged GET each; boto3 clients are thread-safe).
STALE_BATCH_SIZE = 100


def minimum_age() -> timedelta:
    """The youngest a pending upload may be to be settled: how long an upload policy lives."""
    return timedelta(seconds=settings.UPLOADS_PRESIGN_EXPIRATION)


def minimum_grace() -> timedelta:
    """The youngest an object may be to count as an orphan: how long a form upload may take."""
    return timedelta(seconds=FORM_TOKEN_MAX_AGE)


@dataclass
class CleanupRun:
    """One cleanup: its options, its S3 client and its report. `run()` does every step asked for."""

    older_than: timedelta = timedelta(hours=24)
    orphans: bool = False
    grace: timedelta = timedelta(hours=24)
    verify: bool = False
    dry_run: bool = False
    now: datetime | None = None
    progress: Progress | None = None
    report: CleanupReport = field(init=False)
    client: S3Client = field(init=False)
    walks: BucketWalks = field(init=False)

    def __post_init__(self) -> None:
        if self.older_than < minimum_age():
            raise InvalidCleanupOption(
                f"--older-than must be at least {minimum_age()} (how long an upload policy lives): "
                "a younger pending upload may still be on its way to S3."
            )
        if self.orphans and self.grace < minimum_grace():
            raise InvalidCleanupOption(
                f"--grace must be at least {minimum_grace()} (how long a form upload may take to finish)."
            )
        self.now = self.now or timezone.now()
        self.report = CleanupReport(dry_run=self.dry_run, verified=self.verify)
        # A command, not a request: it may wait longer for a slow store.
        self.client = S3Client(timeouts="batch")
        self.walks = BucketWalks(self.client, self.report, self.now, self.grace, self.dry_run, self._progress)

    def verify_complete(self) -> None:
        """Mark failed the complete uploads whose object is gone (`--verify`; bucket_walks.py)."""
        self.walks.verify_complete()

    def delete_orphans(self) -> None:
        """Delete objects past the grace that no live record names (`--orphans`; bucket_walks.py)."""
        self.walks.delete_orphans()

    def run(self) -> CleanupReport:
        self.sweep_dead_policies()
        self.finish_deletes()
        self.settle_stale_uploads()
        self.delete_abandoned_field_uploads()
        if self.verify:
            self.verify_complete()
        self.abort_stale_multipart_uploads()
        if self.orphans:
            self.delete_orphans()
        return self.report

    # --- Stale pending uploads ---------------------------------------------------------------

    def settle_stale_uploads(self) -> None:
        """Complete or fail each pending upload whose browser never called complete.

        Rows stream from the database; each batch is claimed with row locks that concurrent runs
        skip (`skip_locked` on PostgreSQL), so two runs never process the same upload.
        """
        stale = Upload.objects.pending_since(self.now - self.older_than).order_by("created_at")
        try:
            # A form's placeholder is there from signing: its file may arrive until the policy's grace ends.
            dead = stale.filter(expires_at__lt=self.now - lifecycle.policy_grace())
            self._settle_form_uploads(dead.filter(file__endswith=PLACEHOLDER_SUFFIX))
        except StorageUnavailable as e:
            self.report.errors.append(str(e))
            return
        stale = stale.exclude(file__endswith=PLACEHOLDER_SUFFIX)
        stale_ids = stale.values_list("pk", flat=True).iterator(chunk_size=STALE_BATCH_SIZE * 5)
        done = 0
        with ThreadPoolExecutor(max_workers=HEAD_CONCURRENCY) as pool:
            for batch in pages(stale_ids, size=STALE_BATCH_SIZE):
                try:
                    self._settle_batch(pool, batch)
                except StorageUnavailable as e:
                    self.report.errors.append(str(e))
                    break  # S3 is down: every other batch would fail the same way
                done += len(batch)
                self._progress("stale uploads", done)

    def _settle_batch(self, pool: ThreadPoolExecutor, upload_ids: list) -> None:
        # Claim: read the rows still pending, and hold no lock while S3 is asked about them
        # (a slow store must not make a user's complete wait on a cleanup's row lock).
        # Plain tuples, not model instances: an instance that has touched its FileField is a
        # reference cycle, and thousands of those wait for the cycle collector.
        claimed = list(
            Upload.objects.filter(pk__in=upload_ids, status=Upload.Status.PENDING).values_list(
                "pk", "file", "max_size", "expected_size", "content_type", "multipart_upload_id", named=True
            )
        )
        # S3 down: StorageUnavailable leaves every row of the batch pending for the next run.
        verdicts = list(pool.map(self._examine, claimed))
        now = timezone.now()
        completed, failed_ids, invalid, failures = [], [], {}, {}
        for row, (info, problem) in zip(claimed, verdicts, strict=True):
            if problem is None:
                completed.append(
                    Upload(
                        pk=row.pk,
                        size=info.size,
                        etag=info.etag,
                        completed_at=now,
                        status=Upload.Status.COMPLETE,
                    )
                )
            else:
                # The record stays (marked failed) so its owner sees what happened, and why.
                failed_ids.append(row.pk)
                failures[row.pk] = failure_of(problem)
                if info is not None:
                    invalid[row.pk] = row.file
        if self.dry_run:
            settled_completed, settled_failed = len(completed), failed_ids
        else:
            settled_completed, settled_failed = self._settle(completed, failures)
            # Only objects of rows this run failed: a row another process settled is its business.
            self.report.add_refused(
                self.client.delete_many([invalid[pk] for pk in settled_failed if pk in invalid])
            )
            # A failed multipart upload's parts go with it, as upload_fail does.
            for row in claimed:
                if row.multipart_upload_id and row.pk in settled_failed:
                    self.client.abort_multipart(key=row.file, upload_id=row.multipart_upload_id)
        self.report.completed += settled_completed
        self.report.failed += len(settled_failed)
        self.report.skipped += len(upload_ids) - settled_completed - len(settled_failed)

    def _settle_form_uploads(self, placeholders) -> None:
        """Record the file of each form upload whose finish met an outage, or fail it (rare: one by one)."""
        for upload in placeholders.select_related("owner").iterator():
            if self.dry_run:
                self.report.completed += 1
                continue
            settled = form_upload_settle(upload=upload)
            if settled.status == Upload.Status.COMPLETE:
                self.report.completed += 1
            else:
                self.report.failed += 1

    def _examine(self, row) -> tuple[StoredSample | None, object]:
        """What complete would decide for this row: the one inspection (`inspection.inspect`)."""
        found = inspect(row.file, rules_for(row), client=self.client)
        return found.stored, found.problem

    def _settle(self, completed: list[Upload], failures: dict) -> tuple[int, list]:
        """Apply the verdicts to the rows still pending; return how many completed, and which failed.

        A short transaction that never waits: rows a concurrent run or request holds are skipped
        (`skip_locked`), and each change is a conditional `lifecycle.transition`, so a row another
        process settled since the claim is left as it is, and counted by that process alone.
        """
        ids = [upload.pk for upload in completed] + list(failures)
        with transaction.atomic():
            pending = Upload.objects.filter(pk__in=ids, status=Upload.Status.PENDING).order_by("pk")
            mine = set(pending.select_for_update(skip_locked=True).values_list("pk", flat=True))
            won = [
                upload.pk
                for upload in completed
                if upload.pk in mine
                and lifecycle.transition(
                    upload.pk,
                    lifecycle.COMPLETE,
                    from_=[lifecycle.PENDING],
                    size=upload.size,
                    etag=upload.etag,
                    completed_at=upload.completed_at,
                )
            ]
            for upload in Upload.objects.filter(pk__in=won):
                after_complete(upload)  # announce it; queue the work on its bytes (uploads/processing)
            done = len(won)
            failed = [
                pk
                for pk, failure in failures.items()
                if pk in mine
                and lifecycle.transition(pk, lifecycle.FAILED, from_=[lifecycle.PENDING], **failure)
            ]
        return done, failed

    # --- Folders a dead policy could still have written to --------------------------------------

    def sweep_dead_policies(self) -> None:
        """Empty the folder of each upload failed or deleted before its policy expired, once the
        policy has expired (plus UPLOADS_POLICY_GRACE), then forget its tombstone.

        Until then the policy could store a file no quota counts; after it, nothing more can arrive.
        """
        due = PolicyTombstone.objects.filter(sweep_after__lte=self.now).order_by("sweep_after")
        for tombstone in due.iterator(chunk_size=self.client.DELETE_BATCH_SIZE):
            if self.dry_run:
                self.report.swept += 1
                continue
            try:
                folder = folder_of(tombstone.key, tombstone.upload_id)
                listed = [info.key for info in self.client.iter_objects(prefix=folder)] if folder else []
                refused = self.client.delete_many(sorted({tombstone.key, *listed}))
            except StorageUnavailable as e:
                self.report.errors.append(str(e))
                return
            self.report.add_refused(refused)
            if not refused:
                tombstone.delete()
                self.report.swept += 1

    # --- Interrupted deletes -----------------------------------------------------------------

    def delete_abandoned_field_uploads(self) -> None:
        """Uploads an UploadField's widget made whose form was never saved (uploads/field_refs.py).

        Not before their signed form value expires: until then the form may still be posted.
        """
        cutoff = self.now - max(self.older_than, timedelta(seconds=VALUE_MAX_AGE))
        for batch in field_refs.abandoned(before=cutoff):
            if self.dry_run:
                self.report.abandoned_deleted += len(batch)
                continue
            try:
                self.report.abandoned_deleted += upload_delete_many(upload_ids=batch)
            except StorageUnavailable as e:  # left deleting: the next run finishes them
                self.report.errors.append(f"Abandoned field uploads: {e}")

    def finish_deletes(self) -> None:
        """Delete the objects, then the records, of uploads a crash or an outage left `deleting`.

        Deleting is idempotent, so racing the request that started it does no harm.
        """
        deleting = Upload.objects.filter(status=Upload.Status.DELETING).values_list("pk", "file")
        size = self.client.DELETE_BATCH_SIZE
        for batch in pages(deleting.iterator(chunk_size=size), size=size):
            if self.dry_run:
                self.report.deletes_finished += len(batch)
                continue
            try:
                refused = set(self.client.delete_many([key for _, key in batch]))
            except StorageUnavailable as e:
                self.report.errors.append(str(e))
                return
            self.report.add_refused(sorted(refused))
            done = [pk for pk, key in batch if key not in refused]
            lifecycle.forget(done)
            self.report.deletes_finished += len(done)

    # --- Multipart uploads -------------------------------------------------------------------

    def abort_stale_multipart_uploads(self) -> None:
        """Abort multipart uploads under the uploads root started before the cut-off."""
        cutoff = self.now - self.older_than
        try:
            for multipart in self.client.iter_multipart_uploads(prefix=uploads_root()):
                if multipart.initiated < cutoff:
                    if not self.dry_run:
                        self.client.abort_multipart(key=multipart.key, upload_id=multipart.upload_id)
                    self.report.multipart_aborted += 1
        except StorageUnavailable as e:
            self.report.errors.append(str(e))

    def _progress(self, what: str, count: int) -> None:
        if self.progress:
            self.progress(what, count)
