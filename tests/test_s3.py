import uuid
from unittest import mock

import pytest
import requests

from uploads.errors import StorageUnavailable
from uploads.keys import object_key, upload_folder
from uploads.s3 import S3Client
from uploads.s3.connection import clients_built

# Keys as the app builds them (upload_file, list_objects and delete_object take any key).
NOTES = object_key(uuid.uuid4(), "notes.txt")
LOGO = object_key(uuid.uuid4(), "logo.txt")


def test_upload_file_stores_a_local_file(s3, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")

    result = s3.upload_file(file_path=str(path), object_key=NOTES)

    assert result["success"] is True
    assert result["object_key"] == NOTES
    assert s3.head(NOTES).size == 5


def test_upload_file_makes_a_public_object_readable_at_its_plain_url(s3, tmp_path):
    path = tmp_path / "logo.txt"
    path.write_text("public")

    result = s3.upload_file(file_path=str(path), object_key=LOGO, public=True)

    assert requests.get(result["url"], timeout=10).text == "public"


def test_upload_file_reports_a_missing_local_file(s3, tmp_path):
    result = s3.upload_file(
        file_path=str(tmp_path / "nope.txt"), object_key=object_key(uuid.uuid4(), "nope.txt")
    )

    assert result["success"] is False
    assert result["error"]


def test_upload_file_reports_a_missing_bucket(s3, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")

    result = S3Client(bucket_name="no-such-bucket").upload_file(file_path=str(path), object_key="notes.txt")

    assert result["success"] is False
    assert "NoSuchBucket" in result["error"]


def test_list_objects_follows_the_stores_pages(s3, put_object, monkeypatch):
    monkeypatch.setattr(S3Client, "LIST_PAGE_SIZE", 3)  # S3's is 1000: the strict tier lists 1000+
    folder = upload_folder(uuid.uuid4())
    for i in range(7):
        put_object(f"{folder}{i:05}", b"")
    pages = []
    s3.client.meta.events.register("before-call.s3.ListObjectsV2", lambda **kwargs: pages.append(1))

    result = s3.list_objects(prefix=folder, max_keys=2000)

    assert result["success"] is True
    assert result["count"] == 7
    assert result["truncated"] is False
    assert result["objects"][-1]["key"] == f"{folder}00006"
    assert len(pages) == 3


def test_list_objects_stops_at_max_keys(s3, put_object):
    folder = upload_folder(uuid.uuid4())
    for i in range(5):
        put_object(f"{folder}{i}", b"")

    result = s3.list_objects(prefix=folder, max_keys=3)

    assert [o["key"] for o in result["objects"]] == [f"{folder}0", f"{folder}1", f"{folder}2"]
    assert result["truncated"] is True


def test_list_objects_reports_a_missing_bucket(s3):
    result = S3Client(bucket_name="no-such-bucket").list_objects(prefix="")

    assert result == {"success": False, "error": "Storage refused to list files (NoSuchBucket)."}


def test_delete_object_removes_the_object(s3, put_object):
    key = put_object(NOTES)

    result = s3.delete_object(object_key=key)

    assert result == {"success": True, "object_key": key}
    assert s3.head(key) is None


def test_head_answers_none_for_a_missing_object(s3):
    assert s3.head(NOTES) is None


def test_head_reports_size_type_and_etag(s3, put_object):
    put_object("k", b"abc", "text/plain")

    info = s3.head("k")

    assert (info.size, info.content_type) == (3, "text/plain")
    assert info.etag == "900150983cd24fb0d6963f7d28e17f72"  # md5("abc")


def test_head_turns_an_unreachable_endpoint_into_storage_unavailable(s3_down):

    with pytest.raises(StorageUnavailable):
        S3Client().head("k")


def test_get_cors_turns_an_unreachable_endpoint_into_storage_unavailable(s3_down):

    with pytest.raises(StorageUnavailable):
        S3Client().get_cors()


def test_delete_many_sends_one_request_per_batch_of_keys(s3, put_object, monkeypatch):
    monkeypatch.setattr(S3Client, "DELETE_BATCH_SIZE", 3)  # S3's is 1000: the strict tier deletes 1000+
    keys = [f"orphans/{i}" for i in range(7)]
    for key in keys[:3]:
        put_object(key, b"")

    with mock.patch.object(s3.client, "delete_objects", wraps=s3.client.delete_objects) as delete_objects:
        refused = s3.delete_many(keys)

    assert refused == []
    assert delete_objects.call_count == 3
    assert s3.list_objects(prefix="orphans/")["count"] == 0


def test_presigned_get_url_sets_the_response_headers(s3, put_object):
    put_object("k", b"abc")

    url = s3.presigned_get_url(
        key="k", expires_in=60, content_type="text/csv", content_disposition='attachment; filename="a.csv"'
    )
    response = requests.get(url, timeout=10)

    assert response.headers["Content-Type"] == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="a.csv"'


def test_clients_are_built_once_per_configuration(s3):
    before = clients_built()

    for _ in range(5):
        S3Client().head("k")

    assert clients_built() == before


def test_clients_sign_with_sigv4_even_in_us_east_1_with_an_endpoint(s3):
    assert s3.client.meta.config.signature_version == "s3v4"
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in s3.presigned_get_url(key="k", expires_in=60)


def test_django_storages_uses_the_apps_boto3_configuration(s3, settings):
    from django.core.files.storage import default_storage

    config = default_storage.connection.meta.client.meta.config

    assert config.signature_version == "s3v4"
    assert (config.connect_timeout, config.read_timeout) == (
        settings.UPLOADS_S3_CONNECT_TIMEOUT,
        settings.UPLOADS_S3_READ_TIMEOUT,
    )
    assert config.retries["total_max_attempts"] == settings.UPLOADS_S3_MAX_ATTEMPTS


def test_urls_for_browsers_are_signed_for_the_public_endpoint(s3, settings):
    settings.UPLOADS_PUBLIC_ENDPOINT_URL = "https://files.example.com"

    client = S3Client()

    assert client.presigned_get_url(key="k", expires_in=60).startswith("https://files.example.com/")
    assert client.presigned_post(key="k", min_size=1, max_size=1, expires_in=60).url.startswith(
        "https://files.example.com/"
    )
    assert client.client.meta.endpoint_url == settings.AWS_S3_ENDPOINT_URL  # the server's own way in
