"""Multipart uploads: files above UPLOADS_MULTIPART_THRESHOLD go to the store in parts.

The server starts the multipart upload, keeps the store's upload id on the record (a client
never supplies it unchecked), chooses the part size, signs each part for its exact length, and
on complete lists the parts itself and checks them against the plan before joining them. The
page sends the parts in parallel and can resume: the store says which parts it already has.

For clients that speak S3's protocol themselves (Uppy 6's `signRequest`), the server plans the
parts all the same; `uploads.signing` signs their requests within that plan.

Services here raise `uploads.errors`; `services` calls them for the lifecycle's multipart branches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .errors import (
    InvalidPartNumbers,
    MultipartInvalid,
    NotMultipart,
    ObjectInvalid,
    ObjectSizeMismatch,
    ObjectTooLarge,
    PartMissing,
    PartSizeMismatch,
    UploadFailed,
)
from .models import Upload
from .rules import clean_checksum
from .s3 import Part, S3Client, limits
from .s3.limits import MIB

PART_URL_BATCH = 100  # part URLs signed per call (POST /parts); clients read it from the plan


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    size: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)


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
    part_urls_per_request: int = PART_URL_BATCH


# --- The plan ---------------------------------------------------------------------------------


def uses_multipart(size: int | None) -> bool:
    """Whether the server sends a file of this declared size in parts."""
    return size is not None and size > settings.UPLOADS_MULTIPART_THRESHOLD


def part_size_for(size: int) -> int:
    """The part size for a file: at least the setting (and S3's 5 MiB), at most 10,000 parts."""
    smallest = max(settings.UPLOADS_MULTIPART_PART_SIZE, limits.MIN_PART_SIZE)
    needed = math.ceil(math.ceil(size / limits.MAX_PARTS) / MIB) * MIB
    return max(smallest, needed)


def parts_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def part_length(number: int, *, size: int, part_size: int) -> int:
    """The exact size of part `number`: the part size, or the remainder for the last one."""
    return min(part_size, size - (number - 1) * part_size)


# --- Start, sign parts, list parts ------------------------------------------------------------


def multipart_plan(
    *, upload: Upload, start: bool, content_type: str, acl: str, content_disposition: str
) -> None:
    """Choose the part size of a new record's multipart upload and keep it on the record.

    `start`: the server starts the store's multipart upload itself and keeps its id; otherwise a
    client starts it through `uploads.signing`, within the same plan.
    """
    upload.part_size = part_size_for(upload.expected_size)
    if start:
        upload.multipart_upload_id = S3Client().create_multipart_upload(
            key=upload.key, content_type=content_type, acl=acl, content_disposition=content_disposition
        )
    upload.save(update_fields=["part_size", "multipart_upload_id"])


def planned_count(upload: Upload) -> int:
    """How many parts the server planned for a multipart upload (at most 10,000)."""
    return parts_count(upload.expected_size, planned_part_size(upload))


def planned_part_size(upload: Upload) -> int:
    # Records from before every multipart upload was planned get the plan the server would choose.
    return upload.part_size or part_size_for(upload.expected_size)


def planned_parts(client: S3Client, upload: Upload, upload_id: str) -> list[Part] | None:
    """The store's parts of the planned numbers (and any beyond them on the same page): one
    ListParts walk of at most 10 pages, whatever the client uploaded."""
    return client.list_parts(key=upload.key, upload_id=upload_id, up_to=planned_count(upload))


def multipart_part_urls(
    *, upload: Upload, part_numbers: list[int], checksums: dict[str, str] | None = None
) -> PartUrls:
    """Presign UploadPart for each of `part_numbers` (at most 100), each for its exact length,
    and for its SHA-256 when `checksums` declares one (keys: part numbers as strings)."""
    _require_open(upload, planned=True)
    count = planned_count(upload)
    if not 0 < len(part_numbers) <= PART_URL_BATCH or len(set(part_numbers)) != len(part_numbers):
        raise InvalidPartNumbers(f"Ask for 1 to {PART_URL_BATCH} different part numbers at a time.")
    if any(not 1 <= number <= count for number in part_numbers):
        raise InvalidPartNumbers(f"This upload has parts 1 to {count}.")
    checksums = checksums or {}
    if not set(checksums) <= {str(number) for number in part_numbers}:
        raise InvalidPartNumbers("Checksums may be given only for the part numbers asked for.")
    checksums = {key: clean_checksum(value, name=f"checksums[{key}]") for key, value in checksums.items()}
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
            checksum_sha256=checksums.get(str(number), ""),
        )
        parts.append(PartUrl(number, size, signed.url, signed.headers))
    if checksums:
        record_part_checksums(upload=upload, checksums=checksums)
    return PartUrls(parts=parts, expires_at=timezone.now() + timedelta(seconds=expires_in))


def record_part_checksums(*, upload: Upload, checksums: dict[str, str]) -> None:
    """Keep the part digests a client declared, for the worker to check the stored parts against
    (a part declared again replaces its digest). Under the row's lock: batches signed at once
    must not lose each other's entries."""
    with transaction.atomic():
        declared = (
            Upload.objects.select_for_update()
            .values_list("declared_part_sha256", flat=True)
            .get(pk=upload.pk)
        )
        declared = {**(declared or {}), **checksums}
        Upload.objects.filter(pk=upload.pk).update(declared_part_sha256=declared)
    upload.declared_part_sha256 = declared


def multipart_state(*, upload: Upload) -> MultipartState:
    """Return the plan and the parts the store already has (ListParts, up to the plan's last part)."""
    _require_open(upload, planned=True)
    parts = planned_parts(S3Client(), upload, upload.multipart_upload_id)
    if parts is None:
        raise NotMultipart("The store no longer has this multipart upload; start the upload again.")
    return MultipartState(
        part_size=planned_part_size(upload),
        parts_count=planned_count(upload),
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
    """What is wrong with the parts in the store for the server's plan, if anything.

    Every part is checked against the plan (never a size taken from the parts themselves), so
    the work is bounded by the plan's 10,000 parts: each listed part has its planned length and
    number, parts 1..n are all there, and the total is the declared size, within the limit.
    """
    if not parts:
        return PartMissing("No part of the file has arrived in storage.")
    size, part_size, count = upload.expected_size, planned_part_size(upload), planned_count(upload)
    beyond = [part.part_number for part in parts if part.part_number > count]
    for part in parts:
        if part.part_number > count:
            continue  # more parts than planned: the total below says so
        expected = part_length(part.part_number, size=size, part_size=part_size)
        if part.size != expected:
            return PartSizeMismatch(f"Part {part.part_number} is {part.size} bytes, not {expected}.")
    have = {part.part_number for part in parts}
    if len(have) < count:
        missing = [number for number in range(1, count + 1) if number not in have]
        shown = ", ".join(str(number) for number in missing[:5]) + (" …" if len(missing) > 5 else "")
        return PartMissing(f"Parts {shown} of {count} have not arrived in storage.")
    total = sum(part.size for part in parts)
    if total > upload.max_size:
        return ObjectTooLarge(f"The parts add up to {total} bytes; at most {upload.max_size} are allowed.")
    if total != size:
        return ObjectSizeMismatch(f"The parts add up to {total} bytes, not the {size} declared.")
    if beyond:  # empty ones
        return MultipartInvalid(f"Part {beyond[0]} is not in the plan of {count} parts.")
    return None


def multipart_finish(*, upload: Upload) -> ObjectInvalid | None:
    """List the parts, check them and join them; return what is wrong instead, if anything.

    A multipart upload the store no longer has was completed before (by a client through
    `uploads.signing`, or by a complete whose answer was lost) or aborted: the object decides.
    """
    client = S3Client()
    parts = planned_parts(client, upload, upload.multipart_upload_id)
    if parts is None:
        return None
    problem = parts_problem(upload, parts)
    if problem is not None and joined(client, upload):
        return None  # the object is judged as any complete's, never deleted for its parts
    if problem is None:
        # Joining the parts takes the store a while for a big file (S3 documents minutes), and a
        # retry after a read timeout would race the first: this one call gets the longer budget.
        S3Client(timeouts="batch").complete_multipart_upload(
            key=upload.key, upload_id=upload.multipart_upload_id, parts=parts
        )
    return problem


def joined(client: S3Client, upload: Upload) -> bool:
    """Whether the upload's parts were joined already: its key holds an object.

    Only a join of the upload's own multipart upload writes its key (no client gets a URL that
    writes it otherwise). A retry whose first complete answered 503 at the request deadline can
    meet the store still dropping the joined parts (SeaweedFS removes them after writing the
    object): listed partly or not at all, they are no reason to fail the file they became.
    """
    return client.head(upload.key) is not None


def multipart_abort_for(upload: Upload) -> bool:
    """Abort the upload's multipart upload, if it has one (its parts go); say whether it had one.

    For cleanup too: a stale pending record's parts go with it (the bucket's lifecycle rule
    remains the backstop for uploads no record knows).
    """
    if not upload.multipart_upload_id:
        return False
    S3Client().abort_multipart(key=upload.key, upload_id=upload.multipart_upload_id)
    return True
