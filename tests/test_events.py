import pytest

from uploads import deletion, events, services
from uploads.errors import ObjectTypeMismatch
from uploads.models import Upload
from uploads.processing.tasks import process_upload

from .processing_helpers import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """Every event signal sent, as (event, upload id, extra keyword arguments)."""
    seen: list[tuple] = []
    handlers = {}
    for signal, name in events.WEBHOOK_EVENTS.items():

        def handler(sender, upload, _name=name, **kwargs):
            kwargs.pop("signal", None)
            seen.append((_name, upload.pk, kwargs))

        handlers[signal] = handler
        signal.connect(handler)
    yield seen
    for signal, handler in handlers.items():
        signal.disconnect(handler)


def test_complete_sends_upload_completed_after_commit(
    s3, upload_factory, user, received, django_capture_on_commit_callbacks
):
    upload = upload_factory(
        owner=user, filename="a.txt", content_type="text/plain", body=b"hello", max_size=5
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.upload_complete(upload=upload)

    # Then the (eager) worker's turn: every upload is processed, if only to hash and scan it.
    assert received == [("upload.completed", upload.pk, {}), ("upload.processed", upload.pk, {})]


def test_processing_sends_upload_processed(s3, stored_upload, received, django_capture_on_commit_callbacks):
    upload = stored_upload(png(32, 32), filename="a.png", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        process_upload.apply(args=[str(upload.pk)])

    assert received == [("upload.processed", upload.pk, {})]


def test_a_processing_failure_sends_upload_failed_with_the_reason(
    s3, stored_upload, received, django_capture_on_commit_callbacks
):
    upload = stored_upload(b"garbage", filename="a.png", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        process_upload.apply(args=[str(upload.pk)])

    [(name, upload_id, extra)] = received
    assert (name, upload_id) == ("upload.failed", upload.pk)
    assert "could not be read" in extra["reason"]


def test_an_upload_refused_at_complete_sends_upload_failed_with_the_reason(
    s3, upload_factory, user, received, django_capture_on_commit_callbacks
):
    upload = upload_factory(
        owner=user, filename="a.png", content_type="image/png", body=b"<html>hi</html>", max_size=15
    )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ObjectTypeMismatch):
        services.upload_complete(upload=upload)

    [(name, upload_id, extra)] = received
    assert (name, upload_id) == ("upload.failed", upload.pk)
    assert "text/html" in extra["reason"]


def test_delete_sends_upload_deleted(s3, upload_factory, user, received, django_capture_on_commit_callbacks):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")
    with django_capture_on_commit_callbacks(execute=True):
        deletion.upload_delete(upload=upload)

    assert received == [("upload.deleted", upload.pk, {})]
