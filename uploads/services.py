"""The upload lifecycle: start (sign), complete (verify), download URL, delete, list; and the
same for a plain HTML form (no JavaScript).

Services take keyword arguments, raise `uploads.errors` exceptions and never build responses.
The bytes never pass through here: the browser POSTs them to S3 with the policy we sign.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.http import urlencode

from .errors import (
    ContentTypeNotAllowed,
    InvalidExpiration,
    ObjectMissing,
    StorageUnavailable,
    UploadError,
    UploadFailed,
    UploadNotComplete,
    UploadNotFound,
)
from .models import Upload
from .s3 import S3Client
from .validation import (
    acl_for,
    clean_content_type,
    clean_filename,
    guess_content_type,
    object_key,
    object_problem,
    require_allowed_type,
    serving_for,
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


@dataclass(frozen=True)
class DirectUpload:
    """What a browser needs to POST one file straight to S3 (the API's DirectUploadOut)."""

    upload: Upload
    method: str  # "POST" (a form: `fields`, then the file) or "PUT" (the body, with `headers`)
    url: str
    fields: dict[str, str]
    headers: dict[str, str]
    expires_at: datetime

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
) -> DirectUpload:
    """Record a pending upload and sign an upload of exactly that key, type and size.

    `size` is the size the client declares (pinned exactly); `max_size` an upper bound for when
    the size isn't known yet. Without either, the site's UPLOADS_MAX_FILE_SIZE applies. The
    upload is a POST policy, or a presigned PUT for stores without them (UPLOADS_UPLOAD_METHOD).
    """
    display_name = clean_filename(filename)
    content_type = clean_content_type(content_type)
    min_size, max_size = size_range(size=size, max_size=max_size)
    require_allowed_type(content_type)

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
        if settings.UPLOADS_UPLOAD_METHOD == "put":
            # Without a declared size, complete still refuses an object over max_size.
            signed = S3Client().presigned_put(**pinned, size=size)
        else:
            signed = S3Client().presigned_post(
                **pinned, min_size=min_size, max_size=max_size, success_action_redirect=success_redirect
            )
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

    info = S3Client().head(upload.key)  # StorageUnavailable leaves the record as it was
    if info is None:
        raise ObjectMissing(f"{upload.original_filename} has not arrived in storage yet.")
    problem = object_problem(upload, size=info.size, content_type=info.content_type)
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


def upload_fail(*, upload: Upload) -> Upload:
    """Mark a pending upload failed and delete whatever object arrived for it.

    An upload another process settled (completed, failed or is deleting) is never flipped:
    the upload is returned as that process left it.
    """
    if not _settle_pending(upload, status=Upload.Status.FAILED):
        return _reload(upload)
    try:
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
    S3Client().delete(upload.key)
    Upload.objects.filter(pk=upload.pk).delete()


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


def form_upload_start(*, owner, finish_url: str) -> FormUpload:
    """Sign a policy for a form that POSTs one file straight to S3, then lands on `finish_url`.

    The file's name and size are unknown when the page is signed, so the policy pins the key's
    folder (`<prefix>/<uuid>/`, S3 adds the name), the size range and the redirect. No record
    exists until `form_upload_finish`: a page that is never used leaves nothing behind.
    """
    upload_id = uuid.uuid4()
    folder = upload_folder(upload_id)
    token = signing.dumps({"id": str(upload_id), "owner": owner.pk, "folder": folder}, salt=FORM_TOKEN_SALT)
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    post = S3Client().presigned_post(
        key=folder + FILENAME_VARIABLE,
        min_size=1,
        max_size=settings.UPLOADS_MAX_FILE_SIZE,
        expires_in=expires_in,
        acl=acl_for(False),
        success_action_redirect=f"{finish_url}?{urlencode({'token': token})}",
    )
    return FormUpload(
        url=post.url,
        fields=post.fields,
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
    content_type = guess_content_type(display_name)
    problem: UploadError | None = size_problem(size=info.size, max_size=settings.UPLOADS_MAX_FILE_SIZE)
    try:
        require_allowed_type(content_type)
    except ContentTypeNotAllowed as e:
        problem = e
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
