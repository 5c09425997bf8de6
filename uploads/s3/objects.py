"""Objects: look up, read the head of, delete and list objects, and sign a browser's upload or
download of one. Typed results; every failure of the store is `StorageUnavailable`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import closing
from typing import Any

from ..deadline import call_within_deadline
from ..errors import StorageUnavailable
from .base import BucketClient
from .connection import NOT_FOUND_CODES, STORE_ERRORS, error_code, logger, storage_errors, unavailable
from .results import ObjectInfo, SignedRequest, StoredSample

# A ranged GET of an empty object: no byte satisfies the range.
EMPTY_RANGE_CODES = {"416", "InvalidRange"}


class ObjectOperations(BucketClient):
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
    ) -> SignedRequest:
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
        return SignedRequest("POST", url, fields=post["fields"])

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
    ) -> SignedRequest:
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
        return SignedRequest("PUT", url, headers=headers)

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
