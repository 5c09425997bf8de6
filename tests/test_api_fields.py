"""POST /api/field-uploads: an upload started for a model's UploadField, within the field's limits
(uploads/api/fields.py, uploads/field_uploads.py)."""

import pytest
from django.test import Client

from project.examples.models import Document
from tests.helpers import sha256
from uploads.field_signing import FieldSpec, read_value
from uploads.models import Upload

pytestmark = pytest.mark.django_db

URL = "/api/field-uploads"
SPEC = Document._meta.get_field("file").spec()


@pytest.fixture
def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(client, *, field=None, filename="report.pdf", content_type="application/pdf", size=1000, **extra):
    body = {"field": field or SPEC.token(), "filename": filename, "content_type": content_type, "size": size}
    body.update(extra)
    return client.post(URL, body, content_type="application/json")


def test_it_signs_an_upload_under_the_fields_prefix_and_answers_a_value_for_the_user_and_field(
    s3, browser, user
):
    response = start(browser)

    assert response.status_code == 201, response.content
    body = response.json()
    upload = Upload.objects.get(pk=body["id"])
    assert upload.key.startswith("uploads/documents/")
    assert upload.for_field == "examples.Document.file"
    assert str(read_value(body["value"], label=SPEC.label, user_pk=user.pk)) == body["id"]
    assert body["method"] == "POST"


def test_the_checksum_the_widget_declares_is_recorded_for_the_worker(s3, browser):
    checksum = sha256(b"the field's file")

    response = start(browser, checksum_sha256=checksum)

    assert Upload.objects.get(pk=response.json()["id"]).declared_sha256 == checksum


def test_a_file_over_the_fields_max_size_is_refused(s3, browser):
    response = start(browser, size=SPEC.max_size + 1)

    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert not Upload.objects.exists()


def test_a_type_the_field_does_not_take_is_refused(s3, browser):
    response = start(browser, filename="song.mp3", content_type="audio/mpeg")

    assert response.status_code == 415
    assert response.json()["detail"] == (
        "Files of type audio/mpeg are not accepted here; this field takes application/pdf, image/*, text/*."
    )


def test_a_spec_the_browser_changed_is_refused(s3, browser):
    forged = FieldSpec(label=SPEC.label, max_size=10**12).token()[:-4] + "AAAA"

    response = start(browser, field=forged)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_field"


def test_a_large_file_goes_in_parts_as_the_server_decides(s3, browser, settings):
    settings.UPLOADS_MULTIPART_THRESHOLD = 1024

    body = start(browser, size=10_000).json()

    assert body["method"] == "multipart"
    assert body["value"]


def test_it_needs_a_signed_in_user(s3):
    assert start(Client()).status_code == 401
