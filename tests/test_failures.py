"""Why an upload failed (uploads/failures.py): kept on the record, shown in the API, the row and the admin."""

import pytest
from django.urls import reverse

from tests.test_content import HTML
from uploads import failures, services
from uploads.errors import ObjectTypeMismatch
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def test_every_catalogued_code_has_a_sentence():
    assert all(code.islower() and sentence.endswith(".") for code, sentence in failures.FAILURES.items())


def test_an_error_keeps_its_code_and_its_precise_sentence():
    failure = failures.failure_of(
        ObjectTypeMismatch("The file's content is text/html, not the image/png declared.")
    )

    assert failure == {
        "failure_code": "object_type_mismatch",
        "failure_reason": "The file's content is text/html, not the image/png declared.",
    }


def test_a_content_mismatch_at_complete_is_recorded_with_its_code_and_sentence(s3, user, upload_factory):
    upload = upload_factory(owner=user, filename="photo.png", content_type="image/png", body=HTML)
    Upload.objects.filter(pk=upload.pk).update(max_size=len(HTML))

    with pytest.raises(ObjectTypeMismatch):
        services.upload_complete(upload=Upload.objects.get(pk=upload.pk))

    failed = Upload.objects.get()
    assert failed.failure_code == "object_type_mismatch"
    assert "text/html" in failed.failure_reason


def test_a_failure_without_a_cause_reads_as_the_applications_doing(s3, upload_factory):
    services.upload_fail(upload=upload_factory())

    assert Upload.objects.get().failure_code == "failed_by_caller"


def test_a_file_gone_after_completion_is_recorded_as_lost(s3, upload_factory):
    services.upload_verify(upload=upload_factory(status=Upload.Status.COMPLETE, size=3))

    assert Upload.objects.get().failure_reason == failures.FAILURES["object_gone"]


def _failed(upload_factory, user):
    upload = upload_factory(owner=user, filename="photo.png")
    services.upload_fail(
        upload=upload, error=ObjectTypeMismatch("The file's content is text/html, not image/png.")
    )
    return upload


def test_the_api_answers_the_failure_code_and_reason(s3, api, user, upload_factory):
    upload = _failed(upload_factory, user)

    body = api.get(f"/api/uploads/{upload.pk}").json()

    assert (body["failure_code"], body["failure_reason"]) == (
        "object_type_mismatch",
        "The file's content is text/html, not image/png.",
    )


def test_the_pages_row_says_why_the_upload_failed(s3, client, user, upload_factory):
    _failed(upload_factory, user)
    client.force_login(user)

    html = client.get(reverse("uploads:index")).content.decode()

    assert "The file&#x27;s content is text/html, not image/png." in html
    assert "No valid file arrived" not in html


def test_the_admin_shows_the_failure_code(s3, client, admin_user, user, upload_factory):
    _failed(upload_factory, user)
    client.force_login(admin_user)

    html = client.get(reverse("admin:uploads_upload_changelist")).content.decode()

    assert "object_type_mismatch" in html
