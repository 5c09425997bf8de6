"""Deletes (uploads/deletion.py): the object before its record, one or many, and what an outage leaves."""

import pytest

from uploads import deletion
from uploads.errors import (
    StorageUnavailable,
)
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def test_delete_keeps_the_record_when_s3_fails(s3_down, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE)

    with pytest.raises(StorageUnavailable):
        deletion.upload_delete(upload=upload)

    assert Upload.objects.filter(pk=upload.pk).exists()


def test_a_delete_interrupted_by_an_outage_leaves_the_record_marked_deleting(s3_down, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE)

    with pytest.raises(StorageUnavailable):
        deletion.upload_delete(upload=upload)

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.DELETING


def test_deleting_again_finishes_an_interrupted_delete(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.DELETING, body=b"x")

    deletion.upload_delete(upload=upload)

    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert s3.head(upload.key) is None


def test_deleting_many_removes_objects_and_records_in_one_batch(s3, upload_factory, user):
    uploads = [upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x") for _ in range(3)]

    deleted = deletion.upload_delete_many(owner=user, upload_ids=[u.pk for u in uploads])

    assert deleted == 3
    assert not Upload.objects.exists()
    assert all(s3.head(u.key) is None for u in uploads)


def test_deleting_many_never_touches_another_owners_uploads(s3, upload_factory, user, other_user):
    theirs = upload_factory(owner=other_user, status=Upload.Status.COMPLETE, body=b"x")

    deleted = deletion.upload_delete_many(owner=user, upload_ids=[theirs.pk])

    assert deleted == 0
    assert Upload.objects.get(pk=theirs.pk).status == Upload.Status.COMPLETE
    assert s3.head(theirs.key) is not None


def test_deleting_many_during_an_outage_leaves_the_records_marked_deleting(s3_down, upload_factory, user):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE)

    with pytest.raises(StorageUnavailable):
        deletion.upload_delete_many(owner=user, upload_ids=[upload.pk])

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.DELETING  # cleanup finishes it
