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
from uploads.api import answers, openapi
from uploads.api.answers import Answer, upload_error
from uploads.api.auth import SessionAuth, TokenAuth
from uploads.api.fields import router as field_uploads_router
from uploads.api.router import router as uploads_router
from uploads.errors import UploadError

logger = logging.getLogger(__name__)

# Ninja raises HttpError(400) for a body it cannot parse (malformed JSON).
CODE_BY_HTTP_STATUS = {
    answer.status: answer.code
    for answer in (
        answers.BAD_REQUEST,
        answers.NOT_AUTHENTICATED,
        answers.NOT_FOUND,
        answers.THROTTLED,
    )
}


class UploadsApi(NinjaAPI):
    """Ninja's API, whose schema also names every error code (uploads/api/openapi.py)."""

    def get_openapi_schema(self, **kwargs):
        return openapi.document(super().get_openapi_schema(**kwargs), self)


api = UploadsApi(
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


def _answer(request: HttpRequest, answer: Answer, detail: str | None = None):
    return _error(request, answer.status, detail or answer.detail, answer.code)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return _answer(request, answers.NOT_AUTHENTICATED)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    code = getattr(exc, "code", None) or CODE_BY_HTTP_STATUS.get(exc.status_code, "error")
    return _error(request, exc.status_code, exc.message, code)


@api.exception_handler(Throttled)
def throttled(request, exc: Throttled):
    # ninja adds the Retry-After header to this response.
    wait = f" Try again in {math.ceil(exc.wait)} s." if exc.wait else ""
    return _answer(request, answers.THROTTLED, f"{answers.THROTTLED.detail}{wait}")


@api.exception_handler(RequestDataTooBig)
def request_too_large(request, exc):
    return _answer(request, answers.REQUEST_TOO_LARGE)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _answer(request, answers.NOT_FOUND)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors
    )
    return _answer(request, answers.VALIDATION_ERROR, f"Invalid request: {problems}")


@api.exception_handler(DatabaseError)
def database_error(request, exc: DatabaseError):
    if is_database_outage(exc):
        return database_unavailable(request, exc)  # 503 with Retry-After, one log line
    return unexpected_error(request, exc)


@api.exception_handler(Exception)
def unexpected_error(request, exc: Exception):
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return _answer(request, answers.INTERNAL_ERROR)


@csrf_exempt  # like the API's own views: an unknown path answers 404, not a CSRF 403
def unknown_endpoint(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Mounted after the API at ^api/: an unknown path gets our JSON error, not Django's HTML 404."""
    return JsonResponse({"detail": "No such API endpoint.", "code": answers.NOT_FOUND.code}, status=404)


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
                "code": answers.METHOD_NOT_ALLOWED.code,
            },
            status=answers.METHOD_NOT_ALLOWED.status,
        )
        answer["Allow"] = allowed
        return answer
