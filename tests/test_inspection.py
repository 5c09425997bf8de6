"""The one inspection of a stored object (uploads/inspection.py): one ranged GET gives the size,
the stored type, the ETag and the first bytes; complete, cleanup and the no-JS finish all use it."""

from contextlib import contextmanager
from datetime import timedelta

import pytest

from tests.helpers import sign_form
from tests.test_content import HTML, PDF, png
from uploads import form_uploads, services
from uploads.cleanup import CleanupRun
from uploads.content import HEAD_BYTES
from uploads.errors import ObjectEmpty, ObjectMissing, ObjectSizeMismatch, ObjectTypeMismatch
from uploads.inspection import Rules, inspect
from uploads.models import Upload
from uploads.s3 import S3Client


@contextmanager
def store_operations(s3):
    """Record the name of every S3 operation the app's clients send (one client per budget)."""
    seen: list[str] = []
    handler = lambda model, **_: seen.append(model.name)  # noqa: E731
    clients = [s3.client, S3Client(timeouts="batch").client]
    for client in clients:
        client.meta.events.register("before-call.s3", handler)
    try:
        yield seen
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.s3", handler)


def test_an_inspection_takes_the_whole_size_type_and_etag_from_one_ranged_get(s3, put_object):
    key = put_object("uploads/a/big.pdf", PDF + b"\0" * 100_000, "application/pdf")

    with store_operations(s3) as seen:
        found = inspect(key, Rules(content_type="application/pdf", max_size=10**6))

    assert seen == ["GetObject"]
    assert found.acceptable
    assert (found.stored.size, found.stored.content_type) == (len(PDF) + 100_000, "application/pdf")
    assert found.stored.etag == s3.head(key).etag
    assert len(found.stored.head) == HEAD_BYTES


def test_an_empty_object_is_refused_as_empty(s3, put_object):
    key = put_object("uploads/a/empty.txt", b"", "text/plain")

    assert isinstance(inspect(key, Rules(content_type="text/plain", max_size=10)).problem, ObjectEmpty)


def test_a_missing_object_is_missing(s3):
    assert isinstance(inspect("uploads/a/none.txt", Rules("text/plain", 10)).problem, ObjectMissing)


def test_the_size_is_checked_before_the_content(s3, put_object):
    key = put_object("uploads/a/cat.png", HTML, "image/png")

    found = inspect(key, Rules(content_type="image/png", max_size=4096, expected_size=3))

    assert isinstance(found.problem, ObjectSizeMismatch)


def test_content_that_contradicts_the_declared_type_is_refused(s3, put_object):
    key = put_object("uploads/a/cat.png", HTML, "image/png")

    assert isinstance(inspect(key, Rules("image/png", 4096)).problem, ObjectTypeMismatch)


def test_complete_makes_one_store_request(s3, upload_factory):
    upload = upload_factory(filename="cat.png", content_type="image/png", body=png())

    with store_operations(s3) as seen:
        services.upload_complete(upload=upload)

    assert seen == ["GetObject"]


def test_cleanup_inspects_a_stale_upload_with_one_store_request(s3, upload_factory):
    upload = upload_factory(filename="cat.png", content_type="image/png", body=png(), age=timedelta(days=2))

    with store_operations(s3) as seen:
        report = CleanupRun(older_than=timedelta(days=1)).run()

    assert report.completed == 1
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.COMPLETE
    assert "HeadObject" not in seen
    assert seen.count("GetObject") == 1


def test_the_form_finish_inspects_its_object_with_one_store_request(s3, user, put_object):
    _, token, folder = sign_form(user)
    put_object(folder + "cat.png", png(), "application/octet-stream")

    with store_operations(s3) as seen:
        upload = form_uploads.form_upload_finish(owner=user, token=token)

    assert upload.status == Upload.Status.COMPLETE
    assert seen == ["ListObjectsV2", "GetObject"]


def test_the_form_finish_refuses_a_type_the_store_kept_from_the_browser(s3, user, put_object):
    _, token, folder = sign_form(user)
    put_object(folder + "cat.png", png(), "text/html")

    with pytest.raises(ObjectTypeMismatch):
        form_uploads.form_upload_finish(owner=user, token=token)
