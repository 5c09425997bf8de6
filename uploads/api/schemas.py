"""The API's request and response shapes (`…In` / `…Out`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from django.conf import settings
from ninja import Field, Schema
from pydantic import BeforeValidator, StrictBool, StrictInt

from ..listing import MAX_PAGE
from ..models import Upload
from ..multipart import PART_URL_BATCH
from ..processing.results import metadata_out, thumbnail_out
from ..s3.limits import MAX_PARTS

# Bounds the services enforce with their own codes (invalid_size, invalid_part_numbers,
# invalid_expiration), stated in the schema only: a field constraint would answer validation_error.
PART_NUMBER = {"minimum": 1, "maximum": MAX_PARTS}


def _whole_number(value):
    """JSON's 5.0 is the integer 5 (JSON Schema says so too); true and "5" stay refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict: JSON true, 5.5 and "5" are not sizes (lax parsing would take true and "5" as 1 and 5).
JsonInt = Annotated[StrictInt, BeforeValidator(_whole_number)]


def _expiration_bounds(schema: dict) -> None:
    schema.update(minimum=1, maximum=settings.UPLOADS_URL_MAX_EXPIRATION)  # read when the schema is built


MAX_PAGE_SIZE = 100
StatusName = Literal["pending", "complete", "failed", "deleting"]
ProcessingName = Literal["queued", "running", "done", "failed", "none"]
ScanName = Literal["pending", "clean", "infected", "error", "skipped"]


class ThumbnailOut(Schema):
    url: str = Field(
        ..., description="A presigned GET URL, valid for UPLOADS_THUMBNAIL_URL_EXPIRATION seconds."
    )
    width: int
    height: int
    content_type: str = Field(..., examples=["image/webp"])


class ErrorOut(Schema):
    detail: str = Field(..., description="A sentence for people.")
    code: str = Field(..., description="A stable code for programs.")


class UploadIn(Schema):
    filename: str = Field(..., max_length=1024, examples=["holiday.jpg"])
    content_type: str = Field("", max_length=255, examples=["image/jpeg"])
    size: JsonInt = Field(
        ...,
        description="The file's exact size in bytes; the policy pins it.",
        json_schema_extra={"minimum": 1},
    )
    client_multipart: StrictBool = Field(
        False,
        description="For clients that start their own multipart upload through /sign (Uppy 6): the server starts none.",
    )
    checksum_sha256: str = Field(
        "",
        max_length=64,
        description="Base64 of the whole file's SHA-256 (as S3's x-amz-checksum-sha256). The worker compares "
        "it with the stored bytes (checksum_mismatch); in PUT mode the signature pins it, so the store refuses "
        "another body.",
    )


class CompleteIn(Schema):
    checksum_sha256: str = Field(
        "",
        max_length=64,
        description="Base64 of the whole file's SHA-256, when it could not be declared at create (a multipart "
        "upload hashed while it was sent); one declared at create stands.",
    )


class DirectUploadOut(Schema):
    id: UUID
    method: Literal["POST", "PUT", "multipart"] = Field(
        ...,
        description="POST: a multipart form of `fields`, then the file as `file`. PUT: the file as the body, with `headers`. "
        "multipart: the file in `parts_count` parts of `part_size` bytes (the last one smaller), each PUT to a URL "
        "from POST /parts; `url`, `fields` and `headers` are empty.",
    )
    url: str
    fields: dict[str, str]
    headers: dict[str, str]
    key: str
    expires_at: datetime
    max_size: int
    part_size: int | None = Field(None, description="multipart: the size of every part but the last.")
    parts_count: int | None = Field(None, description="multipart: how many parts.")
    part_urls_per_request: int | None = Field(
        None, description="multipart: the most part numbers one POST /parts signs."
    )


class UploadOut(Schema):
    id: UUID
    filename: str
    content_type: str
    size: int | None = Field(None, description="Size in bytes reported by S3 on completion.")
    etag: str
    status: StatusName
    public: bool
    created_at: datetime
    completed_at: datetime | None
    resumable: bool = Field(
        False, description="A pending multipart upload: GET /parts says which parts the store has."
    )
    failure_code: str = Field("", description="failed: why, as a stable code (see uploads/failures.py).")
    failure_reason: str = Field("", description="failed: why, as a sentence to show.")
    processing: ProcessingName = Field(
        "none",
        description="The work on the stored bytes (metadata, thumbnail): queued, running, done, failed, "
        "or none (nothing to do for this type). A failed processing leaves the upload complete.",
    )
    processing_error: str = Field("", description="Why processing failed, for people.")
    metadata: dict[str, int | float] = Field(
        default_factory=dict,
        description='Only the keys that apply: {"width", "height"} for an image, {"pages"} for a PDF, '
        '{"duration", "width", "height"} for a video, {"duration"} (seconds) for audio.',
    )
    thumbnail: ThumbnailOut | None = Field(
        None, description="A WebP fitting in 256×256, once processing is done."
    )
    checksum_sha256: str = Field(
        "", description="Base64 SHA-256 of the stored bytes, computed by the worker (empty until then)."
    )
    scan: ScanName = Field(
        "skipped",
        description="The malware scan: pending, clean, infected, error (staff can scan again) or skipped "
        "(no scanner set). With a scanner set, the file is served only once clean.",
    )

    @staticmethod
    def resolve_filename(upload: Upload) -> str:
        return upload.original_filename

    @staticmethod
    def resolve_metadata(upload: Upload) -> dict:
        return metadata_out(upload)

    @staticmethod
    def resolve_thumbnail(upload: Upload) -> dict | None:
        return thumbnail_out(upload)


class UploadPageOut(Schema):
    items: list[UploadOut]
    next: str | None = Field(None, description="Pass as ?cursor= for the following page; null on the last.")
    count: int | None = Field(None, description="How many uploads match; only with ?count=true.")
    page: int
    page_size: int


SortName = Literal["-created", "created", "name", "-name", "-size", "size"]


class ListFilters(Schema):
    status: StatusName | None = None
    sort: SortName = Field("-created", description="Newest first by default; `-` is descending.")
    cursor: str | None = Field(None, description="The `next` of the previous page.")
    count: bool = Field(False, description="Also count the matching uploads (reads them all).")
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Deprecated: OFFSET pages; use `cursor`.")
    page_size: int = Field(25, ge=1, le=MAX_PAGE_SIZE)


class UrlQuery(Schema):
    expiration: int | None = Field(
        None,
        description="Seconds the URL stays valid; at most UPLOADS_URL_MAX_EXPIRATION.",
        json_schema_extra=_expiration_bounds,
    )
    download: bool = Field(False, description="Ask the browser to save the file instead of showing it.")


class DownloadUrlOut(Schema):
    url: str
    expires_at: datetime | None = Field(None, description="None for the plain URL of a public object.")
    content_type: str
    name: str


# --- Multipart uploads ------------------------------------------------------------------------


class PartNumbersIn(Schema):
    part_numbers: list[int] = Field(
        ...,
        min_length=1,
        max_length=PART_URL_BATCH,
        examples=[[1, 2, 3]],
        json_schema_extra={"items": {"type": "integer", **PART_NUMBER}},
    )
    checksums: dict[str, str] = Field(
        default_factory=dict,
        description='Optional base64 SHA-256 of each part, by part number ({"1": "…"}): each URL signs '
        "x-amz-checksum-sha256, so the store refuses a part whose body differs.",
    )


class PartUrlOut(Schema):
    part_number: int
    size: int = Field(..., description="The part's exact size: its URL is signed for this Content-Length.")
    url: str
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Headers to send with the PUT (x-amz-checksum-sha256 when declared).",
    )


class PartUrlsOut(Schema):
    parts: list[PartUrlOut]
    expires_at: datetime


class PartOut(Schema):
    part_number: int
    size: int
    etag: str


class PartsOut(Schema):
    part_size: int
    parts_count: int
    part_urls_per_request: int = Field(..., description="The most part numbers one POST /parts signs.")
    parts: list[PartOut] = Field(..., description="The parts the store already has.")


class SignIn(Schema):
    """One S3 request to presign, as Uppy 6's `signRequest` passes it."""

    method: Literal["PUT", "POST", "GET", "DELETE"]
    key: str = Field("", max_length=1024)
    uploadId: str | None = Field(None, max_length=1024)  # noqa: N815 (Uppy's names)
    partNumber: int | None = Field(None, json_schema_extra=PART_NUMBER)  # noqa: N815
    contentType: str | None = Field(None, max_length=255)  # noqa: N815 (ignored: the server pins the type)


class SignOut(Schema):
    url: str
    headers: dict[str, str]
    key: str = Field(..., description="The key the server chose; Uppy stores the object under it.")
