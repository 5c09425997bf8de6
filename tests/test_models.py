import pytest
import requests
from django.db import IntegrityError

from uploads.models import Upload

pytestmark = pytest.mark.django_db


def test_the_status_constants_of_the_python_interface_are_the_choices():
    assert (Upload.STATUS_PENDING, Upload.STATUS_COMPLETE, Upload.STATUS_FAILED) == (
        "pending",
        "complete",
        "failed",
    )


def test_the_database_refuses_an_unknown_status(upload_factory):
    with pytest.raises(IntegrityError):
        upload_factory(status="uploaded")


def test_the_database_refuses_a_zero_max_size(upload_factory):
    with pytest.raises(IntegrityError):
        upload_factory(max_size=0)


def test_the_file_field_opens_the_object_through_django_storages(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"server-side read")

    with upload.file.open("rb") as f:
        assert f.read() == b"server-side read"


def test_the_file_field_url_is_a_presigned_link_to_the_object(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"via the storage's url")

    assert requests.get(upload.file.url, timeout=10).content == b"via the storage's url"
