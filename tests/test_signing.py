"""Signing for a client that speaks S3 itself (Uppy 6's signRequest): uploads/signing.py, against
moto's S3 server over HTTP. The attacks on it are in test_security_sign.py."""

import uuid

import pytest
import requests

from tests.helpers import MULTIPART_SIZE as SIZE
from tests.helpers import assert_error, send_parts
from uploads.keys import object_key
from uploads.models import Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_started(s3, api, small_parts):
    """An upload whose client starts the multipart upload itself (Uppy 6)."""
    response = api.post(
        "/api/uploads",
        {"filename": "video.mp4", "content_type": "video/mp4", "size": SIZE, "client_multipart": True},
        content_type="application/json",
    )
    return response.json()


def sign(api, started, **request):
    return api.post(f"/api/uploads/{started['id']}/sign", request, content_type="application/json")


def create_as_the_client(s3, api, started) -> str:
    """Sign CreateMultipartUpload and send it as Uppy does; return the store's upload id."""
    signed = sign(api, started, method="POST", key="whatever-uppy-proposes.mp4").json()
    response = requests.post(signed["url"], headers=signed["headers"], timeout=30)
    assert response.status_code == 200, response.text
    return response.text.split("<UploadId>")[1].split("</UploadId>")[0]


def test_sign_answers_the_key_the_server_chose_whatever_key_the_client_proposed(client_started, api):
    signed = sign(api, client_started, method="POST", key="uppy-key.mp4", contentType="video/mp4")

    assert signed.status_code == 200, signed.content
    assert signed.json()["key"] == client_started["key"]
    assert signed.json()["headers"]["Content-Type"] == "video/mp4"


def test_the_first_upload_id_a_client_presents_is_kept_once_the_store_lists_it(client_started, api, s3):
    upload_id = create_as_the_client(s3, api, client_started)

    signed = sign(
        api, client_started, method="PUT", key=client_started["key"], uploadId=upload_id, partNumber=1
    )

    assert signed.status_code == 200, signed.content
    assert Upload.objects.get(pk=client_started["id"]).multipart_upload_id == upload_id


def test_an_upload_id_the_store_does_not_list_for_the_key_is_refused(client_started, api, s3):
    other = s3.create_multipart_upload(key=object_key(uuid.uuid4(), "video.mp4"), content_type="video/mp4")

    response = sign(
        api, client_started, method="PUT", key=client_started["key"], uploadId=other, partNumber=1
    )

    assert_error(response, 409, "multipart_upload_mismatch")
    assert Upload.objects.get(pk=client_started["id"]).multipart_upload_id == ""


def test_another_upload_id_than_the_servers_is_refused(started, api, s3):
    other = s3.create_multipart_upload(key=started["key"], content_type="video/mp4")

    response = sign(api, started, method="PUT", key=started["key"], uploadId=other, partNumber=1)

    assert_error(response, 409, "multipart_upload_mismatch")


def test_requests_on_another_key_are_refused_with_403(started, api):
    upload_id = Upload.objects.get(pk=started["id"]).multipart_upload_id

    response = sign(
        api, started, method="PUT", key=object_key(uuid.uuid4(), "key.bin"), uploadId=upload_id, partNumber=1
    )

    assert_error(response, 403, "sign_refused")


def test_deleting_the_object_through_sign_is_refused_with_403(client_started, api):
    assert_error(sign(api, client_started, method="DELETE", key=client_started["key"]), 403, "sign_refused")


def test_a_complete_is_signed_only_once_the_parts_pass_the_checks(started, api, body):
    upload_id = Upload.objects.get(pk=started["id"]).multipart_upload_id
    send_parts(api, started, body, numbers=[1, 2])

    response = sign(api, started, method="POST", key=started["key"], uploadId=upload_id)

    assert_error(response, 409, "part_missing")


def test_an_upload_planned_whole_is_signed_as_one_put_of_its_exact_length(s3, api, small_parts):
    upload = api.post(
        "/api/uploads",
        {"filename": "a.txt", "content_type": "text/plain", "size": 5, "client_multipart": True},
        content_type="application/json",
    ).json()

    signed = sign(api, upload, method="PUT", key="uppy-key").json()

    assert (
        requests.put(signed["url"], headers=signed["headers"], data=b"hello", timeout=30).status_code == 200
    )
    assert api.post(f"/api/uploads/{upload['id']}/complete").json()["status"] == "complete"


def test_a_client_multipart_upload_completes_in_the_servers_parts(s3, api, client_started, body):
    upload_id = create_as_the_client(s3, api, client_started)
    size, etags = client_started["part_size"], []
    for number in range(1, client_started["parts_count"] + 1):
        signed = sign(
            api,
            client_started,
            method="PUT",
            key=client_started["key"],
            uploadId=upload_id,
            partNumber=number,
        )
        chunk = body[(number - 1) * size : number * size]
        etags.append(requests.put(signed.json()["url"], data=chunk, timeout=30).headers["ETag"])
    complete = sign(api, client_started, method="POST", key=client_started["key"], uploadId=upload_id).json()
    parts = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, 1)
    )
    joined = requests.post(
        complete["url"], data=f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>", timeout=30
    )

    assert joined.status_code == 200, joined.text
    assert api.post(f"/api/uploads/{client_started['id']}/complete").json()["size"] == SIZE


def test_a_complete_is_signed_again_for_a_client_that_lost_the_joins_answer(started, api, body, s3):
    upload = Upload.objects.get(pk=started["id"])
    send_parts(api, started, body)
    parts = s3.list_parts(key=upload.key, upload_id=upload.multipart_upload_id)
    s3.complete_multipart_upload(key=upload.key, upload_id=upload.multipart_upload_id, parts=parts)

    response = sign(api, started, method="POST", key=started["key"], uploadId=upload.multipart_upload_id)

    assert response.status_code == 200, response.content
