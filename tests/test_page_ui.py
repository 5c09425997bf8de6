# ruff: noqa: F811 (the browser fixtures are imported from test_browser and used as arguments)
"""The page as people use it, in Chromium: the queue, the list's tools, the keyboard alone, and
axe-core's accessibility rules in light and dark. Screenshots land in test-artifacts/."""

import contextlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from uploads.models import Upload

from .test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    browser_errors,
    keep_finished_rows,
    open_context,
    page,
    sign_in,
    site,
    sync_api,
)

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a7d5f9d20000000049454e44ae426082"
)


def assert_no_axe_violations(page) -> None:
    """axe-core in an isolated world of its own (as an extension's content script runs): it reads
    the page's DOM, but nothing is injected into the page, whose CSP stays whole."""
    cdp = page.context.new_cdp_session(page)
    frame = cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
    world = cdp.send("Page.createIsolatedWorld", {"frameId": frame, "worldName": "axe"})["executionContextId"]
    cdp.send("Runtime.evaluate", {"expression": AXE.read_text(), "contextId": world})
    results = cdp.send(
        "Runtime.evaluate",
        {
            "expression": "axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations)",
            "contextId": world,
            "awaitPromise": True,
            "returnByValue": True,
        },
    )
    cdp.detach()
    assert "exceptionDetails" not in results, results
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["result"]["value"]
    ]
    assert found == [], "\n".join(found)


def check_and_capture(page, name: str, scheme: str) -> None:
    """axe at 1280×800 and at 390×844, with a full-page screenshot at each."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, viewport in (("1280x800", WIDE), ("390x844", PHONE)):
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}-{scheme}.png"), full_page=True)


def hold_storage(page, s3) -> list:
    """Hold every request to the store until released: uploads stay mid-way."""
    held = []
    page.route(f"{s3.client.meta.endpoint_url}/**", lambda route: held.append(route))
    return held


def release_storage(page, s3, held: list) -> None:
    page.unroute(f"{s3.client.meta.endpoint_url}/**")
    for route in held:
        with contextlib.suppress(Exception):  # an aborted request: its route is gone
            route.continue_()


def new_file(tmp_path, name: str, body: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(body)
    return str(path)


# --- Accessibility: axe-core on every page state, light and dark --------------------------------

SCHEMES = ["light", "dark"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_login_page_has_no_accessibility_violations(site, open_context, scheme):
    page = open_context(color_scheme=scheme)
    page.goto(f"{site}/accounts/login/")

    check_and_capture(page, "login", scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_no_javascript_form_page_has_no_accessibility_violations(site, open_context, user, scheme):
    page = open_context(color_scheme=scheme)
    sign_in(page, site, user)
    page.goto(f"{site}/uploads/new/")

    sync_api.expect(page.get_by_role("button", name="Upload", exact=True)).to_be_visible()
    check_and_capture(page, "form-upload", scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_empty_page_has_no_accessibility_violations(site, open_context, user, scheme):
    page = open_context(color_scheme=scheme)
    sign_in(page, site, user)

    sync_api.expect(page.locator(".empty")).to_contain_text("No files yet")
    check_and_capture(page, "empty", scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_page_mid_upload_has_no_accessibility_violations(
    site, open_context, user, s3, tmp_path, settings, scheme
):
    settings.UPLOADS_MAX_FILE_SIZE = 100_000
    page = open_context(color_scheme=scheme)
    sign_in(page, site, user)
    held = hold_storage(page, s3)
    files = [
        new_file(tmp_path, "holiday.png", PNG),
        new_file(tmp_path, "minutes.pdf", b"%PDF-1.7\n" * 500),
        new_file(tmp_path, "too-big.zip", b"x" * 200_000),
    ]

    page.set_input_files("#file-input", files)

    sync_api.expect(page.locator(".transfer[data-state=sending]")).to_have_count(2)
    sync_api.expect(page.locator(".transfer[data-state=failed]")).to_have_count(1)
    check_and_capture(page, "mid-upload", scheme)
    release_storage(page, s3, held)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_list_with_rows_has_no_accessibility_violations(
    site, open_context, user, s3, upload_factory, scheme
):
    upload_factory(
        owner=user, filename="cat.png", content_type="image/png", status="complete", size=68, body=PNG
    )
    upload_factory(owner=user, filename="report.pdf", status="complete", size=120_000)
    upload_factory(owner=user, filename="notes.txt", content_type="text/plain")  # pending
    upload_factory(owner=user, filename="broken.zip", content_type="application/zip", status="failed")
    upload_factory(owner=user, filename="old.mov", content_type="video/quicktime", status="deleting")
    page = open_context(color_scheme=scheme)
    sign_in(page, site, user)
    page.get_by_role("checkbox", name="Select report.pdf").check()

    check_and_capture(page, "list", scheme)
    page.set_viewport_size(WIDE)
    page.get_by_role("link", name="Share report.pdf").click()
    sync_api.expect(page.locator("#dialog")).to_be_visible()
    check_and_capture(page, "share-dialog", scheme)


# --- Keyboard alone ---------------------------------------------------------------------------


def tab_to(page, locator, limit: int = 60) -> None:
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def test_the_keyboard_alone_chooses_uploads_cancels_retries_shares_and_deletes(
    site, open_context, user, s3, tmp_path, browser_errors
):
    browser_errors.allow(r"ERR_ABORTED")  # Cancel aborts the held request to the store
    page = open_context(permissions=["clipboard-read", "clipboard-write"])
    # Playwright turns file-chooser interception on when a listener is added, without waiting for
    # it: added only inside expect_file_chooser, a loaded machine let Space open the native dialog
    # first, and no event came (the 30 s timeout seen in CI).
    page.on("filechooser", lambda chooser: None)
    sign_in(page, site, user)
    held = hold_storage(page, s3)
    # The page's own state, not time: the uploader has taken the form over (it marks <html>).
    sync_api.expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))

    # Choose (the upload starts at once).
    tab_to(page, page.locator("#file-input"))
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(new_file(tmp_path, "keys.txt", b"typed, not clicked\n"))
    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "sending")

    # Cancel, then Retry (a fresh policy), which has the focus once cancelled.
    tab_to(page, page.get_by_role("button", name="Cancel keys.txt"))
    page.keyboard.press("Enter")
    sync_api.expect(transfer).to_have_attribute("data-state", "cancelled")
    sync_api.expect(page.get_by_role("button", name="Retry keys.txt")).to_be_focused()
    release_storage(page, s3, held)
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("keys.txt")

    # Share: the dialog, a lifetime, the link (copied), Escape back to the row.
    share = page.get_by_role("link", name="Share keys.txt")
    tab_to(page, share)
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#dialog")).to_be_visible()
    sync_api.expect(page.get_by_label("1 hour")).to_be_focused()
    tab_to(page, page.get_by_role("button", name="Create link"))
    page.keyboard.press("Enter")
    link = page.locator("#share-url")
    sync_api.expect(page.locator("#copy-status")).to_contain_text("copied")
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
    page.keyboard.press("Escape")
    sync_api.expect(share).to_be_focused()

    # Delete, after the browser's confirm.
    page.once("dialog", lambda dialog: dialog.accept())
    tab_to(page, page.get_by_role("button", name="Delete keys.txt"))
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#upload-rows")).to_have_count(0)
    assert not Upload.objects.exists()


# --- The queue --------------------------------------------------------------------------------


def test_the_queue_counts_files_and_cancel_all_stops_them(site, page, user, s3, tmp_path, browser_errors):
    browser_errors.allow(r"ERR_ABORTED")  # Cancel all aborts the held requests
    sign_in(page, site, user)
    held = hold_storage(page, s3)

    page.set_input_files("#file-input", [new_file(tmp_path, f"{n}.txt", b"x" * 1000) for n in "abc"])

    sync_api.expect(page.locator("#queue-title")).to_have_text("Uploading 1 of 3")
    page.get_by_role("button", name="Cancel all").click()
    sync_api.expect(page.locator(".transfer[data-state=cancelled]")).to_have_count(3)
    sync_api.expect(page.locator("#queue-title")).to_have_text("0 of 3 uploaded")
    # Cancelled by choice: not counted among the files that did not upload.
    sync_api.expect(page.locator("#queue-stats")).to_have_text("3 cancelled.")
    release_storage(page, s3, held)


def test_a_finished_row_folds_into_the_list(site, page, user, tmp_path):
    sign_in(page, site, user)

    page.set_input_files("#file-input", new_file(tmp_path, "folded.txt", b"done\n"))

    sync_api.expect(page.locator("#upload-rows")).to_contain_text("folded.txt")
    sync_api.expect(page.locator("#transfers .transfer")).to_have_count(0)
    sync_api.expect(page.locator("#queue")).to_be_hidden()


def test_an_image_is_previewed_from_the_local_file_before_it_is_sent(site, page, user, s3, tmp_path):
    sign_in(page, site, user)
    held = hold_storage(page, s3)

    page.set_input_files("#file-input", new_file(tmp_path, "dot.png", PNG))

    preview = page.locator("#transfers .transfer-preview")
    sync_api.expect(preview).to_be_visible()
    assert preview.get_attribute("src").startswith("blob:")
    release_storage(page, s3, held)


def test_a_slow_upload_shows_bytes_speed_and_time_left(site, page, user, tmp_path):
    sign_in(page, site, user)
    keep_finished_rows(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 256 * 1024},
    )

    page.set_input_files("#file-input", new_file(tmp_path, "slow.bin", b"s" * 1_500_000))

    status = page.locator("#transfers .transfer-status")
    sync_api.expect(status).to_contain_text(
        re.compile(r"of 1\.4 MiB · [\d.]+ KiB/s · .+ left"), timeout=10_000
    )
    sync_api.expect(page.locator("#queue-stats")).to_contain_text(re.compile(r"KiB/s · .+ left"))
    sync_api.expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")
    sync_api.expect(status).to_contain_text("Uploaded", timeout=20_000)


def test_a_network_error_suggests_the_buckets_cors_rules_and_retry_asks_a_fresh_policy(
    site, page, user, s3, tmp_path, browser_errors
):
    browser_errors.allow(r"ERR_FAILED")  # the network error under test
    sign_in(page, site, user)
    keep_finished_rows(page)
    starts = []
    page.on(
        "request",
        lambda r: starts.append(r.url) if r.method == "POST" and r.url.endswith("/api/uploads") else None,
    )
    page.route(f"{s3.client.meta.endpoint_url}/**", lambda route: route.abort("failed"))

    page.set_input_files("#file-input", new_file(tmp_path, "blocked.txt", b"blocked\n"))

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "failed")
    sync_api.expect(transfer).to_contain_text("CORS rules")
    screenshot_path = ARTIFACTS / "network-error.png"
    page.screenshot(path=str(screenshot_path))
    page.unroute(f"{s3.client.meta.endpoint_url}/**")
    page.get_by_role("button", name="Retry blocked.txt").click()
    sync_api.expect(transfer).to_have_attribute("data-state", "done")
    assert len(starts) == 2


def test_retry_after_a_network_error_replaces_the_earlier_record_instead_of_adding_a_row(
    site, page, user, s3, tmp_path, browser_errors
):
    browser_errors.allow(r"ERR_FAILED")  # the network error the test causes
    sign_in(page, site, user)
    keep_finished_rows(page)
    page.route(f"{s3.client.meta.endpoint_url}/**", lambda route: route.abort("failed"))
    page.set_input_files("#file-input", new_file(tmp_path, "again.txt", b"again\n"))
    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "failed")
    page.unroute(f"{s3.client.meta.endpoint_url}/**")

    page.get_by_role("button", name="Retry again.txt").click()

    sync_api.expect(transfer).to_have_attribute("data-state", "done")
    sync_api.expect(page.locator("#upload-rows tr.upload-row")).to_have_count(1)
    assert list(Upload.objects.values_list("original_filename", "status")) == [("again.txt", "complete")]


def test_a_multipart_upload_this_tab_is_still_sending_shows_uploading_in_the_list(
    site, page, user, s3, tmp_path, settings
):
    settings.UPLOADS_MULTIPART_THRESHOLD = settings.UPLOADS_MULTIPART_PART_SIZE = 5 * 1024 * 1024
    sign_in(page, site, user)
    held = hold_storage(page, s3)
    page.set_input_files("#file-input", new_file(tmp_path, "big.bin", b"x" * (11 * 1024 * 1024)))
    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-upload-id", re.compile(".+"))

    page.evaluate("htmx.trigger(document.body, 'uploads-changed')")  # the list refreshes meanwhile

    row = page.locator("#upload-rows tr.upload-row")
    sync_api.expect(row.locator(".badge")).to_have_text("Uploading")
    sync_api.expect(row).not_to_contain_text("Resume")
    release_storage(page, s3, held)
    sync_api.expect(transfer).to_have_attribute("data-state", "done", timeout=30_000)


def test_the_usage_line_updates_after_an_upload_without_a_reload(site, page, user, tmp_path, settings):
    settings.UPLOADS_QUOTA_BYTES = 10 * 1024 * 1024
    sign_in(page, site, user)
    sync_api.expect(page.locator("#usage")).to_contain_text("0 bytes of 10.0 MiB used.")

    page.set_input_files("#file-input", new_file(tmp_path, "two.bin", b"x" * 2048))

    sync_api.expect(page.locator("#usage")).to_contain_text("2.0 KiB of 10.0 MiB used.")


def test_remove_takes_a_failed_row_off_the_queue(site, page, user, tmp_path, settings):
    settings.UPLOADS_MAX_FILE_SIZE = 10
    sign_in(page, site, user)

    page.set_input_files("#file-input", new_file(tmp_path, "large.txt", b"x" * 100))
    page.get_by_role("button", name="Remove large.txt from the queue").click()

    sync_api.expect(page.locator("#transfers .transfer")).to_have_count(0)
    sync_api.expect(page.locator("#file-input")).to_be_focused()


# --- The list ---------------------------------------------------------------------------------


def test_searching_swaps_the_list_and_puts_the_filters_in_the_address(site, page, user, upload_factory):
    upload_factory(owner=user, filename="holiday.png", content_type="image/png", status="complete", body=PNG)
    upload_factory(owner=user, filename="taxes.pdf", status="complete")
    sign_in(page, site, user)
    page.evaluate("window.sameDocument = true")

    page.get_by_label("Search by name").fill("holi")

    sync_api.expect(page.locator("#upload-rows tr.upload-row")).to_have_count(1)
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("holiday.png")
    sync_api.expect(page).to_have_url(re.compile(r"q=holi"))
    assert page.evaluate("window.sameDocument") is True


def test_filter_and_sort_choices_reorder_the_list(site, page, user, upload_factory):
    upload_factory(
        owner=user, filename="b.png", content_type="image/png", status="complete", size=5, body=PNG
    )
    upload_factory(
        owner=user, filename="a.png", content_type="image/png", status="complete", size=9, body=PNG
    )
    upload_factory(owner=user, filename="c.pdf", status="complete", size=7)
    sign_in(page, site, user)

    page.get_by_label("Type").select_option("image")
    page.get_by_label("Sort by").select_option("name")

    names = page.locator("#upload-rows .name a")
    sync_api.expect(names).to_have_text(["a.png", "b.png"])


def test_selected_rows_are_deleted_at_once_after_one_confirmation(site, page, user, s3, upload_factory):
    kept = upload_factory(owner=user, filename="kept.txt", status="complete", body=b"k")
    gone = [
        upload_factory(owner=user, filename=f"gone-{n}.txt", status="complete", body=b"g") for n in range(2)
    ]
    sign_in(page, site, user)
    confirms = []
    page.on("dialog", lambda dialog: (confirms.append(dialog.message), dialog.accept()))

    for upload in gone:
        page.get_by_role("checkbox", name=f"Select {upload.original_filename}").check()
    page.get_by_role("button", name="Delete 2 selected").click()

    sync_api.expect(page.locator("#messages")).to_contain_text("Deleted 2 files.")
    sync_api.expect(page.locator("#upload-rows tr.upload-row")).to_have_count(1)
    assert confirms == ["Delete 2 files? This cannot be undone."]
    assert list(Upload.objects.values_list("pk", flat=True)) == [kept.pk]
    assert all(s3.head(upload.key) is None for upload in gone)


def test_preview_opens_an_image_in_a_dialog_and_escape_closes_it(site, page, user, upload_factory):
    upload_factory(owner=user, filename="cat.png", content_type="image/png", status="complete", body=PNG)
    sign_in(page, site, user)

    page.get_by_role("link", name="Preview cat.png").click()

    image = page.locator("#dialog .preview img")
    sync_api.expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 1
    page.keyboard.press("Escape")
    sync_api.expect(page.locator("#dialog")).to_be_hidden()


def test_there_is_no_preview_for_a_type_not_safe_inline(site, page, user, upload_factory):
    upload_factory(owner=user, filename="page.html", content_type="text/html", status="complete")
    sign_in(page, site, user)

    sync_api.expect(page.get_by_role("link", name="Share page.html")).to_be_visible()
    sync_api.expect(page.get_by_role("link", name="Preview page.html")).to_have_count(0)


def test_a_share_link_for_a_type_not_safe_inline_downloads(site, page, user, upload_factory):
    upload_factory(
        owner=user, filename="a.zip", content_type="application/zip", status="complete", body=b"PK"
    )
    sign_in(page, site, user)

    page.get_by_role("link", name="Share a.zip").click()
    page.get_by_label("1 day").check()
    page.get_by_role("button", name="Create link").click()

    url = page.locator("#share-url").input_value()
    assert parse_qs(urlparse(url).query)["X-Amz-Expires"] == ["86400"]
    assert requests.get(url, timeout=10).headers["Content-Disposition"].startswith("attachment")


# --- Without JavaScript -----------------------------------------------------------------------


@pytest.fixture
def plain_page(open_context):
    return open_context(java_script_enabled=False)


def test_without_javascript_search_filter_and_sort_are_a_plain_form(site, plain_page, user, upload_factory):
    upload_factory(owner=user, filename="zeta.txt", content_type="text/plain", status="complete")
    upload_factory(owner=user, filename="alpha.txt", content_type="text/plain", status="complete")
    upload_factory(owner=user, filename="photo.png", content_type="image/png", status="complete", body=PNG)
    sign_in(plain_page, site, user)

    plain_page.get_by_label("Search by name").fill("a")
    plain_page.get_by_label("Type").select_option("document")
    plain_page.get_by_label("Sort by").select_option("name")
    plain_page.get_by_role("button", name="Apply").click()

    assert "q=a" in plain_page.url
    assert "sort=name" in plain_page.url
    sync_api.expect(plain_page.locator("#upload-rows .name a")).to_have_text(["alpha.txt", "zeta.txt"])


def test_without_javascript_bulk_delete_asks_on_a_page_first(site, plain_page, user, s3, upload_factory):
    upload = upload_factory(owner=user, filename="plain.txt", status="complete", body=b"p")
    sign_in(plain_page, site, user)

    plain_page.get_by_role("checkbox", name="Select plain.txt").check()
    plain_page.get_by_role("button", name="Delete selected").click()
    sync_api.expect(plain_page.get_by_role("heading")).to_have_text("Delete 1 file?")
    plain_page.get_by_role("button", name="Delete").click()

    sync_api.expect(plain_page.locator(".message-success")).to_contain_text("Deleted 1 file.")
    assert not Upload.objects.exists()
    assert s3.head(upload.key) is None


def test_without_javascript_share_is_a_page_with_a_form(site, plain_page, user, upload_factory):
    upload_factory(owner=user, filename="pic.png", content_type="image/png", status="complete", body=PNG)
    sign_in(plain_page, site, user)

    plain_page.get_by_role("link", name="Share pic.png").click()
    plain_page.get_by_role("button", name="Create link").click()

    url = plain_page.locator("#share-url").input_value()
    assert requests.get(url, timeout=10).content == PNG
    sync_api.expect(plain_page.get_by_role("link", name="Back to your files")).to_be_visible()


def test_without_javascript_preview_is_a_page(site, plain_page, user, upload_factory):
    upload_factory(owner=user, filename="pic.png", content_type="image/png", status="complete", body=PNG)
    sign_in(plain_page, site, user)

    plain_page.get_by_role("link", name="Preview pic.png").click()

    sync_api.expect(plain_page.get_by_role("img", name="pic.png")).to_be_visible()
