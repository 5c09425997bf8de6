"""The upload lifecycle: start (sign), complete (verify), download URL, delete, list; and the
same for a plain HTML form (no JavaScript).

Services take keyword arguments, raise `uploads.errors` exceptions and never build responses.
The bytes never pass through here: the browser POSTs them to S3 with the policy we sign.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from .content import HEAD_BYTES, type_problem
from .errors import (
    InvalidExpiration,
    InvalidPage,
    ObjectMissing,
    ObjectTypeMismatch,
    QuotaExceeded,
    StorageUnavailable,
    TooManyPending,
    UploadError,
    UploadFailed,
    UploadNotComplete,
    UploadNotFound,
)
from .models import Upload, UsedFormToken
from .multipart import multipart_abort_for, multipart_begin, multipart_finish, parts_count, uses_multipart
from .s3 import ObjectInfo, S3Client
from .validation import (
    acl_for,
    clean_content_type,
    clean_filename,
    guess_content_type,
    object_key,
    object_problem,
    require_allowed_type,
    serving_for,
    single_upload_limit,
    size_problem,
    size_range,
    upload_folder,
)

logger = logging.getLogger(__name__)

FORM_TOKEN_SALT = "uploads.form-upload"
# How long after signing a form upload may finish: a large file can take a while to send.
# Shorter than cleanup's orphan grace, so cleanup never deletes a file a form may still finish.
FORM_TOKEN_MAX_AGE = 6 * 3600
# S3 puts the posted file's name where the key says `${filename}`; a store that doesn't leaves it.
FILENAME_VARIABLE = "${filename}"
# What a form upload is stored as: the form can't know the file's type when the page is signed,
# and the server decides the served type from the name anyway. So the plain URL of the object
# always downloads, and a store that ignored the policy's type shows at finish.
FORM_CONTENT_TYPE = "application/octet-stream"
FORM_CONTENT_DISPOSITION = "attachment"
# Past this page a list's OFFSET overflows the database's integers (SQLite, PostgreSQL's bigint);
# no one has 100,000 pages of uploads.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class DirectUpload:
    """What a browser needs to POST one file straight to S3 (the API's DirectUploadOut)."""

    upload: Upload
    method: str  # "POST" (a form: `fields`, then the file), "PUT" (the body, with `headers`) or "multipart"
    url: str
    fields: dict[str, str]
    headers: dict[str, str]
    expires_at: datetime

    @property
    def part_size(self) -> int | None:
        return self.upload.part_size if self.method == "multipart" else None

    @property
    def parts_count(self) -> int | None:
        if self.part_size is None:
            return None
        return parts_count(self.upload.expected_size, self.part_size)

    @property
    def id(self) -> uuid.UUID:
        return self.upload.pk

    @property
    def key(self) -> str:
        return self.upload.key

    @property
    def max_size(self) -> int:
        return self.upload.max_size


@dataclass(frozen=True)
class FormUpload:
    """A policy for a plain HTML form: the browser picks the file after the page was signed."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_size: int


@dataclass(frozen=True)
class UploadUsage:
    """What a user stores (or has reserved with pending uploads) against the limits; 0 = no limit."""

    bytes_used: int
    bytes_limit: int
    pending: int
    pending_limit: int


@dataclass(frozen=True)
class DownloadUrl:
    url: str
    expires_at: datetime | None  # None for the plain URL of a public object
    content_type: str
    name: str


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
    client_multipart: bool = False,
) -> DirectUpload:
    """Record a pending upload and sign an upload of exactly that key, type and size.

    `size` is the size the client declares (pinned exactly); `max_size` an upper bound for when
    the size isn't known yet. Without either, the site's UPLOADS_MAX_FILE_SIZE applies. The
    upload is a POST policy, or a presigned PUT for stores without them (UPLOADS_UPLOAD_METHOD);
    above UPLOADS_MULTIPART_THRESHOLD, a multipart upload the server starts (`client_multipart`:
    none, for a client that starts its own through `multipart.sign_request`, such as Uppy 6).
    """
    display_name = clean_filename(filename)
    content_type = clean_content_type(content_type)
    min_size, max_size = size_range(size=size, max_size=max_size)
    require_allowed_type(content_type)
    if owner is not None:
        require_room(owner=owner, size=max_size)

    upload_id = uuid.uuid4()
    key = object_key(upload_id, display_name, prefix=prefix)
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    # Signing is local computation: it fails only on bad configuration, which rolls back the row.
    with transaction.atomic():
        upload = Upload.objects.create(
            id=upload_id,
            owner=owner,
            file=key,
            original_filename=display_name,
            content_type=content_type,
            max_size=max_size,
            expected_size=size,
            public=public,
            expires_at=timezone.now() + timedelta(seconds=expires_in),
        )
        pinned = {
            "key": key,
            "content_type": content_type,
            "expires_in": expires_in,
            "acl": acl_for(public),
            # Stored with the object, so even its plain URL never shows a script-capable file inline.
            "content_disposition": serving_for(content_type, display_name).disposition,
        }
        if uses_multipart(size) and not client_multipart:
            # A network call inside the transaction: if the store fails, no record is left.
            multipart_begin(
                upload=upload,
                content_type=content_type,
                acl=pinned["acl"],
                content_disposition=pinned["content_disposition"],
            )
            signed = None
        elif settings.UPLOADS_UPLOAD_METHOD == "put":
            # Without a declared size, complete still refuses an object over max_size.
            signed = S3Client().presigned_put(**pinned, size=size)
        else:
            signed = S3Client().presigned_post(
                **pinned, min_size=min_size, max_size=max_size, success_action_redirect=success_redirect
            )
    if signed is None:  # the parts are signed on request (multipart.multipart_part_urls)
        return DirectUpload(upload, "multipart", "", {}, {}, upload.expires_at)
    return DirectUpload(
        upload=upload,
        method=signed.method,
        url=signed.url,
        fields=signed.fields,
        headers=signed.headers,
        expires_at=upload.expires_at,
    )


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
    if upload.status != Upload.Status.PENDING:
        raise _settled_error(upload.status, upload.pk)

    if upload.multipart_upload_id:
        # The server joins the parts only once they match the plan; the HEAD below checks the result.
        problem = multipart_finish(upload=upload)
        if problem is not None:
            if upload_fail(upload=upload).status == Upload.Status.COMPLETE:
                return upload
            raise problem

    client = S3Client()
    info = client.head(upload.key)  # StorageUnavailable leaves the record as it was
    if info is None:
        raise ObjectMissing(f"{upload.original_filename} has not arrived in storage yet.")
    problem = object_problem(upload, size=info.size, content_type=info.content_type) or content_problem(
        key=upload.key, etag=info.etag, content_type=upload.content_type, client=client
    )
    if problem is not None:
        if upload_fail(upload=upload).status == Upload.Status.COMPLETE:
            return upload  # another process completed it first: its verdict stands
        raise problem

    now = timezone.now()
    fields = {"status": Upload.Status.COMPLETE, "size": info.size, "etag": info.etag, "completed_at": now}
    if _settle_pending(upload, **fields):
        return upload
    # A concurrent complete, cleanup or delete settled it first.
    settled = _reload(upload)
    if settled.status != Upload.Status.COMPLETE:
        raise _settled_error(settled.status, upload.pk)
    return settled


def content_problem(
    *, key: str, etag: str, content_type: str, client: S3Client | None = None
) -> ObjectTypeMismatch | None:
    """Read the object's first bytes (one ranged GET) and say whether they contradict its type.

    `etag` is the version a HEAD just checked; if the object is gone or has changed since,
    `ObjectMissing` is raised: nothing is known about the new bytes yet.
    """
    head = (client or S3Client()).read_head(key, length=HEAD_BYTES, etag=etag)
    if head is None:
        raise ObjectMissing("The file changed in storage while it was being checked; try again.")
    return type_problem(declared=content_type, head=head)


def upload_fail(*, upload: Upload) -> Upload:
    """Mark a pending upload failed and delete whatever object arrived for it.

    An upload another process settled (completed, failed or is deleting) is never flipped:
    the upload is returned as that process left it.
    """
    if not _settle_pending(upload, status=Upload.Status.FAILED):
        return _reload(upload)
    try:
        multipart_abort_for(upload)  # its parts go too
        S3Client().delete(upload.key)
    except StorageUnavailable:
        # cleanup_uploads --orphans deletes it later: a failed record doesn't protect its object.
        logger.warning("Could not delete the object of failed upload %s", upload.pk)
    return upload


# --- Record fate: every change of status is conditional, so racing processes never undo each
# other (a settled upload stays settled; a deleting one only goes away).


def _settle_pending(upload: Upload, **fields: Any) -> bool:
    """Apply `fields` if the upload is still pending; say whether it was."""
    if not Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(**fields):
        return False
    for name, value in fields.items():
        setattr(upload, name, value)
    return True


def _reload(upload: Upload) -> Upload:
    settled = Upload.objects.filter(pk=upload.pk).first()
    if settled is None or settled.status == Upload.Status.DELETING:
        raise UploadNotFound(f"No upload with id {upload.pk}.")
    return settled


def _settled_error(status: str, upload_id) -> UploadError:
    if status == Upload.Status.FAILED:
        return UploadFailed()
    return UploadNotFound(f"No upload with id {upload_id}.")


def upload_download_url(
    *, upload: Upload, expires_in: int | None = None, download: bool = False, presigned: bool = True
) -> DownloadUrl:
    """Return a presigned GET URL (or the plain URL of a public object) with the original name.

    Only inline-safe types are shown in the browser; the rest download (see `serving_for`).
    """
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
    serving = serving_for(upload.content_type, upload.original_filename, download=download)
    url = client.presigned_get_url(
        key=upload.key,
        expires_in=expires_in,
        content_type=serving.content_type,
        content_disposition=serving.disposition,
    )
    return DownloadUrl(
        url=url,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        content_type=upload.content_type,
        name=upload.original_filename,
    )


def upload_delete(*, upload: Upload) -> None:
    """Delete the upload: mark it deleting, delete its object, then the record.

    If S3 fails, the record stays (marked deleting, so nothing hands out its link) and the error
    says so; deleting again, or cleanup, finishes the job. A missing object is not an error.
    """
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.DELETING)
    if upload.status != Upload.Status.COMPLETE:
        multipart_abort_for(upload)  # a multipart upload on its way leaves no parts behind
    S3Client().delete(upload.key)
    Upload.objects.filter(pk=upload.pk).delete()


def upload_usage(*, owner) -> UploadUsage:
    """Return what `owner` stores and has pending, with the limits (one query)."""
    usage = Upload.objects.owned_by(owner).usage()
    return UploadUsage(
        bytes_used=usage["bytes"],
        bytes_limit=settings.UPLOADS_QUOTA_BYTES,
        pending=usage["pending"],
        pending_limit=settings.UPLOADS_QUOTA_PENDING,
    )


def require_room(*, owner, size: int, pending: bool = True) -> None:
    """Refuse a file of `size` bytes that `owner` has no room for (and, with `pending`, a new pending upload).

    One query. Two uploads started at the same instant may both fit where only one does: the
    rate limit bounds how far that can go.
    """
    if not (settings.UPLOADS_QUOTA_BYTES or settings.UPLOADS_QUOTA_PENDING):
        return
    usage = upload_usage(owner=owner)
    if pending and usage.pending_limit and usage.pending >= usage.pending_limit:
        raise TooManyPending(
            f"{usage.pending} uploads are pending; at most {usage.pending_limit} may be at once. "
            "Complete or cancel some first."
        )
    if usage.bytes_limit and usage.bytes_used + size > usage.bytes_limit:
        raise QuotaExceeded(
            f"This file needs {size} bytes and {usage.bytes_used} of your {usage.bytes_limit} bytes "
            f"are used; {max(usage.bytes_limit - usage.bytes_used, 0)} are left."
        )


def upload_page_start(page: int, page_size: int) -> int:
    """Return the offset of a list page; a page past MAX_PAGE is refused (422), never a database overflow."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidPage(f"The page must be between 1 and {MAX_PAGE}.")
    return (page - 1) * page_size


# Type families the list filters by: MIME patterns, matched as prefixes or whole types.
TYPE_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "image": ("Images", ("image/",)),
    "video": ("Video", ("video/",)),
    "audio": ("Audio", ("audio/",)),
    "document": (
        "Documents",
        (
            "application/pdf",
            "text/",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.",
            "application/vnd.oasis.opendocument.",
            "application/vnd.ms-",
            "application/rtf",
            "application/json",
        ),
    ),
    "archive": (
        "Archives",
        (
            "application/zip",
            "application/x-tar",
            "application/gzip",
            "application/x-gzip",
            "application/x-7z-compressed",
            "application/x-bzip2",
            "application/x-xz",
            "application/vnd.rar",
            "application/x-rar-compressed",
        ),
    ),
}
OTHER_FAMILY = "other"
# The list's sort orders; the second key keeps pages stable when the first ties.
# Uploads without a size yet (pending) sort last either way.
LIST_ORDERINGS: dict[str, tuple[Any, ...]] = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "name": ("original_filename", "-created_at"),
    "-name": ("-original_filename", "-created_at"),
    "-size": (F("size").desc(nulls_last=True), "-created_at"),
    "size": (F("size").asc(nulls_last=True), "-created_at"),
}


def _is_prefix(pattern: str) -> bool:
    return pattern.endswith(("/", ".", "-"))


def _family_q(family: str) -> Q:
    if family == OTHER_FAMILY:
        return ~_any_family_q()
    q = Q()
    for pattern in TYPE_FAMILIES[family][1]:
        q |= Q(content_type__startswith=pattern) if _is_prefix(pattern) else Q(content_type=pattern)
    return q


def _any_family_q() -> Q:
    q = Q()
    for family in TYPE_FAMILIES:
        q |= _family_q(family)
    return q


def type_family(content_type: str) -> str:
    """Return the family a type belongs to (a key of TYPE_FAMILIES, or "other")."""
    for family, (_label, patterns) in TYPE_FAMILIES.items():
        for pattern in patterns:
            if content_type == pattern or (_is_prefix(pattern) and content_type.startswith(pattern)):
                return family
    return OTHER_FAMILY


def upload_list(
    *, owner=None, status: str | None = None, search: str = "", family: str = "", sort: str = "-created"
):
    """Return uploads (`owner`'s, when given) matching a name, status and type family, sorted."""
    uploads = Upload.objects.all() if owner is None else Upload.objects.owned_by(owner)
    if status:
        uploads = uploads.filter(status=status)
    if search:
        uploads = uploads.filter(original_filename__icontains=search)
    if family:
        uploads = uploads.filter(_family_q(family))
    return uploads.order_by(*LIST_ORDERINGS.get(sort, LIST_ORDERINGS["-created"]))


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
    Upload.objects.filter(pk__in=keys).update(status=Upload.Status.DELETING)
    refused = set(S3Client().delete_many(keys.values()))  # StorageUnavailable leaves them deleting
    done = [pk for pk, key in keys.items() if key not in refused]
    Upload.objects.filter(pk__in=done).delete()
    if refused:
        raise StorageUnavailable(f"Storage refused to delete {len(refused)} of the files; try again later.")
    return len(done)


# Lifetimes a share link may have, before the cap of UPLOADS_URL_MAX_EXPIRATION.
SHARE_LIFETIMES = ((3600, "1 hour"), (86400, "1 day"), (7 * 86400, "7 days"))


def share_lifetimes() -> list[tuple[int, str]]:
    """Return the share link lifetimes on offer: the usual ones, capped at the longest allowed."""
    cap = settings.UPLOADS_URL_MAX_EXPIRATION
    offered = [(seconds, label) for seconds, label in SHARE_LIFETIMES if seconds <= cap]
    if cap not in (seconds for seconds, _label in offered) and len(offered) < len(SHARE_LIFETIMES):
        offered.append((cap, _duration_label(cap)))
    return offered


def _duration_label(seconds: int) -> str:
    for unit, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= unit and seconds % unit == 0:
            count = seconds // unit
            return f"{count} {name}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def upload_share_url(*, upload: Upload, expires_in: int) -> DownloadUrl:
    """Return a link anyone may use until it expires (at most UPLOADS_URL_MAX_EXPIRATION).

    It shows the file in the browser only if its type is inline-safe; else it downloads.
    """
    return upload_download_url(upload=upload, expires_in=min(expires_in, settings.UPLOADS_URL_MAX_EXPIRATION))


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


# --- Uploads from a plain HTML form (no JavaScript) ---------------------------------------------


def form_upload_start(*, owner, finish_url: Callable[[str], str]) -> FormUpload:
    """Sign a policy for a form that POSTs one file straight to S3, then lands on `finish_url(token)`.

    The token travels in the URL's path: AWS appends its own query to the redirect, but other
    stores (SeaweedFS, MinIO) replace the query, and a token there would be lost.

    The file's name and size are unknown when the page is signed, so the policy pins the key's
    folder (`<prefix>/<uuid>/`, S3 adds the name), the size range, the redirect, and a fixed
    type and disposition (`FORM_CONTENT_TYPE`, `FORM_CONTENT_DISPOSITION`). No record exists
    until `form_upload_finish`: a page that is never used leaves nothing behind.
    """
    upload_id = uuid.uuid4()
    token = signing.dumps({"id": str(upload_id), "owner": owner.pk}, salt=FORM_TOKEN_SALT)
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    post = S3Client().presigned_post(
        key=upload_folder(upload_id) + FILENAME_VARIABLE,
        content_type=FORM_CONTENT_TYPE,
        min_size=1,
        max_size=single_upload_limit(),
        expires_in=expires_in,
        acl=acl_for(False),
        content_disposition=FORM_CONTENT_DISPOSITION,
        success_action_redirect=finish_url(token),
    )
    return FormUpload(
        url=post.url,
        fields=post.fields,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        max_size=single_upload_limit(),
    )


def form_upload_finish(*, owner, token: str) -> Upload:
    """Record and complete the one file a form posted; only the signed token and S3 are trusted.

    The token names the upload; its folder follows from the id (S3 also appends `key` to the
    redirect, but that part of the URL is not signed). Exactly one object is recorded and any
    other in the folder deleted; its stored type, size and content are checked. The token is
    single use: finishing again answers the same upload (a reload), or, once it is deleted,
    not found; a used token never records anything again.
    """
    upload_id = _form_token_upload_id(token, owner=owner)
    if UsedFormToken.objects.filter(pk=upload_id).exists():
        existing = Upload.objects.owned_by(owner).filter(pk=upload_id).first()
        if existing is not None and existing.status != Upload.Status.DELETING:
            return existing  # the page was reloaded: finishing twice is harmless
        raise UploadNotFound("This upload link has already been used.")
    if Upload.objects.filter(pk=upload_id).exists():
        raise UploadNotFound("This upload link is not valid.")  # an id no form of ours signed

    client = S3Client()
    info = _keep_one_object(client, upload_folder(upload_id))
    name = info.key.rsplit("/", 1)[-1]
    display_name = "upload" if name == FILENAME_VARIABLE else clean_filename(name)
    # The form can't declare a type per file; the server decides it from the name.
    content_type = guess_content_type(display_name)
    try:
        _check_form_object(client, info, content_type=content_type, owner=owner)
    except ObjectMissing:
        raise
    except UploadError:
        client.delete(info.key)
        raise
    now = timezone.now()
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(upload_id=upload_id, owner=owner, used_at=now)
            upload = Upload.objects.create(
                id=upload_id,
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
    except IntegrityError:  # a concurrent finish of the same token won
        winner = Upload.objects.owned_by(owner).filter(pk=upload_id).first()
        if winner is None:
            raise UploadNotFound("This upload link has already been used.") from None
        return winner
    UsedFormToken.objects.expired(max_age=timedelta(seconds=FORM_TOKEN_MAX_AGE)).delete()
    return upload


def _form_token_upload_id(token: str, *, owner) -> uuid.UUID:
    """The upload id a finish token was signed for; anything else about it is a not-found."""
    try:
        signed = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
        upload_id, signed_owner = uuid.UUID(str(signed["id"])), signed["owner"]
    # Without the key a token can't pass the signature; with a leaked key, any payload can: a
    # malformed one is refused like a bad signature, never a 500.
    except (signing.BadSignature, ValueError, TypeError, KeyError, zlib.error):
        raise UploadNotFound("This upload link is not valid or has expired.") from None
    if signed_owner != owner.pk:
        raise UploadNotFound("This upload link belongs to someone else.")
    return upload_id


def _keep_one_object(client: S3Client, folder: str) -> ObjectInfo:
    """Return the object a form posted to `folder` and delete every other one under it.

    A policy lives minutes and S3 names the key: a page could post several files, or nest keys.
    Only a file directly in the folder counts; of several, the newest.
    """
    objects = list(client.iter_objects(prefix=folder))
    direct = [obj for obj in objects if "/" not in obj.key[len(folder) :]]
    chosen = max(
        direct, key=lambda obj: (obj.last_modified is not None, obj.last_modified, obj.key), default=None
    )
    extra = [obj.key for obj in objects if obj is not chosen]
    if extra:
        client.delete_many(extra)
    if chosen is None:
        raise ObjectMissing("The file has not arrived in storage.")
    return chosen


def _check_form_object(client: S3Client, listed: ObjectInfo, *, content_type: str, owner) -> None:
    """Refuse a form's object that the policy should have refused, or whose content isn't its type."""
    info = client.head(listed.key)
    if info is None:
        raise ObjectMissing("The file has not arrived in storage.")
    problem = size_problem(size=info.size, max_size=settings.UPLOADS_MAX_FILE_SIZE)
    if problem is not None:
        raise problem
    stored = info.content_type.split(";")[0].strip().lower()
    if stored not in (FORM_CONTENT_TYPE, content_type):
        # A store that ignored the policy's fields stored a type the browser chose. (SeaweedFS
        # stores the file part's own type; that is harmless when it is the one we record.)
        raise ObjectTypeMismatch(
            f"The file was stored as {info.content_type or 'untyped'}, not {FORM_CONTENT_TYPE}."
        )
    require_allowed_type(content_type)
    require_room(owner=owner, size=info.size, pending=False)
    problem = content_problem(key=info.key, etag=info.etag, content_type=content_type, client=client)
    if problem is not None:
        raise problem
