"""Whole-object transfers for the worker: stream an object chunk by chunk, store a small derived one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import ObjectMissing
from .base import BucketClient
from .connection import STORE_ERRORS, error_code, storage_errors, unavailable

CHUNK = 1024 * 1024
NOT_FOUND_OR_CHANGED = {"NoSuchKey", "404", "NotFound", "412", "PreconditionFailed"}


class TransferOperations(BucketClient):
    def object_chunks(self, key: str, *, etag: str = "", max_bytes: int) -> Iterator[bytes]:
        """Yield the object's bytes a chunk at a time (never whole in memory), once.

        With `etag`, only that version (a conditional GET). Raise ObjectMissing if the object is
        gone or has changed, StorageUnavailable on any other failure, and ValueError past `max_bytes`.
        """
        params: dict[str, Any] = {"Bucket": self.bucket_name, "Key": key}
        if etag:
            params["IfMatch"] = f'"{etag}"'
        try:
            body = self.client.get_object(**params)["Body"]
            try:
                read = 0
                while chunk := body.read(CHUNK):
                    read += len(chunk)
                    if read > max_bytes:
                        raise ValueError(f"The object is larger than {max_bytes} bytes.")
                    yield chunk
            finally:
                body.close()
        except STORE_ERRORS as e:
            if error_code(e) in NOT_FOUND_OR_CHANGED:
                raise ObjectMissing("The stored file is gone, or was replaced after it was verified.") from e
            raise unavailable("read the file", e) from e

    def put_bytes(self, key: str, body: bytes, *, content_type: str, cache_control: str = "") -> None:
        """Store a small object the server made (a thumbnail); the same key is overwritten."""
        extra = {"CacheControl": cache_control} if cache_control else {}
        with storage_errors("store a derived file"):
            self.client.put_object(
                Bucket=self.bucket_name, Key=key, Body=body, ContentType=content_type, **extra
            )
