"""The page in a real browser: Debian's Chromium driven by Playwright, against Django's live server
and moto's S3 server. Screenshots land in test-artifacts/."""

import os
import re
import time
from pathlib import Path

import pytest
import requests

from tests.browser import BrowserErrors, ServerRequests, sign_in
from tests.helpers import CHROMIUM
from uploads import services
from uploads.bucket import bucket_configure
from uploads.errors import ObjectTypeMismatch, StorageUnavailable
from uploads.models import Upload

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="browser tests skipped: no Chromium (install Debian's chromium: apt-get install -y chromium)",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")
# Playwright's sync API runs an event loop in this thread; Django's ORM calls here are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def site(s3, live_server, user):
    """The live server, with the bucket configured as `manage.py configure_bucket` does for its origin."""
    failed = [part for part in bucket_configure(origins=[live_server.url]) if part.outcome == "failed"]
    assert failed == []
    return live_server.url


@pytest.fixture
def browser_errors():
    """Fails the test on any console error, CSP violation or failed request it did not allow."""
    errors = BrowserErrors()
    yield errors
    assert errors.unexpected() == [], "\n".join(errors.unexpected())


@pytest.fixture
def open_context(chromium, browser_errors):
    """New watched browser contexts (a colour scheme, a viewport, permissions), closed after the
    test, which then waits for the live server to finish what they asked of it."""
    contexts = []

    def make(**options):
        context = chromium.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
        browser_errors.attach(context)
        contexts.append(context)
        return context.new_page()

    with ServerRequests() as requests_running:
        yield make
        for context in contexts:
            context.close()
        assert requests_running.wait_until_idle(), f"{requests_running.running} requests never ended"


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def keep_finished_rows(page) -> None:
    """Finished rows fold into the list after a moment; a test that inspects them keeps them."""
    page.evaluate("document.querySelector('#upload-form').dataset.collapseDelay = '600000'")


@pytest.fixture
def page(open_context):
    return open_context()


def test_upload_two_files_watch_progress_download_and_delete(site, page, user, tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.bin"
    first.write_bytes(b"first file\n" * 1000)
    second.write_bytes(os.urandom(300_000))
    sign_in(page, site, user)
    page.evaluate("window.sameDocument = true")  # survives only if the page never reloads
    keep_finished_rows(page)

    page.set_input_files("#file-input", [str(first), str(second)])

    transfers = page.locator("#transfers .transfer")
    sync_api.expect(transfers).to_have_count(2)
    sizes = {"first.txt": first.stat().st_size, "second.bin": second.stat().st_size}
    for transfer in transfers.all():
        sync_api.expect(transfer).to_have_attribute("data-state", "done", timeout=15_000)
        # From the progress events, not the bar: the uploader sets the bar to 100 once complete anyway.
        name = transfer.locator(".transfer-name").inner_text()
        assert transfer.get_attribute("data-sent") == str(sizes[name])
    rows = page.locator("#upload-rows tr.upload-row")
    sync_api.expect(rows).to_have_count(2, timeout=10_000)
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("first.txt")
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("second.bin")
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "uploaded-two-files")

    href = page.get_by_role("link", name="second.bin", exact=True).get_attribute("href")
    downloaded = page.request.get(f"{site}{href}")
    assert downloaded.body() == second.read_bytes()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete first.txt").click()
    sync_api.expect(rows).to_have_count(1)
    assert list(Upload.objects.values_list("original_filename", flat=True)) == ["second.bin"]
    screenshot(page, "after-delete")
    page.set_viewport_size({"width": 390, "height": 800})
    screenshot(page, "phone-width")


def test_a_file_dropped_anywhere_on_the_page_is_uploaded(site, page, user):
    sign_in(page, site, user)
    files = page.evaluate_handle(
        "() => { const dt = new DataTransfer();"
        " dt.items.add(new File(['hello'], 'dropped.txt', {type: 'text/plain'})); return dt; }"
    )

    # The body, not the form: a drop outside the form must not be lost to the browser.
    page.dispatch_event("body", "drop", {"dataTransfer": files})

    sync_api.expect(page.locator("#transfers .transfer")).to_have_attribute("data-state", "done")
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("dropped.txt")


def test_the_upload_card_lights_up_while_files_are_dragged_over_the_page(site, page, user):
    sign_in(page, site, user)
    files = page.evaluate_handle(
        "() => { const dt = new DataTransfer(); dt.items.add(new File(['x'], 'a.txt')); return dt; }"
    )

    page.dispatch_event("#list-heading", "dragenter", {"dataTransfer": files})
    sync_api.expect(page.locator("#upload-card")).to_have_class(re.compile(r"\bdragging\b"))
    page.dispatch_event("#list-heading", "dragleave", {"dataTransfer": files})

    # Leaving the last element it entered means the drag left the page.
    sync_api.expect(page.locator("#upload-card")).not_to_have_class(re.compile(r"\bdragging\b"))


def test_a_failed_delete_keeps_the_row_and_shows_why(
    site, s3_down, page, user, upload_factory, browser_errors
):
    # The page itself needs no store: it signs links locally.
    browser_errors.allow(r"\b503\b.*/delete/")  # the outage under test: htmx swaps its 503 into #messages
    upload_factory(owner=user, filename="stuck.txt", status=Upload.Status.COMPLETE)
    sign_in(page, site, user)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete stuck.txt").click()

    sync_api.expect(page.locator("#messages")).to_contain_text("could not be reached")
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("stuck.txt")
    assert Upload.objects.filter(original_filename="stuck.txt").exists()


def test_a_file_over_the_limit_shows_a_message_and_leaves_no_record(site, page, user, tmp_path, settings):
    settings.UPLOADS_MAX_FILE_SIZE = 1000
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    sign_in(page, site, user)

    page.set_input_files("#file-input", str(big))

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "failed")
    sync_api.expect(transfer).to_contain_text("at most")
    sync_api.expect(page.locator("#announcer")).to_contain_text("big.bin")
    assert not Upload.objects.filter(status=Upload.Status.COMPLETE).exists()
    screenshot(page, "too-large")


def test_the_server_refusal_is_shown_when_the_limit_fell_after_the_page_loaded(
    site, page, user, tmp_path, settings, browser_errors
):
    browser_errors.allow(r"\b413\b.*/api/uploads")  # the refusal under test
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    sign_in(page, site, user)
    # The page's pre-check still allows the file; the in-process live server does not.
    settings.UPLOADS_MAX_FILE_SIZE = 1000

    page.set_input_files("#file-input", str(big))

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "failed")
    sync_api.expect(transfer).to_contain_text("The file is 5000 bytes; at most 1000 are allowed.")
    assert not Upload.objects.exists()


def test_the_server_refusal_is_shown_when_the_type_is_not_allowed(
    site, page, user, tmp_path, settings, browser_errors
):
    browser_errors.allow(r"\b415\b.*/api/uploads")  # the refusal under test
    settings.UPLOADS_ALLOWED_CONTENT_TYPES = ["image/*"]
    doc = tmp_path / "notes.txt"
    doc.write_text("text")
    sign_in(page, site, user)

    page.set_input_files("#file-input", str(doc))

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "failed")
    sync_api.expect(transfer).to_contain_text("not accepted")
    assert not Upload.objects.exists()


def test_an_upload_from_elsewhere_appears_without_a_reload(site, page, user, s3, upload_factory):
    sign_in(page, site, user)
    page.evaluate("window.sameDocument = true")

    upload_factory(owner=user, filename="from-the-api.txt", status=Upload.Status.COMPLETE)

    sync_api.expect(page.locator("#upload-rows")).to_contain_text("from-the-api.txt", timeout=12_000)
    assert page.evaluate("window.sameDocument") is True


def test_without_javascript_the_form_uploads_one_file(site, open_context, user, tmp_path):
    page = open_context(java_script_enabled=False)
    context = page.context
    body = b"uploaded without javascript\n"
    path = tmp_path / "plain.txt"
    path.write_bytes(body)
    sign_in(page, site, user)

    page.get_by_role("link", name="Upload a file").click()  # the form is signed on a page of its own
    page.set_input_files("#file-input", str(path))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(f"{site}/")

    sync_api.expect(page.locator(".message-success")).to_contain_text("Uploaded plain.txt")
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("plain.txt")
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.COMPLETE
    href = page.get_by_role("link", name="plain.txt", exact=True).get_attribute("href")
    assert (
        requests.get(f"{site}{href}", cookies={c["name"]: c["value"] for c in context.cookies()}).content
        == body
    )
    screenshot(page, "no-javascript")


@pytest.fixture
def requests_sent(page):
    """Every request the page sends, as (method, url)."""
    sent = []
    page.on("request", lambda request: sent.append((request.method, request.url)))
    return sent


def refuse_then(original, refusals: int):
    """A stand-in for services.upload_complete that answers 503 the first `refusals` times."""
    calls = []

    def complete(*, upload, **declared):
        calls.append(upload.pk)
        if len(calls) <= refusals:
            raise StorageUnavailable("Storage could not be reached to check the file.")
        return original(upload=upload, **declared)

    return complete


def upload_with_quick_retries(page, path) -> None:
    page.evaluate("document.querySelector('#upload-form').dataset.retryDelays = '50,100,200'")
    page.set_input_files("#file-input", str(path))


def test_a_complete_that_fails_once_is_retried_and_the_upload_completes(
    site, page, user, tmp_path, monkeypatch, browser_errors
):
    browser_errors.allow(r"\b503\b.*/complete")  # the outage under test
    path = tmp_path / "retried.txt"
    path.write_text("checked on the second try")
    sign_in(page, site, user)
    # The live server runs in this process, so the patch reaches the API.
    monkeypatch.setattr(services, "upload_complete", refuse_then(services.upload_complete, refusals=1))

    upload_with_quick_retries(page, path)

    sync_api.expect(page.locator("#transfers .transfer")).to_have_attribute("data-state", "done")
    assert Upload.objects.get().status == Upload.Status.COMPLETE


def test_a_complete_that_keeps_failing_leaves_the_upload_pending_and_its_file_stored(
    site, page, user, tmp_path, monkeypatch, s3, requests_sent, browser_errors
):
    browser_errors.allow(r"\b503\b.*/complete")  # the outage under test
    path = tmp_path / "unchecked.txt"
    path.write_text("stored, never checked")
    sign_in(page, site, user)
    monkeypatch.setattr(services, "upload_complete", refuse_then(services.upload_complete, refusals=99))

    upload_with_quick_retries(page, path)

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "pending")
    sync_api.expect(transfer).to_contain_text("it will be checked again later")
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.PENDING
    assert s3.head(upload.key) is not None
    assert len([url for method, url in requests_sent if url.endswith("/complete")]) == 4  # 1 + 3 retries
    assert [url for method, url in requests_sent if method == "DELETE"] == []
    screenshot(page, "unchecked")


def test_a_file_the_server_refuses_on_complete_shows_why_and_stays_failed(
    site, page, user, tmp_path, monkeypatch, requests_sent, browser_errors
):
    browser_errors.allow(r"\b409\b.*/complete")  # the refusal under test
    path = tmp_path / "mismatch.txt"
    path.write_text("not what was signed")
    sign_in(page, site, user)

    def refuse(*, upload, **declared):
        services.upload_fail(upload=upload)  # what upload_complete does with an invalid object
        raise ObjectTypeMismatch("The stored file is image/png, not text/plain.")

    monkeypatch.setattr(services, "upload_complete", refuse)
    page.set_input_files("#file-input", str(path))

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "failed")
    sync_api.expect(transfer).to_contain_text("The stored file is image/png, not text/plain.")
    # The same bytes would be refused again: no Retry is offered.
    sync_api.expect(page.get_by_role("button", name="Remove mismatch.txt from the queue")).to_be_visible()
    sync_api.expect(page.get_by_role("button", name="Retry mismatch.txt")).to_be_hidden()
    assert Upload.objects.get().status == Upload.Status.FAILED
    assert [url for method, url in requests_sent if method == "DELETE"] == []


def test_cancel_while_the_server_signs_deletes_the_record(
    site, page, user, tmp_path, monkeypatch, requests_sent
):
    path = tmp_path / "cancelled.txt"
    path.write_text("never sent")
    sign_in(page, site, user)
    upload_start = services.upload_start

    def slow_start(**kwargs):
        time.sleep(1)  # time to press Cancel while the server signs
        return upload_start(**kwargs)

    monkeypatch.setattr(services, "upload_start", slow_start)
    page.set_input_files("#file-input", str(path))
    page.get_by_role("button", name="Cancel cancelled.txt").click()

    sync_api.expect(page.locator("#transfers .transfer")).to_have_attribute("data-state", "cancelled")
    assert len([url for method, url in requests_sent if method == "DELETE"]) == 1
    assert not Upload.objects.exists()


def test_a_file_the_store_refuses_leaves_no_record(
    site, page, user, tmp_path, s3, requests_sent, browser_errors
):
    browser_errors.allow(r"\b403\b.*/test-uploads/")  # the store's refusal under test
    path = tmp_path / "refused.txt"
    path.write_text("refused by the store")
    sign_in(page, site, user)
    refusal = "<Error><Code>AccessDenied</Code><Message>Policy check failed</Message></Error>"
    page.route(
        f"{s3.client.meta.endpoint_url}/**",
        lambda route: route.fulfill(
            status=403,
            body=refusal,
            headers={"Access-Control-Allow-Origin": site, "Content-Type": "application/xml"},
        ),
    )

    page.set_input_files("#file-input", str(path))

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "failed")
    sync_api.expect(transfer).to_contain_text("Storage refused the file")
    assert len([url for method, url in requests_sent if method == "DELETE"]) == 1
    assert not Upload.objects.exists()
