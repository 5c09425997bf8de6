"""The upload services (uploads/services.py): start, complete, the download link, against moto's S3."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.test_content import HTML, PE, png
from uploads import deletion, services
from uploads.errors import (
    ContentTypeNotAllowed,
    InvalidContentType,
    InvalidExpiration,
    InvalidFilename,
    InvalidSize,
    ObjectMissing,
    ObjectSizeMismatch,
    ObjectTooLarge,
    ObjectTypeMismatch,
    StorageUnavailable,
    UploadFailed,
    UploadNotComplete,
    UploadNotFound,
    UploadTooLarge,
)
from uploads.keys import object_key
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def test_it_runs_the_whole_lifecycle_over_http(s3, user, post_to_s3):
    body = b"%PDF-1.7 quarterly numbers\n" * 100

    direct = services.upload_start(
        owner=user, filename="Q3 report.pdf", content_type="application/pdf", size=len(body)
    )
    posted = post_to_s3(direct.url, direct.fields, body)
    upload = services.upload_complete(upload=direct.upload)
    link = services.upload_download_url(upload=upload)
    downloaded = requests.get(link.url, timeout=10)
    deletion.upload_delete(upload=upload)

    assert posted.status_code == 201
    assert upload.status == Upload.Status.COMPLETE
    assert downloaded.content == body
    assert s3.head(upload.key) is None
    assert not Upload.objects.filter(pk=upload.pk).exists()


def test_start_picks_the_key_from_prefix_id_and_a_safe_name(s3, user):
    direct = services.upload_start(
        owner=user, filename="../../etc/pässwd", content_type="text/plain", size=10
    )

    assert direct.upload.key == object_key(direct.upload.pk, "passwd")
    assert direct.fields["key"] == direct.upload.key
    assert direct.upload.original_filename == "pässwd"


def test_start_shortens_a_very_long_filename_and_keeps_its_extension(s3, user):
    direct = services.upload_start(
        owner=user, filename="x" * 1000 + ".pdf", content_type="application/pdf", size=1
    )

    assert direct.upload.original_filename == "x" * 251 + ".pdf"
    assert direct.upload.key.rsplit("/", 1)[1] == "x" * 116 + ".pdf"


def test_start_keeps_the_extension_of_a_name_with_no_ascii_letters(s3, user):
    direct = services.upload_start(owner=user, filename="отчёт.pdf", content_type="application/pdf", size=1)

    assert direct.upload.original_filename == "отчёт.pdf"
    assert direct.upload.key.rsplit("/", 1)[1] == "file.pdf"


def test_start_pins_key_type_and_exact_size_in_the_policy(s3, user):
    import base64
    import json

    direct = services.upload_start(owner=user, filename="a.png", content_type="image/png", size=123)
    policy = json.loads(base64.b64decode(direct.fields["policy"]))

    assert {"key": direct.upload.key} in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 123, 123] in policy["conditions"]
    assert {"acl": "private"} in policy["conditions"]


def test_start_signs_with_sigv4_and_expires_in_minutes(s3, user, settings):
    import base64
    import json
    from datetime import datetime

    direct = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=1)
    expiration = json.loads(base64.b64decode(direct.fields["policy"]))["expiration"]
    lifetime = datetime.fromisoformat(expiration.replace("Z", "+00:00")) - direct.upload.created_at

    assert direct.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert lifetime.total_seconds() <= settings.UPLOADS_PRESIGN_EXPIRATION + 5


def test_start_asks_for_a_public_acl_only_when_public(s3, user):
    direct = services.upload_start(
        owner=user, filename="a.txt", content_type="text/plain", size=1, public=True
    )

    assert direct.fields["acl"] == "public-read"


def test_start_refuses_a_declared_size_over_the_limit(s3, user, settings):
    settings.UPLOADS_MAX_FILE_SIZE = 1000

    with pytest.raises(UploadTooLarge):
        services.upload_start(
            owner=user, filename="big.bin", content_type="application/octet-stream", size=1001
        )

    assert not Upload.objects.exists()


@pytest.mark.parametrize("max_size", [0, -5, "12", 1.5])
def test_start_refuses_a_max_size_that_is_not_a_positive_integer(s3, user, max_size):
    with pytest.raises(InvalidSize):
        services.upload_start(owner=user, filename="a.txt", content_type="text/plain", max_size=max_size)


@pytest.mark.parametrize("filename", ["", "   ", "/", "../..", "dir/", "\x00\x1f", "\u202e"])
def test_start_refuses_filenames_with_nothing_usable(s3, user, filename):
    with pytest.raises(InvalidFilename):
        services.upload_start(owner=user, filename=filename, content_type="text/plain", size=1)


def test_start_refuses_a_malformed_content_type(s3, user):
    with pytest.raises(InvalidContentType):
        services.upload_start(
            owner=user, filename="a.txt", content_type="text/plain\r\nx-amz-acl: public-read", size=1
        )


def test_start_refuses_a_type_outside_the_allowed_patterns(s3, user, settings):
    settings.UPLOADS_ALLOWED_CONTENT_TYPES = ["image/*"]

    with pytest.raises(ContentTypeNotAllowed):
        services.upload_start(owner=user, filename="a.pdf", content_type="application/pdf", size=1)


def test_start_accepts_a_type_matching_an_allowed_pattern(s3, user, settings):
    settings.UPLOADS_ALLOWED_CONTENT_TYPES = ["image/*"]

    direct = services.upload_start(owner=user, filename="a.webp", content_type="Image/WebP", size=1)

    assert direct.upload.content_type == "image/webp"


def test_complete_records_size_and_etag_from_s3(s3, upload_factory):
    upload = upload_factory(body=b"12345", size=None)

    upload = services.upload_complete(upload=upload)

    assert (upload.size, upload.status) == (5, Upload.Status.COMPLETE)
    assert upload.etag == s3.head(upload.key).etag
    assert upload.completed_at is not None


def test_complete_twice_is_harmless(s3, upload_factory):
    upload = services.upload_complete(upload=upload_factory(body=b"12345"))

    again = services.upload_complete(upload=upload)

    assert again.status == Upload.Status.COMPLETE
    assert again.completed_at == upload.completed_at


def test_complete_rejects_upload_whose_object_is_missing(s3, upload_factory):
    upload = upload_factory()

    with pytest.raises(ObjectMissing):
        services.upload_complete(upload=upload)

    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


@pytest.mark.parametrize(
    ("declared", "error"),
    [
        ({"max_size": 4, "body": b"12345"}, ObjectTooLarge),
        ({"content_type": "image/png", "body": b"<html>", "stored_type": "text/html"}, ObjectTypeMismatch),
        ({"content_type": "text/plain", "expected_size": 1000, "body": b"x" * 10}, ObjectSizeMismatch),
    ],
    ids=["too large", "another type", "truncated"],
)
def test_complete_fails_the_upload_and_deletes_an_object_that_breaks_its_rules(
    s3, upload_factory, declared, error
):
    upload = upload_factory(**declared)

    with pytest.raises(error):
        services.upload_complete(upload=upload)

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED
    assert s3.head(upload.key) is None


def test_complete_refuses_a_failed_upload(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.FAILED, body=b"12345")

    with pytest.raises(UploadFailed):
        services.upload_complete(upload=upload)


def test_complete_refuses_an_upload_that_cleanup_failed_while_s3_was_asked(s3, upload_factory):
    upload = upload_factory(content_type="text/plain", body=b"12345")
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.FAILED)  # `upload` is still pending

    with pytest.raises(UploadFailed):
        services.upload_complete(upload=upload)

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED


def test_complete_with_s3_unreachable_leaves_the_record_unchanged(s3_down, upload_factory):
    upload = upload_factory()

    with pytest.raises(StorageUnavailable, match="could not be reached"):
        services.upload_complete(upload=upload)

    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_get_refuses_a_malformed_id(db):
    with pytest.raises(UploadNotFound):
        services.upload_get(upload_id="not-a-uuid")


def test_get_refuses_an_unknown_id(db):
    with pytest.raises(UploadNotFound):
        services.upload_get(upload_id="6f1c1d4e-9a43-4c55-a1c4-1f1f6f0f5b5b")


def test_get_hides_another_owners_upload(upload_factory, user, other_user):
    upload = upload_factory(owner=user)

    with pytest.raises(UploadNotFound):
        services.upload_get(upload_id=upload.pk, owner=other_user)


def test_download_url_names_the_original_file(s3, upload_factory):
    upload = upload_factory(filename="résumé.pdf", status=Upload.Status.COMPLETE, body=b"x")

    link = services.upload_download_url(upload=upload, download=True)
    response = requests.get(link.url, timeout=10)

    assert response.headers["Content-Disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"
    assert response.headers["Content-Type"] == "application/pdf"


def test_download_url_is_plain_for_a_public_upload_when_asked(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE, public=True)

    link = services.upload_download_url(upload=upload, presigned=False)

    assert "X-Amz-Signature" not in link.url
    assert link.url.endswith(upload.key)


def test_download_url_refuses_an_expiration_past_the_maximum(s3, upload_factory, settings):
    upload = upload_factory(status=Upload.Status.COMPLETE)

    with pytest.raises(InvalidExpiration):
        services.upload_download_url(upload=upload, expires_in=settings.UPLOADS_URL_MAX_EXPIRATION + 1)


def test_download_url_refuses_a_pending_upload(s3, upload_factory):
    with pytest.raises(UploadNotComplete):
        services.upload_download_url(upload=upload_factory())


def test_start_records_the_declared_size_for_complete_to_check(s3, user):
    direct = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=42)

    assert direct.upload.expected_size == 42


def test_failing_never_flips_an_upload_another_process_completed(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"valid")
    upload.status = Upload.Status.PENDING  # this process still holds a stale copy

    settled = services.upload_fail(upload=upload)

    assert settled.status == Upload.Status.COMPLETE
    assert s3.head(upload.key) is not None


def test_complete_racing_a_delete_answers_not_found(s3, upload_factory):
    upload = upload_factory(content_type="text/plain", body=b"hello")
    Upload.objects.filter(pk=upload.pk).delete()  # another request deleted it meanwhile

    with pytest.raises(UploadNotFound):
        services.upload_complete(upload=upload)


def test_a_deleting_upload_hands_out_no_download_link(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.DELETING, body=b"x")

    with pytest.raises(UploadNotComplete):
        services.upload_download_url(upload=upload)


def test_a_put_upload_pins_type_length_and_no_overwrite_in_its_signature(s3, user, settings):
    settings.UPLOADS_UPLOAD_METHOD = "put"

    direct = services.upload_start(owner=user, filename="a.png", content_type="image/png", size=123)
    signed = parse_qs(urlparse(direct.url).query)["X-Amz-SignedHeaders"][0].split(";")

    assert {"content-type", "content-length", "if-none-match", "x-amz-acl"} <= set(signed)


def test_a_put_upload_completes_like_a_posted_one(s3, user, settings, put_to_s3):
    settings.UPLOADS_UPLOAD_METHOD = "put"
    direct = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5)

    put_to_s3(direct.url, direct.headers, b"hello")
    upload = services.upload_complete(upload=direct.upload)

    assert (upload.status, upload.size) == (Upload.Status.COMPLETE, 5)


def test_complete_fails_and_deletes_html_declared_as_a_png(s3, upload_factory):
    upload = upload_factory(filename="cat.png", content_type="image/png", max_size=4096, body=HTML)

    with pytest.raises(ObjectTypeMismatch):
        services.upload_complete(upload=upload)

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED
    assert s3.head(upload.key) is None


def test_complete_fails_an_executable_declared_as_a_pdf(s3, upload_factory):
    upload = upload_factory(filename="invoice.pdf", content_type="application/pdf", max_size=4096, body=PE)

    with pytest.raises(ObjectTypeMismatch, match="portable-executable"):
        services.upload_complete(upload=upload)


def test_complete_accepts_a_real_png(s3, upload_factory):
    upload = upload_factory(filename="cat.png", content_type="image/png", body=png())

    assert services.upload_complete(upload=upload).status == Upload.Status.COMPLETE
