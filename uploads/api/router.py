"""The uploads API's operations (a ninja Router, mounted by project/api.py at /api/uploads).

Thin: each operation parses, calls one service and returns its result through a schema. The
service errors map to HTTP statuses in ERROR_STATUS; `upload_error` answers them.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, JsonResponse
from ninja import Query, Router, Status

from .. import cursors, deletion, errors, listing, multipart, services, signing
from ..deadline import STORAGE_RETRY_AFTER
from .auth import PerUserRateLimit
from .schemas import (
    CompleteIn,
    DirectUploadOut,
    DownloadUrlOut,
    ErrorOut,
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

# The most specific class in an error's MRO decides its status.
ERROR_STATUS: dict[type[errors.UploadError], int] = {
    errors.UploadNotFound: 404,
    errors.UploadTooLarge: 413,
    errors.QuotaExceeded: 413,
    errors.TooManyPending: 429,
    errors.InvalidPage: 422,
    errors.InvalidCursor: 422,
    errors.ContentTypeNotAllowed: 415,
    errors.InvalidFilename: 422,
    errors.InvalidContentType: 422,
    errors.InvalidSize: 422,
    errors.InvalidChecksum: 422,
    errors.InvalidExpiration: 422,
    errors.ObjectMissing: 409,
    errors.ObjectInvalid: 409,
    errors.UploadFailed: 409,
    errors.ScanPending: 409,
    errors.Infected: 409,
    errors.UploadNotComplete: 409,
    errors.NotMultipart: 409,
    errors.MultipartUploadMismatch: 409,
    errors.InvalidPartNumbers: 422,
    errors.SignRefused: 403,
    errors.MultipartAlreadyStarted: 409,
    errors.UploadExpired: 410,
    errors.StorageUnavailable: 503,
}
ERRORS = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    410: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
    500: ErrorOut,
    503: ErrorOut,
}

router = Router(tags=["uploads"])


def status_for(error: errors.UploadError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 400


def upload_error(request: HttpRequest, exc: errors.UploadError) -> JsonResponse:
    """Answer a service error as `{"detail", "code"}` with its status (registered by project/api.py)."""
    response = JsonResponse({"detail": str(exc), "code": exc.code}, status=status_for(exc))
    if response.status_code == 503:
        response["Retry-After"] = str(STORAGE_RETRY_AFTER)  # an outage: the client may try again
    return response


@router.post(
    "",
    response={201: DirectUploadOut, 400: ErrorOut, 415: ErrorOut, **ERRORS},
    summary="Start an upload: sign a POST policy for one file",
    throttle=PerUserRateLimit("UPLOADS_RATE_PRESIGN"),
)
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
    response={200: UploadOut, 409: ErrorOut, **ERRORS},
    summary="Complete an upload after S3 has the file (verified with S3)",
    throttle=PerUserRateLimit("UPLOADS_RATE_COMPLETE"),
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


@router.get("", response={200: UploadPageOut, **ERRORS}, summary="List your uploads")
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


@router.get("/{upload_id}", response={200: UploadOut, **ERRORS}, summary="One upload")
def get_upload(request, upload_id: UUID):
    return services.upload_get(upload_id=upload_id, owner=request.auth)


@router.get(
    "/{upload_id}/url",
    response={200: DownloadUrlOut, 409: ErrorOut, **ERRORS},
    summary="A download URL for a completed upload",
    throttle=PerUserRateLimit("UPLOADS_RATE_URL"),
)
def upload_url(request, upload_id: UUID, query: Query[UrlQuery]):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return services.upload_download_url(upload=upload, expires_in=query.expiration, download=query.download)


@router.delete(
    "/{upload_id}",
    response={204: None, **ERRORS},
    summary="Delete an upload: the object, then the record",
)
def delete_upload(request, upload_id: UUID):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    deletion.upload_delete(upload=upload)
    return Status(204, None)


# --- Multipart uploads ------------------------------------------------------------------------


@router.post(
    "/{upload_id}/parts",
    response={200: PartUrlsOut, 409: ErrorOut, **ERRORS},
    summary="Presigned UploadPart URLs for up to part_urls_per_request parts, each signed for its exact length",
    throttle=PerUserRateLimit("UPLOADS_RATE_PARTS"),
)
def part_urls(request, upload_id: UUID, payload: PartNumbersIn):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return multipart.multipart_part_urls(
        upload=upload, part_numbers=payload.part_numbers, checksums=payload.checksums
    )


@router.get(
    "/{upload_id}/parts",
    response={200: PartsOut, 409: ErrorOut, **ERRORS},
    summary="The parts the store already has (to resume a multipart upload)",
    throttle=PerUserRateLimit("UPLOADS_RATE_PARTS"),
)
def list_parts(request, upload_id: UUID):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return multipart.multipart_state(upload=upload)


@router.post(
    "/{upload_id}/sign",
    response={200: SignOut, 409: ErrorOut, **ERRORS},
    summary="Presign one S3 request within this upload's plan (Uppy 6's signRequest)",
    throttle=PerUserRateLimit("UPLOADS_RATE_SIGN"),
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
