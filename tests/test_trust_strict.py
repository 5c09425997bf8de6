"""Stores that verify checksums refuse an altered body themselves (SeaweedFS, the strict tier):
the signature pins x-amz-checksum-sha256 in PUT mode and on each UploadPart."""

import pytest
import requests

from tests.helpers import random_text, send_checksummed_parts, sha256, start_text_upload

pytestmark = [pytest.mark.strict, pytest.mark.django_db]

MIB = 1024 * 1024


@pytest.fixture
def small_parts(settings):
    settings.UPLOADS_MULTIPART_THRESHOLD = 5 * MIB
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB


def test_put_mode_signs_the_checksum_so_the_store_refuses_an_altered_body(strict_s3, api, settings):
    settings.UPLOADS_UPLOAD_METHOD = "put"
    chosen, sent = b"a" * 100, b"b" * 100
    started = start_text_upload(api, chosen, checksum_sha256=sha256(chosen))
    assert started["headers"]["x-amz-checksum-sha256"] == sha256(chosen)

    refused = requests.put(started["url"], data=sent, headers=started["headers"], timeout=10)
    accepted = requests.put(started["url"], data=chosen, headers=started["headers"], timeout=10)

    assert refused.status_code == 400
    assert accepted.status_code == 200


def test_put_mode_refuses_a_request_without_the_signed_checksum_header(strict_s3, api, settings):
    settings.UPLOADS_UPLOAD_METHOD = "put"
    body = b"a" * 100
    started = start_text_upload(api, body, checksum_sha256=sha256(body))
    headers = {k: v for k, v in started["headers"].items() if k != "x-amz-checksum-sha256"}
    assert requests.put(started["url"], data=body, headers=headers, timeout=10).status_code == 403


def test_part_urls_sign_each_declared_part_checksum_and_the_store_refuses_an_altered_part(
    strict_s3, api, small_parts
):
    body = random_text(6 * MIB)  # parts of 5 and 1 MiB
    started = start_text_upload(api, body)
    first, second = body[: 5 * MIB], body[5 * MIB :]
    urls = api.post(
        f"/api/uploads/{started['id']}/parts",
        {"part_numbers": [1, 2], "checksums": {"1": sha256(first), "2": sha256(second)}},
        content_type="application/json",
    ).json()["parts"]
    assert [part["headers"] for part in urls] == [
        {"x-amz-checksum-sha256": sha256(first)},
        {"x-amz-checksum-sha256": sha256(second)},
    ]
    altered = bytes([second[0] ^ 1]) + second[1:]
    assert (
        requests.put(urls[1]["url"], data=altered, headers=urls[1]["headers"], timeout=30).status_code == 400
    )
    assert requests.put(urls[0]["url"], data=first, headers=urls[0]["headers"], timeout=30).status_code == 200
    assert (
        requests.put(urls[1]["url"], data=second, headers=urls[1]["headers"], timeout=30).status_code == 200
    )


def test_a_multipart_upload_with_part_checksums_completes_on_a_verifying_store(
    strict_s3, api, small_parts, django_capture_on_commit_callbacks
):
    body = random_text(6 * MIB)
    started = start_text_upload(api, body)
    send_checksummed_parts(api, started, [body[: 5 * MIB], body[5 * MIB :]])
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/uploads/{started['id']}/complete").status_code == 200
    answer = api.get(f"/api/uploads/{started['id']}").json()
    assert (answer["status"], answer["checksum_sha256"]) == ("complete", sha256(body))
