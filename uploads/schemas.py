"""The API's request and response shapes (`…In` / `…Out`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import StrictInt

from .models import Upload
from .services import MAX_PAGE

MAX_PAGE_SIZE = 100
StatusName = Literal["pending", "complete", "failed", "deleting"]


class ErrorOut(Schema):
    detail: str = Field(..., description="A sentence for people.")
    code: str = Field(..., description="A stable code for programs.")


class UploadIn(Schema):
    filename: str = Field(..., max_length=1024, examples=["holiday.jpg"])
    content_type: str = Field("", max_length=255, examples=["image/jpeg"])
    # Strict: JSON true, 5.0 and "5" are not sizes (lax parsing would take them as 1 and 5).
    size: StrictInt = Field(..., description="The file's exact size in bytes; the policy pins it.")


class DirectUploadOut(Schema):
    id: UUID
    method: Literal["POST", "PUT"] = Field(
        ...,
        description="POST: a multipart form of `fields`, then the file as `file`. PUT: the file as the body, with `headers`.",
    )
    url: str
    fields: dict[str, str]
    headers: dict[str, str]
    key: str
    expires_at: datetime
    max_size: int


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

    @staticmethod
    def resolve_filename(upload: Upload) -> str:
        return upload.original_filename


class UploadPageOut(Schema):
    items: list[UploadOut]
    count: int
    page: int
    page_size: int


class ListFilters(Schema):
    status: StatusName | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=MAX_PAGE_SIZE)


class UrlQuery(Schema):
    expiration: int | None = Field(
        None, description="Seconds the URL stays valid; at most UPLOADS_URL_MAX_EXPIRATION."
    )
    download: bool = Field(False, description="Ask the browser to save the file instead of showing it.")


class DownloadUrlOut(Schema):
    url: str
    expires_at: datetime | None = Field(None, description="None for the plain URL of a public object.")
    content_type: str
    name: str
