"""Multipart uploads through the API, against moto's S3 server over HTTP (uploads/multipart.py).

moto enforces S3's 5 MiB minimum for every part but the last, so the tests use 5 MiB parts: a
file of 11 MiB goes in 3 parts.
"""

import hashlib

import pytest
import requests

from tests.helpers import MIB, assert_error, open_multipart_uploads, send_parts, upload_part_directly
from tests.helpers import MULTIPART_SIZE as SIZE
from uploads import multipart
from uploads.deadline import DeadlineExceeded
from uploads.models import Upload
from uploads.s3 import Part, S3Client

# --- The plan ---------------------------------------------------------------------------------


def test_start_above_the_threshold_answers_multipart_with_the_servers_plan(started, s3):
    assert (started["method"], started["part_size"], started["parts_count"]) == ("multipart", 5 * MIB, 3)
    assert (started["url"], started["fields"], started["headers"]) == ("", {}, {})
    assert started["part_urls_per_request"] == multipart.PART_URL_BATCH
    upload = Upload.objects.get(pk=started["id"])
    assert [m.upload_id for m in open_multipart_uploads(s3)] == [upload.multipart_upload_id]


def test_the_part_size_keeps_a_5_tb_file_within_10000_parts(settings):
    settings.UPLOADS_MULTIPART_PART_SIZE = 8 * MIB
    size = 5 * 1024**4

    part_size = multipart.part_size_for(size)

    assert part_size % MIB == 0
    assert multipart.parts_count(size, part_size) <= 10_000
    assert multipart.part_size_for(100 * MIB) == 8 * MIB


def test_each_part_url_is_signed_for_its_exact_length(started, api):
    urls = api.post(
        f"/api/uploads/{started['id']}/parts", {"part_numbers": [1, 3]}, content_type="application/json"
    ).json()

    assert [(p["part_number"], p["size"]) for p in urls["parts"]] == [(1, 5 * MIB), (3, 1 * MIB)]
    assert all("content-length" in p["url"] for p in urls["parts"])


def test_part_numbers_outside_the_plan_are_refused(started, api):
    response = api.post(
        f"/api/uploads/{started['id']}/parts", {"part_numbers": [4]}, content_type="application/json"
    )

    assert_error(response, 422, "invalid_part_numbers")


# --- Complete ---------------------------------------------------------------------------------


def test_a_three_part_upload_completes_and_downloads_byte_identical(started, api, body):
    send_parts(api, started, body)

    completed = api.post(f"/api/uploads/{started['id']}/complete")

    assert completed.status_code == 200, completed.content
    assert (completed.json()["status"], completed.json()["size"]) == ("complete", SIZE)
    link = api.get(f"/api/uploads/{started['id']}/url").json()["url"]
    assert (
        hashlib.sha256(requests.get(link, timeout=30).content).hexdigest() == hashlib.sha256(body).hexdigest()
    )


def test_listing_parts_says_which_parts_the_store_has(started, api, body):
    send_parts(api, started, body, numbers=[1, 3])

    listed = api.get(f"/api/uploads/{started['id']}/parts").json()

    assert (listed["part_size"], listed["parts_count"], listed["part_urls_per_request"]) == (5 * MIB, 3, 100)
    assert [(p["part_number"], p["size"]) for p in listed["parts"]] == [(1, 5 * MIB), (3, 1 * MIB)]


def test_a_missing_part_is_refused_with_409_and_leaves_no_multipart_upload(started, api, body, s3):
    send_parts(api, started, body, numbers=[1, 3])

    assert_error(api.post(f"/api/uploads/{started['id']}/complete"), 409, "part_missing")

    assert Upload.objects.get(pk=started["id"]).status == Upload.Status.FAILED
    assert open_multipart_uploads(s3) == []


def test_a_part_larger_than_planned_is_refused_with_409_and_leaves_no_multipart_upload(
    started, api, body, s3
):
    send_parts(api, started, body, numbers=[2, 3])
    upload_part_directly(s3, started, 1, body[: 5 * MIB] + b"x")

    assert_error(api.post(f"/api/uploads/{started['id']}/complete"), 409, "part_size_mismatch")

    assert open_multipart_uploads(s3) == []
    assert s3.head(Upload.objects.get(pk=started["id"]).key) is None


def test_a_total_over_the_limit_is_refused_with_409_and_leaves_no_multipart_upload(started, api, body, s3):
    send_parts(api, started, body)
    upload_part_directly(s3, started, 4, b"x" * MIB)  # a part past the plan: 12 MiB in all

    assert_error(api.post(f"/api/uploads/{started['id']}/complete"), 409, "object_too_large")

    assert open_multipart_uploads(s3) == []


def test_delete_of_a_pending_multipart_upload_aborts_it(started, api, body, s3):
    send_parts(api, started, body, numbers=[1])

    assert api.delete(f"/api/uploads/{started['id']}").status_code == 204

    assert open_multipart_uploads(s3) == []
    assert not Upload.objects.exists()


def test_a_pending_multipart_upload_is_resumable_until_it_completes(started, api, body):
    assert api.get(f"/api/uploads/{started['id']}").json()["resumable"] is True
    send_parts(api, started, body)

    completed = api.post(f"/api/uploads/{started['id']}/complete").json()

    assert completed["resumable"] is False


def test_multipart_abort_for_drops_a_records_parts(started, api, body, s3):
    send_parts(api, started, body, numbers=[1, 2])

    assert multipart.multipart_abort_for(Upload.objects.get(pk=started["id"])) is True

    assert open_multipart_uploads(s3) == []


def test_the_store_failing_to_start_a_multipart_upload_leaves_no_record(s3_down, api, small_parts):
    response = api.post(
        "/api/uploads",
        {"filename": "video.mp4", "content_type": "video/mp4", "size": SIZE},
        content_type="application/json",
    )

    assert_error(response, 503, "storage_unavailable")
    assert not Upload.objects.exists()


# --- Ownership --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "parts", {"part_numbers": [1]}),
        ("get", "parts", None),
        ("post", "sign", {"method": "PUT", "key": "k", "uploadId": "u", "partNumber": 1}),
        ("post", "complete", None),
        ("delete", "", None),
    ],
)
def test_another_users_upload_is_not_found_on_every_multipart_endpoint(
    started, bob_api, method, path, payload
):
    url = f"/api/uploads/{started['id']}/{path}".rstrip("/")
    kwargs = {"data": payload, "content_type": "application/json"} if payload else {}

    response = getattr(bob_api, method)(url, **kwargs)

    assert_error(response, 404, "not_found")
    assert Upload.objects.get(pk=started["id"]).status == Upload.Status.PENDING


# --- A complete retried after the store joined the parts ------------------------------------------


@pytest.fixture
def joined_then_deadline(monkeypatch):
    """The first complete's join succeeds on the store, then the request's deadline passes (503)."""
    join = S3Client.complete_multipart_upload

    def late(self, **kwargs):
        join(self, **kwargs)
        monkeypatch.setattr(S3Client, "complete_multipart_upload", join)
        raise DeadlineExceeded()

    monkeypatch.setattr(S3Client, "complete_multipart_upload", late)


@pytest.mark.usefixtures("joined_then_deadline")
def test_a_complete_retried_after_a_join_the_deadline_cut_off_completes_the_record(started, api, body):
    send_parts(api, started, body)
    assert_error(api.post(f"/api/uploads/{started['id']}/complete"), 503, "storage_unavailable")

    retried = api.post(f"/api/uploads/{started['id']}/complete")

    assert retried.status_code == 200, retried.content
    assert (retried.json()["status"], retried.json()["size"], retried.json()["processing"]) == (
        "complete",
        SIZE,
        "queued",
    )


@pytest.mark.parametrize("listed", [0, 1], ids=["no-part", "one-part"])
@pytest.mark.usefixtures("joined_then_deadline")
def test_a_retry_that_meets_the_joined_parts_still_listed_judges_the_joined_object(
    started, api, body, s3, monkeypatch, listed
):
    send_parts(api, started, body)
    assert_error(api.post(f"/api/uploads/{started['id']}/complete"), 503, "storage_unavailable")
    # A store still dropping the joined upload (SeaweedFS removes its parts after writing the object).
    parts = [Part(1, 5 * MIB, "etag")][:listed]
    monkeypatch.setattr(S3Client, "list_parts", lambda self, **kwargs: parts)

    retried = api.post(f"/api/uploads/{started['id']}/complete")

    assert retried.status_code == 200, retried.content
    assert Upload.objects.get(pk=started["id"]).status == Upload.Status.COMPLETE
    assert s3.head(started["key"]).size == SIZE
