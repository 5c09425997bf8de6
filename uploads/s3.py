"""S3Client: the only module that talks to S3 (and the only one that imports boto3/botocore).

The seed's methods (`upload_file`, `list_objects`, `delete_object`) return result dicts. The
others return values and raise `StorageUnavailable` for every failure of S3 or of the network.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from .errors import StorageUnavailable

logger = logging.getLogger(__name__)

# S3's DeleteObjects takes at most this many keys a request.
DELETE_BATCH_SIZE = 1000
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str = ""
    last_modified: datetime | None = None


@dataclass(frozen=True)
class MultipartUpload:
    key: str
    upload_id: str
    initiated: datetime


@functools.cache
def _boto3_client(
    region: str,
    endpoint_url: str | None,
    access_key_id: str,
    secret_access_key: str,
    addressing_style: str,
    signed: bool = True,
):
    """Build a boto3 S3 client once per process and configuration (clients are thread-safe)."""
    config = Config(
        # Always SigV4: botocore falls back to SigV2 in us-east-1 with a custom endpoint.
        signature_version="s3v4" if signed else UNSIGNED,
        s3={"addressing_style": addressing_style},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=20,
    )
    return boto3.session.Session().client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=config,
    )


def clear_client_cache() -> None:
    """Forget the process's boto3 clients; moto's in-process mock only sees clients built after it starts."""
    _boto3_client.cache_clear()


@contextmanager
def _storage_errors(action: str) -> Iterator[None]:
    try:
        yield
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "Unknown")
        logger.warning("S3 refused to %s: %s", action, code)
        raise StorageUnavailable(f"Storage refused to {action} ({code}).") from e
    except BotoCoreError as e:
        logger.warning("S3 unreachable while trying to %s: %s", action, e)
        raise StorageUnavailable(f"Storage could not be reached to {action}.") from e
    except S3UploadFailedError as e:
        # boto3's transfer manager wraps S3's refusal (a missing bucket, AccessDenied) in its own error.
        logger.warning("S3 refused to %s: %s", action, e)
        raise StorageUnavailable(f"Storage refused to {action} ({e}).") from e


def _error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


class S3Client:
    """A bucket on S3 or an S3-compatible store, configured from Django settings by default."""

    def __init__(
        self,
        *,
        bucket_name: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ):
        self.bucket_name = bucket_name or settings.AWS_STORAGE_BUCKET_NAME
        self.region = region or settings.AWS_S3_REGION_NAME
        self.endpoint_url = endpoint_url or settings.AWS_S3_ENDPOINT_URL
        key_and_secret = (
            access_key_id if access_key_id is not None else settings.AWS_ACCESS_KEY_ID,
            secret_access_key if secret_access_key is not None else settings.AWS_SECRET_ACCESS_KEY,
        )
        args = (self.region, self.endpoint_url, *key_and_secret, settings.AWS_S3_ADDRESSING_STYLE)
        self.client = _boto3_client(*args)
        self._unsigned_client = _boto3_client(*args, signed=False)

    # --- The seed's interface: result dicts, never exceptions ------------------------------

    def upload_file(self, file_path: str, object_key: str, public: bool = False) -> dict[str, Any]:
        """Upload a local file (server-side tooling, fixtures, backfills)."""
        content_type = mimetypes.guess_type(object_key)[0] or "application/octet-stream"
        extra = {"ContentType": content_type}
        acl = "public-read" if public else settings.UPLOADS_PRIVATE_ACL
        if acl:
            extra["ACL"] = acl
        try:
            with _storage_errors("store the file"):
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

    # --- Typed interface used by the services ----------------------------------------------

    def head(self, key: str) -> ObjectInfo | None:
        """Return what S3 knows of an object, or None if there is no such object."""
        try:
            response = self.client.head_object(Bucket=self.bucket_name, Key=key)
        except ClientError as e:
            # It's not an error condition if an object does not exist.
            if _error_code(e) in _NOT_FOUND_CODES:
                return None
            with _storage_errors("look up the file"):
                raise
        except BotoCoreError:
            with _storage_errors("look up the file"):
                raise
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            etag=response.get("ETag", "").strip('"'),
            content_type=response.get("ContentType", ""),
            last_modified=response.get("LastModified"),
        )

    def delete(self, key: str) -> None:
        with _storage_errors("delete the file"):
            self.client.delete_object(Bucket=self.bucket_name, Key=key)

    def delete_many(self, keys: Iterable[str]) -> list[str]:
        """Delete keys in batches of 1000 (one request each); return the keys S3 refused."""
        refused: list[str] = []
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == DELETE_BATCH_SIZE:
                refused += self._delete_batch(batch)
                batch = []
        if batch:
            refused += self._delete_batch(batch)
        return refused

    def _delete_batch(self, keys: list[str]) -> list[str]:
        with _storage_errors("delete files"):
            response = self.client.delete_objects(
                Bucket=self.bucket_name,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
        return [error["Key"] for error in response.get("Errors", [])]

    def iter_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object under `prefix`, one S3 page (1000 keys) in memory at a time."""
        paginator = self.client.get_paginator("list_objects_v2")
        with _storage_errors("list files"):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
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
        with _storage_errors("list unfinished multipart uploads"):
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
                for item in page.get("Uploads", []):
                    yield MultipartUpload(
                        key=item["Key"], upload_id=item["UploadId"], initiated=item["Initiated"]
                    )

    def abort_multipart_upload(self, upload: MultipartUpload) -> None:
        with _storage_errors("abort a multipart upload"):
            self.client.abort_multipart_upload(
                Bucket=self.bucket_name, Key=upload.key, UploadId=upload.upload_id
            )

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
    ) -> dict[str, Any]:
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
        with _storage_errors("sign the upload"):
            return self.client.generate_presigned_post(
                Bucket=self.bucket_name,
                Key=key,
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=expires_in,
            )

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
        with _storage_errors("sign the download"):
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def object_url(self, key: str) -> str:
        """Return the plain (unsigned) URL of an object, readable only if the object is public."""
        return self._unsigned_client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket_name, "Key": key}
        )

    # --- Bucket setup (configure_bucket, check_s3, `make run`) ---------------------------------

    def bucket_exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket_name)
        except ClientError as e:
            if _error_code(e) in _NOT_FOUND_CODES | {"NoSuchBucket"}:
                return False
            with _storage_errors("reach the bucket"):
                raise
        except BotoCoreError:
            with _storage_errors("reach the bucket"):
                raise
        return True

    def probe_bucket(self) -> tuple[str, str, datetime | None]:
        """HEAD the bucket without raising: return (error code or "", its region, S3's clock)."""
        try:
            response = self.client.head_bucket(Bucket=self.bucket_name)
        except ClientError as e:
            headers = e.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            return _error_code(e) or "Unknown", headers.get("x-amz-bucket-region", ""), None
        except BotoCoreError as e:
            return type(e).__name__, "", None
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        date = headers.get("date")
        return "", headers.get("x-amz-bucket-region", ""), parsedate_to_datetime(date) if date else None

    def create_bucket(self) -> None:
        params: dict[str, Any] = {"Bucket": self.bucket_name}
        # us-east-1 is the one region that refuses an explicit LocationConstraint.
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with _storage_errors("create the bucket"):
            self.client.create_bucket(**params)

    def put_cors(self, rules: list[dict[str, Any]]) -> None:
        with _storage_errors("set the bucket's CORS rules"):
            self.client.put_bucket_cors(Bucket=self.bucket_name, CORSConfiguration={"CORSRules": rules})

    def get_cors(self) -> list[dict[str, Any]]:
        """Return the bucket's CORS rules ([] when it has none)."""
        return self._bucket_rules(
            self.client.get_bucket_cors, "CORSRules", absent="NoSuchCORSConfiguration", what="CORS"
        )

    def put_public_access_block(self, *, block: bool) -> None:
        flags = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
        with _storage_errors("set the bucket's public access block"):
            self.client.put_public_access_block(
                Bucket=self.bucket_name,
                PublicAccessBlockConfiguration={flag: block for flag in flags},
            )

    def get_lifecycle(self) -> list[dict[str, Any]]:
        """Return the bucket's lifecycle rules ([] when it has none)."""
        return self._bucket_rules(
            self.client.get_bucket_lifecycle_configuration,
            "Rules",
            absent="NoSuchLifecycleConfiguration",
            what="lifecycle",
        )

    def _bucket_rules(self, fetch, key: str, *, absent: str, what: str) -> list[dict[str, Any]]:
        action = f"read the bucket's {what} rules"
        try:
            response = fetch(Bucket=self.bucket_name)
        except ClientError as e:
            if _error_code(e) == absent:  # a bucket without rules of this kind
                return []
            with _storage_errors(action):
                raise
        except BotoCoreError:
            with _storage_errors(action):
                raise
        return response.get(key, [])

    def put_lifecycle(self, rules: list[dict[str, Any]]) -> None:
        with _storage_errors("set the bucket's lifecycle rules"):
            self.client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket_name, LifecycleConfiguration={"Rules": rules}
            )
