"""Signing S3 requests for a client that speaks S3 itself (Uppy 6's `signRequest`), within the
server's plan.

The server planned the upload when it was created (`services.upload_start`): sent whole (one
PUT of exactly the declared size) or in `parts_count` parts of `part_size` bytes. Here a
client's request is signed only if it fits that plan: CreateMultipartUpload once, and only for
an upload planned in parts; UploadPart only for part numbers 1..parts_count, each with its
exact Content-Length in the signature; ListParts, AbortMultipartUpload and (once the parts pass
the checks) CompleteMultipartUpload only on the one multipart upload bound to the record.
Nothing is signed once the upload's policy has expired.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from .errors import (
    InvalidPartNumbers,
    MultipartAlreadyStarted,
    MultipartUploadMismatch,
    NotMultipart,
    SignRefused,
    UploadExpired,
    UploadFailed,
)
from .models import Upload
from .multipart import joined, part_length, parts_problem, planned_count, planned_part_size, planned_parts
from .s3 import S3Client, SignedRequest
from .serving import pinned_headers

# A signed CreateMultipartUpload can be replayed until it expires; each replay makes an empty
# multipart upload (no bytes: parts are signed only for the bound one). Short, so few can.
CREATE_URL_LIFETIME = 60


def sign_request(
    *,
    upload: Upload,
    method: str,
    key: str = "",
    upload_id: str | None = None,
    part_number: int | None = None,
) -> SignedRequest:
    """Presign one of the client's S3 requests, only within this upload's plan.

    Without an upload id: PutObject (PUT) of an upload sent whole, or CreateMultipartUpload
    (POST) of one planned in parts, always of the server's key whatever key the client proposed
    (the API answers it as `key`). With one: UploadPart (PUT), ListParts (GET),
    CompleteMultipartUpload (POST) or AbortMultipartUpload (DELETE), on the id the server holds;
    the first id a client presents is kept only if the store lists it as an unfinished upload of
    this key, and no other after it.
    """
    _require_signable(upload)
    if not upload_id:
        return _sign_start(upload, method)
    if key != upload.key:
        raise SignRefused("This upload's requests are signed only for the key the server chose.")
    if not upload.part_size:
        raise NotMultipart(f"{upload.original_filename} is planned as one upload, not in parts.")
    client = S3Client()
    _bind(upload, upload_id, client)
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    signed: SignedRequest
    if method == "PUT":
        number = _planned_part_number(upload, part_number)
        signed = client.presigned_upload_part(
            key=upload.key,
            upload_id=upload_id,
            part_number=number,
            size=part_length(number, size=upload.expected_size, part_size=planned_part_size(upload)),
            expires_in=expires_in,
        )
    elif method in ("GET", "DELETE"):
        operation = "list_parts" if method == "GET" else "abort_multipart_upload"
        signed = client.presigned_multipart_request(
            operation, key=upload.key, upload_id=upload_id, expires_in=expires_in
        )
    elif method == "POST":
        problem = parts_problem(upload, planned_parts(client, upload, upload_id) or [])
        if problem is not None and not joined(client, upload):
            raise problem  # joined already: the client retries a join whose answer it lost
        signed = client.presigned_multipart_request(
            "complete_multipart_upload", key=upload.key, upload_id=upload_id, expires_in=expires_in
        )
    else:
        raise SignRefused(f"The server does not sign {method[:10]} requests.")
    return signed


def _sign_start(upload: Upload, method: str) -> SignedRequest:
    """PutObject of an upload sent whole, or CreateMultipartUpload (once) of one planned in parts."""
    client = S3Client()
    pinned = {
        "key": upload.key,
        **pinned_headers(
            content_type=upload.content_type, filename=upload.original_filename, public=upload.public
        ),
    }
    if method == "PUT":
        if upload.part_size:
            raise SignRefused(
                "This upload is planned in parts: start its multipart upload and sign each part."
            )
        put = client.presigned_put(
            **pinned, size=upload.expected_size, expires_in=settings.UPLOADS_PRESIGN_EXPIRATION
        )
        return put
    if method == "POST":
        if not upload.part_size:
            raise NotMultipart(f"{upload.original_filename} is planned as one upload, not in parts.")
        # Conditional, so of two racing requests only one is signed.
        first = Upload.objects.filter(
            pk=upload.pk, status=Upload.Status.PENDING, create_signed_at__isnull=True, multipart_upload_id=""
        ).update(create_signed_at=timezone.now())
        if not first:
            raise MultipartAlreadyStarted()
        create = client.presigned_create_multipart(
            **pinned, expires_in=min(CREATE_URL_LIFETIME, settings.UPLOADS_PRESIGN_EXPIRATION)
        )
        return create
    raise SignRefused("Only uploads are signed; delete an upload through the API.")


def _require_signable(upload: Upload) -> None:
    if upload.status == Upload.Status.FAILED:
        raise UploadFailed()
    if upload.status != Upload.Status.PENDING:
        raise NotMultipart(f"{upload.original_filename} is no longer accepting parts.")
    if upload.expires_at <= timezone.now():
        raise UploadExpired()


def _bind(upload: Upload, upload_id: str, client: S3Client) -> None:
    if upload.multipart_upload_id:
        if upload_id != upload.multipart_upload_id:
            raise MultipartUploadMismatch()
        return
    if not client.has_multipart_upload(key=upload.key, upload_id=upload_id):
        raise MultipartUploadMismatch("The store has no such multipart upload of this upload's key.")
    # Conditional: of two racing requests with different ids, only the first is kept.
    Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING, multipart_upload_id="").update(
        multipart_upload_id=upload_id
    )
    kept = Upload.objects.filter(pk=upload.pk).values_list("multipart_upload_id", flat=True).first()
    if kept != upload_id:
        raise MultipartUploadMismatch()
    upload.multipart_upload_id = upload_id


def _planned_part_number(upload: Upload, part_number: int | None) -> int:
    count = planned_count(upload)
    if part_number is None or not 1 <= part_number <= count:
        raise InvalidPartNumbers(f"This upload has parts 1 to {count}.")
    return part_number
