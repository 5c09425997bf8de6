"""cleanup_uploads and the CleanupRun behind it, against moto's S3 server."""

import io
import math
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from uploads import cleanup as cleanup_module
from uploads import deletion, form_uploads, lifecycle, services
from uploads.cleanup import CleanupRun
from uploads.errors import InvalidCleanupOption
from uploads.keys import object_key, upload_folder, uploads_root
from uploads.models import PolicyTombstone, Upload
from uploads.s3 import S3Client

DAY = timedelta(days=1)
LATER = timedelta(days=2)  # every object is past a day's grace
pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("cleanup_uploads", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def orphan_key(name: str = "orphan.txt") -> str:
    return object_key(uuid.uuid4(), name)


def sweep(**options) -> CleanupRun:
    """Delete orphans as a run two days from now would."""
    cleanup = CleanupRun(orphans=True, now=timezone.now() + LATER, **options)
    cleanup.delete_orphans()
    return cleanup


@pytest.fixture
def count_s3_calls(s3):
    """Count the S3 API calls by operation name, as botocore makes them."""
    calls: dict[str, int] = {}

    def count(model, **kwargs):
        calls[model.name] = calls.get(model.name, 0) + 1

    client = CleanupRun().client.client  # the batch client the cleanup uses
    client.meta.events.register("before-call.s3", count)
    yield calls
    client.meta.events.unregister("before-call.s3", count)


# --- Stale pending uploads --------------------------------------------------------------------


def test_a_stale_pending_upload_whose_file_arrived_is_completed(s3, upload_factory):
    upload = upload_factory(content_type="text/plain", age=2 * DAY, body=b"hello")

    run()

    upload.refresh_from_db()
    assert (upload.status, upload.size) == (Upload.Status.COMPLETE, 5)


def test_a_stale_pending_upload_without_its_file_is_marked_failed(s3, upload_factory):
    upload = upload_factory(age=2 * DAY)

    run()

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED


def test_a_stale_pending_upload_with_an_invalid_file_fails_and_the_file_goes(s3, upload_factory):
    upload = upload_factory(max_size=2, age=2 * DAY, body=b"too large")

    run()

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert s3.head(upload.key) is None


def test_a_fresh_pending_upload_is_left_alone(s3, upload_factory):
    upload = upload_factory(age=timedelta(hours=1))

    run()

    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_older_than_sets_the_cut_off(s3, upload_factory):
    upload = upload_factory(age=timedelta(hours=1))

    run("--older-than", "30m")

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(s3, upload_factory):
    arrived = upload_factory(content_type="text/plain", age=2 * DAY, body=b"x")
    missing = upload_factory(age=2 * DAY)

    output = run("--dry-run")

    assert output.startswith("Dry run: 1 stale uploads would be completed, 1 would be marked failed")
    assert set(Upload.objects.values_list("status", flat=True)) == {Upload.Status.PENDING}
    assert {arrived.pk, missing.pk} == set(Upload.objects.values_list("pk", flat=True))


def test_running_twice_is_a_no_op_the_second_time(s3, upload_factory):
    upload_factory(content_type="text/plain", age=2 * DAY, body=b"x")
    upload_factory(age=2 * DAY)

    first = run()
    second = run()

    assert first.startswith("1 stale uploads completed, 1 marked failed")
    assert second.startswith("0 stale uploads completed, 0 marked failed, 0 orphan objects deleted")


def test_an_unreachable_s3_exits_non_zero_with_one_line_and_changes_nothing(s3_down, upload_factory):
    upload = upload_factory(age=2 * DAY)

    with pytest.raises(CommandError) as failure:
        run()

    assert "\n" not in str(failure.value)
    assert "could not be reached" in str(failure.value)
    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_an_age_shorter_than_an_upload_policy_lives_is_refused(s3, upload_factory, settings):
    settings.UPLOADS_PRESIGN_EXPIRATION = 600
    upload = upload_factory(age=timedelta(minutes=5))  # its browser may still be sending the file

    with pytest.raises(CommandError, match="--older-than must be at least 0:10:00"):
        run("--older-than", "2m")

    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_a_malformed_age_is_refused_by_the_argument_parser(db):
    with pytest.raises(CommandError, match="invalid duration value"):
        run("--older-than", "yesterday")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_process_each_row_once(s3, upload_factory, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with skip_locked need PostgreSQL (run with DATABASE_URL=postgres://…)")
    monkeypatch.setattr(cleanup_module, "STALE_BATCH_SIZE", 5)  # many small batches, so the runs interleave
    for _ in range(40):
        upload_factory(content_type="text/plain", age=2 * DAY)
    reports = []
    start = threading.Barrier(2)

    def cleanup():
        start.wait()
        try:
            cleanup = CleanupRun(older_than=DAY)
            cleanup.settle_stale_uploads()
            reports.append(cleanup.report)
        finally:
            connection.close()

    threads = [threading.Thread(target=cleanup) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Had both runs processed a row, the failures would add up to more than 40.
    assert sum(report.failed for report in reports) == 40
    assert Upload.objects.filter(status=Upload.Status.FAILED).count() == 40


# --- Orphans and multipart uploads ------------------------------------------------------------


def test_orphans_older_than_the_grace_period_are_deleted(s3, put_object):
    key = put_object(orphan_key())

    sweep()

    assert s3.head(key) is None


def test_orphans_younger_than_the_grace_period_are_kept(s3, put_object):
    key = put_object(orphan_key())

    run("--orphans")

    assert s3.head(key) is not None


def test_objects_with_records_are_never_deleted(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"x")

    sweep()

    assert s3.head(upload.key) is not None


def test_the_object_of_a_failed_upload_is_deleted_and_its_record_kept(s3, upload_factory):
    # A failed upload whose object could not be deleted then (S3 was down).
    upload = upload_factory(status=Upload.Status.FAILED, body=b"rejected")

    sweep()

    assert s3.head(upload.key) is None
    assert Upload.objects.filter(pk=upload.pk, status=Upload.Status.FAILED).exists()


def test_objects_outside_the_uploads_root_are_never_deleted(s3, put_object):
    key = put_object("static/site.css")

    sweep()

    assert s3.head(key) is not None


def test_uploads_under_a_callers_prefix_are_swept_too(s3, put_object):
    key = put_object(object_key(uuid.uuid4(), "avatar.png", prefix="avatars"))

    sweep()

    assert key.startswith(uploads_root())
    assert s3.head(key) is None


def test_a_dry_run_deletes_no_orphan(s3, put_object):
    key = put_object(orphan_key())

    report = sweep(dry_run=True).report

    assert report.orphans_deleted == 1
    assert s3.head(key) is not None


def test_orphans_are_listed_a_page_and_deleted_a_batch_at_a_time(s3, put_object, count_s3_calls, monkeypatch):
    # S3's page and batch are 1000 keys: the strict tier sweeps 1000+ orphans with them.
    monkeypatch.setattr(S3Client, "LIST_PAGE_SIZE", 3)
    monkeypatch.setattr(S3Client, "DELETE_BATCH_SIZE", 3)
    orphans = 7
    for number in range(orphans):
        put_object(orphan_key(f"{number:05}.txt"), b"")
    count_s3_calls.clear()

    report = sweep().report

    assert report.orphans_deleted == orphans
    assert count_s3_calls["ListObjectsV2"] >= math.ceil(orphans / 3)
    assert count_s3_calls["DeleteObjects"] == math.ceil(orphans / 3)
    assert list(s3.iter_objects(prefix=uploads_root())) == []


def test_the_grace_period_may_not_be_shorter_than_a_form_upload_may_take(s3):
    with pytest.raises(CommandError, match="--grace must be at least"):
        run("--orphans", "--grace", "1h")


def test_a_python_caller_cannot_bypass_the_minimum_age(db):
    with pytest.raises(InvalidCleanupOption, match="--older-than must be at least"):
        CleanupRun(older_than=timedelta(seconds=1))


def test_stale_multipart_uploads_are_aborted(s3):
    s3.client.create_multipart_upload(Bucket=s3.bucket_name, Key=orphan_key("video.mp4"))
    cleanup = CleanupRun(now=timezone.now() + LATER)

    cleanup.abort_stale_multipart_uploads()

    assert cleanup.report.multipart_aborted == 1
    assert list(s3.iter_multipart_uploads(prefix=uploads_root())) == []


def test_multipart_uploads_outside_the_uploads_root_are_kept(s3):
    # (moto reports every multipart upload as initiated in 2010, so age can't be told apart here.)
    s3.client.create_multipart_upload(Bucket=s3.bucket_name, Key="backups/db.dump")

    run()

    assert len(list(s3.iter_multipart_uploads(prefix="backups/"))) == 1


# --- Interrupted deletes ----------------------------------------------------------------------


def test_cleanup_finishes_a_delete_a_crash_interrupted(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.DELETING, body=b"half deleted")

    output = run()

    assert "1 interrupted deletes finished" in output
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert s3.head(upload.key) is None


def test_cleanup_keeps_a_deleting_record_while_the_store_is_down(s3_down, upload_factory):
    upload = upload_factory(status=Upload.Status.DELETING)

    with pytest.raises(CommandError, match="could not be reached"):
        run()

    assert Upload.objects.filter(pk=upload.pk, status=Upload.Status.DELETING).exists()


@pytest.mark.django_db(transaction=True)
def test_a_user_completing_while_cleanup_waits_on_the_store_is_neither_blocked_nor_undone(s3, upload_factory):
    upload = upload_factory(content_type="text/plain", age=2 * DAY)  # no object yet: cleanup would fail it
    cleanup = CleanupRun(older_than=DAY)
    sample = cleanup.client.sample

    def read_while_the_user_completes(key, **kwargs):
        # A user's complete lands while cleanup waits on S3; a row lock held meanwhile makes it wait.
        with connection.cursor() as cursor:
            cursor.execute(WAIT_AT_MOST_1S[connection.vendor])
        Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(
            status=Upload.Status.COMPLETE
        )
        connection.close()  # this pool thread's own connection
        return sample(key, **kwargs)

    cleanup.client.sample = read_while_the_user_completes
    cleanup.settle_stale_uploads()

    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE
    assert (cleanup.report.failed, cleanup.report.skipped) == (0, 1)


WAIT_AT_MOST_1S = {"postgresql": "SET lock_timeout = '1s'", "sqlite": "PRAGMA busy_timeout = 1000"}


# --- Complete uploads whose object is gone or was replaced (--verify) -------------------------


def complete_upload(upload_factory, s3, *, body: bytes | None = b"kept") -> Upload:
    upload = upload_factory(status=Upload.Status.COMPLETE, content_type="text/plain", body=body)
    if body is not None:
        upload.etag = s3.head(upload.key).etag
        upload.save(update_fields=["etag"])
    return upload


def test_verify_marks_failed_a_complete_upload_whose_file_is_gone(s3, upload_factory):
    upload = complete_upload(upload_factory, s3, body=None)

    output = run("--verify")

    assert "1 complete uploads whose file is gone marked failed" in output
    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED


def test_verify_leaves_complete_uploads_whose_files_are_there(s3, upload_factory):
    # Thirty keys merged against the listing: every one is found (the merge reads both in byte order).
    kept = [complete_upload(upload_factory, s3, body=b"kept") for _ in range(30)]

    output = run("--verify")

    assert "0 complete uploads whose file is gone marked failed, 0 whose file was replaced" in output
    assert Upload.objects.filter(pk__in=[u.pk for u in kept], status=Upload.Status.COMPLETE).count() == 30


def test_verify_reports_a_replaced_file_and_leaves_it(s3, upload_factory, put_object):
    upload = complete_upload(upload_factory, s3, body=b"original")
    put_object(upload.key, b"replaced by someone with the bucket's keys")

    output = run("--verify")

    assert "1 whose file was replaced" in output
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE
    assert s3.head(upload.key) is not None


def test_verify_reports_a_file_changed_since_its_checksum_was_recorded(s3, upload_factory, put_object):
    hashed = complete_upload(upload_factory, s3, body=b"original")
    hashed.checksum_sha256 = "9jdMlmVYHkr1Xn7bqGnxEfYpN6NpoJeHE7qCqsgP+Ko="
    hashed.save(update_fields=["checksum_sha256"])
    complete_upload(upload_factory, s3, body=b"never hashed")  # replaced too, but had no checksum
    for upload in Upload.objects.all():
        put_object(upload.key, b"replaced by someone with the bucket's keys")

    output = run("--verify")

    assert "2 whose file was replaced (1 changed since their SHA-256 was recorded)" in output


def test_without_verify_complete_uploads_are_not_checked(s3, upload_factory):
    upload = complete_upload(upload_factory, s3, body=None)

    output = run()

    assert "whose file is gone" not in output
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE


def test_a_dry_run_verify_says_what_it_would_mark_and_marks_nothing(s3, upload_factory):
    upload = complete_upload(upload_factory, s3, body=None)

    output = run("--verify", "--dry-run")

    assert "1 complete uploads whose file is gone would be marked failed" in output
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE


def test_verify_checks_only_uploads_completed_before_the_run_started(s3, upload_factory):
    upload = complete_upload(upload_factory, s3, body=None)
    cleanup = CleanupRun(verify=True, now=timezone.now() - timedelta(minutes=1))
    Upload.objects.filter(pk=upload.pk).update(completed_at=timezone.now())

    cleanup.verify_complete()

    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE


def test_a_stale_upload_whose_content_contradicts_its_type_fails_and_its_file_goes(s3, upload_factory):
    upload = upload_factory(
        filename="cat.png", content_type="image/png", age=2 * DAY, body=b"<html><script>alert(1)</script>"
    )

    run()

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED
    assert s3.head(upload.key) is None


# --- Form uploads whose finish met an outage --------------------------------------------------


def unfinished_form_upload(user, put_object=None, *, age=2 * DAY):
    """The pending placeholder a finish leaves when the store is down, and maybe its file."""
    upload_id = uuid.uuid4()
    folder = upload_folder(upload_id)
    if put_object:
        put_object(folder + "notes.txt", b"plain words", "application/octet-stream")
    created = timezone.now() - age
    return Upload.objects.create(
        id=upload_id,
        owner=user,
        file=folder + "${filename}",
        original_filename="Form upload",
        content_type="application/octet-stream",
        max_size=1024,
        created_at=created,
        expires_at=created,
    )


def test_cleanup_records_the_file_of_a_form_upload_whose_finish_met_an_outage(s3, user, put_object):
    upload = unfinished_form_upload(user, put_object)

    run()

    upload.refresh_from_db()
    assert (upload.status, upload.original_filename, upload.size) == (Upload.Status.COMPLETE, "notes.txt", 11)


def test_cleanup_fails_a_form_upload_whose_file_never_arrived(s3, user):
    upload = unfinished_form_upload(user)

    run()

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED


def test_the_orphan_sweep_spares_the_file_of_an_unfinished_form_upload(s3, user, put_object):
    upload = unfinished_form_upload(user, put_object, age=timedelta(0))

    sweep()

    assert s3.head(upload.key.replace("${filename}", "notes.txt")) is not None


def test_a_stale_pending_multipart_upload_fails_and_its_parts_go(s3, upload_factory):
    upload = upload_factory(age=2 * DAY)
    started = s3.client.create_multipart_upload(Bucket=s3.bucket_name, Key=upload.key)
    Upload.objects.filter(pk=upload.pk).update(multipart_upload_id=started["UploadId"])

    CleanupRun().settle_stale_uploads()  # not the prefix-and-age abort: settling alone does it

    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED
    assert list(s3.iter_multipart_uploads(prefix=upload.key)) == []


# --- Folders of dead policies (tombstones) ---------------------------------------------------


def test_a_file_stored_with_a_deleted_uploads_policy_goes_once_the_grace_ends(s3, user, post_to_s3):
    direct = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5)
    deletion.upload_delete(upload=direct.upload)
    post_to_s3(direct.url, direct.fields, b"later")  # the policy still lives
    due = direct.expires_at + lifecycle.policy_grace()

    early = CleanupRun(now=due - timedelta(seconds=1)).run()
    kept = s3.head(direct.key)
    late = CleanupRun(now=due + timedelta(seconds=1)).run()

    assert (early.swept, kept is not None) == (0, True)
    assert late.swept == 1
    assert s3.head(direct.key) is None
    assert not PolicyTombstone.objects.exists()


def test_a_failed_uploads_folder_is_swept_once_its_policy_is_dead(s3, user, post_to_s3):
    direct = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5)
    services.upload_fail(upload=direct.upload)
    post_to_s3(direct.url, direct.fields, b"later")

    CleanupRun(now=timezone.now() + timedelta(hours=1)).run()

    assert s3.head(direct.key) is None
    assert Upload.objects.get().status == Upload.Status.FAILED  # the record stays, for its owner


def test_a_form_placeholder_waits_for_its_policy_and_the_grace_then_fails_without_a_file(s3, user):
    form_uploads.form_upload_start(owner=user, finish_url=lambda token: "http://testserver/")
    due = Upload.objects.get().expires_at + lifecycle.policy_grace()

    CleanupRun(older_than=cleanup_module.minimum_age(), now=due - timedelta(seconds=1)).run()
    waiting = Upload.objects.get().status
    CleanupRun(older_than=cleanup_module.minimum_age(), now=due + timedelta(seconds=1)).run()

    assert waiting == Upload.Status.PENDING
    assert Upload.objects.get().failure_code == "object_missing"
