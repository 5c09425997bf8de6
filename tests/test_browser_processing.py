# ruff: noqa: F811 (the browser fixtures are imported from test_browser and used as arguments)
"""The page while a photo is processed, in Chromium: "Processing…", then the worker's thumbnail and
the dimensions, brought in by the list's htmx poller without a reload."""

import os
import re
import shutil

import pytest
from PIL import Image

from tests.browser import sign_in
from tests.test_browser import browser_errors, open_context, site  # noqa: F401 (fixtures)
from uploads.processing import state
from uploads.processing.tasks import process_upload

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

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


def test_a_photo_shows_processing_then_its_thumbnail_and_dimensions(
    page, live_server, user, tmp_path, monkeypatch
):
    queued = []
    monkeypatch.setattr(state, "enqueue", queued.append)  # the worker's turn comes when the test says
    photo = tmp_path / "photo.png"
    Image.new("RGB", (640, 480), "teal").save(photo)
    sign_in(page, live_server.url, user)
    page.evaluate("window.sameDocument = true")

    page.set_input_files("#file-input", str(photo))
    row = page.locator("#upload-rows tr.upload-row").filter(has_text="photo.png")
    sync_api.expect(row).to_contain_text("Processing…", timeout=15_000)
    assert row.locator("td.thumb img").count() == 0  # never the full-size original

    [upload_id] = queued
    process_upload.apply(args=[str(upload_id)])

    thumbnail = row.locator("td.thumb img")
    sync_api.expect(thumbnail).to_have_attribute(
        "src", re.compile(r"/_derived/thumbnail\.webp\?"), timeout=15_000
    )
    sync_api.expect(row).to_contain_text("640×480")
    sync_api.expect(thumbnail).to_have_js_property("naturalWidth", 256)  # the WebP loaded, under the CSP
    assert page.evaluate("window.sameDocument") is True
    # Of the console's errors, none about thumbnails. (The page's own CSP reports, a blob: preview
    # and htmx's trigger filter, belong to the page's CSP work, not to processing.)
    assert [error for error in page.errors if "_derived" in error or "webp" in error] == []
