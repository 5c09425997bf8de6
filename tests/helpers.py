"""Helpers shared by the test modules: each defined once, here (fixtures live in conftest.py)."""

import base64
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import requests
from django.test import Client

from uploads import form_uploads
from uploads.models import Upload

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's; Playwright may not download one
ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
MULTIPART_SIZE = 11 * MIB  # parts of 5, 5 and 1 MiB: moto and S3 refuse a part under 5 MiB but the last


def assert_error(response, status: int, code: str) -> dict:
    """The API's error shape: the status, a stable code and a sentence, as the schema documents
    them for the operation (so every test that meets an error checks the contract too)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    documented = documented_codes(response.request["REQUEST_METHOD"], response.request["PATH_INFO"])
    if documented is not None:
        assert code in documented.get(str(status), []), (
            f"{code} ({status}) is not in the schema: {documented}"
        )
    return body


@functools.cache
def openapi_schema() -> dict:
    from project.api import api

    return api.get_openapi_schema()


def documented_codes(method: str, path: str) -> dict[str, list[str]] | None:
    """{status: codes} the schema documents for the operation at `path`; None for no operation."""
    for template, methods in openapi_schema()["paths"].items():
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in methods:
            responses = methods[method.lower()]["responses"]
            return {
                status: answer["content"]["application/json"]["schema"]["properties"]["code"]["enum"]
                for status, answer in responses.items()
                if int(status) >= 400
            }
    return None


def manage(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a process of its own, as a deployment runs it.

    The browser tests allow Django's sync calls from Playwright's event loop; a deployment doesn't,
    so that setting is never inherited.
    """
    inherited = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**inherited, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def api_preflight(client: Client, origin: str):
    """A browser's CORS preflight for a token call to the API from `origin`."""
    return client.options(
        "/api/uploads",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def store_preflight(url: str, origin: str) -> requests.Response:
    """A browser's CORS preflight for a POST to the store at `url` from `origin`."""
    return requests.options(
        url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=10
    )


# --- Multipart uploads through the API ---------------------------------------------------------


def start_multipart(api) -> dict:
    """Start a multipart upload of MULTIPART_SIZE bytes through the API; return its JSON answer."""
    response = api.post(
        "/api/uploads",
        {"filename": "video.mp4", "content_type": "video/mp4", "size": MULTIPART_SIZE},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def send_parts(api, started, body: bytes, numbers=None) -> None:
    """PUT parts to the URLs the API signs, as the page does."""
    numbers = numbers or list(range(1, started["parts_count"] + 1))
    urls = api.post(
        f"/api/uploads/{started['id']}/parts", {"part_numbers": numbers}, content_type="application/json"
    ).json()
    size = started["part_size"]
    for part in urls["parts"]:
        chunk = body[(part["part_number"] - 1) * size : part["part_number"] * size]
        assert requests.put(part["url"], data=chunk, timeout=30).status_code == 200


def send_checksummed_parts(api, started, parts: list[bytes]) -> None:
    """PUT `parts` (numbered from 1) to the URLs the API signs for their declared SHA-256s."""
    numbers = list(range(1, len(parts) + 1))
    checksums = {str(number): sha256(part) for number, part in zip(numbers, parts, strict=True)}
    urls = api.post(
        f"/api/uploads/{started['id']}/parts",
        {"part_numbers": numbers, "checksums": checksums},
        content_type="application/json",
    ).json()["parts"]
    for url, part in zip(urls, parts, strict=True):
        assert requests.put(url["url"], data=part, headers=url["headers"], timeout=30).status_code == 200


def upload_part_directly(s3, started, number: int, data: bytes) -> None:
    """What a store that doesn't enforce the signed length would accept."""
    upload = Upload.objects.get(pk=started["id"])
    s3.client.upload_part(
        Bucket=s3.bucket_name,
        Key=upload.key,
        UploadId=upload.multipart_upload_id,
        PartNumber=number,
        Body=data,
    )


def open_multipart_uploads(s3) -> list:
    return list(s3.iter_multipart_uploads())


# --- The no-JavaScript form ---------------------------------------------------------------------


def sign_form(user):
    """Sign a form upload for `user`: the form, its finish token and the folder its key goes in."""
    tokens = []
    form = form_uploads.form_upload_start(
        owner=user, finish_url=lambda token: tokens.append(token) or "http://testserver/"
    )
    token = tokens[0]
    folder = form.fields["key"].removesuffix("${filename}")
    return form, token, folder


def random_text(size: int) -> bytes:
    """`size` random bytes that read as plain text (base64 letters): random binary is sometimes taken
    by libmagic for another type (application/x-dosexec once), which a text upload must not be."""
    return base64.b64encode(os.urandom(size))[:size]


def sha256(body: bytes) -> str:
    """`body`'s SHA-256 as the API and S3 take it (`checksum_sha256`, `x-amz-checksum-sha256`): base64."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def start_text_upload(api, body: bytes, **extra) -> dict:
    """Create an upload of `body` as a text file through the API (`extra`: e.g. its checksum)."""
    response = api.post(
        "/api/uploads",
        {"filename": "notes.txt", "content_type": "text/plain", "size": len(body), **extra},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()
