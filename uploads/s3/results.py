"""What the S3 layer answers: typed, immutable results (no boto3 types leave `uploads/s3/`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str = ""
    last_modified: datetime | None = None


@dataclass(frozen=True)
class StoredSample(ObjectInfo):
    """An object as one ranged GET saw it: its size, type and ETag, and its first bytes."""

    head: bytes = b""


@dataclass(frozen=True)
class MultipartUpload:
    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True)
class Part:
    part_number: int
    size: int
    etag: str
    checksum_sha256: str = ""  # base64, when the part was uploaded with x-amz-checksum-sha256


@dataclass(frozen=True)
class SignedRequest:
    """One request signed for a client to send to the store: a POST of `fields` then the file (a
    form), or a PUT/POST/GET/DELETE of `url` with exactly the `headers` it was signed with."""

    method: Literal["GET", "PUT", "POST", "DELETE"]
    url: str
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BucketProbe:
    """What a HEAD of the bucket said; `problem` is None when the bucket answered."""

    problem: Literal["credentials", "missing", "unreachable"] | None
    error_code: str = ""
    region: str = ""
    server_time: datetime | None = None
