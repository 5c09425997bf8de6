"""Attacks on the signing endpoint (`/sign`, for clients such as Uppy 6 that speak S3 themselves)
and on multipart plans, each refused (issue 21 §1). Listed by name in tests/test_security.py;
the ones the store takes part in are repeated on SeaweedFS in test_security_sign_strict.py.

The server decides every plan: a client's parts never set the part size, and the work of a
request is bounded by the plan (at most 10,000 parts, one ListParts walk).
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from tests.helpers import MIB, assert_error
from uploads.models import Upload
from uploads.s3 import S3Client

pytestmark = pytest.mark.django_db

SIZE = 6 * MIB  # two planned parts of 5 and 1 MiB


@pytest.fixture
def plan(settings):
    settings.UPLOADS_MULTIPART_THRESHOLD = 5 * MIB
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB


def client_upload(api, size: int = SIZE) -> dict:
    """An upload whose client starts its own multipart upload through /sign, as Uppy 6 does."""
    response = api.post(
        "/api/uploads",
        {"filename": "video.mp4", "content_type": "video/mp4", "size": size, "client_multipart": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def sign(api, upload: dict, **request):
    return api.post(f"/api/uploads/{upload['id']}/sign", request, content_type="application/json")


def create_as_uppy(api, upload: dict) -> str:
    """Sign CreateMultipartUpload and send it; return the store's upload id."""
    signed = sign(api, upload, method="POST", key="uppy-proposes-this.mp4")
    assert signed.status_code == 200, signed.content
    response = requests.post(signed.json()["url"], headers=signed.json()["headers"], timeout=30)
    assert response.status_code == 200, response.text
    return response.text.split("<UploadId>")[1].split("</UploadId>")[0]


def put_part_past_the_signature(store: S3Client, upload: dict, upload_id: str, number: int, body: bytes):
    """What a client sends to a store that does not check a signed length (moto, SeaweedFS)."""
    store.client.upload_part(
        Bucket=store.bucket_name, Key=upload["key"], UploadId=upload_id, PartNumber=number, Body=body
    )


@pytest.fixture
def count_list_parts():
    """How many ListParts requests the app sends (a botocore hook on the shared client)."""
    calls = []
    events = S3Client().client.meta.events
    events.register("before-call.s3.ListParts", lambda **kwargs: calls.append(1), unique_id="count-list")
    yield calls
    events.unregister("before-call.s3.ListParts", unique_id="count-list")


# --- The memory/CPU bomb: a tiny part 1 must not set the part size ----------------------------


def test_a_client_multipart_upload_gets_the_servers_part_size_when_created(s3, api, plan):
    upload = client_upload(api)

    assert (upload["method"], upload["part_size"], upload["parts_count"]) == ("multipart", 5 * MIB, 2)
    assert Upload.objects.get(pk=upload["id"]).part_size == 5 * MIB


@pytest.mark.parametrize("first_part", [b"", b"x"], ids=["0-byte", "1-byte"])
def test_a_tiny_part_1_completed_through_sign_is_a_409_measured_against_the_plan(
    s3, api, plan, first_part, count_list_parts
):
    upload = client_upload(api)
    upload_id = create_as_uppy(api, upload)
    put_part_past_the_signature(s3, upload, upload_id, 1, first_part)

    response = sign(api, upload, method="POST", key=upload["key"], uploadId=upload_id)

    assert_error(response, 409, "part_size_mismatch")
    assert f"not {5 * MIB}" in response.json()["detail"]
    assert len(count_list_parts) == 1


@pytest.mark.parametrize("first_part", [b"", b"x"], ids=["0-byte", "1-byte"])
def test_a_tiny_part_1_completed_through_complete_is_a_409_and_aborts_the_upload(
    s3, api, plan, first_part, count_list_parts
):
    upload = client_upload(api)
    upload_id = create_as_uppy(api, upload)
    sign(api, upload, method="GET", key=upload["key"], uploadId=upload_id)  # binds the id
    put_part_past_the_signature(s3, upload, upload_id, 1, first_part)

    response = api.post(f"/api/uploads/{upload['id']}/complete")

    assert_error(response, 409, "part_size_mismatch")
    assert len(count_list_parts) == 1
    assert Upload.objects.get(pk=upload["id"]).status == Upload.Status.FAILED
    assert list(s3.iter_multipart_uploads()) == []


def test_parts_added_far_beyond_the_plan_are_not_walked(s3, api, plan, count_list_parts, monkeypatch):
    monkeypatch.setattr(S3Client, "LIST_PAGE_SIZE", 2)  # pages of 2 parts
    upload = client_upload(api)
    upload_id = create_as_uppy(api, upload)
    for number in range(1, 9):
        put_part_past_the_signature(s3, upload, upload_id, number, b"x")

    response = sign(api, upload, method="POST", key=upload["key"], uploadId=upload_id)

    assert response.status_code == 409, response.content
    assert len(count_list_parts) == 1  # parts 1-2 reach the plan's 2: the other 3 pages are never read


# --- Storage outside the quota: sign only what the plan holds ---------------------------------


def test_create_multipart_is_refused_for_an_upload_planned_whole(s3, api, plan):
    upload = client_upload(api, size=31)

    assert_error(sign(api, upload, method="POST", key="big.mp4"), 409, "not_multipart")


def test_create_multipart_is_signed_only_once(s3, api, plan):
    upload = client_upload(api)
    create_as_uppy(api, upload)

    assert_error(sign(api, upload, method="POST", key=upload["key"]), 409, "multipart_already_started")
    assert Upload.objects.get(pk=upload["id"]).create_signed_at is not None


def test_a_part_number_outside_the_plan_is_refused(s3, api, plan):
    upload = client_upload(api)
    upload_id = create_as_uppy(api, upload)

    for number in (0, 3, 10_000):
        response = sign(api, upload, method="PUT", key=upload["key"], uploadId=upload_id, partNumber=number)
        assert_error(response, 422, "invalid_part_numbers")


def test_every_signed_part_pins_its_exact_length(s3, api, plan):
    upload = client_upload(api)
    upload_id = create_as_uppy(api, upload)

    for number in (1, 2):
        signed = sign(api, upload, method="PUT", key=upload["key"], uploadId=upload_id, partNumber=number)
        query = parse_qs(urlsplit(signed.json()["url"]).query)
        assert query["X-Amz-SignedHeaders"] == ["content-length;host"]


def test_a_whole_put_is_refused_for_an_upload_planned_in_parts(s3, api, plan):
    assert_error(sign(api, client_upload(api), method="PUT", key="x"), 403, "sign_refused")


def test_sign_refuses_an_upload_whose_policy_has_expired(s3, api, plan):
    upload = client_upload(api)
    Upload.objects.filter(pk=upload["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_error(sign(api, upload, method="POST", key=upload["key"]), 410, "upload_expired")


# --- Floods ---------------------------------------------------------------------------------


def test_a_flood_of_sign_requests_is_throttled(s3, api, plan, settings):
    settings.UPLOADS_RATE_SIGN = "2/m"
    upload = client_upload(api, size=31)

    answers = [sign(api, upload, method="PUT", key="k").status_code for _ in range(3)]

    assert answers == [200, 200, 429]


def test_a_flood_of_part_url_requests_is_throttled(s3, api, plan, settings):
    settings.UPLOADS_RATE_PARTS = "2/m"
    upload = api.post(
        "/api/uploads",
        {"filename": "video.mp4", "content_type": "video/mp4", "size": SIZE},
        content_type="application/json",
    ).json()

    answers = [
        api.post(f"/api/uploads/{upload['id']}/parts", {"part_numbers": [1]}, content_type="application/json")
        for _ in range(2)
    ] + [api.get(f"/api/uploads/{upload['id']}/parts")]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[-1].json()["code"] == "throttled"
