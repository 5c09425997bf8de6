"""What the API answers when it fails: every error's status and code, from one home.

Service errors (uploads/errors.py) carry their code; ERROR_STATUS gives each its status, and
`upload_error` answers them. The errors the API's edge makes itself (project/api.py: no
credentials, a body that is not JSON, a throttle...) are the `Answer`s below. Each operation
declares the service errors it raises with `@raises(...)`; uploads/api/openapi.py documents
those, and the edge's that apply to the operation, in the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.http import HttpRequest, JsonResponse

from .. import errors
from ..deadline import STORAGE_RETRY_AFTER

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
# Service errors answered with a Retry-After header: outages, which pass.
RETRY_STATUS = 503


def status_for(error: errors.UploadError | type[errors.UploadError]) -> int:
    cls = error if isinstance(error, type) else type(error)
    for ancestor in cls.__mro__:
        if ancestor in ERROR_STATUS:
            return ERROR_STATUS[ancestor]
    return 400


def upload_error(request: HttpRequest, exc: errors.UploadError) -> JsonResponse:
    """Answer a service error as `{"detail", "code"}` with its status (registered by project/api.py)."""
    response = JsonResponse({"detail": str(exc), "code": exc.code}, status=status_for(exc))
    if response.status_code == RETRY_STATUS:
        response["Retry-After"] = str(STORAGE_RETRY_AFTER)  # an outage: the client may try again
    return response


@dataclass(frozen=True)
class Answer:
    """An error answered at the API's edge (project/api.py), not by a service."""

    status: int
    code: str
    detail: str
    retry_after: bool = False  # sent with a Retry-After header


NOT_AUTHENTICATED = Answer(
    401, "not_authenticated", "Sign in, or send an API token as 'Authorization: Bearer <token>'."
)
BAD_REQUEST = Answer(400, "bad_request", "The request body is not JSON.")
CSRF_FAILED = Answer(
    403, "csrf_failed", "CSRF check failed: send the csrftoken cookie's value in an X-CSRFToken header."
)
NOT_FOUND = Answer(404, "not_found", "Not found.")
METHOD_NOT_ALLOWED = Answer(405, "method_not_allowed", "This method is not allowed here (see Allow).")
REQUEST_TOO_LARGE = Answer(
    413,
    "request_too_large",
    "The request body is larger than this API accepts; files go to storage, never here.",
)
VALIDATION_ERROR = Answer(422, "validation_error", "Invalid request.")
THROTTLED = Answer(429, "throttled", "Too many requests.", retry_after=True)
INTERNAL_ERROR = Answer(500, "internal_error", "Something went wrong on our side; the error has been logged.")
DATABASE_UNAVAILABLE = Answer(
    503,
    "database_unavailable",
    "The database is unavailable for a moment; nothing was changed. Try again shortly.",
    retry_after=True,
)


def raises(*raised: type[errors.UploadError]) -> Callable:
    """Declare the service errors an operation can answer (put it under the router's decorator).

    A class stands for its subclasses too: `errors.ObjectInvalid` brings `object_too_large`...
    """

    def mark(view: Callable) -> Callable:
        view.raises = raised
        return view

    return mark


def service_answers(view: Callable) -> Iterator[Answer]:
    """The answers of the service errors `view` declares, subclasses included, each once."""
    seen: set[type] = set()
    pending = list(getattr(view, "raises", ()))
    while pending:
        cls = pending.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        status = status_for(cls)
        yield Answer(status, cls.code, cls.default_message, retry_after=status == RETRY_STATUS)
