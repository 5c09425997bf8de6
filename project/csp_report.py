"""Where browsers report what the Content-Security-Policy refused: one log line per violation.

Browsers send reports without cookies or a CSRF token, in two shapes: `report-uri`'s
`{"csp-report": {...}}` (application/csp-report) and the Reporting API's list of
`{"type": "csp-violation", "body": {...}}` (application/reports+json). Anyone can post here, so
the body is bounded, only known fields are logged, and the answer is always an empty 204.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("project.csp")

MAX_BODY = 16 * 1024  # a report is under 2 KiB; a batch of a few stays well under this
MAX_FIELD = 300  # a URL or sample longer than this is cut: the log line stays one short line


def violations(payload: object) -> list[dict]:
    """The violations in either report shape, as dicts of report-uri's hyphenated field names."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        return [payload["csp-report"]]
    if isinstance(payload, list):
        return [
            {_hyphenated(name): value for name, value in report["body"].items()}
            for report in payload
            if isinstance(report, dict)
            and report.get("type") == "csp-violation"
            and isinstance(report.get("body"), dict)
        ]
    return []


def _hyphenated(name: str) -> str:
    # Reporting API bodies are camelCase (effectiveDirective, blockedURL, documentURL).
    return {"blockedURL": "blocked-uri", "documentURL": "document-uri"}.get(
        name, "".join(f"-{c.lower()}" if c.isupper() else c for c in name)
    )


def one_line(violation: dict) -> str:
    def field(name: str) -> str:
        return str(violation.get(name) or "-")[:MAX_FIELD].replace("\n", " ")

    directive = violation.get("effective-directive") or violation.get("violated-directive")
    return (
        f"CSP violation: {str(directive or '-')[:MAX_FIELD]} refused {field('blocked-uri')}"
        f" on {field('document-uri')} (source {field('source-file')}:{field('line-number')})"
    )


@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    if int(request.headers.get("Content-Length") or 0) <= MAX_BODY:
        try:
            payload = json.loads(request.body)
        except ValueError:
            payload = None
        for violation in violations(payload)[:20]:
            logger.warning(one_line(violation))
    return HttpResponse(status=204)
