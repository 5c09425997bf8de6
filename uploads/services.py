"""The upload's services: start (sign), complete (verify), fail, verify again, download URL.
Deleting is `uploads.deletion`, the no-JavaScript form `uploads.form_uploads`, and every change
of status `uploads.lifecycle`.

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
from django.utils import timezone

from . import lifecycle
from .content_types import clean_content_type, require_allowed_type
from .errors import (
    InvalidExpiration,
    ObjectMissing,
    StorageUnavailable,
    UploadError,
    UploadFailed,
    UploadNotComplete,
    UploadNotFound,
)
from .failures import failure_of
from .inspection import Inspection, inspect, rules_for
from .keys import clean_filename, object_key
from .models import Upload
from .multipart import (
    PART_URL_BATCH,
    multipart_abort_for,
    multipart_finish,
    multipart_plan,
    parts_count,
    uses_multipart,
)
from .processing.state import after_complete, queued_at_complete
from .processing.trust import require_servable
from .rules import clean_checksum, size_range
from .s3 import ObjectInfo, S3Client
from .serving import pinned_headers, serving_for

logger = logging.getLogger(__name__)


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
        return None if self.part_size is None else parts_count(self.upload.expected_size, self.part_size)

    @property
    def part_urls_per_request(self) -> int | None:
        return None if self.part_size is None else PART_URL_BATCH

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
    checksum_sha256: str = "",
) -> DirectUpload:
    """Record a pending upload and sign an upload of exactly that key, type and size.

    `size` is the size the client declares (pinned exactly); `max_size` an upper bound for when
    the size isn't known yet. Without either, the site's UPLOADS_MAX_FILE_SIZE applies. The
    upload is a POST policy, or a presigned PUT for stores without them (UPLOADS_UPLOAD_METHOD);
    above UPLOADS_MULTIPART_THRESHOLD, parts of a size the server chooses, in a multipart upload
    it starts (`client_multipart`: the client starts it through `uploads.signing`, as Uppy 6 does).
    """
    display_name = clean_filename(filename)
    content_type = clean_content_type(content_type)
    min_size, max_size = size_range(size=size, max_size=max_size)
    require_allowed_type(content_type)
    checksum_sha256 = clean_checksum(checksum_sha256)

    upload_id = uuid.uuid4()
    key = object_key(upload_id, display_name, prefix=prefix)
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    # Checks the quota and reserves it atomically with the insert (QuotaExceeded, TooManyPending).
    upload = lifecycle.create(
        id=upload_id,
        owner=owner,
        file=key,
        original_filename=display_name,
        content_type=content_type,
        max_size=max_size,
        expected_size=size,
        public=public,
        declared_sha256=checksum_sha256,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
    )
    pinned = {
        "key": key,
        "expires_in": expires_in,
        **pinned_headers(content_type=content_type, filename=display_name, public=public),
    }
    try:
        if uses_multipart(size):
            # A client that starts its own multipart upload (Uppy 6) gets the server's plan too.
            multipart_plan(
                upload=upload,
                start=not client_multipart,
                content_type=content_type,
                acl=pinned["acl"],
                content_disposition=pinned["content_disposition"],
            )
            signed = None
        elif settings.UPLOADS_UPLOAD_METHOD == "put":
            # Without a declared size, complete still refuses an object over max_size.
            signed = S3Client().presigned_put(**pinned, size=size, checksum_sha256=checksum_sha256)
        else:
            signed = S3Client().presigned_post(
                **pinned, min_size=min_size, max_size=max_size, success_action_redirect=success_redirect
            )
    except BaseException:
        # The store failed to start a multipart upload (or signing met bad configuration): nothing
        # was handed out, so no record is left and the reservation goes back.
        lifecycle.transition(upload, lifecycle.DELETING)
        lifecycle.forget([upload.pk])
        raise
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


def upload_complete(*, upload: Upload, checksum_sha256: str = "") -> Upload:
    """Verify the object with S3 and mark the upload complete; completing twice is harmless.

    Size and ETag come from S3, never from the client. An object that breaks the policy is
    deleted and the upload marked failed. `checksum_sha256`: the whole file's SHA-256, for a
    client that could declare it only once the file was sent (a multipart upload hashed on the
    way); one declared at create stands.
    """
    if upload.status == Upload.Status.COMPLETE:
        return upload
    if upload.status != Upload.Status.PENDING:
        raise _settled_error(upload.status, upload.pk)
    checksum_sha256 = clean_checksum(checksum_sha256)
    if checksum_sha256 and not upload.declared_sha256:
        Upload.objects.filter(pk=upload.pk, declared_sha256="").update(declared_sha256=checksum_sha256)
        upload.declared_sha256 = checksum_sha256
    return upload_settle(upload=upload, inspection=upload_examine(upload=upload))


def upload_examine(*, upload: Upload) -> Inspection:
    """What the store holds for a pending upload, judged: store requests only, no database (so
    "Check with S3 again" runs it for many rows in parallel). A multipart upload's parts are
    joined first, once they match the plan."""
    if upload.multipart_upload_id:
        problem = multipart_finish(upload=upload)
        if problem is not None:
            return Inspection(None, problem)
    return inspect(upload.key, rules_for(upload))  # StorageUnavailable leaves the record as it was


def upload_settle(*, upload: Upload, inspection: Inspection) -> Upload:
    """Record what `upload_examine` found: complete, or failed (its object deleted), or raise."""
    if isinstance(inspection.problem, ObjectMissing):  # not there yet: the record stays pending
        raise ObjectMissing(f"{upload.original_filename} has not arrived in storage yet.")
    if inspection.problem is not None:
        if upload_fail(upload=upload, error=inspection.problem).status == Upload.Status.COMPLETE:
            return upload  # another process completed it first: its verdict stands
        raise inspection.problem
    stored = inspection.stored
    fields = {"size": stored.size, "etag": stored.etag, "completed_at": timezone.now()}
    # A pending upload's processing is always "none": it is queued in the same UPDATE.
    fields.update(queued_at_complete())
    if lifecycle.transition(upload, lifecycle.COMPLETE, from_=[lifecycle.PENDING], **fields):
        after_complete(upload, queued=True)  # announce it; queue the work on its bytes (uploads/processing)
        return upload
    # A concurrent complete, cleanup or delete settled it first.
    settled = _reload(upload)
    if settled.status != Upload.Status.COMPLETE:
        raise _settled_error(settled.status, upload.pk)
    return settled


def upload_verify(*, upload: Upload) -> str:
    """Check a complete upload's object with S3: "intact", "replaced" (another ETag) or "gone"."""
    return upload_verified(upload=upload, info=S3Client().head(upload.key))


def upload_verified(*, upload: Upload, info: ObjectInfo | None) -> str:
    """Record what a lookup of a complete upload's object found (`info`: None when it is gone).

    A gone object makes the upload failed, as `cleanup_uploads --verify` does (a dead link should
    say so); a replaced one is only reported.
    """
    if info is None:
        lifecycle.transition(upload, lifecycle.FAILED, from_=[lifecycle.COMPLETE], failure_code="object_gone")
        return "gone"
    return "intact" if not upload.etag or info.etag == upload.etag else "replaced"


def upload_fail(*, upload: Upload, error: UploadError | None = None) -> Upload:
    """Mark a pending upload failed (with why: `error`, see `uploads.failures`) and delete its object.

    An upload another process settled (completed, failed or is deleting) is never flipped:
    the upload is returned as that process left it.
    """
    failure = failure_of(error) if error is not None else {"failure_code": "failed_by_caller"}
    if not lifecycle.transition(upload, lifecycle.FAILED, from_=[lifecycle.PENDING], **failure):
        return _reload(upload)
    try:
        multipart_abort_for(upload)  # its parts go too
        S3Client().delete(upload.key)
    except StorageUnavailable:
        # cleanup_uploads --orphans deletes it later: a failed record doesn't protect its object.
        logger.warning("Could not delete the object of failed upload %s", upload.pk)
    return upload


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
    require_servable(upload)  # never infected; clean first when a scanner is set
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
