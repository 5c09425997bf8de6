"""The upload lifecycle: start (sign), complete (verify), download URL, delete, list.

Services take keyword arguments, raise `uploads.errors` exceptions and never build responses.
The bytes never pass through here: the browser POSTs them to S3 with the policy we sign.
"""

from __future__ import annotations

import fnmatch
import logging
import mimetypes
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

import requests
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode

from .errors import (
    ContentTypeNotAllowed,
    InvalidContentType,
    InvalidExpiration,
    InvalidFilename,
    InvalidSize,
    ObjectEmpty,
    ObjectInvalid,
    ObjectMissing,
    ObjectTooLarge,
    ObjectTypeMismatch,
    StorageUnavailable,
    UploadFailed,
    UploadNotComplete,
    UploadNotFound,
    UploadTooLarge,
)
from .models import Upload
from .s3 import DELETE_BATCH_SIZE, S3Client

logger = logging.getLogger(__name__)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
FORM_TOKEN_SALT = "uploads.form-upload"
# How long after signing a form upload may finish: a large file can take a while to send.
# Shorter than cleanup's orphan grace, so cleanup never deletes a file a form may still finish.
FORM_TOKEN_MAX_AGE = 6 * 3600
# S3 puts the posted file's name where the key says `${filename}`; a store that doesn't leaves it.
FILENAME_VARIABLE = "${filename}"
MAX_DISPLAY_NAME = 255
MAX_KEY_NAME = 120
_MIME_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
MIME_TYPE_PATTERN = re.compile(rf"{_MIME_TOKEN}/{_MIME_TOKEN}")
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class DirectUpload:
    """What a browser needs to POST one file straight to S3."""

    upload: Upload
    url: str
    fields: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class FormUpload:
    """A policy for a plain HTML form: the browser picks the file after the page was signed."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_size: int


@dataclass(frozen=True)
class DownloadUrl:
    url: str
    expires_at: datetime | None  # None for the plain URL of a public object
    content_type: str
    name: str


# --- Input cleaning ---------------------------------------------------------------------------


def clean_filename(filename: str) -> str:
    """Return the name to show and to download as: no path, no control characters, <= 255 chars."""
    name = unicodedata.normalize("NFC", filename or "")
    # Control, format (e.g. right-to-left override), surrogate and unassigned characters go.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.split(r"[/\\]", name)[-1].strip()
    if name in {"", ".", ".."}:
        raise InvalidFilename(f"The file name {filename[:80]!r} is empty or not usable.")
    return _truncate_keeping_suffix(name, MAX_DISPLAY_NAME)


def key_filename(display_name: str) -> str:
    """Return an ASCII-only name for the object key, readable in S3 listings."""
    stem, suffix = (_ascii_key_part(part) for part in _split_suffix(display_name))
    # A name with no ASCII letters at all (e.g. Cyrillic) still keeps its extension.
    return _truncate_keeping_suffix((stem or "file") + (f".{suffix}" if suffix else ""), MAX_KEY_NAME)


def _ascii_key_part(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _UNSAFE_KEY_CHARS.sub("-", ascii_text).strip(".-_")


def _split_suffix(name: str) -> tuple[str, str]:
    suffix = PurePosixPath(name).suffix
    if len(suffix) > 16 or suffix == name:
        return name, ""
    return name[: len(name) - len(suffix)], suffix


def _truncate_keeping_suffix(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, suffix = _split_suffix(name)
    return stem[: limit - len(suffix)] + suffix


def clean_content_type(content_type: str) -> str:
    """Return the bare, lower-case MIME type (no parameters); an empty type is octet-stream."""
    bare = (content_type or "").split(";")[0].strip().lower()
    if not bare:
        return DEFAULT_CONTENT_TYPE
    if not MIME_TYPE_PATTERN.fullmatch(bare):
        raise InvalidContentType(f"{content_type[:80]!r} is not a valid content type.")
    return bare


def content_type_allowed(content_type: str) -> bool:
    return any(
        fnmatch.fnmatchcase(content_type, pattern.lower())
        for pattern in settings.UPLOADS_ALLOWED_CONTENT_TYPES
    )


def clean_prefix(prefix: str | None) -> str:
    parts = [part for part in (prefix or settings.UPLOADS_KEY_PREFIX).split("/") if part]
    if any(part in {".", ".."} for part in parts):
        raise InvalidFilename(f"The key prefix {prefix!r} may not contain '.' or '..'.")
    return "/".join(parts)


# --- Lifecycle --------------------------------------------------------------------------------


def upload_start(
    *,
    owner,
    filename: str,
    content_type: str,
    size: int | None = None,
    max_size: int | None = None,
    prefix: str | None = None,
    public: bool = False,
    success_redirect: str = "",
) -> DirectUpload:
    """Record a pending upload and sign a POST policy for exactly that key, type and size.

    `size` is the size the client declares (pinned exactly); `max_size` an upper bound for when
    the size isn't known yet. Without either, the site's UPLOADS_MAX_FILE_SIZE applies.
    """
    display_name = clean_filename(filename)
    content_type = clean_content_type(content_type)
    min_size, max_size = _size_range(size=size, max_size=max_size)
    if not content_type_allowed(content_type):
        raise ContentTypeNotAllowed(f"Files of type {content_type} are not accepted.")

    upload_id = uuid.uuid4()
    key = f"{clean_prefix(prefix)}/{upload_id}/{key_filename(display_name)}"
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    acl = "public-read" if public else settings.UPLOADS_PRIVATE_ACL
    # Signing is local computation: it fails only on bad configuration, which rolls back the row.
    with transaction.atomic():
        upload = Upload.objects.create(
            id=upload_id,
            owner=owner,
            file=key,
            original_filename=display_name,
            content_type=content_type,
            max_size=max_size,
            public=public,
            expires_at=timezone.now() + timedelta(seconds=expires_in),
        )
        post = S3Client().presigned_post(
            key=key,
            content_type=content_type,
            min_size=min_size,
            max_size=max_size,
            expires_in=expires_in,
            acl=acl,
            content_disposition=content_disposition_header(False, display_name),
            success_action_redirect=success_redirect,
        )
    return DirectUpload(upload=upload, url=post["url"], fields=post["fields"], expires_at=upload.expires_at)


def _size_range(*, size: int | None, max_size: int | None) -> tuple[int, int]:
    limit = settings.UPLOADS_MAX_FILE_SIZE
    for value in (size, max_size):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            raise InvalidSize(f"The size must be a positive number of bytes, not {value!r}.")
    if size is not None:
        if size > limit or (max_size is not None and size > max_size):
            raise UploadTooLarge(
                f"The file is {size} bytes; at most {min(limit, max_size or limit)} are allowed."
            )
        return size, size
    if max_size is not None and max_size > limit:
        raise UploadTooLarge(f"The largest file allowed is {limit} bytes, not {max_size}.")
    return 1, max_size or limit


def upload_get(*, upload_id: Any, owner=None) -> Upload:
    """Return the upload, restricted to `owner`'s when given; unknown or malformed ids raise."""
    try:
        upload_id = uuid.UUID(str(upload_id))
    except ValueError:
        raise UploadNotFound(f"No upload with id {str(upload_id)[:64]!r}.") from None
    uploads = Upload.objects.all() if owner is None else Upload.objects.owned_by(owner)
    try:
        return uploads.get(pk=upload_id)
    except Upload.DoesNotExist:
        raise UploadNotFound(f"No upload with id {upload_id}.") from None


def upload_complete(*, upload: Upload) -> Upload:
    """Verify the object with S3 and mark the upload complete; completing twice is harmless.

    Size and ETag come from S3, never from the client. An object that breaks the policy is
    deleted and the upload marked failed.
    """
    if upload.status == Upload.Status.COMPLETE:
        return upload
    if upload.status == Upload.Status.FAILED:
        raise UploadFailed()

    info = S3Client().head(upload.key)  # StorageUnavailable leaves the record as it was
    if info is None:
        raise ObjectMissing(f"{upload.original_filename} has not arrived in storage yet.")
    problem = _object_problem(upload, size=info.size, content_type=info.content_type)
    if problem is not None:
        upload_fail(upload=upload)
        raise problem

    # One conditional UPDATE: only a pending upload completes, whoever else is settling it.
    now = timezone.now()
    fields = {"status": Upload.Status.COMPLETE, "size": info.size, "etag": info.etag, "completed_at": now}
    if Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(**fields):
        for name, value in fields.items():
            setattr(upload, name, value)
        return upload
    # A concurrent complete or cleanup settled it first.
    settled = Upload.objects.filter(pk=upload.pk).first()
    if settled is None:
        raise UploadNotFound(f"No upload with id {upload.pk}.")
    if settled.status == Upload.Status.FAILED:
        raise UploadFailed()
    return settled


def _size_problem(*, size: int, max_size: int) -> ObjectInvalid | None:
    if size > max_size:
        return ObjectTooLarge(f"The stored file is {size} bytes; at most {max_size} are allowed.")
    if size == 0:
        return ObjectEmpty()
    return None


def _object_problem(upload, *, size: int, content_type: str) -> ObjectInvalid | None:
    """What is wrong with a stored object for `upload` (anything with max_size and content_type)."""
    problem = _size_problem(size=size, max_size=upload.max_size)
    if problem is not None:
        return problem
    try:
        stored_type = clean_content_type(content_type)
    except InvalidContentType:
        stored_type = content_type
    if stored_type != upload.content_type:
        return ObjectTypeMismatch(
            f"The stored file is {stored_type or 'untyped'}, not {upload.content_type}."
        )
    return None


def upload_fail(*, upload: Upload) -> Upload:
    """Mark the upload failed and delete whatever object arrived for it."""
    upload.status = Upload.Status.FAILED
    upload.save(update_fields=["status"])
    try:
        S3Client().delete(upload.key)
    except StorageUnavailable:
        # cleanup_uploads --orphans deletes it later: a failed record doesn't protect its object.
        logger.warning("Could not delete the object of failed upload %s", upload.pk)
    return upload


def upload_download_url(
    *, upload: Upload, expires_in: int | None = None, download: bool = False, presigned: bool = True
) -> DownloadUrl:
    """Return a presigned GET URL (or the plain URL of a public object) with the original name."""
    if upload.status != Upload.Status.COMPLETE:
        raise UploadNotComplete(f"{upload.original_filename} has not been uploaded completely.")
    client = S3Client()
    if upload.public and not presigned:
        return DownloadUrl(
            url=client.object_url(upload.key),
            expires_at=None,
            content_type=upload.content_type,
            name=upload.original_filename,
        )
    expires_in = settings.UPLOADS_URL_EXPIRATION if expires_in is None else expires_in
    if not 1 <= expires_in <= settings.UPLOADS_URL_MAX_EXPIRATION:
        raise InvalidExpiration(
            f"The expiration must be between 1 and {settings.UPLOADS_URL_MAX_EXPIRATION} seconds."
        )
    url = client.presigned_get_url(
        key=upload.key,
        expires_in=expires_in,
        content_type=upload.content_type,
        content_disposition=content_disposition_header(download, upload.original_filename),
    )
    return DownloadUrl(
        url=url,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        content_type=upload.content_type,
        name=upload.original_filename,
    )


def upload_delete(*, upload: Upload) -> None:
    """Delete the object, then the record; if S3 fails, the record stays and the error says so."""
    S3Client().delete(upload.key)
    upload.delete()


def upload_list(*, owner, status: str | None = None):
    """Return `owner`'s uploads, newest first."""
    uploads = Upload.objects.owned_by(owner)
    if status:
        uploads = uploads.filter(status=status)
    return uploads.order_by("-created_at")


def upload_list_version(*, owner) -> str:
    """A short fingerprint of `owner`'s list that changes when a row appears, changes or goes.

    The page polls it (one aggregate query) and reloads the list only when it changed.
    """
    summary = Upload.objects.owned_by(owner).aggregate(
        count=Count("id"),
        pending=Count("id", filter=Q(status=Upload.Status.PENDING)),
        failed=Count("id", filter=Q(status=Upload.Status.FAILED)),
        created=Max("created_at"),
        completed=Max("completed_at"),
    )
    created = summary["created"].timestamp() if summary["created"] else 0
    completed = summary["completed"].timestamp() if summary["completed"] else 0
    return f"{summary['count']}-{summary['pending']}-{summary['failed']}-{created:.6f}-{completed:.6f}"


# --- Uploads from a plain HTML form (no JavaScript) --------------------------------------------


def form_upload_start(*, owner, finish_url: str) -> FormUpload:
    """Sign a policy for a form that POSTs one file straight to S3, then lands on `finish_url`.

    The file's name and size are unknown when the page is signed, so the policy pins the key's
    folder (`<prefix>/<uuid>/`, S3 adds the name), the size range and the redirect. No record
    exists until `form_upload_finish`: a page that is never used leaves nothing behind.
    """
    upload_id = uuid.uuid4()
    folder = f"{clean_prefix(None)}/{upload_id}/"
    token = signing.dumps({"id": str(upload_id), "owner": owner.pk, "folder": folder}, salt=FORM_TOKEN_SALT)
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    post = S3Client().presigned_post(
        key=folder + FILENAME_VARIABLE,
        min_size=1,
        max_size=settings.UPLOADS_MAX_FILE_SIZE,
        expires_in=expires_in,
        acl=settings.UPLOADS_PRIVATE_ACL,
        success_action_redirect=f"{finish_url}?{urlencode({'token': token})}",
    )
    return FormUpload(
        url=post["url"],
        fields=post["fields"],
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        max_size=settings.UPLOADS_MAX_FILE_SIZE,
    )


def form_upload_finish(*, owner, token: str) -> Upload:
    """Record and complete the file a form posted; only the signed token and S3 are trusted.

    The token names the upload and its folder; S3's listing says which object arrived there
    (S3 also appends `key` to the redirect, but that part of the URL is not signed).
    """
    try:
        signed = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise UploadNotFound("This upload link is not valid or has expired.") from None
    if signed["owner"] != owner.pk:
        raise UploadNotFound("This upload link belongs to someone else.")
    existing = Upload.objects.owned_by(owner).filter(pk=signed["id"]).first()
    if existing is not None:  # the page was reloaded: finishing twice is harmless
        return existing

    client = S3Client()
    info = next(iter(client.iter_objects(prefix=signed["folder"])), None)
    if info is None:
        raise ObjectMissing("The file has not arrived in storage.")
    name = info.key.rsplit("/", 1)[-1]
    display_name = "upload" if name == FILENAME_VARIABLE else clean_filename(name)
    # The form can't declare a type per file; the server decides it from the name.
    content_type = mimetypes.guess_type(display_name)[0] or DEFAULT_CONTENT_TYPE
    problem: Exception | None = None
    if not content_type_allowed(content_type):
        problem = ContentTypeNotAllowed(f"Files of type {content_type} are not accepted.")
    else:
        problem = _size_problem(size=info.size, max_size=settings.UPLOADS_MAX_FILE_SIZE)
    if problem is not None:
        client.delete(info.key)
        raise problem
    now = timezone.now()
    try:
        with transaction.atomic():
            return Upload.objects.create(
                id=signed["id"],
                owner=owner,
                file=info.key,
                original_filename=display_name,
                content_type=content_type,
                max_size=settings.UPLOADS_MAX_FILE_SIZE,
                size=info.size,
                etag=info.etag,
                status=Upload.Status.COMPLETE,
                created_at=now,
                completed_at=now,
                expires_at=now,
            )
    except IntegrityError:  # a concurrent finish of the same upload won
        return Upload.objects.owned_by(owner).get(pk=signed["id"])


# --- Cleanup and reconciliation (manage.py cleanup_uploads) ------------------------------------


@dataclass
class CleanupReport:
    """What a cleanup run did (or, in a dry run, would do)."""

    dry_run: bool = False
    completed: int = 0  # pending, but the file had arrived: completed now
    failed: int = 0  # pending, and the file never arrived or broke the rules
    skipped: int = 0  # locked or finished meanwhile by another run
    orphans_deleted: int = 0
    multipart_aborted: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        would = "would be " if self.dry_run else ""
        return (
            f"{'Dry run: ' if self.dry_run else ''}{self.completed} stale uploads {would}completed, "
            f"{self.failed} {would}marked failed, {self.orphans_deleted} orphan objects {would}deleted, "
            f"{self.multipart_aborted} multipart uploads {would}aborted, {self.skipped} skipped, "
            f"{len(self.errors)} errors."
        )


Progress = Callable[[str, int], None]


# Stale uploads are settled a batch at a time: one transaction and two UPDATEs per batch, and the
# batch's HEAD requests in parallel (each is a network round trip; boto3 clients are thread-safe).
STALE_BATCH_SIZE = 100
HEAD_CONCURRENCY = 8


def cleanup_stale_uploads(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
    report: CleanupReport | None = None,
    progress: Progress | None = None,
) -> CleanupReport:
    """Settle pending uploads whose browser never called complete: complete or fail each.

    Rows stream from the database; each batch is claimed with row locks that concurrent runs skip
    (`skip_locked` on PostgreSQL), so two runs never process the same upload.
    """
    report = report or CleanupReport(dry_run=dry_run)
    cutoff = (now or timezone.now()) - older_than
    stale_ids = Upload.objects.pending_since(cutoff).order_by("created_at").values_list("pk", flat=True)
    client = S3Client()
    done = 0
    with ThreadPoolExecutor(max_workers=HEAD_CONCURRENCY) as pool:
        for batch in _pages(stale_ids.iterator(chunk_size=STALE_BATCH_SIZE * 5), size=STALE_BATCH_SIZE):
            try:
                _settle_stale_batch(client, pool, batch, dry_run=dry_run, report=report)
            except StorageUnavailable as e:
                report.errors.append(str(e))
                break  # S3 is down: every other batch would fail the same way
            done += len(batch)
            if progress:
                progress("stale uploads", done)
    return report


def _settle_stale_batch(
    client: S3Client, pool: ThreadPoolExecutor, upload_ids: list, *, dry_run: bool, report: CleanupReport
) -> None:
    # A failure anywhere (S3 down) rolls the whole batch back: its rows stay pending for the next run.
    with transaction.atomic():
        rows = Upload.objects.filter(pk__in=upload_ids, status=Upload.Status.PENDING)
        if not dry_run:
            rows = rows.select_for_update(skip_locked=True)
        # Plain tuples, not model instances: an instance that has touched its FileField is a
        # reference cycle, and thousands of those wait for the cycle collector.
        claimed = list(rows.values_list("pk", "file", "max_size", "content_type", named=True))
        infos = list(pool.map(lambda row: client.head(row.file), claimed))
        now = timezone.now()
        completed, failed_ids, invalid_keys = [], [], []
        for row, info in zip(claimed, infos, strict=True):
            problem = (
                ObjectMissing()
                if info is None
                else _object_problem(row, size=info.size, content_type=info.content_type)
            )
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
                # The record stays (marked failed) so its owner sees what happened.
                failed_ids.append(row.pk)
                if info is not None:
                    invalid_keys.append(row.file)
        if not dry_run:
            Upload.objects.bulk_update(completed, ["status", "size", "etag", "completed_at"])
            Upload.objects.filter(pk__in=failed_ids).update(status=Upload.Status.FAILED)
            report.errors += [f"S3 refused to delete {key}" for key in client.delete_many(invalid_keys)]
    report.skipped += len(upload_ids) - len(claimed)
    report.completed += len(completed)
    report.failed += len(failed_ids)


def cleanup_orphans(
    *,
    grace: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
    report: CleanupReport | None = None,
    progress: Progress | None = None,
) -> CleanupReport:
    """Delete objects under the uploads prefix older than `grace` with no record, or a failed one.

    The grace period protects files in flight (a form upload is recorded only after S3 has it).
    A failed upload's object broke the rules, or never arrived whole: its record stays, for its
    owner to see, but the object goes. Listing and record lookups go a page (1000 keys) at a
    time, deletes 1000 keys a request.
    """
    report = report or CleanupReport(dry_run=dry_run)
    cutoff = (now or timezone.now()) - grace
    client = S3Client()
    orphans: list[str] = []
    seen = 0
    try:
        for page in _pages(client.iter_objects(prefix=f"{clean_prefix(None)}/"), size=DELETE_BATCH_SIZE):
            old = [obj.key for obj in page if obj.last_modified and obj.last_modified < cutoff]
            kept = Upload.objects.filter(file__in=old).exclude(status=Upload.Status.FAILED)
            known = set(kept.values_list("file", flat=True))
            orphans += [key for key in old if key not in known]
            while len(orphans) >= DELETE_BATCH_SIZE:
                _delete_orphans(client, orphans[:DELETE_BATCH_SIZE], dry_run=dry_run, report=report)
                orphans = orphans[DELETE_BATCH_SIZE:]
            seen += len(page)
            if progress:
                progress("objects checked", seen)
        if orphans:
            _delete_orphans(client, orphans, dry_run=dry_run, report=report)
    except StorageUnavailable as e:
        report.errors.append(str(e))
    return report


def _pages(items: Iterable, *, size: int):
    page: list = []
    for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def _delete_orphans(client: S3Client, keys: list[str], *, dry_run: bool, report: CleanupReport) -> None:
    if dry_run:
        report.orphans_deleted += len(keys)
        return
    refused = client.delete_many(keys)
    report.orphans_deleted += len(keys) - len(refused)
    report.errors += [f"S3 refused to delete {key}" for key in refused]


def cleanup_multipart_uploads(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
    report: CleanupReport | None = None,
) -> CleanupReport:
    """Abort multipart uploads under the uploads prefix started before the cut-off."""
    report = report or CleanupReport(dry_run=dry_run)
    cutoff = (now or timezone.now()) - older_than
    client = S3Client()
    try:
        for multipart in client.iter_multipart_uploads(prefix=f"{clean_prefix(None)}/"):
            if multipart.initiated < cutoff:
                if not dry_run:
                    client.abort_multipart_upload(multipart)
                report.multipart_aborted += 1
    except StorageUnavailable as e:
        report.errors.append(str(e))
    return report


# --- Health check (manage.py check_s3) ---------------------------------------------------------

MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def storage_checks() -> Iterator[CheckResult]:
    """Check, in order, what the uploads need from S3; stop at the first failure others depend on."""
    client = S3Client()
    error, region, s3_clock = client.probe_bucket()
    if error in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"}:
        yield CheckResult(
            "credentials", False, f"S3 refused them ({error}) for bucket {client.bucket_name!r}"
        )
        return
    if error in {"404", "NoSuchBucket", "NotFound"}:
        yield CheckResult("bucket", False, f"bucket {client.bucket_name!r} does not exist")
        return
    if error:
        yield CheckResult("bucket", False, f"could not reach bucket {client.bucket_name!r} ({error})")
        return
    explicit = settings.AWS_ACCESS_KEY_ID and settings.AWS_SECRET_ACCESS_KEY
    yield CheckResult(
        "credentials", True, "accepted" if explicit else "accepted (from boto3: environment or role)"
    )
    yield CheckResult("bucket", True, f"{client.bucket_name!r} is reachable")
    if region and region != client.region:
        yield CheckResult("region", False, f"the bucket is in {region}, AWS_REGION says {client.region}")
    else:
        yield CheckResult("region", True, region or client.region)

    yield _cors_check(client)

    if s3_clock is not None:
        skew = abs(timezone.now() - s3_clock)
        ok = skew <= MAX_CLOCK_SKEW
        yield CheckResult(
            "clock", ok, f"{skew.total_seconds():.0f}s from S3's clock" + ("" if ok else ": fix NTP")
        )

    yield _post_round_trip(client)


def _cors_check(client: S3Client) -> CheckResult:
    try:
        rules = client.get_cors()
    except StorageUnavailable as e:  # e.g. credentials without s3:GetBucketCORS
        return CheckResult("cors", False, str(e))
    missing = [origin for origin in settings.UPLOADS_CORS_ORIGINS if not _cors_allows_post(rules, origin)]
    if missing:
        return CheckResult(
            "cors", False, f"no CORS rule lets {', '.join(missing)} POST; run configure_bucket"
        )
    return CheckResult("cors", True, f"POST allowed from {', '.join(settings.UPLOADS_CORS_ORIGINS)}")


def _cors_allows_post(rules: list[dict[str, Any]], origin: str) -> bool:
    return any(
        "POST" in rule.get("AllowedMethods", [])
        and any(fnmatch.fnmatchcase(origin, allowed) for allowed in rule.get("AllowedOrigins", []))
        for rule in rules
    )


def _post_round_trip(client: S3Client) -> CheckResult:
    """Upload a small probe through a presigned POST, as a browser would; HEAD it; delete it."""
    key = f"{clean_prefix(None)}/check-s3/{uuid.uuid4()}.txt"
    body = b"check_s3 probe"
    try:
        post = client.presigned_post(
            key=key,
            content_type="text/plain",
            min_size=1,
            max_size=len(body),
            expires_in=60,
            acl=settings.UPLOADS_PRIVATE_ACL,
        )
        response = requests.post(
            post["url"], data=post["fields"], files={"file": ("probe.txt", body)}, timeout=10
        )
        if response.status_code >= 300:
            return CheckResult(
                "presigned post", False, f"S3 answered {response.status_code}: {response.text[:120]}"
            )
        info = client.head(key)
        if info is None or info.size != len(body):
            return CheckResult("presigned post", False, "the probe did not arrive intact")
        client.delete(key)
    except (StorageUnavailable, requests.RequestException) as e:
        return CheckResult("presigned post", False, str(e))
    return CheckResult("presigned post", True, "uploaded, found and deleted a probe object")


# --- Bucket setup -----------------------------------------------------------------------------


# Our rules carry these IDs, so configure_bucket replaces them and leaves the bucket's others alone.
CORS_RULE_ID = "uploads-direct-post"
LIFECYCLE_RULE_ID = "uploads-abort-incomplete-multipart"


def bucket_settings(*, origins: list[str] | None = None, public: bool | None = None) -> dict[str, Any]:
    """Return the CORS, public access and lifecycle configuration the uploads need."""
    origins = settings.UPLOADS_CORS_ORIGINS if origins is None else origins
    public = settings.UPLOADS_PUBLIC if public is None else public
    return {
        "cors": [
            {
                "ID": CORS_RULE_ID,
                "AllowedOrigins": list(origins),
                # POST for uploads; GET and HEAD for downloads and thumbnails.
                "AllowedMethods": ["GET", "HEAD", "POST"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag", "Location"],
                "MaxAgeSeconds": 3000,
            }
        ],
        "block_public_access": not public,
        "lifecycle": [
            {
                "ID": LIFECYCLE_RULE_ID,
                "Filter": {"Prefix": f"{clean_prefix(None)}/"},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ],
    }


def bucket_configure(
    *, create: bool = False, origins: list[str] | None = None, public: bool | None = None
) -> dict:
    """Apply `bucket_settings` to the bucket, creating it first if asked; return what was applied."""
    client = S3Client()
    wanted = bucket_settings(origins=origins, public=public)
    if create and not client.bucket_exists():
        client.create_bucket()
    client.put_cors(_merge_rules(client.get_cors(), wanted["cors"]))
    client.put_public_access_block(block=wanted["block_public_access"])
    client.put_lifecycle(_merge_rules(client.get_lifecycle(), wanted["lifecycle"]))
    return wanted


def _merge_rules(existing: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our rules replace the ones with the same ID; the bucket's other rules stay."""
    ids = {rule["ID"] for rule in ours}
    return [rule for rule in existing if rule.get("ID") not in ids] + ours
