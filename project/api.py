"""The site's one NinjaAPI, mounted at /api/ (interactive docs at /api/docs, for signed-in users).

Every failure answers `{"detail": "...", "code": "..."}`, reusing the `detail` key of ninja's own
errors: the uploads' errors through `uploads.api.router.upload_error`, ninja's and unexpected ones here.
"""

from __future__ import annotations

import logging
import math

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from project.outages import database_unavailable, is_database_outage
from uploads.api.auth import SessionAuth, TokenAuth
from uploads.api.fields import router as field_uploads_router
from uploads.api.router import router as uploads_router
from uploads.api.router import upload_error
from uploads.errors import UploadError

logger = logging.getLogger(__name__)

# Ninja raises HttpError(400) for a body it cannot parse (malformed JSON).
CODE_BY_HTTP_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    429: "throttled",
}

api = NinjaAPI(
    # The interactive docs (and their schema) for signed-in users only, with Swagger UI from the
    # site's own static files (ninja's, as "ninja" is an installed app) under the site's CSP;
    # no online validator badge, which Swagger UI would fetch from validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=login_required,
    title="S3 direct uploads",
    version="1.0.0",
    description=(
        "Sign direct browser-to-S3 uploads, verify them, and hand out download URLs. "
        "The file's bytes never pass through this API: POST them to the returned `url` with `fields`."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)
api.add_router("/uploads", uploads_router)
api.add_router("/field-uploads", field_uploads_router)  # UploadField's widget (uploads/fields.py)
api.add_exception_handler(UploadError, upload_error)


def _error(request: HttpRequest, status: int, detail: str, code: str):
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return _error(
        request, 401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.", "not_authenticated"
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    code = getattr(exc, "code", None) or CODE_BY_HTTP_STATUS.get(exc.status_code, "error")
    return _error(request, exc.status_code, exc.message, code)


@api.exception_handler(Throttled)
def throttled(request, exc: Throttled):
    # ninja adds the Retry-After header to this response.
    wait = f" Try again in {math.ceil(exc.wait)} s." if exc.wait else ""
    return _error(request, 429, f"Too many requests.{wait}", "throttled")


@api.exception_handler(RequestDataTooBig)
def request_too_large(request, exc):
    return _error(
        request,
        413,
        "The request body is larger than this API accepts; files go to storage, never here.",
        "request_too_large",
    )


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


@api.exception_handler(DatabaseError)
def database_error(request, exc: DatabaseError):
    if is_database_outage(exc):
        return database_unavailable(request, exc)  # 503 with Retry-After, one log line
    return unexpected_error(request, exc)


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


class MethodNotAllowedAsJson:
    """A method an API route does not take answers 405 in the `{detail, code}` shape too.

    Ninja answers it itself, as plain text, before any exception handler runs; this keeps its
    `Allow` header and replaces only the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if response.status_code != 405 or not request.path.startswith("/api/"):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        answer = JsonResponse(
            {
                "detail": f"{request.method} is not allowed here; allowed: {allowed}.",
                "code": "method_not_allowed",
            },
            status=405,
        )
        answer["Allow"] = allowed
        return answer
