"""The operators' commands against moto's S3 server: cleanup_uploads, configure_bucket, check_s3."""

import io
import json
import math
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from uploads import services
from uploads.errors import StorageUnavailable
from uploads.models import Upload

DAY = timedelta(days=1)
pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def put(s3, key: str, body: bytes = b"data", content_type: str = "text/plain") -> None:
    s3.client.put_object(Bucket=s3.bucket_name, Key=key, Body=body, ContentType=content_type)


@pytest.fixture
def count_s3_calls(s3):
    """Count the S3 API calls by operation name, as botocore makes them."""
    calls: dict[str, int] = {}

    def count(model, **kwargs):
        calls[model.name] = calls.get(model.name, 0) + 1

    s3.client.meta.events.register("before-call.s3", count)
    yield calls
    s3.client.meta.events.unregister("before-call.s3", count)


# --- Stale pending uploads --------------------------------------------------------------------


def test_a_stale_pending_upload_whose_file_arrived_is_completed(s3, upload_factory):
    upload = upload_factory(content_type="text/plain", age=2 * DAY, body=b"hello", s3=s3)

    run("cleanup_uploads")

    upload.refresh_from_db()
    assert (upload.status, upload.size) == (Upload.Status.COMPLETE, 5)


def test_a_stale_pending_upload_without_its_file_is_marked_failed(s3, upload_factory):
    upload = upload_factory(age=2 * DAY)

    run("cleanup_uploads")

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED


def test_a_stale_pending_upload_with_an_invalid_file_fails_and_the_file_goes(s3, upload_factory):
    upload = upload_factory(max_size=2, age=2 * DAY, body=b"too large", s3=s3)

    run("cleanup_uploads")

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert s3.head(upload.key) is None


def test_a_fresh_pending_upload_is_left_alone(s3, upload_factory):
    upload = upload_factory(age=timedelta(hours=1))

    run("cleanup_uploads")

    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_older_than_sets_the_cut_off(s3, upload_factory):
    upload = upload_factory(age=timedelta(hours=1))

    run("cleanup_uploads", "--older-than", "30m")

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(s3, upload_factory):
    arrived = upload_factory(content_type="text/plain", age=2 * DAY, body=b"x", s3=s3)
    missing = upload_factory(age=2 * DAY)

    output = run("cleanup_uploads", "--dry-run")

    assert output.startswith("Dry run: 1 stale uploads would be completed, 1 would be marked failed")
    assert set(Upload.objects.values_list("status", flat=True)) == {Upload.Status.PENDING}
    assert {arrived.pk, missing.pk} == set(Upload.objects.values_list("pk", flat=True))


def test_running_twice_is_a_no_op_the_second_time(s3, upload_factory):
    upload_factory(content_type="text/plain", age=2 * DAY, body=b"x", s3=s3)
    upload_factory(age=2 * DAY)

    first = run("cleanup_uploads")
    second = run("cleanup_uploads")

    assert first.startswith("1 stale uploads completed, 1 marked failed")
    assert second.startswith("0 stale uploads completed, 0 marked failed, 0 orphan objects deleted")


def test_an_unreachable_s3_exits_non_zero_with_one_line_and_changes_nothing(s3, upload_factory, settings):
    upload = upload_factory(age=2 * DAY)
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"

    with pytest.raises(CommandError) as failure:
        run("cleanup_uploads")

    assert "\n" not in str(failure.value)
    assert "could not be reached" in str(failure.value)
    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_an_age_shorter_than_an_upload_policy_lives_is_refused(s3, upload_factory, settings):
    settings.UPLOADS_PRESIGN_EXPIRATION = 600
    upload = upload_factory(age=timedelta(minutes=5))  # its browser may still be sending the file

    with pytest.raises(CommandError, match="--older-than must be at least 0:10:00"):
        run("cleanup_uploads", "--older-than", "2m")

    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_a_malformed_age_is_refused_by_the_argument_parser(db):
    with pytest.raises(CommandError, match="invalid duration value"):
        run("cleanup_uploads", "--older-than", "yesterday")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_process_each_row_once(s3, upload_factory, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with skip_locked need PostgreSQL (run with DATABASE_URL=postgres://…)")
    monkeypatch.setattr(services, "STALE_BATCH_SIZE", 5)  # many small batches, so the runs interleave
    for _ in range(40):
        upload_factory(content_type="text/plain", age=2 * DAY)
    reports: list[services.CleanupReport] = []
    start = threading.Barrier(2)

    def cleanup():
        start.wait()
        try:
            reports.append(services.cleanup_stale_uploads(older_than=DAY))
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


def test_orphans_older_than_the_grace_period_are_deleted(s3):
    put(s3, "uploads/lost/orphan.txt")

    services.cleanup_orphans(grace=DAY, now=timezone.now() + 2 * DAY)

    assert s3.head("uploads/lost/orphan.txt") is None


def test_orphans_younger_than_the_grace_period_are_kept(s3):
    put(s3, "uploads/in-flight/new.txt")

    run("cleanup_uploads", "--orphans")

    assert s3.head("uploads/in-flight/new.txt") is not None


def test_objects_with_records_are_never_deleted(s3, upload_factory):
    upload = upload_factory(status=Upload.Status.COMPLETE, body=b"x", s3=s3)

    services.cleanup_orphans(grace=DAY, now=timezone.now() + 2 * DAY)

    assert s3.head(upload.key) is not None


def test_the_object_of_a_failed_upload_is_deleted_and_its_record_kept(s3, upload_factory):
    # A failed upload whose object could not be deleted then (S3 was down).
    upload = upload_factory(status=Upload.Status.FAILED, body=b"rejected", s3=s3)

    services.cleanup_orphans(grace=DAY, now=timezone.now() + 2 * DAY)

    assert s3.head(upload.key) is None
    assert Upload.objects.filter(pk=upload.pk, status=Upload.Status.FAILED).exists()


def test_objects_outside_the_uploads_prefix_are_never_deleted(s3):
    put(s3, "static/site.css")

    services.cleanup_orphans(grace=DAY, now=timezone.now() + 2 * DAY)

    assert s3.head("static/site.css") is not None


def test_a_dry_run_deletes_no_orphan(s3):
    put(s3, "uploads/lost/orphan.txt")

    report = services.cleanup_orphans(grace=DAY, now=timezone.now() + 2 * DAY, dry_run=True)

    assert report.orphans_deleted == 1
    assert s3.head("uploads/lost/orphan.txt") is not None


def test_orphans_are_deleted_a_thousand_keys_per_request(s3, count_s3_calls):
    orphans = 2001
    for number in range(orphans):
        put(s3, f"uploads/lost/{number:05}.txt", b"")
    count_s3_calls.clear()

    report = services.cleanup_orphans(grace=DAY, now=timezone.now() + 2 * DAY)

    assert report.orphans_deleted == orphans
    assert count_s3_calls["DeleteObjects"] == math.ceil(orphans / 1000)
    assert list(s3.iter_objects(prefix="uploads/")) == []


def test_the_grace_period_may_not_be_shorter_than_a_form_upload_may_take(s3):
    with pytest.raises(CommandError, match="--grace must be at least"):
        run("cleanup_uploads", "--orphans", "--grace", "1h")


def test_stale_multipart_uploads_are_aborted(s3):
    s3.client.create_multipart_upload(Bucket=s3.bucket_name, Key="uploads/big/video.mp4")

    report = services.cleanup_multipart_uploads(older_than=DAY, now=timezone.now() + 2 * DAY)

    assert report.multipart_aborted == 1
    assert list(s3.iter_multipart_uploads(prefix="uploads/")) == []


def test_multipart_uploads_outside_the_uploads_prefix_are_kept(s3):
    # (moto reports every multipart upload as initiated in 2010, so age can't be told apart here.)
    s3.client.create_multipart_upload(Bucket=s3.bucket_name, Key="backups/db.dump")

    run("cleanup_uploads")

    assert len(list(s3.iter_multipart_uploads(prefix="backups/"))) == 1


# --- configure_bucket -------------------------------------------------------------------------


def test_configure_bucket_print_shows_the_configuration_and_applies_nothing(s3, settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://example.com"]

    printed = json.loads(run("configure_bucket", "--print"))

    assert printed["cors"][0]["AllowedOrigins"] == ["https://example.com"]
    assert "POST" in printed["cors"][0]["AllowedMethods"]
    assert printed["block_public_access"] is True
    assert printed["lifecycle"][0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert s3.get_cors() == []


def test_configure_bucket_applies_cors_for_the_sites_origins(s3, settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://example.com"]

    run("configure_bucket")

    rules = s3.get_cors()
    assert rules[0]["AllowedOrigins"] == ["https://example.com"]
    assert "*" not in rules[0]["AllowedOrigins"]


def test_configure_bucket_blocks_public_access_unless_public_uploads_are_on(s3, settings):
    run("configure_bucket")

    block = s3.client.get_public_access_block(Bucket=s3.bucket_name)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_configure_bucket_adds_the_multipart_lifecycle_rule(s3):
    run("configure_bucket")

    rules = s3.client.get_bucket_lifecycle_configuration(Bucket=s3.bucket_name)["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert rules[0]["Filter"] == {"Prefix": "uploads/"}


def test_configure_bucket_keeps_the_buckets_other_rules(s3):
    s3.put_cors([{"ID": "cdn", "AllowedOrigins": ["https://cdn.example"], "AllowedMethods": ["GET"]}])
    expire_logs = {
        "ID": "logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 7},
    }
    s3.put_lifecycle([expire_logs])

    run("configure_bucket")
    run("configure_bucket")  # twice: our rules are replaced, not added again

    assert [rule["ID"] for rule in s3.get_cors()] == ["cdn", services.CORS_RULE_ID]
    assert [rule["ID"] for rule in s3.get_lifecycle()] == ["logs", services.LIFECYCLE_RULE_ID]


def test_configure_bucket_create_makes_a_missing_bucket(s3, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "brand-new-bucket"

    run("configure_bucket", "--create")

    assert services.S3Client().bucket_exists()


# --- check_s3 ---------------------------------------------------------------------------------


@pytest.fixture
def configured(s3, settings):
    settings.UPLOADS_CORS_ORIGINS = ["http://localhost:8000"]
    run("configure_bucket")
    return s3


def test_check_s3_passes_against_a_configured_bucket(configured):
    output = run("check_s3")

    lines = output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok   credentials",
        "ok   bucket",
        "ok   region",
        "ok   cors",
        "ok   clock",
        "ok   presigned post",
    ]
    assert list(configured.iter_objects(prefix="uploads/")) == []  # the probe is gone


def test_check_s3_fails_with_one_clear_line_when_the_bucket_is_missing(configured, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"
    out = io.StringIO()

    with pytest.raises(CommandError, match="S3 check failed: bucket"):
        call_command("check_s3", stdout=out)

    assert out.getvalue().strip() == "FAIL bucket: bucket 'no-such-bucket' does not exist"


def test_check_s3_fails_when_the_credentials_are_refused(configured, monkeypatch):
    # moto checks credentials only once told to; its IAM then knows no access key at all.
    monkeypatch.setattr("moto.settings.INITIAL_NO_AUTH_ACTION_COUNT", 0)
    out = io.StringIO()

    with pytest.raises(CommandError, match="S3 check failed: credentials"):
        call_command("check_s3", stdout=out)

    assert out.getvalue().startswith("FAIL credentials: S3 refused them")


def test_check_s3_fails_when_cors_does_not_allow_the_sites_origin(configured, settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://elsewhere.example"]
    out = io.StringIO()

    with pytest.raises(CommandError, match="cors"):
        call_command("check_s3", stdout=out)

    assert "FAIL cors: no CORS rule lets https://elsewhere.example POST" in out.getvalue()


def test_check_s3_reports_unreadable_cors_rules_in_one_line(configured, monkeypatch):
    def refuse(self):
        raise StorageUnavailable("Storage refused to read the bucket's CORS rules (AccessDenied).")

    monkeypatch.setattr(services.S3Client, "get_cors", refuse)
    out = io.StringIO()

    with pytest.raises(CommandError, match="S3 check failed: cors"):
        call_command("check_s3", stdout=out)

    assert "FAIL cors: Storage refused to read the bucket's CORS rules (AccessDenied)." in out.getvalue()
