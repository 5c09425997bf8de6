import pytest
import requests
from django.db import IntegrityError

from uploads.errors import Infected, ScanPending, UploadNotComplete
from uploads.models import Scan, Upload

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


@pytest.fixture
def scanner_set(settings):
    settings.UPLOADS_SCANNER = "clamav"  # no daemon needed: only the rule of what is served is asked


@pytest.mark.parametrize("scan", [Scan.PENDING, Scan.ERROR])
def test_the_file_field_url_refuses_a_file_not_yet_scanned_clean(s3, upload_factory, scanner_set, scan):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"unscanned", scan=scan)

    with pytest.raises(ScanPending):
        _ = upload.file.url


def test_the_file_field_url_refuses_an_infected_file(s3, upload_factory, scanner_set):
    upload = upload_factory(status=Upload.Status.FAILED, failure_code="infected", scan=Scan.INFECTED)

    with pytest.raises(Infected):
        _ = upload.file.url


def test_the_file_field_url_refuses_an_upload_not_complete(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.PENDING, body=b"not checked yet")

    with pytest.raises(UploadNotComplete):
        _ = upload.file.url


def test_the_file_field_url_links_a_file_scanned_clean(s3, upload_factory, scanner_set):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"scanned clean", scan=Scan.CLEAN)

    assert requests.get(upload.file.url, timeout=10).content == b"scanned clean"
