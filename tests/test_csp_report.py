"""The CSP report endpoint (project/csp_report.py): one log line per violation, whatever is posted."""

import json
import logging

import pytest
from django.test import Client

REPORT_URI_BODY = {
    "csp-report": {
        "document-uri": "http://localhost:8000/",
        "effective-directive": "img-src",
        "blocked-uri": "https://elsewhere.example/x.png",
        "source-file": "http://localhost:8000/static/uploads/uploader.js",
        "line-number": 12,
    }
}
REPORTING_API_BODY = [
    {
        "type": "csp-violation",
        "body": {
            "documentURL": "http://localhost:8000/",
            "effectiveDirective": "script-src-elem",
            "blockedURL": "inline",
        },
    }
]


def post(body, content_type: str):
    return Client().post("/csp-report", data=body, content_type=content_type)


def test_a_report_uri_report_is_logged_as_one_line(caplog):
    caplog.set_level(logging.WARNING, logger="project.csp")

    response = post(json.dumps(REPORT_URI_BODY), "application/csp-report")

    assert response.status_code == 204
    [record] = caplog.records
    assert record.getMessage() == (
        "CSP violation: img-src refused https://elsewhere.example/x.png on http://localhost:8000/"
        " (source http://localhost:8000/static/uploads/uploader.js:12)"
    )


def test_a_reporting_api_batch_is_logged_one_line_per_violation(caplog):
    caplog.set_level(logging.WARNING, logger="project.csp")

    post(json.dumps(REPORTING_API_BODY * 2), "application/reports+json")

    assert [r.getMessage().split(" on ")[0] for r in caplog.records] == [
        "CSP violation: script-src-elem refused inline"
    ] * 2


@pytest.mark.parametrize("body", ["not json", json.dumps({"csp-report": "x"}), "x" * 20_000])
def test_anything_else_posted_is_answered_204_and_logs_nothing(caplog, body):
    caplog.set_level(logging.WARNING, logger="project.csp")

    assert post(body, "application/csp-report").status_code == 204
    assert caplog.records == []


def test_every_page_names_the_report_endpoint(db):
    response = Client().get("/accounts/login/")

    assert "report-uri /csp-report" in response["Content-Security-Policy"]
