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
from django.db.models import Count, Max, Q
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
from .multipart import multipart_abort_for, multipart_begin, multipart_finish, parts_count, uses_multipart
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
        max_size=single_upload_limit(),
        expires_in=expires_in,
        acl=acl_for(False),
        success_action_redirect=f"{finish_url}?{urlencode({'token': token})}",
    )
    return FormUpload(
        url=post.url,
        fields=post.fields,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        max_size=single_upload_limit(),
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
