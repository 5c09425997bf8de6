"""Multipart uploads: files above UPLOADS_MULTIPART_THRESHOLD go to the store in parts.

The server starts the multipart upload, keeps the store's upload id on the record (a client
never supplies it unchecked), chooses the part size, signs each part for its exact length, and
on complete lists the parts itself and checks them against the plan before joining them. The
page sends the parts in parallel and can resume: the store says which parts it already has.

For clients that speak S3's protocol themselves (Uppy 6's `signRequest`), `sign_request`
presigns only requests on the upload's own key and multipart upload id.

Services here raise `uploads.errors`; `services` calls them for the lifecycle's multipart branches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .errors import (
    InvalidPartNumbers,
    MultipartUploadMismatch,
    NotMultipart,
    ObjectInvalid,
    ObjectSizeMismatch,
    ObjectTooLarge,
    PartMissing,
    PartSizeMismatch,
    SignRefused,
    UploadFailed,
)
from .models import Upload
from .s3 import Part, PresignedRequest, S3Client
from .validation import acl_for, serving_for

MIB = 1024 * 1024
S3_MIN_PART_SIZE = 5 * MIB  # every part but the last
S3_MAX_PARTS = 10_000
PART_URL_BATCH = 100  # part URLs signed per call


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    size: int
    url: str


@dataclass(frozen=True)
class PartUrls:
    parts: list[PartUrl]
    expires_at: datetime


@dataclass(frozen=True)
class MultipartState:
    """What the store has of a multipart upload, for resuming it."""

    part_size: int
    parts_count: int
    parts: list[Part]


@dataclass(frozen=True)
class Signed:
    """A presigned request for a client such as Uppy: `key` is the key the server chose."""

    url: str
    headers: dict[str, str]
    key: str


# --- The plan ---------------------------------------------------------------------------------


def uses_multipart(size: int | None) -> bool:
    """Whether the server sends a file of this declared size in parts."""
    return size is not None and size > settings.UPLOADS_MULTIPART_THRESHOLD


def part_size_for(size: int) -> int:
    """The part size for a file: at least the setting (and S3's 5 MiB), at most 10,000 parts."""
    smallest = max(settings.UPLOADS_MULTIPART_PART_SIZE, S3_MIN_PART_SIZE)
    needed = math.ceil(math.ceil(size / S3_MAX_PARTS) / MIB) * MIB
    return max(smallest, needed)


def parts_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def part_length(number: int, *, size: int, part_size: int) -> int:
    """The exact size of part `number`: the part size, or the remainder for the last one."""
    return min(part_size, size - (number - 1) * part_size)


# --- Start, sign parts, list parts ------------------------------------------------------------


def multipart_begin(*, upload: Upload, content_type: str, acl: str, content_disposition: str) -> None:
    """Start the store's multipart upload for a new record and keep its id and part size on it."""
    upload.part_size = part_size_for(upload.expected_size)
    upload.multipart_upload_id = S3Client().create_multipart_upload(
        key=upload.key, content_type=content_type, acl=acl, content_disposition=content_disposition
    )
    upload.save(update_fields=["part_size", "multipart_upload_id"])


def multipart_part_urls(*, upload: Upload, part_numbers: list[int]) -> PartUrls:
    """Presign UploadPart for each of `part_numbers` (at most 100), each for its exact length."""
    _require_open(upload, planned=True)
    count = parts_count(upload.expected_size, upload.part_size)
    if not 0 < len(part_numbers) <= PART_URL_BATCH or len(set(part_numbers)) != len(part_numbers):
        raise InvalidPartNumbers(f"Ask for 1 to {PART_URL_BATCH} different part numbers at a time.")
    if any(not 1 <= number <= count for number in part_numbers):
        raise InvalidPartNumbers(f"This upload has parts 1 to {count}.")
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    client = S3Client()
    parts = []
    for number in part_numbers:
        size = part_length(number, size=upload.expected_size, part_size=upload.part_size)
        signed = client.presigned_upload_part(
            key=upload.key,
            upload_id=upload.multipart_upload_id,
            part_number=number,
            size=size,
            expires_in=expires_in,
        )
        parts.append(PartUrl(number, size, signed.url))
    return PartUrls(parts=parts, expires_at=timezone.now() + timedelta(seconds=expires_in))


def multipart_state(*, upload: Upload) -> MultipartState:
    """Return the plan and the parts the store already has (ListParts, every page)."""
    _require_open(upload, planned=True)
    parts = S3Client().list_parts(key=upload.key, upload_id=upload.multipart_upload_id)
    if parts is None:
        raise NotMultipart("The store no longer has this multipart upload; start the upload again.")
    return MultipartState(
        part_size=upload.part_size,
        parts_count=parts_count(upload.expected_size, upload.part_size),
        parts=parts,
    )


def _require_open(upload: Upload, *, planned: bool = False) -> None:
    if upload.status == Upload.Status.FAILED:
        raise UploadFailed()
    if upload.status != Upload.Status.PENDING:
        raise NotMultipart(f"{upload.original_filename} is no longer accepting parts.")
    if planned and not (upload.multipart_upload_id and upload.part_size and upload.expected_size):
        raise NotMultipart(f"{upload.original_filename} is not a multipart upload.")


# --- Complete and abort -----------------------------------------------------------------------


def parts_problem(upload: Upload, parts: list[Part]) -> ObjectInvalid | None:
    """What is wrong with the parts in the store for this upload's plan, if anything.

    Parts 1..n must all be there, every part but the last must have the part size (the server's,
    or for a client that chose its own, the first part's), and the total must be the declared
    size, within the upload's limit.
    """
    if not parts:
        return PartMissing("No part of the file has arrived in storage.")
    total = sum(part.size for part in parts)
    size = upload.expected_size or total
    part_size = upload.part_size or parts[0].size
    count = parts_count(size, part_size)
    have = {part.part_number for part in parts}
    missing = [number for number in range(1, count + 1) if number not in have]
    if missing:
        shown = ", ".join(str(number) for number in missing[:5]) + (" …" if len(missing) > 5 else "")
        return PartMissing(f"Parts {shown} of {count} have not arrived in storage.")
    for part in parts:
        if part.part_number > count:
            continue  # more parts than planned: the total below says so
        expected = part_length(part.part_number, size=size, part_size=part_size)
        if part.size != expected:
            return PartSizeMismatch(f"Part {part.part_number} is {part.size} bytes, not {expected}.")
    if total > upload.max_size:
        return ObjectTooLarge(f"The parts add up to {total} bytes; at most {upload.max_size} are allowed.")
    if total != size:
        return ObjectSizeMismatch(f"The parts add up to {total} bytes, not the {size} declared.")
    return None


def multipart_finish(*, upload: Upload) -> ObjectInvalid | None:
    """List the parts, check them and join them; return what is wrong instead, if anything.

    A multipart upload the store no longer has was completed before (by a client through
    `sign_request`, or by a complete whose answer was lost) or aborted: the object's HEAD decides.
    """
    client = S3Client()
    parts = client.list_parts(key=upload.key, upload_id=upload.multipart_upload_id)
    if parts is None:
        return None
    problem = parts_problem(upload, parts)
    if problem is None:
        # Joining the parts takes the store a while for a big file (S3 documents minutes), and a
        # retry after a read timeout would race the first: this one call gets the longer budget.
        S3Client(timeouts="batch").complete_multipart_upload(
            key=upload.key, upload_id=upload.multipart_upload_id, parts=parts
        )
    return problem


def multipart_abort_for(upload: Upload) -> bool:
    """Abort the upload's multipart upload, if it has one (its parts go); say whether it had one.

    For cleanup too: a stale pending record's parts go with it (the bucket's lifecycle rule
    remains the backstop for uploads no record knows).
    """
    if not upload.multipart_upload_id:
        return False
    S3Client().abort_multipart(key=upload.key, upload_id=upload.multipart_upload_id)
    return True


# --- Signing S3 requests for a client that speaks S3 itself (Uppy 6) ------------------------


def sign_request(
    *,
    upload: Upload,
    method: str,
    key: str = "",
    upload_id: str | None = None,
    part_number: int | None = None,
) -> Signed:
    """Presign one of the client's S3 requests, only on this upload's key and multipart upload.

    Without an upload id: PutObject (PUT) or CreateMultipartUpload (POST) of the server's key,
    whatever key the client proposed (the answer's `key` says which). With one: UploadPart (PUT),
    ListParts (GET), CompleteMultipartUpload (POST, only once the parts pass the checks) or
    AbortMultipartUpload (DELETE), on the id the server holds; the first id a client presents is
    kept only if the store lists it as an unfinished upload of this key, and no other after it.
    """
    _require_open(upload)
    client = S3Client()
    expires_in = settings.UPLOADS_PRESIGN_EXPIRATION
    pinned = {
        "key": upload.key,
        "content_type": upload.content_type,
        "expires_in": expires_in,
        "acl": acl_for(upload.public),
        "content_disposition": serving_for(upload.content_type, upload.original_filename).disposition,
    }
    if not upload_id:
        if upload.multipart_upload_id:
            raise MultipartUploadMismatch("This upload's multipart upload has started; sign its parts.")
        if method == "PUT":
            put = client.presigned_put(**pinned, size=upload.expected_size)
            return Signed(put.url, put.headers, upload.key)
        if method == "POST":
            create = client.presigned_create_multipart(**pinned)
            return Signed(create.url, create.headers, upload.key)
        raise SignRefused("Only uploads are signed; delete an upload through the API.")

    if key != upload.key:
        raise SignRefused("This upload's requests are signed only for the key the server chose.")
    _bind(upload, upload_id, client)
    signed: PresignedRequest
    if method == "PUT":
        signed = client.presigned_upload_part(
            key=upload.key,
            upload_id=upload_id,
            part_number=_checked_part_number(upload, part_number),
            size=_planned_length(upload, part_number),
            expires_in=expires_in,
        )
    elif method in ("GET", "DELETE"):
        operation = "list_parts" if method == "GET" else "abort_multipart_upload"
        signed = client.presigned_multipart_request(
            operation, key=upload.key, upload_id=upload_id, expires_in=expires_in
        )
    elif method == "POST":
        parts = client.list_parts(key=upload.key, upload_id=upload_id) or []
        problem = parts_problem(upload, parts)
        if problem is not None:
            raise problem
        signed = client.presigned_multipart_request(
            "complete_multipart_upload", key=upload.key, upload_id=upload_id, expires_in=expires_in
        )
    else:
        raise SignRefused(f"The server does not sign {method[:10]} requests.")
    return Signed(signed.url, signed.headers, upload.key)


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


def _checked_part_number(upload: Upload, part_number: int | None) -> int:
    if part_number is None or not 1 <= part_number <= S3_MAX_PARTS:
        raise InvalidPartNumbers(f"A part number is between 1 and {S3_MAX_PARTS}.")
    if upload.part_size and upload.expected_size:
        count = parts_count(upload.expected_size, upload.part_size)
        if part_number > count:
            raise InvalidPartNumbers(f"This upload has parts 1 to {count}.")
    return part_number


def _planned_length(upload: Upload, part_number: int | None) -> int | None:
    # A client that chose its own part size (Uppy) gets unpinned lengths; complete checks them.
    if not (upload.part_size and upload.expected_size and part_number):
        return None
    return part_length(part_number, size=upload.expected_size, part_size=upload.part_size)
