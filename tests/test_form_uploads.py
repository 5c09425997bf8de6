"""The no-JavaScript form (uploads/form_uploads.py): its policy, the single-use finish token, the finish."""

import pytest
from django.core import signing

from tests.helpers import sign_form
from tests.test_content import HTML, png
from uploads import deletion, form_uploads
from uploads.errors import (
    ObjectTypeMismatch,
    QuotaExceeded,
    StorageUnavailable,
    UploadNotFound,
)
from uploads.keys import upload_folder
from uploads.models import Upload, UsedFormToken

pytestmark = pytest.mark.django_db


def test_the_form_policy_pins_an_octet_stream_type_and_an_attachment(s3, user):
    form, _, _ = sign_form(user)

    assert form.fields["Content-Type"] == "application/octet-stream"
    assert form.fields["Content-Disposition"] == "attachment"


def test_finish_records_one_object_and_deletes_every_other_in_the_folder(s3, user, put_object):
    _, token, folder = sign_form(user)
    for name in ("a.txt", "b.txt", "nested/c.txt"):
        put_object(folder + name, b"text", "application/octet-stream")

    upload = form_uploads.form_upload_finish(owner=user, token=token)

    assert [obj.key for obj in s3.iter_objects(prefix=folder)] == [upload.key]
    assert Upload.objects.count() == 1


def test_finish_refuses_an_object_stored_with_another_type_than_the_policy_pinned(s3, user, put_object):
    _, token, folder = sign_form(user)
    put_object(folder + "photo.png", png(), "text/html")

    with pytest.raises(ObjectTypeMismatch, match="stored as text/html"):
        form_uploads.form_upload_finish(owner=user, token=token)

    assert Upload.objects.get().failure_code == "object_type_mismatch"
    assert list(s3.iter_objects(prefix=folder)) == []


def test_finish_accepts_an_object_stored_with_the_type_its_name_gets(s3, user, put_object):
    # SeaweedFS stores the file part's own type instead of the policy's octet-stream.
    _, token, folder = sign_form(user)
    put_object(folder + "photo.png", png(), "image/png")

    upload = form_uploads.form_upload_finish(owner=user, token=token)

    assert (upload.status, upload.content_type) == (Upload.Status.COMPLETE, "image/png")


def test_finish_refuses_html_named_as_a_png(s3, user, put_object):
    _, token, folder = sign_form(user)
    put_object(folder + "photo.png", HTML, "application/octet-stream")

    with pytest.raises(ObjectTypeMismatch):
        form_uploads.form_upload_finish(owner=user, token=token)

    assert Upload.objects.get().status == Upload.Status.FAILED


def test_a_form_is_not_signed_over_the_byte_quota(s3, user, settings):
    settings.UPLOADS_QUOTA_BYTES = 3  # the form's policy allows up to UPLOADS_MAX_FILE_SIZE

    with pytest.raises(QuotaExceeded):
        sign_form(user)

    assert not Upload.objects.exists()


def test_a_finish_token_replayed_after_delete_records_nothing(s3, user, put_object):
    _, token, folder = sign_form(user)
    put_object(folder + "a.txt", b"text", "application/octet-stream")
    deletion.upload_delete(upload=form_uploads.form_upload_finish(owner=user, token=token))
    put_object(folder + "again.txt", b"text", "application/octet-stream")  # the policy still lives

    with pytest.raises(UploadNotFound, match="already been used"):
        form_uploads.form_upload_finish(owner=user, token=token)

    assert not Upload.objects.exists()
    assert UsedFormToken.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [{"id": "../../other", "owner": 1}, {"owner": 1}, ["id"], "id", {"id": None, "owner": 1}],
)
def test_a_malformed_signed_token_is_not_found(db, user, payload):
    token = signing.dumps(payload, salt=form_uploads.FORM_TOKEN_SALT)

    with pytest.raises(UploadNotFound):
        form_uploads.form_upload_finish(owner=user, token=token)


def test_a_forged_token_for_an_existing_upload_is_not_found(s3, user, other_user, upload_factory):
    theirs = upload_factory(owner=other_user, status=Upload.Status.COMPLETE, body=b"secret")
    token = signing.dumps({"id": str(theirs.pk), "owner": user.pk}, salt=form_uploads.FORM_TOKEN_SALT)

    with pytest.raises(UploadNotFound):
        form_uploads.form_upload_finish(owner=user, token=token)

    assert Upload.objects.get(pk=theirs.pk).owner == other_user
    assert s3.head(theirs.key) is not None


def test_the_form_folder_follows_from_the_signed_id(s3, user):
    _, token, folder = sign_form(user)

    assert folder == upload_folder(signing.loads(token, salt=form_uploads.FORM_TOKEN_SALT)["id"])


def test_finish_during_an_outage_leaves_a_pending_record_and_a_retry_records_the_file(
    s3, user, put_object, settings
):
    _, token, folder = sign_form(user)
    put_object(folder + "notes.txt", b"plain words", "application/octet-stream")
    endpoint, settings.AWS_S3_ENDPOINT_URL = settings.AWS_S3_ENDPOINT_URL, "http://127.0.0.1:9"
    with pytest.raises(StorageUnavailable):
        form_uploads.form_upload_finish(owner=user, token=token)
    pending = Upload.objects.get()
    settings.AWS_S3_ENDPOINT_URL = endpoint

    upload = form_uploads.form_upload_finish(owner=user, token=token)

    assert pending.status == Upload.Status.PENDING
    assert (upload.pk, upload.status, upload.key) == (
        pending.pk,
        Upload.Status.COMPLETE,
        folder + "notes.txt",
    )
