"""The cleanup steps that walk the bucket's listing beside the records, in constant memory: the
orphan sweep and the check of complete uploads. A `CleanupRun` (uploads/cleanup.py) makes one
`BucketWalks` with its client, report and options, and calls it for `--orphans` and `--verify`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Collate

from .cleanup_report import CleanupReport
from .errors import StorageUnavailable
from .form_uploads import placeholder_key
from .keys import derived_owner_folder, folder_of, uploads_root
from .lifecycle import transition_many
from .models import Upload
from .s3 import S3Client

logger = logging.getLogger("uploads.cleanup")

# Candidates are HEADed a batch at a time, in parallel (boto3 clients are thread-safe).
VERIFY_BATCH_SIZE = 100
HEAD_CONCURRENCY = 8


@dataclass
class BucketWalks:
    """The listing walks of one cleanup run, which counts what they do in its `report`."""

    client: S3Client
    report: CleanupReport
    now: datetime
    grace: timedelta
    dry_run: bool
    progress: Callable[[str, int], None]

    # --- Complete uploads whose object is gone or was replaced ------------------------------

    def verify_complete(self) -> None:
        """Mark failed the complete uploads whose object is gone; report those whose object changed.

        What a user should see (the one place this is decided): a file whose object is gone stays
        in their list marked failed, rather than a download link that answers 404 or a file that
        silently vanishes; they can delete the record. A replaced object (its ETag is not the one
        recorded at complete) is reported and logged, and left alone: it is still a file.

        A merge of two streams in the same (byte) order, so memory stays constant: the complete
        records under the uploads root, and S3's listing of that root, a page (1000 keys) at a
        time. Only uploads completed before the run started are checked: their object was there
        before the listing began. A key the listing lacks is HEADed before its record is touched.
        """
        records = verify_candidates(self.now)
        gone: list[tuple] = []
        checked = 0
        pool = ThreadPoolExecutor(max_workers=HEAD_CONCURRENCY)
        try:
            listing = iter(self.client.iter_objects(prefix=uploads_root()))
            listed = next(listing, None)
            for pk, key, etag, checksum, thumbnail in records.iterator(
                chunk_size=self.client.DELETE_BATCH_SIZE
            ):
                # The upload's own folder (None for an old key outside one): its object and derived files.
                folder = folder_of(key, pk)
                in_folder: set[str] = set()
                while listed is not None and listed.key < key:
                    if folder and listed.key.startswith(folder):
                        in_folder.add(listed.key)
                    listed = next(listing, None)
                found = listed is not None and listed.key == key
                if found:
                    object_info = listed
                    while folder and listed is not None and listed.key.startswith(folder):
                        in_folder.add(listed.key)
                        listed = next(listing, None)
                if thumbnail and thumbnail.get("key") and thumbnail["key"] not in in_folder:
                    self._rebuild_thumbnail(pk, thumbnail["key"])
                if not found:
                    gone.append((pk, key))
                elif etag and object_info.etag and object_info.etag != etag:
                    logger.warning("The object of upload %s was replaced since it completed: %s", pk, key)
                    self.report.replaced += 1
                    # The worker hashed the object of the recorded ETag (object_chunks reads only that one).
                    self.report.checksum_stale += bool(checksum)
                checked += 1
                if len(gone) == VERIFY_BATCH_SIZE:
                    self._fail_gone(pool, gone)
                    gone = []
                if checked % VERIFY_BATCH_SIZE == 0:
                    self.progress("complete uploads verified", checked)
            if gone:
                self._fail_gone(pool, gone)
        except StorageUnavailable as e:
            self.report.errors.append(str(e))
        finally:
            pool.shutdown()

    def _rebuild_thumbnail(self, pk, thumbnail_key: str) -> None:
        """A complete upload's thumbnail is missing from the store: the worker makes it again."""
        from .processing.state import requeue

        logger.warning("The thumbnail of upload %s is gone: %s", pk, thumbnail_key)
        self.report.thumbnails_missing += 1
        if not self.dry_run:
            upload = Upload.objects.filter(pk=pk).first()
            if upload is not None:
                requeue(upload)

    def _fail_gone(self, pool: ThreadPoolExecutor, candidates: list[tuple]) -> None:
        infos = list(pool.map(lambda candidate: self.client.head(candidate[1]), candidates))
        gone = [(pk, key) for (pk, key), info in zip(candidates, infos, strict=True) if info is None]
        for pk, key in gone:
            logger.warning("The object of complete upload %s is gone: %s", pk, key)
        if not self.dry_run:
            ids = [pk for pk, _ in gone]
            # Conditional: an upload being deleted meanwhile is not brought back as failed.
            changed = transition_many(
                ids, Upload.Status.FAILED, from_=[Upload.Status.COMPLETE], failure_code="object_gone"
            )
            self.report.gone += len(changed)
        else:
            self.report.gone += len(gone)

    # --- Orphans -----------------------------------------------------------------------------

    def delete_orphans(self) -> None:
        """Delete objects under the uploads root older than the grace with no record, or a failed one.

        The grace period protects files in flight (a form upload is recorded only after S3 has it).
        A failed upload's object broke the rules, or never arrived whole: its record stays, for
        its owner to see, but the object goes. Listing and record lookups go a page (1000 keys)
        at a time, deletes 1000 keys a request.
        """
        cutoff = self.now - self.grace
        batch = self.client.DELETE_BATCH_SIZE
        orphans: list[str] = []
        seen = 0
        try:
            for page in pages(self.client.iter_objects(prefix=uploads_root()), size=batch):
                old = [obj.key for obj in page if obj.last_modified and obj.last_modified < cutoff]
                kept = Upload.objects.filter(file__in=old).exclude(status=Upload.Status.FAILED)
                known = set(kept.values_list("file", flat=True))
                # A form upload whose finish met an outage: its file is recorded later, not swept.
                placeholders = {placeholder_key(key) for key in old}
                waiting = Upload.objects.filter(file__in=placeholders, status=Upload.Status.PENDING)
                known |= set(waiting.values_list("file", flat=True))
                derived = _derived_of_live_uploads(old)
                orphans += [
                    key for key in old if not {key, placeholder_key(key)} & known and key not in derived
                ]
                while len(orphans) >= batch:
                    self._delete_orphans(orphans[:batch])
                    orphans = orphans[batch:]
                seen += len(page)
                self.progress("objects checked", seen)
            if orphans:
                self._delete_orphans(orphans)
        except StorageUnavailable as e:
            self.report.errors.append(str(e))

    def _delete_orphans(self, keys: list[str]) -> None:
        refused = [] if self.dry_run else self.client.delete_many(keys)
        self.report.orphans_deleted += len(keys) - len(refused)
        self.report.add_refused(refused)


def _derived_of_live_uploads(keys: list[str]) -> set[str]:
    """Of `keys`, the derived files (thumbnails) of uploads that exist and have not failed."""
    owners: dict[str, str] = {}
    for key in keys:
        folder = derived_owner_folder(key)
        if folder:
            owners[key] = folder.rstrip("/").rsplit("/", 1)[-1]
    ids = set()
    for upload_id in owners.values():
        with suppress(ValueError):
            ids.add(uuid.UUID(upload_id))
    live = {
        str(pk)
        for pk in Upload.objects.filter(pk__in=ids)
        .exclude(status=Upload.Status.FAILED)
        .values_list("pk", flat=True)
    }
    return {key for key, upload_id in owners.items() if upload_id in live}


def verify_candidates(now):
    """Complete records under the uploads root, completed before `now`, in S3's (byte) key order.

    On PostgreSQL a partial index of complete uploads' `file COLLATE "C"` (migration 0011)
    hands them over in that order: no sort of millions of keys, memory flat.
    """
    return (
        Upload.objects.filter(status=Upload.Status.COMPLETE, file__startswith=uploads_root())
        .filter(Q(completed_at__lt=now) | Q(completed_at__isnull=True))
        .order_by(_byte_order("file"))
        .values_list("pk", "file", "etag", "checksum_sha256", "thumbnail")
    )


def _byte_order(field_name: str):
    """Order a text column by bytes, as S3 lists keys (PostgreSQL's default collation doesn't)."""
    return Collate(field_name, "C") if connection.vendor == "postgresql" else F(field_name)


def pages(items: Iterable, *, size: int):
    page: list = []
    for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page
