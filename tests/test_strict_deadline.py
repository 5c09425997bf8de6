"""The inspection and the bounded delete against SeaweedFS (pytest -m strict): its ranged GETs,
Content-Range and empty objects, and a read it cuts short behind tests/faults.py's proxy."""

from urllib.parse import urlparse

import pytest
from django.utils import timezone

from tests.conftest import FAULT_REQUEST_DEADLINE
from tests.faults import FaultProxy
from tests.test_content import HTML, PDF
from uploads import deletion, services
from uploads.content import HEAD_BYTES
from uploads.errors import ObjectEmpty, StorageUnavailable
from uploads.inspection import Rules, inspect
from uploads.models import Upload, UsedFormToken

pytestmark = [pytest.mark.strict, pytest.mark.django_db]


def test_one_ranged_get_gives_the_whole_size_type_and_etag(strict_s3, put_object):
    key = put_object("uploads/a/big.pdf", PDF + b"\0" * 100_000, "application/pdf")

    found = inspect(key, Rules(content_type="application/pdf", max_size=10**6))

    assert found.acceptable
    assert (found.stored.size, found.stored.content_type) == (len(PDF) + 100_000, "application/pdf")
    assert found.stored.etag == strict_s3.head(key).etag
    assert len(found.stored.head) == HEAD_BYTES


def test_an_empty_object_is_refused_as_empty(strict_s3, put_object):
    key = put_object("uploads/a/empty.txt", b"", "text/plain")

    assert isinstance(inspect(key, Rules(content_type="text/plain", max_size=10)).problem, ObjectEmpty)


def test_a_bulk_delete_deletes_known_keys_and_a_form_uploads_folder(
    strict_s3, user, upload_factory, put_object
):
    uploads = [upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x") for _ in range(3)]
    UsedFormToken.objects.create(upload_id=uploads[0].pk, owner=user, used_at=timezone.now())
    put_object(uploads[0].key.rsplit("/", 1)[0] + "/second.txt")

    assert deletion.upload_delete_many(owner=user, upload_ids=[u.pk for u in uploads]) == 3

    assert list(strict_s3.iter_objects()) == []
    assert not Upload.objects.exists()


@pytest.fixture
def cut_store(strict_s3, settings):
    """SeaweedFS behind the fault proxy, passing until told otherwise."""
    endpoint = urlparse(settings.AWS_S3_ENDPOINT_URL)
    proxy = FaultProxy((endpoint.hostname, endpoint.port))
    settings.AWS_S3_ENDPOINT_URL = proxy.url
    settings.UPLOADS_REQUEST_DEADLINE = FAULT_REQUEST_DEADLINE * 5
    yield proxy
    proxy.close()


def test_a_read_cut_short_is_never_judged(cut_store, user, upload_factory):
    upload = upload_factory(
        owner=user, filename="cat.png", content_type="image/png", max_size=4096, body=HTML
    )
    cut_store.mode, cut_store.hold_matching, cut_store.cut_after = "cut", b"GET ", 3

    with pytest.raises(StorageUnavailable):
        services.upload_complete(upload=upload)

    assert cut_store.answers_cut >= 1
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.PENDING
