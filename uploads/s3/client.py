"""S3Client: the one class that talks to S3, its operations cut by what they act on."""

from __future__ import annotations

from typing import Any

from ..content_types import guess_content_type
from ..errors import StorageUnavailable
from ..serving import acl_for
from .bucket import BucketRules
from .connection import storage_errors
from .multipart import MultipartOperations
from .objects import ObjectOperations
from .transfer import TransferOperations


class S3Client(ObjectOperations, MultipartOperations, TransferOperations, BucketRules):
    """A bucket on S3 or an S3-compatible store, configured from Django settings by default.

    `upload_file`, `list_objects` and `delete_object` are the supported Python interface for
    scripts (the specification's): they return result dicts and never raise. The other methods
    return typed results (`uploads.s3.results`) and raise `StorageUnavailable`.
    """

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
