"""The typed JSON API (django-ninja), mounted at /api/. Interactive docs at /api/docs.

Thin: each operation authenticates, calls `uploads.services` and shapes the result. Every failure
answers `{"detail": "...", "code": "..."}`; the service errors map to HTTP statuses below.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.utils import check_csrf

from . import errors, services
from .models import ApiToken, Upload

logger = logging.getLogger(__name__)

# The most specific class in an error's MRO decides its status.
STATUS_BY_ERROR: dict[type[errors.UploadError], int] = {
    errors.UploadNotFound: 404,
    errors.UploadTooLarge: 413,
    errors.ContentTypeNotAllowed: 415,
    errors.InvalidFilename: 422,
    errors.InvalidContentType: 422,
    errors.InvalidSize: 422,
    errors.InvalidExpiration: 422,
    errors.ObjectMissing: 409,
    errors.ObjectInvalid: 409,
    errors.UploadFailed: 409,
    errors.UploadNotComplete: 409,
    errors.StorageUnavailable: 503,
}
# Ninja raises HttpError(400) for a body it cannot parse (malformed JSON).
CODE_BY_HTTP_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    429: "throttled",
}
MAX_PAGE_SIZE = 100
# Writing last_used_at on every call would turn each read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


# --- Authentication ---------------------------------------------------------------------------


class CsrfFailed(HttpError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            403, "CSRF check failed: send the csrftoken cookie's value in an X-CSRFToken header."
        )


class SessionAuth(NinjaSessionAuth):
    """The browser's Django session; CSRF is checked only for a signed-in session.

    (Ninja checks CSRF first, which would answer an anonymous call 403 instead of 401.)
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if check_csrf(request):
            raise CsrfFailed()
        return request.COOKIES.get(self.param_name)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str):
        api_token = ApiToken.objects.find(token)
        if api_token is None or not api_token.user.is_active:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_USE_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        return api_token.user


api = NinjaAPI(
    title="S3 direct uploads",
    version="1.0.0",
    description=(
        "Sign direct browser-to-S3 uploads, verify them, and hand out download URLs. "
        "The file's bytes never pass through this API: POST them to the returned `url` with `fields`."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)


# --- Errors -----------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str
    code: str


def _error(request, status: int, detail: str, code: str):
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


def _status_for(error: errors.UploadError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


@api.exception_handler(errors.UploadError)
def upload_error(request, exc: errors.UploadError):
    return _error(request, _status_for(exc), str(exc), exc.code)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return _error(
        request, 401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.", "not_authenticated"
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    code = getattr(exc, "code", None) or CODE_BY_HTTP_STATUS.get(exc.status_code, "error")
    return _error(request, exc.status_code, exc.message, code)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "Not found.", "not_found")


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors
    )
    return _error(request, 422, f"Invalid request: {problems}", "validation_error")


@api.exception_handler(Exception)
def unexpected_error(request, exc: Exception):
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return _error(
        request, 500, "Something went wrong on our side; the error has been logged.", "internal_error"
    )


@csrf_exempt  # like the API's own views: an unknown path answers 404, not a CSRF 403
def unknown_endpoint(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Mounted after the API at ^api/: an unknown path gets our JSON error, not Django's HTML 404."""
    return JsonResponse({"detail": "No such API endpoint.", "code": "not_found"}, status=404)


# --- Schemas ----------------------------------------------------------------------------------


class UploadIn(Schema):
    filename: str = Field(..., max_length=1024, examples=["holiday.jpg"])
    content_type: str = Field("", max_length=255, examples=["image/jpeg"])
    size: int = Field(..., description="The file's exact size in bytes; the policy pins it.")


class DirectUploadOut(Schema):
    id: UUID
    url: str = Field(..., description="POST the fields and then the file (as `file`) here.")
    fields: dict[str, str]
    key: str
    expires_at: datetime
    max_size: int


class UploadOut(Schema):
    id: UUID
    filename: str
    content_type: str
    size: int | None = Field(None, description="Size in bytes reported by S3 on completion.")
    etag: str
    status: Literal["pending", "complete", "failed"]
    public: bool
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def resolve_filename(upload: Upload) -> str:
        return upload.original_filename


class UploadPageOut(Schema):
    items: list[UploadOut]
    count: int
    page: int
    page_size: int


class ListFilters(Schema):
    status: Literal["pending", "complete", "failed"] | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(25, ge=1, le=MAX_PAGE_SIZE)


class UrlQuery(Schema):
    expiration: int | None = Field(
        None, description="Seconds the URL stays valid; at most UPLOADS_URL_MAX_EXPIRATION."
    )
    download: bool = Field(False, description="Ask the browser to save the file instead of showing it.")


class DownloadUrlOut(Schema):
    url: str
    expires_at: datetime | None = Field(None, description="None for the plain URL of a public object.")
    content_type: str
    name: str


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 500: ErrorOut, 503: ErrorOut}


# --- Operations -------------------------------------------------------------------------------


@api.post(
    "/uploads",
    response={201: DirectUploadOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut, **ERRORS},
    tags=["uploads"],
    summary="Start an upload: sign a POST policy for one file",
)
def create_upload(request, payload: UploadIn):
    direct = services.upload_start(
        owner=request.auth, filename=payload.filename, content_type=payload.content_type, size=payload.size
    )
    return Status(
        201,
        {
            "id": direct.upload.pk,
            "url": direct.url,
            "fields": direct.fields,
            "key": direct.upload.key,
            "expires_at": direct.expires_at,
            "max_size": direct.upload.max_size,
        },
    )


@api.post(
    "/uploads/{upload_id}/complete",
    response={200: UploadOut, 409: ErrorOut, **ERRORS},
    tags=["uploads"],
    summary="Complete an upload after S3 has the file (verified with S3)",
)
def complete_upload(request, upload_id: UUID):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    return services.upload_complete(upload=upload)


@api.get("/uploads", response={200: UploadPageOut, **ERRORS}, tags=["uploads"], summary="List your uploads")
def list_uploads(request, filters: Query[ListFilters]):
    uploads = services.upload_list(owner=request.auth, status=filters.status)
    start = (filters.page - 1) * filters.page_size
    return {
        "items": list(uploads[start : start + filters.page_size]),
        "count": uploads.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


@api.get("/uploads/{upload_id}", response={200: UploadOut, **ERRORS}, tags=["uploads"], summary="One upload")
def get_upload(request, upload_id: UUID):
    return services.upload_get(upload_id=upload_id, owner=request.auth)


@api.get(
    "/uploads/{upload_id}/url",
    response={200: DownloadUrlOut, 409: ErrorOut, **ERRORS},
    tags=["uploads"],
    summary="A download URL for a completed upload",
)
def upload_url(request, upload_id: UUID, query: Query[UrlQuery]):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    link = services.upload_download_url(upload=upload, expires_in=query.expiration, download=query.download)
    return link


@api.delete(
    "/uploads/{upload_id}",
    response={204: None, **ERRORS},
    tags=["uploads"],
    summary="Delete an upload: the object, then the record",
)
def delete_upload(request, upload_id: UUID):
    upload = services.upload_get(upload_id=upload_id, owner=request.auth)
    services.upload_delete(upload=upload)
    return Status(204, None)
