from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from uploads.errors import StorageUnavailable
from uploads.models import Processing, Upload
from uploads.processing import tasks
from uploads.processing.state import after_complete
from uploads.processing.tasks import process_upload, requeue_stalled
from uploads.s3 import S3Client

from .processing_helpers import png

pytestmark = pytest.mark.django_db


def derived_keys(upload: Upload) -> list[str]:
    folder = upload.key.rsplit("/", 1)[0] + "/_derived/"
    return [info.key for info in S3Client().iter_objects(prefix=folder)]


def test_complete_queues_processing_once_the_transaction_commits(
    s3, upload_factory, user, django_capture_on_commit_callbacks
):
    upload = upload_factory(
        owner=user, filename="a.png", content_type="image/png", status=Upload.Status.COMPLETE
    )
    with mock.patch.object(process_upload, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            after_complete(upload)
        delay.assert_not_called()
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(str(upload.pk))
    upload.refresh_from_db()
    assert upload.processing == Processing.QUEUED


def test_a_type_with_nothing_to_derive_ends_processing_none_once_its_bytes_are_hashed(s3, stored_upload):
    upload = stored_upload(b"PK\x05\x06" + b"\0" * 18, filename="a.zip", content_type="application/zip")
    process_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    assert upload.processing == Processing.NONE
    assert upload.checksum_sha256  # the trust steps ran all the same
    assert upload.metadata == {}
    assert upload.thumbnail is None


def test_a_broker_outage_at_enqueue_keeps_the_upload_queued(
    s3, upload_factory, user, django_capture_on_commit_callbacks
):
    upload = upload_factory(
        owner=user, filename="a.png", content_type="image/png", status=Upload.Status.COMPLETE
    )
    with (
        mock.patch.object(process_upload, "delay", side_effect=ConnectionError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        after_complete(upload)  # no exception: the request that completed it still succeeds
    upload.refresh_from_db()
    assert upload.processing == Processing.QUEUED


def test_a_task_run_again_after_a_worker_died_mid_task_ends_the_same(s3, stored_upload):
    upload = stored_upload(png(300, 300), filename="a.png", content_type="image/png")
    process_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    first = (upload.metadata, upload.thumbnail)
    # The worker died after writing the thumbnail but before recording "done"; the broker redelivers.
    Upload.objects.filter(pk=upload.pk).update(processing=Processing.RUNNING, metadata={}, thumbnail=None)

    process_upload.apply(args=[str(upload.pk)])

    upload.refresh_from_db()
    assert upload.processing == Processing.DONE
    assert (upload.metadata, upload.thumbnail) == first
    assert derived_keys(upload) == [upload.thumbnail["key"]]


def test_a_task_delivered_twice_does_nothing_the_second_time(s3, stored_upload):
    upload = stored_upload(png(300, 300), filename="a.png", content_type="image/png")
    process_upload.apply(args=[str(upload.pk)])

    assert process_upload.apply(args=[str(upload.pk)]).result == "skipped"


def test_a_task_for_a_deleted_upload_does_nothing(s3, stored_upload):
    upload = stored_upload(png(30, 30), filename="a.png", content_type="image/png")
    Upload.objects.filter(pk=upload.pk).delete()

    assert process_upload.apply(args=[str(upload.pk)]).result == "skipped"


def test_a_store_outage_during_a_task_is_retried_then_done(s3, stored_upload, settings):
    upload = stored_upload(png(64, 64), filename="a.png", content_type="image/png")
    real_read = S3Client.object_chunks
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise StorageUnavailable("Storage could not be reached to read the file.")
        return real_read(self, *args, **kwargs)

    with mock.patch.object(S3Client, "object_chunks", flaky):
        process_upload.apply(args=[str(upload.pk)])  # eager: retries run at once, without the backoff

    upload.refresh_from_db()
    assert len(calls) == 3
    assert upload.processing == Processing.DONE


def test_a_store_outage_longer_than_the_retries_fails_processing_with_a_reason(s3, stored_upload, settings):
    upload = stored_upload(png(64, 64), filename="a.png", content_type="image/png")
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens: every attempt fails

    process_upload.apply(args=[str(upload.pk)])

    upload.refresh_from_db()
    assert upload.processing == Processing.FAILED
    assert "store could not be reached" in upload.processing_error
    assert upload.status == Upload.Status.COMPLETE


def test_requeue_stalled_sends_again_only_uploads_waiting_longer_than_a_task_may_take(
    s3, stored_upload, django_capture_on_commit_callbacks
):
    stalled = stored_upload(png(8, 8), filename="a.png", content_type="image/png")
    fresh = stored_upload(png(8, 8), filename="b.png", content_type="image/png")
    Upload.objects.filter(pk=stalled.pk).update(processing_queued_at=timezone.now() - timedelta(hours=1))
    Upload.objects.filter(pk=fresh.pk).update(processing_queued_at=timezone.now())

    with (
        mock.patch.object(tasks.process_upload, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert requeue_stalled.apply().result == 1
    delay.assert_called_once_with(str(stalled.pk))


def test_beat_schedules_cleanup_as_the_readmes_cron_lines(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert schedule["cleanup-uploads"]["schedule"] == 300
    assert schedule["cleanup-uploads-orphans"]["kwargs"] == {"orphans": True}
    assert schedule["cleanup-uploads-verify"]["kwargs"] == {"verify": True}


def test_the_scheduled_cleanup_runs_cleanup_uploads(s3, upload_factory):
    from uploads.processing.tasks import cleanup_uploads

    stale = upload_factory(age=timedelta(days=2))  # pending, no object: cleanup fails it

    assert "failed" in cleanup_uploads.apply().result
    stale.refresh_from_db()
    assert stale.status == Upload.Status.FAILED
