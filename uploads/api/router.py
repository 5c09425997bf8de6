"""The uploads API's operations (a ninja Router, mounted by project/api.py at /api/uploads).

Thin: each operation parses, calls one service and returns its result through a schema. Each
declares the service errors it can raise (`@raises`); uploads/api/answers.py maps them to HTTP.
"""

from __future__ import annotations

from uuid import UUID

from ninja import Query, Router, Status

from .. import cursors, deletion, errors, listing, multipart, services, signing
from .answers import raises
from .auth import PerUserRateLimit
from .schemas import (
    CompleteIn,
    DirectUploadOut,
    DownloadUrlOut,
    ListFilters,
    PartNumbersIn,
    PartsOut,
    PartUrlsOut,
    SignIn,
    SignOut,
    UploadIn,
    UploadOut,
    UploadPageOut,
    UrlQuery,
)

router = Router(tags=["uploads"])

# What starting an upload can refuse (here and at /api/field-uploads).
UPLOAD_START_ERRORS = (
    errors.InvalidFilename,
    errors.InvalidContentType,
    errors.ContentTypeNotAllowed,
    errors.InvalidSize,
    errors.UploadTooLarge,
    errors.InvalidChecksum,
    errors.QuotaExceeded,
    errors.TooManyPending,
    errors.StorageUnavailable,
)


@router.post(
    "",
    response={201: DirectUploadOut},
    summary="Start an upload: sign a POST policy for one file",
    throttle=PerUserRateLimit("UPLOADS_RATE_PRESIGN"),
)
@raises(*UPLOAD_START_ERRORS)
def create_upload(request, payload: UploadIn):
    direct = services.upload_start(
        owner=request.auth,
        filename=payload.filename,
        content_type=payload.content_type,
        size=payload.size,
        client_multipart=payload.client_multipart,
        checksum_sha256=payload.checksum_sha256,
    )
    return Status(201, direct)


@router.post(
    "/{upload_id}/complete",
    response={200: UploadOut},
    summary="Complete an upload after S3 has the file (verified with S3)",
    throttle=PerUserRateLimit("UPLOADS_RATE_COMPLETE"),
)
@raises(
    errors.UploadNotFound,
    errors.InvalidChecksum,
    errors.ObjectMissing,
    errors.ObjectInvalid,
    errors.UploadFailed,
    errors.StorageUnavailable,
)
def complete_upload(request, upload_id: UUID):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return services.upload_complete(upload=upload, checksum_sha256=_declared_checksum(request))


def _declared_checksum(request) -> str:
    """Complete's optional JSON body, `CompleteIn` (older clients send none, which ninja's
    optional bodies refuse): its `checksum_sha256`, or ""."""
    if request.content_type != "application/json" or not request.body.strip():
        return ""
    try:
        return CompleteIn.model_validate_json(request.body).checksum_sha256
    except ValueError as e:
        raise errors.InvalidChecksum('The body must be JSON: {"checksum_sha256": "<base64>"}.') from e


@router.get("", response={200: UploadPageOut}, summary="List your uploads")
@raises(errors.InvalidPage, errors.InvalidCursor)
def list_uploads(request, filters: Query[ListFilters]):
    """A page of your uploads; `next` is the cursor of the following one (null on the last)."""
    uploads = listing.upload_list(owner=request.auth, status=filters.status, sort=filters.sort)
    if filters.page > 1 and not filters.cursor:  # the older OFFSET pages, still answered
        start = listing.upload_page_start(filters.page, filters.page_size)
        page = cursors.offset_page(uploads, sort=filters.sort, start=start, size=filters.page_size)
    else:
        page = cursors.keyset_page(uploads, sort=filters.sort, cursor=filters.cursor, size=filters.page_size)
    return {
        "items": page.items,
        "next": page.next,
        # Counting reads every matching row: only when asked.
        "count": uploads.count() if filters.count else None,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.get("/{upload_id}", response={200: UploadOut}, summary="One upload")
@raises(errors.UploadNotFound)
def get_upload(request, upload_id: UUID):
    return services.upload_get(upload_id=upload_id, owner=request.auth)


@router.get(
    "/{upload_id}/url",
    response={200: DownloadUrlOut},
    summary="A download URL for a completed upload",
    throttle=PerUserRateLimit("UPLOADS_RATE_URL"),
)
@raises(
    errors.UploadNotFound,
    errors.UploadNotComplete,
    errors.ScanPending,
    errors.Infected,
    errors.InvalidExpiration,
    errors.StorageUnavailable,
)
def upload_url(request, upload_id: UUID, query: Query[UrlQuery]):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return services.upload_download_url(upload=upload, expires_in=query.expiration, download=query.download)


@router.delete(
    "/{upload_id}",
    response={204: None},
    summary="Delete an upload: the object, then the record",
)
@raises(errors.UploadNotFound, errors.StorageUnavailable)
def delete_upload(request, upload_id: UUID):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    deletion.upload_delete(upload=upload)
    return Status(204, None)


# --- Multipart uploads ------------------------------------------------------------------------


@router.post(
    "/{upload_id}/parts",
    response={200: PartUrlsOut},
    summary="Presigned UploadPart URLs for up to part_urls_per_request parts, each signed for its exact length",
    throttle=PerUserRateLimit("UPLOADS_RATE_PARTS"),
)
@raises(
    errors.UploadNotFound,
    errors.NotMultipart,
    errors.UploadFailed,
    errors.InvalidPartNumbers,
    errors.InvalidChecksum,
    errors.StorageUnavailable,
)
def part_urls(request, upload_id: UUID, payload: PartNumbersIn):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return multipart.multipart_part_urls(
        upload=upload, part_numbers=payload.part_numbers, checksums=payload.checksums
    )


@router.get(
    "/{upload_id}/parts",
    response={200: PartsOut},
    summary="The parts the store already has (to resume a multipart upload)",
    throttle=PerUserRateLimit("UPLOADS_RATE_PARTS"),
)
@raises(errors.UploadNotFound, errors.NotMultipart, errors.UploadFailed, errors.StorageUnavailable)
def list_parts(request, upload_id: UUID):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return multipart.multipart_state(upload=upload)


@router.post(
    "/{upload_id}/sign",
    response={200: SignOut},
    summary="Presign one S3 request within this upload's plan (Uppy 6's signRequest)",
    throttle=PerUserRateLimit("UPLOADS_RATE_SIGN"),
)
@raises(
    errors.UploadNotFound,
    errors.SignRefused,
    errors.NotMultipart,
    errors.UploadFailed,
    errors.MultipartAlreadyStarted,
    errors.MultipartUploadMismatch,
    errors.UploadExpired,
    errors.InvalidPartNumbers,
    errors.MultipartInvalid,
    errors.StorageUnavailable,
)
def sign_request(request, upload_id: UUID, payload: SignIn):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    signed = signing.sign_request(
        upload=upload,
        method=payload.method,
        key=payload.key,
        upload_id=payload.uploadId,
        part_number=payload.partNumber,
    )
    return {"url": signed.url, "headers": signed.headers, "key": upload.key}  # the key the server chose
