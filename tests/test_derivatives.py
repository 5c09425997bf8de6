"""Derived files (thumbnails) live in their upload's folder: they go with it, and only with it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from uploads import deletion
from uploads.cleanup import CleanupRun
from uploads.keys import derived_key, object_key
from uploads.models import Upload
from uploads.processing.tasks import process_upload
from uploads.s3 import S3Client

from .processing_helpers import png

pytestmark = pytest.mark.django_db


def keys(prefix: str = "") -> set[str]:
    return {info.key for info in S3Client().iter_objects(prefix=prefix)}


def processed(stored_upload) -> Upload:
    upload = stored_upload(png(64, 64), filename="a.png", content_type="image/png")
    process_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    assert upload.thumbnail["key"] in keys()
    return upload


def test_deleting_an_upload_deletes_its_thumbnail(s3, stored_upload):
    upload = processed(stored_upload)

    deletion.upload_delete(upload=upload)

    assert keys() == set()


def test_deleting_uploads_in_bulk_deletes_their_thumbnails(s3, stored_upload, user):
    uploads = [processed(stored_upload), processed(stored_upload)]

    deletion.upload_delete_many(upload_ids=[u.pk for u in uploads], owner=user)

    assert keys() == set()


def test_the_orphan_sweep_keeps_the_thumbnail_of_a_live_upload(s3, stored_upload):
    upload = processed(stored_upload)

    CleanupRun(orphans=True, now=timezone.now() + timedelta(days=2)).delete_orphans()

    assert keys() == {upload.key, upload.thumbnail["key"]}


def test_the_orphan_sweep_deletes_a_thumbnail_whose_upload_is_gone(s3, put_object):
    import uuid

    upload_id = uuid.uuid4()
    stray = put_object(derived_key(object_key(upload_id, "a.png"), upload_id, "thumbnail.webp"), b"webp")

    report = CleanupRun(orphans=True, now=timezone.now() + timedelta(days=2))
    report.delete_orphans()

    assert stray not in keys()
    assert report.report.orphans_deleted == 1


def test_an_upload_outside_a_folder_of_its_own_gets_no_derived_files():
    assert derived_key("legacy/a.png", "0b6c1f7e-7c1b-4c55-9d55-0d3c2b8f1a11", "thumbnail.webp") is None


def test_verify_has_the_worker_make_a_missing_thumbnail_again(
    s3, stored_upload, django_capture_on_commit_callbacks
):
    upload = processed(stored_upload)
    S3Client().delete_object(upload.thumbnail["key"])

    with django_capture_on_commit_callbacks(execute=True):
        report = CleanupRun(verify=True).run()

    assert report.thumbnails_missing == 1
    assert report.gone == 0
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE
    assert upload.thumbnail["key"] in keys()


def test_verify_leaves_an_upload_whose_thumbnail_is_there(s3, stored_upload):
    upload = processed(stored_upload)

    report = CleanupRun(verify=True).run()

    assert report.thumbnails_missing == 0
    upload.refresh_from_db()
    assert upload.processing == "done"
