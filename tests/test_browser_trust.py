# ruff: noqa: F811 (the browser fixtures are imported from test_browser and used as arguments)
"""The page's side of trust, in Chromium under the site's real CSP: each file's SHA-256 computed in
a Web Worker and declared (the whole file's, or each part's for multipart); "Scanning…", then the
verdict."""

import os
import shutil

import pytest

from tests.browser import declared_checksums, part_requests, sign_in
from tests.helpers import sha256
from tests.test_browser import browser_errors, open_context, site  # noqa: F401 (fixtures)
from uploads.models import Upload
from uploads.processing import state
from uploads.processing.tasks import process_upload

from .clamav import EICAR, SIGNATURE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MIB = 1024 * 1024

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="browser tests skipped: no Chromium"),
]

sync_api = pytest.importorskip("playwright.sync_api")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(site, open_context, browser_errors):
    """Under the site's real CSP and configure_bucket's CORS rules (site), watched: any console
    error, CSP violation or failed request fails the test (tests.browser.BrowserErrors)."""
    page = open_context(viewport={"width": 1100, "height": 800})
    page.errors = browser_errors.seen
    return page


def own_errors(page) -> list[str]:
    """Every console error and uncaught exception the page logged: none is expected."""
    return list(page.errors)


@pytest.fixture
def queued(monkeypatch):
    """The worker's turn comes when the test says."""
    sent: list = []
    monkeypatch.setattr(state, "enqueue", sent.append)
    return sent


def upload_in_page(page, live_server, user, path):
    sign_in(page, live_server.url, user)
    page.set_input_files("#file-input", str(path))
    return page.locator("#upload-rows tr.upload-row").filter(has_text=path.name)


def test_the_page_declares_the_sha256_it_computed_in_a_worker(page, live_server, user, tmp_path, queued):
    body = b"notes the user chose\n" * 1000
    path = tmp_path / "notes.txt"
    path.write_bytes(body)

    row = upload_in_page(page, live_server, user, path)

    sync_api.expect(row).to_contain_text("Processing…", timeout=15_000)
    assert Upload.objects.get().declared_sha256 == sha256(body)
    assert own_errors(page) == [], page.errors


def test_the_page_shows_scanning_then_a_download_link_once_clean(
    page, live_server, user, tmp_path, queued, clamd_scanner
):
    path = tmp_path / "clean.txt"
    path.write_bytes(b"nothing to see\n")

    row = upload_in_page(page, live_server, user, path)
    sync_api.expect(row).to_contain_text("Scanning…", timeout=15_000)
    assert row.locator("a[download]").count() == 0

    process_upload.apply(args=[str(queued[0])])

    sync_api.expect(row).not_to_contain_text("Scanning…", timeout=15_000)
    sync_api.expect(row.locator("a[download]")).to_have_count(1)
    assert own_errors(page) == [], page.errors


def test_the_page_shows_an_infected_file_failed_with_the_signature(
    page, live_server, user, tmp_path, queued, clamd_scanner
):
    path = tmp_path / "eicar.txt"
    path.write_bytes(EICAR)

    row = upload_in_page(page, live_server, user, path)
    sync_api.expect(row).to_contain_text("Scanning…", timeout=15_000)
    process_upload.apply(args=[str(queued[0])])

    sync_api.expect(row).to_contain_text(SIGNATURE, timeout=15_000)
    assert row.locator("a[download]").count() == 0


def test_a_multipart_upload_declares_each_parts_sha256_and_the_worker_records_the_whole_files(
    page, live_server, user, tmp_path, queued, settings
):
    settings.UPLOADS_MULTIPART_THRESHOLD = 5 * MIB
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB
    body = os.urandom(26 * MIB)  # five parts of 5 MiB and one of 1: a first batch of 4 URLs, then the rest
    path = tmp_path / "big.bin"
    path.write_bytes(body)
    rounds = part_requests(page)

    row = upload_in_page(page, live_server, user, path)

    sync_api.expect(row).to_contain_text("Processing…", timeout=30_000)
    process_upload.apply(args=[str(queued[0])])
    upload = Upload.objects.get()
    parts = {str(n + 1): sha256(body[n * 5 * MIB : (n + 1) * 5 * MIB]) for n in range(6)}
    declared = declared_checksums(rounds)
    assert declared == upload.declared_part_sha256 == parts
    assert upload.declared_sha256 == ""  # the page declares no whole-file checksum for parts
    assert (upload.status, upload.checksum_sha256) == ("complete", sha256(body))
    assert own_errors(page) == [], page.errors


def test_a_hashed_multipart_upload_signs_its_parts_in_rounds_that_double(
    page, live_server, user, tmp_path, queued, settings
):
    # Each /parts call counts against UPLOADS_RATE_PARTS: rounds of 4, 8, 16, 32 parts keep a GiB
    # to 7 calls where fixed rounds of 4 made 32 (and a fast upload met 429).
    settings.UPLOADS_MULTIPART_THRESHOLD = settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB
    path = tmp_path / "rounds.bin"
    path.write_bytes(os.urandom(61 * MIB))  # 13 parts: rounds of 4, 8, then the last 1
    rounds = part_requests(page)

    row = upload_in_page(page, live_server, user, path)

    sync_api.expect(row).to_contain_text("Processing…", timeout=60_000)
    assert [len(body["part_numbers"]) for body in rounds] == [4, 8, 1]


def test_a_round_of_part_urls_refused_429_is_asked_again_after_its_retry_after(
    page, live_server, user, tmp_path, queued, settings, browser_errors
):
    # One /parts call a second: the page's rounds (4, 8, 1) come faster than that, so the real
    # rate limit refuses some; the page waits the Retry-After each 429 names and asks again.
    settings.UPLOADS_MULTIPART_THRESHOLD = settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    settings.UPLOADS_MAX_FILE_SIZE = 100 * MIB
    settings.UPLOADS_RATE_PARTS = "1/s"
    browser_errors.allow(r"\b429\b.*/parts")  # the refusals under test
    path = tmp_path / "throttled.bin"
    path.write_bytes(os.urandom(61 * MIB))  # 13 parts
    answers: list[int] = []
    page.on("response", lambda r: r.url.endswith("/parts") and answers.append(r.status))

    row = upload_in_page(page, live_server, user, path)

    sync_api.expect(row).to_contain_text("Processing…", timeout=60_000)
    assert 429 in answers
    assert answers.count(200) == 3  # each of the three rounds signed in the end
    assert Upload.objects.get().declared_part_sha256.keys() == {str(n) for n in range(1, 14)}
