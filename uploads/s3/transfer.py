"""Whole-object transfers for the worker: stream an object to a file, store a small derived one."""

from __future__ import annotations

from typing import Any, BinaryIO

from .base import BucketClient
from .connection import STORE_ERRORS, error_code, storage_errors, unavailable

CHUNK = 1024 * 1024
NOT_FOUND_OR_CHANGED = {"NoSuchKey", "404", "NotFound", "412", "PreconditionFailed"}


class TransferOperations(BucketClient):
    def download_to(self, key: str, target: BinaryIO, *, etag: str = "", max_bytes: int) -> bool:
        """Stream the object into `target` a chunk at a time (never whole in memory).

        With `etag`, only that version (a conditional GET). Return False if the object is gone or
        has changed; raise StorageUnavailable on any other failure, and ValueError past `max_bytes`.
        """
        params: dict[str, Any] = {"Bucket": self.bucket_name, "Key": key}
        if etag:
            params["IfMatch"] = f'"{etag}"'
        try:
            body = self.client.get_object(**params)["Body"]
            try:
                written = 0
                while chunk := body.read(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise ValueError(f"The object is larger than {max_bytes} bytes.")
                    target.write(chunk)
            finally:
                body.close()
        except STORE_ERRORS as e:
            if error_code(e) in NOT_FOUND_OR_CHANGED:
                return False
            raise unavailable("read the file", e) from e
        return True

    def put_bytes(self, key: str, body: bytes, *, content_type: str, cache_control: str = "") -> None:
        """Store a small object the server made (a thumbnail); the same key is overwritten."""
        extra = {"CacheControl": cache_control} if cache_control else {}
        with storage_errors("store a derived file"):
            self.client.put_object(
                Bucket=self.bucket_name, Key=key, Body=body, ContentType=content_type, **extra
            )
