"""Malware scanning with ClamAV's real daemon (uploads/processing/scanner.py, trust.py).

The `clamav` tier: clamd runs with a signature database the test writes (tests/clamav.py).
"""

from unittest import mock
from urllib.parse import urlparse

import pytest
from django.urls import reverse

from uploads.models import Processing, Scan, Upload
from uploads.processing import scanner as scanner_module
from uploads.processing.tasks import process_upload
from uploads.s3 import S3Client

from .clamav import EICAR, SIGNATURE
from .processing_helpers import png_claiming

pytestmark = [pytest.mark.clamav, pytest.mark.django_db]


def upload(api, post_to_s3, body: bytes, filename: str = "notes.txt") -> dict:
    started = api.post(
        "/api/uploads",
        {"filename": filename, "content_type": "text/plain", "size": len(body)},
        content_type="application/json",
    ).json()
    post_to_s3(started["url"], started["fields"], body, content_type="text/plain")
    return started


def test_a_clean_file_is_served_only_once_its_scan_is_clean(
    s3, api, post_to_s3, clamd_scanner, django_capture_on_commit_callbacks
):
    started = upload(api, post_to_s3, b"just some notes")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        completed = api.post(f"/api/uploads/{started['id']}/complete").json()
    assert completed["scan"] == "pending"
    before = api.get(f"/api/uploads/{started['id']}/url")
    assert (before.status_code, before.json()["code"]) == (409, "scan_pending")

    for callback in queued:  # the worker's turn
        callback()

    assert api.get(f"/api/uploads/{started['id']}").json()["scan"] == "clean"
    assert api.get(f"/api/uploads/{started['id']}/url").status_code == 200


def test_eicar_fails_the_upload_as_infected_and_is_never_downloadable(
    s3, api, post_to_s3, clamd_scanner, django_capture_on_commit_callbacks
):
    started = upload(api, post_to_s3, EICAR, filename="eicar.txt")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        api.post(f"/api/uploads/{started['id']}/complete")
    assert api.get(f"/api/uploads/{started['id']}/url").json()["code"] == "scan_pending"
    for callback in queued:
        callback()

    answer = api.get(f"/api/uploads/{started['id']}").json()
    assert (answer["status"], answer["scan"], answer["failure_code"]) == ("failed", "infected", "infected")
    assert SIGNATURE in answer["failure_reason"]
    after = api.get(f"/api/uploads/{started['id']}/url")
    assert (after.status_code, after.json()["code"]) == (409, "infected")
    assert S3Client().head(started["key"]) is None


def test_an_infected_object_moves_under_the_quarantine_prefix_when_one_is_set(
    s3, stored_upload, clamd_scanner, settings
):
    settings.UPLOADS_QUARANTINE_PREFIX = "quarantine"
    infected = stored_upload(EICAR, filename="eicar.txt", content_type="text/plain")
    Upload.objects.filter(pk=infected.pk).update(scan=Scan.PENDING)

    process_upload.apply(args=[str(infected.pk)])

    assert s3.head(infected.key) is None
    assert s3.head(f"quarantine/{infected.key}").size == len(EICAR)


def test_a_scanner_that_is_down_is_retried_then_the_scan_is_error(s3, stored_upload, clamd_scanner, settings):
    settings.UPLOADS_CLAMD_SOCKET = str(clamd_scanner.folder / "nobody-listens.sock")
    settings.UPLOADS_PROCESSING_RETRY_BASE = 0.0
    stored = stored_upload(b"some data", filename="a.txt", content_type="text/plain")
    Upload.objects.filter(pk=stored.pk).update(scan=Scan.PENDING)
    attempts = mock.Mock(wraps=scanner_module.scan_stream)

    with mock.patch.object(scanner_module, "scan_stream", attempts):
        process_upload.apply(args=[str(stored.pk)])  # eager: retries run at once

    stored.refresh_from_db()
    assert attempts.call_count == process_upload.max_retries + 1
    assert (stored.status, stored.scan, stored.processing) == (
        Upload.Status.COMPLETE,
        Scan.ERROR,
        Processing.FAILED,
    )
    assert "ClamAV could not scan" in stored.processing_error


def test_a_scanner_back_after_an_outage_gives_its_verdict_on_retry(
    s3, stored_upload, clamd_scanner, settings
):
    settings.UPLOADS_PROCESSING_RETRY_BASE = 0.0
    stored = stored_upload(b"some data", filename="a.txt", content_type="text/plain")
    Upload.objects.filter(pk=stored.pk).update(scan=Scan.PENDING)
    real, calls = scanner_module.scan_stream, []

    def flaky(stream):
        calls.append(stream)
        if len(calls) == 1:
            raise scanner_module.ScannerUnavailable("ClamAV could not scan the file: down")
        return real(stream)

    with mock.patch.object(scanner_module, "scan_stream", flaky):
        process_upload.apply(args=[str(stored.pk)])

    stored.refresh_from_db()
    assert (len(calls), stored.scan) == (2, Scan.CLEAN)


def test_the_no_javascript_form_path_is_scanned_too(
    s3, client, user, post_to_s3, clamd_scanner, django_capture_on_commit_callbacks
):
    client.force_login(user)
    form = client.get(reverse("uploads:form_upload")).context["form"]
    response = post_to_s3(form.url, form.fields, EICAR, filename="eicar.txt", content_type="text/plain")
    finish = urlparse(response.headers["Location"])

    with django_capture_on_commit_callbacks(execute=True):  # the worker runs eagerly as the finish commits
        client.get(f"{finish.path}?{finish.query}")

    infected = Upload.objects.get()
    assert (infected.status, infected.failure_code, infected.scan) == (
        Upload.Status.FAILED,
        "infected",
        Scan.INFECTED,
    )
    assert S3Client().head(infected.key) is None


def test_staffs_scan_again_after_a_scanner_error_gives_the_verdict(
    s3, client, admin_user, stored_upload, clamd_scanner, django_capture_on_commit_callbacks
):
    errored = stored_upload(b"some data", filename="a.txt", content_type="text/plain")
    Upload.objects.filter(pk=errored.pk).update(scan=Scan.ERROR, processing=Processing.FAILED)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:uploads_upload_changelist"),
            {"action": "scan_again", "_selected_action": [errored.pk]},
        )

    errored.refresh_from_db()
    assert errored.scan == Scan.CLEAN
    page = client.get(reverse("admin:uploads_upload_change", args=[errored.pk])).content.decode()
    assert errored.checksum_sha256 in page


def test_the_page_shows_scanning_and_no_links_until_clean_then_the_link(
    s3, client, user, stored_upload, clamd_scanner, django_capture_on_commit_callbacks
):
    stored = stored_upload(b"notes", filename="notes.txt", content_type="text/plain")
    Upload.objects.filter(pk=stored.pk).update(scan=Scan.PENDING)
    client.force_login(user)
    download = reverse("uploads:download", args=[stored.pk])

    scanning = client.get(reverse("uploads:index")).content.decode()
    assert "Scanning…" in scanning
    assert download not in scanning
    assert reverse("uploads:share", args=[stored.pk]) not in scanning
    assert client.get(download).status_code == 302  # back to the page with the sentence, not to S3
    assert "X-Amz-Signature" not in client.get(download).headers["Location"]

    process_upload.apply(args=[str(stored.pk)])

    clean = client.get(reverse("uploads:index")).content.decode()
    assert "Scanning…" not in clean
    assert download in clean
    assert "X-Amz-Signature" in client.get(download).headers["Location"]


def test_the_page_shows_an_infected_upload_failed_with_the_signature(
    s3, client, user, stored_upload, clamd_scanner
):
    infected = stored_upload(EICAR, filename="eicar.txt", content_type="text/plain")
    Upload.objects.filter(pk=infected.pk).update(scan=Scan.PENDING)
    client.force_login(user)

    process_upload.apply(args=[str(infected.pk)])

    page = client.get(reverse("uploads:index")).content.decode()
    assert f"The file contains malware ({SIGNATURE}" in page
    assert reverse("uploads:download", args=[infected.pk]) not in page


def test_the_page_says_a_file_is_not_scanned_yet_after_a_scanner_error(
    s3, client, user, stored_upload, clamd_scanner
):
    stored = stored_upload(b"notes", filename="notes.txt", content_type="text/plain")
    Upload.objects.filter(pk=stored.pk).update(
        scan=Scan.ERROR, processing=Processing.FAILED, processing_error="ClamAV could not scan the file"
    )
    client.force_login(user)

    page = client.get(reverse("uploads:index")).content.decode()

    assert "Not scanned yet: ClamAV could not scan the file" in page
    assert reverse("uploads:download", args=[stored.pk]) not in page


def test_a_file_over_the_processing_limit_is_still_scanned_and_then_served(
    s3, api, stored_upload, clamd_scanner, settings
):
    settings.UPLOADS_PROCESSING_MAX_SIZE = 8  # metadata and thumbnails only
    stored = stored_upload(b"more than eight bytes", filename="a.txt", content_type="text/plain")
    Upload.objects.filter(pk=stored.pk).update(scan=Scan.PENDING)

    process_upload.apply(args=[str(stored.pk)])

    answer = api.get(f"/api/uploads/{stored.pk}").json()
    assert (answer["scan"], answer["processing"]) == ("clean", "none")
    assert api.get(f"/api/uploads/{stored.pk}/url").status_code == 200


def test_eicar_over_the_processing_limit_is_still_found_infected(s3, stored_upload, clamd_scanner, settings):
    settings.UPLOADS_PROCESSING_MAX_SIZE = 8
    infected = stored_upload(EICAR, filename="eicar.txt", content_type="text/plain")
    Upload.objects.filter(pk=infected.pk).update(scan=Scan.PENDING)

    process_upload.apply(args=[str(infected.pk)])

    infected.refresh_from_db()
    assert (infected.status, infected.scan) == (Upload.Status.FAILED, Scan.INFECTED)


def test_a_thumbnail_refused_after_a_clean_scan_keeps_the_file_clean_and_served(
    s3, api, stored_upload, clamd_scanner
):
    bomb = stored_upload(png_claiming(50_000, 50_000), filename="bomb.png", content_type="image/png")
    Upload.objects.filter(pk=bomb.pk).update(scan=Scan.PENDING)

    process_upload.apply(args=[str(bomb.pk)])

    answer = api.get(f"/api/uploads/{bomb.pk}").json()
    assert (answer["processing"], answer["scan"]) == ("failed", "clean")
    assert api.get(f"/api/uploads/{bomb.pk}/url").status_code == 200
