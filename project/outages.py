"""A database that can't be reached is an outage, not a bug: 503 with Retry-After, one log line.

A PostgreSQL restart, a failover or a full connection pool makes every request fail the same way
for a while; each answers `503 {"code": "database_unavailable"}` on the API (project/api.py) and a
readable page elsewhere (`DatabaseOutageMiddleware`), and logs ONE line, not a traceback per
request. What is an outage: the connection failed or was lost (InterfaceError, and PostgreSQL's
OperationalError: refused, reset, shut down, statement timeout, deadlock) or SQLite is locked.
Anything else from the database (a missing table, a bad query) is a bug and stays a 500.

Exceptions raised outside a view (a session saved after it) reach Django's handler: `server_error`
(handler500) answers those the same way. Django logs neither answer again (`_has_been_logged`).
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from uploads.api.answers import DATABASE_UNAVAILABLE

logger = logging.getLogger("project.outages")

# Seconds a client should wait before trying again: about a connection attempt's timeout.
RETRY_AFTER = 5
DETAIL = DATABASE_UNAVAILABLE.detail


def is_database_outage(error: BaseException | None) -> bool:
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    return connection.vendor != "sqlite" or "locked" in str(error)


def first_line(error: BaseException) -> str:
    return (str(error).strip() or type(error).__name__).splitlines()[0]


def database_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The answer to a request the database could not serve (and its one log line)."""
    logger.warning("Database unavailable: %s %s: %s", request.method, request.path, first_line(error))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": DETAIL, "code": DATABASE_UNAVAILABLE.code}, status=DATABASE_UNAVAILABLE.status
        )
    else:
        response = HttpResponse(_page(), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response._has_been_logged = True  # logged above, in one line: Django's own log_response skips it
    return response


def _page() -> str:
    # No request context: its processors (the user, messages) would ask the database again.
    try:
        return render_to_string("database_unavailable.html", {"detail": DETAIL})
    except Exception:  # noqa: BLE001 (a page that can't render, e.g. static files not collected, still says why)
        return f"<!doctype html><title>Unavailable for a moment</title><h1>Unavailable for a moment</h1><p>{DETAIL}</p>"


class DatabaseOutageMiddleware:
    """Answer a view's database outage with a 503 (pages; the API has its own handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_unavailable(request, exception) if is_database_outage(exception) else None


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """handler500: an outage raised outside a view is still a 503, anything else Django's 500."""
    error = sys.exc_info()[1]
    if is_database_outage(error):
        return database_unavailable(request, error)
    return defaults.server_error(request, *args, **kwargs)
