"""Multipart uploads in the store: create, list, complete and abort them, and sign the requests
a browser sends for them. Typed results only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .base import BucketClient
from .connection import STORE_ERRORS, error_code, storage_errors, unavailable
from .results import MultipartUpload, Part, SignedRequest

# What stores answer for a multipart upload that was completed, aborted or never existed.
NO_SUCH_UPLOAD_CODES = {"NoSuchUpload", "404", "NotFound"}


class MultipartOperations(BucketClient):
    def create_multipart_upload(
        self, *, key: str, content_type: str, acl: str = "", content_disposition: str = ""
    ) -> str:
        """Start a multipart upload of `key`; return the store's upload id."""
        params = _object_params(content_type, acl, content_disposition)
        with storage_errors("start a multipart upload"):
            response = self.client.create_multipart_upload(Bucket=self.bucket_name, Key=key, **params)
        return response["UploadId"]

    def list_parts(self, *, key: str, upload_id: str, up_to: int | None = None) -> list[Part] | None:
        """Return the parts the store has (all pages), or None if there is no such upload.

        With `up_to`, the walk stops at the page that reaches part `up_to`: a plan's parts and at
        most a page beyond them, however many parts a client managed to add.
        """
        parts: list[Part] = []
        marker = 0
        while True:
            try:
                response = self.client.list_parts(
                    Bucket=self.bucket_name,
                    Key=key,
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                    MaxParts=self.LIST_PAGE_SIZE,
                )
            except STORE_ERRORS as e:
                if error_code(e) in NO_SUCH_UPLOAD_CODES:
                    return None  # completed, aborted or never started: the caller decides
                raise unavailable("list the uploaded parts", e) from e
            parts += [
                Part(
                    item["PartNumber"],
                    item["Size"],
                    item.get("ETag", "").strip('"'),
                    item.get("ChecksumSHA256", ""),
                )
                for item in response.get("Parts", [])
            ]
            if not response.get("IsTruncated"):
                return parts
            marker = int(response["NextPartNumberMarker"])
            if up_to is not None and marker >= up_to:
                return parts

    def complete_multipart_upload(self, *, key: str, upload_id: str, parts: list[Part]) -> bool:
        """Join `parts` into the object; False if the upload no longer exists (completed before)."""
        # A part stored with a checksum is listed with it: the store checks it once more.
        listed = [
            {"PartNumber": part.part_number, "ETag": f'"{part.etag}"'}
            | ({"ChecksumSHA256": part.checksum_sha256} if part.checksum_sha256 else {})
            for part in parts
        ]
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket_name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
            )
        except STORE_ERRORS as e:
            if error_code(e) in NO_SUCH_UPLOAD_CODES:
                return False
            raise unavailable("complete the multipart upload", e) from e
        return True

    def abort_multipart(self, *, key: str, upload_id: str) -> None:
        """Abort a multipart upload and drop its parts; one that is already gone is not an error."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket_name, Key=key, UploadId=upload_id)
        except STORE_ERRORS as e:
            if error_code(e) not in NO_SUCH_UPLOAD_CODES:
                raise unavailable("abort the multipart upload", e) from e

    def iter_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUpload]:
        """Yield the incomplete multipart uploads under `prefix`, a page at a time."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        with storage_errors("list unfinished multipart uploads"):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
                for item in page.get("Uploads", []):
                    yield MultipartUpload(
                        key=item["Key"], upload_id=item["UploadId"], initiated=item["Initiated"]
                    )

    def has_multipart_upload(self, *, key: str, upload_id: str) -> bool:
        """Whether `upload_id` is an unfinished multipart upload of exactly `key` (ListMultipartUploads)."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        with storage_errors("list unfinished multipart uploads"):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=key):
                for item in page.get("Uploads", []):
                    if item["Key"] == key and item["UploadId"] == upload_id:
                        return True
        return False

    # --- Signing (local computation) ---------------------------------------------------------

    def presigned_upload_part(
        self,
        *,
        key: str,
        upload_id: str,
        part_number: int,
        size: int | None,
        expires_in: int,
        checksum_sha256: str = "",
    ) -> SignedRequest:
        """Sign one UploadPart; with `size`, SigV4 signs its exact Content-Length too, and with
        `checksum_sha256` the part's checksum (a store that verifies refuses another body)."""
        params: dict[str, Any] = {"UploadId": upload_id, "PartNumber": part_number}
        if size is not None:
            params["ContentLength"] = size  # the browser sends it; script can't change it
        if not checksum_sha256:
            return self._presign("upload_part", "PUT", key, params, expires_in)
        params["ChecksumSHA256"] = checksum_sha256
        signed = self._presign("upload_part", "PUT", key, params, expires_in)
        return SignedRequest(signed.method, signed.url, headers={"x-amz-checksum-sha256": checksum_sha256})

    def presigned_create_multipart(
        self, *, key: str, content_type: str, expires_in: int, acl: str = "", content_disposition: str = ""
    ) -> SignedRequest:
        """Sign a CreateMultipartUpload for a client that starts the upload itself (Uppy 6)."""
        params = _object_params(content_type, acl, content_disposition)
        headers = {"Content-Type": content_type}
        if acl:
            headers["x-amz-acl"] = acl
        if content_disposition:
            headers["Content-Disposition"] = content_disposition
        signed = self._presign("create_multipart_upload", "POST", key, params, expires_in)
        return SignedRequest(signed.method, signed.url, headers=headers)

    def presigned_multipart_request(
        self, operation: str, *, key: str, upload_id: str, expires_in: int
    ) -> SignedRequest:
        """Sign ListParts, CompleteMultipartUpload or AbortMultipartUpload of one upload."""
        method = {
            "list_parts": "GET",
            "complete_multipart_upload": "POST",
            "abort_multipart_upload": "DELETE",
        }
        return self._presign(operation, method[operation], key, {"UploadId": upload_id}, expires_in)

    def _presign(
        self, operation: str, method: str, key: str, params: dict[str, Any], expires_in: int
    ) -> SignedRequest:
        with storage_errors("sign the request"):
            url = self._signer.generate_presigned_url(
                operation, Params={"Bucket": self.bucket_name, "Key": key, **params}, ExpiresIn=expires_in
            )
        return SignedRequest(method, url)


def _object_params(content_type: str, acl: str, content_disposition: str) -> dict[str, str]:
    params = {"ContentType": content_type}
    if acl:
        params["ACL"] = acl
    if content_disposition:
        params["ContentDisposition"] = content_disposition
    return params
