"""S3Client: the only module that talks to S3 (with its private boto3 plumbing, `_boto.py`).

The seed's methods (`upload_file`, `list_objects`, `delete_object`) return result dicts. The
others return dataclasses and raise `StorageUnavailable` for every failure of S3 or the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from django.conf import settings

from ._boto import (
    NOT_FOUND_CODES,
    STORE_ERRORS,
    Connection,
    Timeouts,
    boto3_client,
    clear_client_cache,
    client_config,
    error_code,
    logger,
    storage_errors,
    unavailable,
)
from ._bucket_s3 import BucketOperations
from ._multipart_s3 import MultipartOperations, Part, PresignedRequest
from ._transfer_s3 import TransferOperations
from .deadline import call_within_deadline
from .errors import StorageUnavailable
from .validation import acl_for, guess_content_type

__all__ = ["Part", "PresignedRequest", "S3Client", "clear_client_cache", "client_config"]

# A ranged GET of an empty object: no byte satisfies the range.
EMPTY_RANGE_CODES = {"416", "InvalidRange"}


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
class PresignedUpload:
    """A signed upload request: POST `fields` then the file (a form), or PUT the body with `headers`."""

    method: Literal["POST", "PUT"]
    url: str
    fields: dict[str, str]
    headers: dict[str, str]


class S3Client(MultipartOperations, BucketOperations, TransferOperations):
    """A bucket on S3 or an S3-compatible store, configured from Django settings by default."""

    # S3's limits: DeleteObjects takes at most 1000 keys a request; a listing (objects, parts,
    # multipart uploads) answers at most 1000 entries a page. Class attributes, so a test can
    # show the paging with a page of 3.
    DELETE_BATCH_SIZE = 1000
    LIST_PAGE_SIZE = 1000

    def __init__(
        self,
        *,
        bucket_name: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeouts: Timeouts = "request",
    ):
        self.bucket_name = bucket_name or settings.AWS_STORAGE_BUCKET_NAME
        connection = Connection.from_settings(
            timeouts,
            region=region,
            endpoint_url=endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )
        self.region = connection.region
        self.endpoint_url = connection.endpoint_url
        self.client = boto3_client(connection)
        # URLs for browsers are signed for the host browsers reach (SigV4 signs the host), which
        # may differ from the one the server uses (`http://s3:9000` inside a container network).
        public = settings.UPLOADS_PUBLIC_ENDPOINT_URL
        browser_side = replace(connection, endpoint_url=public) if public and not endpoint_url else connection
        self._signer = boto3_client(browser_side)
        self._unsigned_client = boto3_client(browser_side, signed=False)

    # --- The seed's interface: result dicts, never exceptions ------------------------------

    def upload_file(self, file_path: str, object_key: str, public: bool = False) -> dict[str, Any]:
        """Upload a local file (server-side tooling, fixtures, backfills)."""
        content_type = guess_content_type(object_key)
        extra = {"ContentType": content_type}
        if acl := acl_for(public):
            extra["ACL"] = acl
        try:
            with storage_errors("store the file"):
                self.client.upload_file(file_path, self.bucket_name, object_key, ExtraArgs=extra)
        except (OSError, StorageUnavailable) as e:
            return {"success": False, "error": str(e)}
        return {
            "success": True,
            "object_key": object_key,
            "url": self.object_url(object_key),
            "content_type": content_type,
        }

    def list_objects(self, prefix: str = "", max_keys: int = 1000) -> dict[str, Any]:
        """List up to `max_keys` objects under `prefix`, following S3's pages past 1000 keys."""
        objects = []
        try:
            for info in self.iter_objects(prefix):
                if len(objects) >= max_keys:
                    return {"success": True, "objects": objects, "count": len(objects), "truncated": True}
                objects.append(
                    {
                        "key": info.key,
                        "size": info.size,
                        "etag": info.etag,
                        "last_modified": info.last_modified,
                    }
                )
        except StorageUnavailable as e:
            return {"success": False, "error": str(e)}
        return {"success": True, "objects": objects, "count": len(objects), "truncated": False}

    def delete_object(self, object_key: str) -> dict[str, Any]:
        """Delete one object; deleting a missing object succeeds, as in S3."""
        try:
            self.delete(object_key)
        except StorageUnavailable as e:
            return {"success": False, "error": str(e)}
        return {"success": True, "object_key": object_key}

    # --- Objects ---------------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo | None:
        """Return what S3 knows of an object, or None if there is no such object."""
        try:
            response = self.client.head_object(Bucket=self.bucket_name, Key=key)
        except STORE_ERRORS as e:
            if error_code(e) in NOT_FOUND_CODES:
                return None  # It's not an error condition if an object does not exist.
            raise unavailable("look up the file", e) from e
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            etag=response.get("ETag", "").strip('"'),
            content_type=response.get("ContentType", ""),
            last_modified=response.get("LastModified"),
        )

    def sample(self, key: str, *, length: int) -> StoredSample | None:
        """The first `length` bytes, size (Content-Range), type and ETag from ONE ranged GET, or
        None if there is no such object. A read cut short is `StorageUnavailable`, never a head."""
        return call_within_deadline(lambda: self._sample(key, length), "read the file")

    def _sample(self, key: str, length: int) -> StoredSample | None:
        try:
            response = self.client.get_object(Bucket=self.bucket_name, Key=key, Range=f"bytes=0-{length - 1}")
        except STORE_ERRORS as e:
            if error_code(e) in NOT_FOUND_CODES:
                return None
            if error_code(e) in EMPTY_RANGE_CODES:  # a range of an empty object
                return StoredSample(key=key, size=0, etag="", content_type="", head=b"")
            raise unavailable("read the file", e) from e
        announced = min(length, response["ContentLength"])  # a store that ignores Range sends it all
        head = b""
        with storage_errors("read the file"), closing(response["Body"]) as body:
            while len(head) < announced and (chunk := body.read(announced - len(head))):
                head += chunk
        if len(head) < announced:
            logger.warning("The store cut short a read of %s: %d of %d bytes", key, len(head), announced)
            raise StorageUnavailable("Storage sent part of the file only; try again in a moment.")
        total = response.get("ContentRange", "").rpartition("/")[2]
        size = int(total) if total.isdigit() else response["ContentLength"]
        etag, stored_type = response.get("ETag", "").strip('"'), response.get("ContentType", "")
        return StoredSample(key=key, size=size, etag=etag, content_type=stored_type, head=head)

    def delete(self, key: str) -> None:
        with storage_errors("delete the file"):
            self.client.delete_object(Bucket=self.bucket_name, Key=key)

    def delete_many(self, keys: Iterable[str]) -> list[str]:
        """Delete keys in batches of DELETE_BATCH_SIZE (one request each); return the keys S3 refused."""
        refused: list[str] = []
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == self.DELETE_BATCH_SIZE:
                refused += self._delete_batch(batch)
                batch = []
        if batch:
            refused += self._delete_batch(batch)
        return refused

    def _delete_batch(self, keys: list[str]) -> list[str]:
        with storage_errors("delete files"):
            response = self.client.delete_objects(
                Bucket=self.bucket_name,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
        return [error["Key"] for error in response.get("Errors", [])]

    def iter_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object under `prefix`, one S3 page (LIST_PAGE_SIZE keys) in memory at a time."""
        paginator = self.client.get_paginator("list_objects_v2")
        pagination = {"PageSize": self.LIST_PAGE_SIZE}
        with storage_errors("list files"):
            for page in paginator.paginate(
                Bucket=self.bucket_name, Prefix=prefix, PaginationConfig=pagination
            ):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=item["Size"],
                        etag=item.get("ETag", "").strip('"'),
                        last_modified=item.get("LastModified"),
                    )

    def iter_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUpload]:
        """Yield the incomplete multipart uploads under `prefix`, a page at a time."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        with storage_errors("list unfinished multipart uploads"):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
                for item in page.get("Uploads", []):
                    yield MultipartUpload(
                        key=item["Key"], upload_id=item["UploadId"], initiated=item["Initiated"]
                    )

    def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        with storage_errors("abort a multipart upload"):
            self.client.abort_multipart_upload(
                Bucket=self.bucket_name, Key=upload.key, UploadId=upload.upload_id
            )

    # --- Signing (local computation: no request to S3) -----------------------------------------

    def presigned_post(
        self,
        *,
        key: str,
        content_type: str = "",
        min_size: int,
        max_size: int,
        expires_in: int,
        acl: str = "",
        content_disposition: str = "",
        success_action_redirect: str = "",
    ) -> PresignedUpload:
        """Sign a POST policy that pins the key, the size range, the type and every field.

        A key ending in `${filename}` pins only its folder: S3 puts the file's name there.
        """
        fields: dict[str, str] = {"Content-Type": content_type} if content_type else {}
        if acl:
            fields["acl"] = acl
        if content_disposition:
            fields["Content-Disposition"] = content_disposition
        if success_action_redirect:
            fields["success_action_redirect"] = success_action_redirect
        else:
            fields["success_action_status"] = "201"
        # boto3 adds the bucket and key conditions itself (starts-with for `${filename}`).
        conditions: list[Any] = [{name: value} for name, value in fields.items()]
        conditions.append(["content-length-range", min_size, max_size])
        with storage_errors("sign the upload"):
            post = self._signer.generate_presigned_post(
                Bucket=self.bucket_name,
                Key=key,
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=expires_in,
            )
        # A path-style bucket URL gets its slash, as virtual-host URLs have: SeaweedFS answers a
        # preflight to `/bucket` (no slash) from its global CORS default, not the bucket's rules.
        url = post["url"] if post["url"].endswith("/") else post["url"] + "/"
        return PresignedUpload("POST", url, post["fields"], {})

    def presigned_put(
        self,
        *,
        key: str,
        content_type: str,
        size: int | None,
        expires_in: int,
        acl: str = "",
        content_disposition: str = "",
        checksum_sha256: str = "",
    ) -> PresignedUpload:
        """Sign a PUT for stores without POST policies. SigV4 pins every header sent: the type, exact
        size, disposition, ACL, a declared SHA-256 and `If-None-Match: *` (a store refuses the rest)."""
        headers = {"Content-Type": content_type, "If-None-Match": "*"}
        params: dict[str, Any] = {"ContentType": content_type, "IfNoneMatch": "*"}
        if size is not None:
            params["ContentLength"] = size  # the browser sends it; it can't be set by script
        if content_disposition:
            params["ContentDisposition"] = headers["Content-Disposition"] = content_disposition
        if acl:
            params["ACL"] = headers["x-amz-acl"] = acl
        if checksum_sha256:  # a store that verifies checksums refuses any other body
            params["ChecksumSHA256"] = headers["x-amz-checksum-sha256"] = checksum_sha256
        with storage_errors("sign the upload"):
            url = self._signer.generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket_name, "Key": key, **params}, ExpiresIn=expires_in
            )
        return PresignedUpload("PUT", url, {}, headers)

    def presigned_get_url(
        self,
        *,
        key: str,
        expires_in: int,
        content_type: str = "",
        content_disposition: str = "",
    ) -> str:
        """Return a presigned GET URL, overriding the response's type and disposition if given."""
        params = {"Bucket": self.bucket_name, "Key": key}
        if content_type:
            params["ResponseContentType"] = content_type
        if content_disposition:
            params["ResponseContentDisposition"] = content_disposition
        with storage_errors("sign the download"):
            return self._signer.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def object_url(self, key: str) -> str:
        """Return the plain (unsigned) URL of an object, readable only if the object is public."""
        return self._unsigned_client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket_name, "Key": key}
        )
