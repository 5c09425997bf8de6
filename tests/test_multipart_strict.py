"""The multipart tests of test_multipart.py on the strict store (SeaweedFS), which checks
signatures, so a part URL refuses a body of another length.

`strict_s3` comes with the strict-store tier (tests/conftest.py); in a tree without it these
tests skip and say so.
"""

import hashlib

import pytest
import requests

from tests.helpers import (
    MIB,
    open_multipart_uploads,
    send_parts,
    start_multipart,
    upload_part_directly,
)
from uploads.models import Upload

pytestmark = pytest.mark.strict


@pytest.fixture
def store(request, settings):
    """The strict store, with 5 MiB parts above 5 MiB."""
    try:
        client = request.getfixturevalue("strict_s3")
    except pytest.FixtureLookupError:
        pytest.skip("no strict_s3 fixture in this tree: the strict-store tier brings it")
    settings.UPLOADS_MULTIPART_THRESHOLD = 5 * MIB
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB
    return client


@pytest.fixture
def started(store, api):
    return start_multipart(api)


def test_a_three_part_upload_completes_and_downloads_byte_identical_on_the_strict_store(started, api, body):
    send_parts(api, started, body)

    assert api.post(f"/api/uploads/{started['id']}/complete").status_code == 200

    link = api.get(f"/api/uploads/{started['id']}/url").json()["url"]
    assert hashlib.sha256(requests.get(link, timeout=30).content).digest() == hashlib.sha256(body).digest()


def test_the_strict_store_refuses_a_part_longer_than_its_url_was_signed_for(started, api, body):
    url = api.post(
        f"/api/uploads/{started['id']}/parts", {"part_numbers": [1]}, content_type="application/json"
    ).json()["parts"][0]["url"]

    assert requests.put(url, data=body[: 5 * MIB] + b"x", timeout=30).status_code == 403


def test_a_part_larger_than_planned_is_refused_with_409_on_the_strict_store(started, api, body, store):
    send_parts(api, started, body, numbers=[2, 3])
    upload_part_directly(store, started, 1, body[: 5 * MIB] + b"x")

    response = api.post(f"/api/uploads/{started['id']}/complete")

    assert (response.status_code, response.json()["code"]) == (409, "part_size_mismatch")
    assert open_multipart_uploads(store) == []


def test_a_missing_part_is_refused_with_409_on_the_strict_store(started, api, body, store):
    send_parts(api, started, body, numbers=[1, 3])

    response = api.post(f"/api/uploads/{started['id']}/complete")

    assert (response.status_code, response.json()["code"]) == (409, "part_missing")
    assert open_multipart_uploads(store) == []


def test_a_total_over_the_limit_is_refused_with_409_on_the_strict_store(started, api, body, store):
    send_parts(api, started, body)
    upload_part_directly(store, started, 4, b"x" * MIB)

    response = api.post(f"/api/uploads/{started['id']}/complete")

    assert (response.status_code, response.json()["code"]) == (409, "object_too_large")
    assert open_multipart_uploads(store) == []


def test_another_users_id_is_not_found_on_the_strict_store(started, bob_api):
    requests = (
        ("post", "parts", {"part_numbers": [1]}),
        ("get", "parts", None),
        ("post", "sign", {"method": "PUT", "key": "k", "uploadId": "u", "partNumber": 1}),
        ("post", "complete", None),
    )
    for method, path, payload in requests:
        kwargs = {"data": payload, "content_type": "application/json"} if payload else {}
        response = getattr(bob_api, method)(f"/api/uploads/{started['id']}/{path}", **kwargs)
        assert response.status_code == 404, (method, path)
    assert Upload.objects.get(pk=started["id"]).status == Upload.Status.PENDING
