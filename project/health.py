"""Health endpoints for load balancers and orchestrators: cheap, unauthenticated, JSON.

`/healthz`: the process answers and the database runs `SELECT 1`.
`/readyz`: that, and the store answers a HEAD of the bucket within a request's store budget.
Each answers `{"status": "ok" | "unavailable", "checks": {...}}`, 200 or 503; the reason for a
failed check goes to the log, not to the (public) response.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from uploads.bucket import store_ready

logger = logging.getLogger(__name__)


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as e:
        logger.warning(
            "Health check: the database is unavailable: %s", (str(e).strip() or repr(e)).splitlines()[0]
        )
        return "unavailable"
    return "ok"


def store_check() -> str:
    return "ok" if store_ready() else "unavailable"


def _answer(checks: dict[str, str]) -> JsonResponse:
    ok = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


@csrf_exempt
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers, else 503."""
    return _answer({"database": database_check()})


@csrf_exempt
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the store answer, else 503."""
    return _answer({"database": database_check(), "store": store_check()})
