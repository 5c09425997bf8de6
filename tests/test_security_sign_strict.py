"""The attacks of test_security_sign.py that the store takes part in, on the strict store
(SeaweedFS, which checks signatures: a part signed for its length refuses any other)."""

import pytest
import requests

from tests.test_security_sign import (
    MIB,
    client_upload,
    create_as_uppy,
    put_part_past_the_signature,
    sign,
)
from uploads.models import Upload

pytestmark = [pytest.mark.strict, pytest.mark.django_db]


@pytest.fixture
def store(strict_s3, settings):
    settings.UPLOADS_MULTIPART_THRESHOLD = 5 * MIB
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB
    return strict_s3


def test_a_one_byte_part_1_completed_through_sign_is_a_409_on_the_strict_store(store, api):
    upload = client_upload(api)
    upload_id = create_as_uppy(api, upload)
    put_part_past_the_signature(store, upload, upload_id, 1, b"x")

    response = sign(api, upload, method="POST", key=upload["key"], uploadId=upload_id)

    assert (response.status_code, response.json()["code"]) == (409, "part_size_mismatch")


def test_a_one_byte_part_1_completed_through_complete_is_a_409_on_the_strict_store(store, api):
    upload = client_upload(api)
    upload_id = create_as_uppy(api, upload)
    sign(api, upload, method="GET", key=upload["key"], uploadId=upload_id)  # binds the id
    put_part_past_the_signature(store, upload, upload_id, 1, b"x")

    response = api.post(f"/api/uploads/{upload['id']}/complete")

    assert (response.status_code, response.json()["code"]) == (409, "part_size_mismatch")
    assert list(store.iter_multipart_uploads()) == []


def test_a_part_signed_through_sign_refuses_a_longer_body_on_the_strict_store(store, api):
    upload = client_upload(api, size=31 * MIB)
    upload_id = create_as_uppy(api, upload)
    signed = sign(api, upload, method="PUT", key=upload["key"], uploadId=upload_id, partNumber=1).json()

    refused = requests.put(signed["url"], headers=signed["headers"], data=b"x" * (20 * MIB), timeout=60)
    accepted = requests.put(signed["url"], headers=signed["headers"], data=b"x" * (5 * MIB), timeout=60)

    assert (refused.status_code, accepted.status_code) == (403, 200)


def test_a_replayed_create_url_gets_no_part_signed_on_the_strict_store(store, api):
    upload = client_upload(api)
    signed = sign(api, upload, method="POST", key=upload["key"]).json()
    first, replayed = (
        requests.post(signed["url"], headers=signed["headers"], timeout=30).text.split("<UploadId>")[1]
        for _ in range(2)
    )
    first, replayed = first.split("</UploadId>")[0], replayed.split("</UploadId>")[0]
    sign(api, upload, method="GET", key=upload["key"], uploadId=first)

    response = sign(api, upload, method="PUT", key=upload["key"], uploadId=replayed, partNumber=1)

    assert (response.status_code, response.json()["code"]) == (409, "multipart_upload_mismatch")
    assert Upload.objects.get(pk=upload["id"]).multipart_upload_id == first
