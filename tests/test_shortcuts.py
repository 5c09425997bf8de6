import pytest
import requests

from uploads.keys import uploads_root
from uploads.models import Upload
from uploads.shortcuts import complete_upload, delete_upload, get_direct_upload_form_data, get_upload_file_url

pytestmark = pytest.mark.django_db


def test_it_works_as_the_specification_shows(s3, post_to_s3):
    result = get_direct_upload_form_data(
        original_filename="example.jpg",
        content_type="image/jpeg",
        max_file_size=5 * 1024 * 1024,
        prefix="uploads/images",  # the specification's own example: under the uploads root already
    )
    post_to_s3(result["form_url"], result["form_fields"], b"\xff\xd8 jpeg bytes")
    completed = complete_upload(result["upload_id"], status=Upload.STATUS_COMPLETE)
    link = get_upload_file_url(result["upload_id"], presigned=True, expiration=3600)
    deleted = delete_upload(result["upload_id"])

    assert [r["success"] for r in (result, completed, link, deleted)] == [True] * 4
    assert result["object_key"].startswith(f"{uploads_root()}images/")
    assert completed["size"] == len(b"\xff\xd8 jpeg bytes")
    assert (link["content_type"], link["name"]) == ("image/jpeg", "example.jpg")
    assert not Upload.objects.exists()


def test_get_direct_upload_form_data_reports_a_bad_max_size(s3):
    result = get_direct_upload_form_data(
        original_filename="a.jpg", content_type="image/jpeg", max_file_size=0
    )

    assert result["success"] is False
    assert result["code"] == "invalid_size"


def test_complete_upload_reports_a_missing_object(s3):
    result = get_direct_upload_form_data(
        original_filename="a.jpg", content_type="image/jpeg", max_file_size=10
    )

    completed = complete_upload(result["upload_id"])

    assert completed == {
        "success": False,
        "error": "a.jpg has not arrived in storage yet.",
        "code": "object_missing",
    }


def test_complete_upload_with_failed_status_marks_the_upload_failed(s3):
    result = get_direct_upload_form_data(
        original_filename="a.jpg", content_type="image/jpeg", max_file_size=10
    )

    completed = complete_upload(result["upload_id"], status=Upload.STATUS_FAILED)

    assert completed["status"] == Upload.STATUS_FAILED


@pytest.mark.parametrize("upload_id", ["nonsense", "00000000-0000-0000-0000-000000000000", None])
def test_every_shortcut_reports_an_unknown_upload(s3, upload_id):
    results = [complete_upload(upload_id), get_upload_file_url(upload_id), delete_upload(upload_id)]

    assert all(r["success"] is False and r["code"] == "not_found" for r in results)


def test_get_upload_file_url_downloads_the_bytes(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"content")

    result = get_upload_file_url(upload.pk)

    assert requests.get(result["url"], timeout=10).content == b"content"
