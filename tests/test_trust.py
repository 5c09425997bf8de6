"""The trust steps without a scanner (uploads/processing/trust.py): the SHA-256 of the stored bytes,
a declared checksum checked by the store where it verifies and by the worker everywhere."""

import pytest
from django.urls import reverse

from tests.helpers import random_text, send_checksummed_parts, sha256, start_text_upload, upload_part_directly
from uploads.models import Processing, Scan, Upload
from uploads.processing.tasks import process_upload
from uploads.s3 import S3Client

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def complete(api, upload_id: str, django_capture_on_commit_callbacks) -> dict:
    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly on commit
        response = api.post(f"/api/uploads/{upload_id}/complete")
    assert response.status_code == 200, response.content
    return api.get(f"/api/uploads/{upload_id}").json()


def test_the_worker_records_the_sha256_of_the_stored_bytes(s3, stored_upload):
    upload = stored_upload(b"hello world", filename="a.txt", content_type="text/plain")
    process_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    assert upload.checksum_sha256 == sha256(b"hello world")


def test_without_a_scanner_the_scan_is_skipped_and_the_file_served(
    s3, api, post_to_s3, django_capture_on_commit_callbacks
):
    body = b"plain text"
    started = start_text_upload(api, body)
    post_to_s3(started["url"], started["fields"], body, content_type="text/plain")
    answer = complete(api, started["id"], django_capture_on_commit_callbacks)
    assert (answer["scan"], answer["checksum_sha256"]) == ("skipped", sha256(body))
    assert api.get(f"/api/uploads/{started['id']}/url").status_code == 200


def test_a_body_altered_after_hashing_fails_checksum_mismatch_and_its_object_is_deleted(
    s3, api, post_to_s3, django_capture_on_commit_callbacks
):
    chosen, sent = b"the file the user chose", b"the file altered en rou"
    started = start_text_upload(api, chosen, checksum_sha256=sha256(chosen))
    post_to_s3(started["url"], started["fields"], sent, content_type="text/plain")  # POST: no store check
    answer = complete(api, started["id"], django_capture_on_commit_callbacks)
    assert (answer["status"], answer["failure_code"]) == ("failed", "checksum_mismatch")
    assert "altered" in answer["failure_reason"]
    assert answer["checksum_sha256"] == sha256(sent)
    assert S3Client().head(started["key"]) is None


def test_a_matching_declared_checksum_completes(s3, api, post_to_s3, django_capture_on_commit_callbacks):
    body = b"exactly these bytes"
    started = start_text_upload(api, body, checksum_sha256=sha256(body))
    post_to_s3(started["url"], started["fields"], body, content_type="text/plain")
    answer = complete(api, started["id"], django_capture_on_commit_callbacks)
    assert (answer["status"], answer["processing"]) == ("complete", "none")


def test_a_checksum_that_is_not_a_sha256_is_refused_at_create(s3, api):
    response = api.post(
        "/api/uploads",
        {"filename": "a.txt", "content_type": "text/plain", "size": 3, "checksum_sha256": "abc"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_checksum"
    assert not Upload.objects.exists()


@pytest.fixture
def small_parts(settings):
    settings.UPLOADS_MULTIPART_THRESHOLD = 5 * MIB
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB


def test_a_multipart_upload_with_part_checksums_completes_and_records_the_whole_files_sha256(
    s3, api, small_parts, django_capture_on_commit_callbacks
):
    body = random_text(6 * MIB)
    started = start_text_upload(api, body)
    send_checksummed_parts(api, started, [body[: 5 * MIB], body[5 * MIB :]])
    answer = complete(api, started["id"], django_capture_on_commit_callbacks)
    assert answer["status"] == "complete"
    assert answer["checksum_sha256"] == sha256(body)


def test_parts_records_each_declared_part_digest_and_a_later_batch_keeps_the_earlier_ones(
    s3, api, small_parts
):
    started = start_text_upload(api, random_text(11 * MIB))
    for number in (1, 2):
        api.post(
            f"/api/uploads/{started['id']}/parts",
            {"part_numbers": [number], "checksums": {str(number): sha256(b"part %d" % number)}},
            content_type="application/json",
        )

    declared = Upload.objects.get(pk=started["id"]).declared_part_sha256

    assert declared == {"1": sha256(b"part 1"), "2": sha256(b"part 2")}


def test_the_worker_fails_a_multipart_upload_whose_stored_part_differs_from_its_declared_digest(
    s3, api, small_parts, django_capture_on_commit_callbacks
):
    body = random_text(11 * MIB)
    altered = bytearray(body[5 * MIB : 10 * MIB])
    altered[0] ^= 0xFF
    started = start_text_upload(api, body)
    api.post(
        f"/api/uploads/{started['id']}/parts",
        {"part_numbers": [1, 2, 3], "checksums": {"2": sha256(body[5 * MIB : 10 * MIB])}},
        content_type="application/json",
    )
    # What a store that doesn't verify the signed checksum would keep: another body for part 2.
    for number, data in ((1, body[: 5 * MIB]), (2, bytes(altered)), (3, body[10 * MIB :])):
        upload_part_directly(s3, started, number, data)

    answer = complete(api, started["id"], django_capture_on_commit_callbacks)

    assert (answer["status"], answer["failure_code"]) == ("failed", "checksum_mismatch")
    assert "Part 2 " in answer["failure_reason"]
    assert S3Client().head(started["key"]) is None


def test_checksums_for_parts_not_asked_for_are_refused(s3, api, small_parts):
    started = start_text_upload(api, random_text(6 * MIB))
    response = api.post(
        f"/api/uploads/{started['id']}/parts",
        {"part_numbers": [1], "checksums": {"2": sha256(b"x")}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_part_numbers"


def test_scan_again_requeues_an_upload_whose_scan_errored(s3, stored_upload, settings):
    upload = stored_upload(b"data", filename="a.txt", content_type="text/plain")
    Upload.objects.filter(pk=upload.pk).update(processing=Processing.FAILED, scan=Scan.ERROR)
    upload.refresh_from_db()
    from uploads.processing.state import requeue

    assert requeue(upload)
    upload.refresh_from_db()
    assert (upload.processing, upload.scan) == (Processing.QUEUED, Scan.SKIPPED)


def test_a_checksum_declared_at_complete_is_checked_too(
    s3, api, post_to_s3, django_capture_on_commit_callbacks
):
    chosen, sent = b"the file the user chose", b"the file altered en rou"
    started = start_text_upload(api, chosen)
    post_to_s3(started["url"], started["fields"], sent, content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/uploads/{started['id']}/complete",
            {"checksum_sha256": sha256(chosen)},
            content_type="application/json",
        )
    answer = api.get(f"/api/uploads/{started['id']}").json()
    assert answer["failure_code"] == "checksum_mismatch"


def test_complete_without_a_body_still_works(s3, api, post_to_s3, django_capture_on_commit_callbacks):
    started = start_text_upload(api, b"abc")
    post_to_s3(started["url"], started["fields"], b"abc", content_type="text/plain")
    assert complete(api, started["id"], django_capture_on_commit_callbacks)["status"] == "complete"


@pytest.fixture
def scanner_unreachable(settings, tmp_path):
    """A scanner is set, and nothing listens: a test passes only if the scanner was never asked."""
    settings.UPLOADS_SCANNER = "clamav"
    settings.UPLOADS_CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")
    settings.UPLOADS_PROCESSING_RETRY_BASE = 0.0


def unscanned_upload(stored_upload, body: bytes) -> Upload:
    upload = stored_upload(body, filename="a.txt", content_type="text/plain")
    Upload.objects.filter(pk=upload.pk).update(scan=Scan.PENDING)
    return upload


def test_a_file_over_the_scan_limit_ends_at_once_as_scan_error_with_its_sha256(
    s3, api, stored_upload, scanner_unreachable, settings
):
    settings.UPLOADS_SCAN_MAX_SIZE = 8
    upload = unscanned_upload(stored_upload, b"longer than eight bytes")

    assert process_upload.apply(args=[str(upload.pk)]).result == "failed"  # no retries: never sent

    answer = api.get(f"/api/uploads/{upload.pk}").json()
    assert (answer["status"], answer["scan"]) == ("complete", "error")
    assert answer["processing_error"] == "Too large to scan (limit 8 bytes)."
    assert answer["checksum_sha256"] == sha256(b"longer than eight bytes")


def test_a_file_over_the_scan_limit_is_never_served_and_url_says_why(
    s3, api, stored_upload, scanner_unreachable, settings
):
    settings.UPLOADS_SCAN_MAX_SIZE = 8
    upload = unscanned_upload(stored_upload, b"longer than eight bytes")

    process_upload.apply(args=[str(upload.pk)])

    refused = api.get(f"/api/uploads/{upload.pk}/url")
    assert (refused.status_code, refused.json()["code"]) == (409, "scan_pending")
    assert "Too large to scan (limit 8 bytes)" in refused.json()["detail"]


def test_the_owners_row_says_a_file_was_too_large_to_scan(
    s3, client, user, stored_upload, scanner_unreachable, settings
):
    settings.UPLOADS_SCAN_MAX_SIZE = 8
    upload = unscanned_upload(stored_upload, b"longer than eight bytes")
    client.force_login(user)

    process_upload.apply(args=[str(upload.pk)])

    assert "Too large to scan (limit 8 bytes)" in client.get(reverse("uploads:index")).content.decode()


def test_processing_that_stops_before_a_verdict_leaves_the_scan_error_not_pending(
    s3, stored_upload, scanner_unreachable
):
    upload = unscanned_upload(stored_upload, b"some data")
    S3Client().delete_object(upload.key)  # the read finds nothing: processing fails for good

    process_upload.apply(args=[str(upload.pk)])

    upload.refresh_from_db()
    assert (upload.processing, upload.scan) == (Processing.FAILED, Scan.ERROR)
