from unittest import mock

import pytest
import requests

from uploads.errors import StorageUnavailable
from uploads.s3 import S3Client, _boto3_client


def test_upload_file_stores_a_local_file(s3, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")

    result = s3.upload_file(file_path=str(path), object_key="uploads/notes.txt")

    assert result["success"] is True
    assert result["object_key"] == "uploads/notes.txt"
    assert s3.head("uploads/notes.txt").size == 5


def test_upload_file_makes_a_public_object_readable_at_its_plain_url(s3, tmp_path):
    path = tmp_path / "logo.txt"
    path.write_text("public")

    result = s3.upload_file(file_path=str(path), object_key="uploads/logo.txt", public=True)

    assert requests.get(result["url"], timeout=10).text == "public"


def test_upload_file_reports_a_missing_local_file(s3, tmp_path):
    result = s3.upload_file(file_path=str(tmp_path / "nope.txt"), object_key="uploads/nope.txt")

    assert result["success"] is False
    assert result["error"]


def test_upload_file_reports_a_missing_bucket(s3, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")

    result = S3Client(bucket_name="no-such-bucket").upload_file(file_path=str(path), object_key="notes.txt")

    assert result["success"] is False
    assert "NoSuchBucket" in result["error"]


def test_list_objects_follows_pages_past_1000_keys(s3):
    for i in range(1005):
        s3.client.put_object(Bucket=s3.bucket_name, Key=f"uploads/{i:05}", Body=b"")

    result = s3.list_objects(prefix="uploads/", max_keys=2000)

    assert result["success"] is True
    assert result["count"] == 1005
    assert result["truncated"] is False
    assert result["objects"][-1]["key"] == "uploads/01004"


def test_list_objects_stops_at_max_keys(s3):
    for i in range(5):
        s3.client.put_object(Bucket=s3.bucket_name, Key=f"uploads/{i}", Body=b"")

    result = s3.list_objects(prefix="uploads/", max_keys=3)

    assert [o["key"] for o in result["objects"]] == ["uploads/0", "uploads/1", "uploads/2"]
    assert result["truncated"] is True


def test_list_objects_reports_a_missing_bucket(s3):
    result = S3Client(bucket_name="no-such-bucket").list_objects(prefix="")

    assert result == {"success": False, "error": "Storage refused to list files (NoSuchBucket)."}


def test_delete_object_removes_the_object(s3):
    s3.client.put_object(Bucket=s3.bucket_name, Key="uploads/x", Body=b"x")

    result = s3.delete_object(object_key="uploads/x")

    assert result == {"success": True, "object_key": "uploads/x"}
    assert s3.head("uploads/x") is None


def test_head_answers_none_for_a_missing_object(s3):
    assert s3.head("uploads/missing") is None


def test_head_reports_size_type_and_etag(s3):
    s3.client.put_object(Bucket=s3.bucket_name, Key="k", Body=b"abc", ContentType="text/plain")

    info = s3.head("k")

    assert (info.size, info.content_type) == (3, "text/plain")
    assert info.etag == "900150983cd24fb0d6963f7d28e17f72"  # md5("abc")


def test_head_turns_an_unreachable_endpoint_into_storage_unavailable(s3, settings):
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"

    with pytest.raises(StorageUnavailable):
        S3Client().head("k")


def test_get_cors_turns_an_unreachable_endpoint_into_storage_unavailable(s3, settings):
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"

    with pytest.raises(StorageUnavailable):
        S3Client().get_cors()


def test_delete_many_sends_one_request_per_1000_keys(s3):
    keys = [f"orphans/{i}" for i in range(2001)]
    for key in keys[:3]:
        s3.client.put_object(Bucket=s3.bucket_name, Key=key, Body=b"")

    with mock.patch.object(s3.client, "delete_objects", wraps=s3.client.delete_objects) as delete_objects:
        refused = s3.delete_many(keys)

    assert refused == []
    assert delete_objects.call_count == 3
    assert s3.list_objects(prefix="orphans/")["count"] == 0


def test_presigned_get_url_sets_the_response_headers(s3):
    s3.client.put_object(Bucket=s3.bucket_name, Key="k", Body=b"abc")

    url = s3.presigned_get_url(
        key="k", expires_in=60, content_type="text/csv", content_disposition='attachment; filename="a.csv"'
    )
    response = requests.get(url, timeout=10)

    assert response.headers["Content-Type"] == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="a.csv"'


def test_clients_are_built_once_per_configuration(s3):
    before = _boto3_client.cache_info().misses

    for _ in range(5):
        S3Client().head("k")

    assert _boto3_client.cache_info().misses == before


def test_clients_sign_with_sigv4_even_in_us_east_1_with_an_endpoint(s3):
    assert s3.client.meta.config.signature_version == "s3v4"
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in s3.presigned_get_url(key="k", expires_in=60)
