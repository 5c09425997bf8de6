"""The supported Python interface for scripts and sites: dict-returning functions over the services.

Each returns `{"success": True, ...}` or `{"success": False, "error": message, "code": code}`, as
the specification shows (README, "Using it from Python"); they never raise. Code that prefers
exceptions calls `uploads.services` and handles `UploadError`.
"""

from __future__ import annotations

from typing import Any

from . import deletion, services
from .errors import UploadError
from .models import Upload


def _failure(error: UploadError) -> dict[str, Any]:
    return {"success": False, "error": str(error), "code": error.code}


def get_direct_upload_form_data(
    original_filename: str,
    content_type: str,
    max_file_size: int | None = None,
    prefix: str | None = None,
    public: bool = False,
    owner=None,
) -> dict[str, Any]:
    """Sign a direct browser-to-S3 upload; the form POSTs `form_fields` and a `file` to `form_url`."""
    try:
        direct = services.upload_start(
            owner=owner,
            filename=original_filename,
            content_type=content_type,
            max_size=max_file_size,
            prefix=prefix,
            public=public,
        )
    except UploadError as e:
        return _failure(e)
    return {
        "success": True,
        "form_url": direct.url,
        "form_fields": direct.fields,
        "method": direct.method,  # "POST", unless UPLOADS_UPLOAD_METHOD is put
        "headers": direct.headers,
        "upload_id": str(direct.upload.pk),
        "object_key": direct.upload.key,
        "expires_at": direct.expires_at,
    }


def complete_upload(upload_id, status: str = Upload.STATUS_COMPLETE) -> dict[str, Any]:
    """Mark an upload complete (verified with S3 first) or failed (its object is deleted)."""
    try:
        upload = services.upload_get(upload_id=upload_id)
        if status == Upload.STATUS_FAILED:
            upload = services.upload_fail(upload=upload)
        elif status == Upload.STATUS_COMPLETE:
            upload = services.upload_complete(upload=upload)
        else:
            return {"success": False, "error": f"Unknown status {status!r}.", "code": "invalid_status"}
    except UploadError as e:
        return _failure(e)
    return {
        "success": True,
        "upload_id": str(upload.pk),
        "status": upload.status,
        "size": upload.size,
        "etag": upload.etag,
    }


def get_upload_file_url(upload_id, presigned: bool = True, expiration: int = 3600) -> dict[str, Any]:
    """Return a URL for a completed upload: presigned GET, or the plain URL of a public object."""
    try:
        upload = services.upload_get(upload_id=upload_id)
        link = services.upload_download_url(upload=upload, expires_in=expiration, presigned=presigned)
    except UploadError as e:
        return _failure(e)
    return {"success": True, "url": link.url, "content_type": link.content_type, "name": link.name}


def delete_upload(upload_id) -> dict[str, Any]:
    """Delete the object from S3, then the record."""
    try:
        upload = services.upload_get(upload_id=upload_id)
        deletion.upload_delete(upload=upload)
    except UploadError as e:
        return _failure(e)
    return {"success": True, "upload_id": str(upload_id)}
