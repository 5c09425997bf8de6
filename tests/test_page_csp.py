# ruff: noqa: F811 (the browser fixtures are imported from test_browser and used as arguments)
"""The page under its real Content-Security-Policy: what the policy must allow (blob: previews,
the store's media and frames), what the page must do without (eval, inline styles), and the
report endpoint that hears about anything refused. Every test here also fails on any console
error or CSP violation (tests/browser.py)."""

import io
import logging
import wave

import pytest

from uploads.models import Upload

from .browser import wait_until
from .test_browser import (  # noqa: F401 (fixtures)
    browser_errors,
    open_context,
    page,
    sign_in,
    site,
    sync_api,
)

pytestmark = pytest.mark.browser

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a7d5f9d20000000049454e44ae426082"
)
PDF = (
    b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def wav(seconds: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))
    return buffer.getvalue()


# --- The report endpoint ----------------------------------------------------------------------


def test_a_csp_violation_reaches_the_report_endpoint_as_one_log_line(
    site, page, user, caplog, browser_errors
):
    browser_errors.allow(r"img-src|elsewhere\.example")  # the violation under test
    sign_in(page, site, user)
    caplog.set_level(logging.WARNING, logger="project.csp")

    # An image from an origin the policy does not name: refused, and reported.
    page.evaluate("() => { const img = new Image(); img.src = 'https://elsewhere.example/x.png'; }")

    wait_until(page, lambda: any("CSP violation" in r.getMessage() for r in caplog.records), "a report")
    [line] = [r.getMessage() for r in caplog.records if r.name == "project.csp"]
    assert "img-src refused https://elsewhere.example/x.png" in line
    assert "\n" not in line


# --- What the policy allows --------------------------------------------------------------------


def test_a_queued_image_is_previewed_from_its_blob_url(site, page, user, s3, tmp_path):
    sign_in(page, site, user)
    page.route(f"{s3.client.meta.endpoint_url}/**", lambda route: None)  # held: the row stays queued
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)

    page.set_input_files("#file-input", str(path))

    preview = page.locator("#transfers .transfer-preview")
    sync_api.expect(preview).to_be_visible()
    wait_until(page, lambda: preview.evaluate("img => img.complete"), "the preview loaded or failed")
    assert preview.evaluate("img => img.naturalWidth") == 1  # drawn: img-src allows blob:


@pytest.mark.parametrize(
    ("filename", "content_type", "body", "element"),
    [
        ("minutes.pdf", "application/pdf", PDF, "iframe"),
        ("notes.txt", "text/plain", b"plain words\n", "iframe"),
        ("tone.wav", "audio/wav", wav(), "audio"),
    ],
)
def test_a_stored_file_is_previewed_from_the_store(
    site, page, user, s3, upload_factory, filename, content_type, body, element
):
    upload_factory(
        owner=user, filename=filename, content_type=content_type, status="complete", size=len(body), body=body
    )
    sign_in(page, site, user)

    page.get_by_role("link", name=f"Preview {filename}").click()

    shown = page.locator(f"#dialog .preview {element}")
    sync_api.expect(shown).to_be_visible()
    if element == "audio":
        # HAVE_METADATA: the store's answer was let through (media-src) and understood.
        wait_until(page, lambda: shown.evaluate("audio => audio.readyState") >= 1, "the audio's metadata")
        assert shown.evaluate("audio => audio.duration") == pytest.approx(0.5, abs=0.05)
    else:
        frame = page.frame_locator(f"#dialog .preview {element}")
        if content_type == "text/plain":
            sync_api.expect(frame.locator("body")).to_contain_text("plain words")
        else:
            # Chromium's PDF viewer (an extension frame inside ours) fetches the document again into
            # a frame of its own (frame-src lets both); it is shown once that frame has loaded. The
            # test ending sooner closed the page on the viewer's fetch (ERR_ABORTED, 1 run in 8).
            def viewers_document():
                return next((f for f in page.frames if _in_pdf_viewer(f) and filename in f.url), None)

            wait_until(page, lambda: viewers_document() is not None, "the PDF viewer's own frame")
            viewers_document().wait_for_load_state("load")
    # The watcher (browser_errors) fails the test on any frame-src or media-src refusal.


def _in_pdf_viewer(frame) -> bool:
    parent = frame.parent_frame
    return parent is not None and parent.url.startswith("chrome-extension://")


# --- What the page does without ------------------------------------------------------------------


def test_an_empty_and_a_too_big_file_chosen_with_a_good_one_upload_it_once(
    site, page, user, tmp_path, settings, browser_errors
):
    settings.UPLOADS_MAX_FILE_SIZE = 1000
    files = {"empty.txt": b"", "big.bin": b"x" * 5000, "good.txt": b"good\n"}
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    sign_in(page, site, user)
    starts = []
    page.on(
        "request",
        lambda r: starts.append(r) if r.method == "POST" and r.url.endswith("/api/uploads") else None,
    )

    page.set_input_files("#file-input", [str(tmp_path / name) for name in files])

    sync_api.expect(page.locator(".transfer[data-state=done]")).to_have_count(1)
    sync_api.expect(page.locator(".transfer[data-state=failed]")).to_have_count(2)
    assert len(starts) == 1
    assert list(Upload.objects.values_list("original_filename", flat=True)) == ["good.txt"]


def test_the_list_polls_only_while_the_tab_is_visible(site, page, user):
    sign_in(page, site, user)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/changes" in r.url else None)
    page.evaluate(
        """() => {
          window.pollsAsked = 0;
          document.body.addEventListener("htmx:confirm", (e) => {
            if (e.target.id === "list-poller") window.pollsAsked += 1;
          });
          Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
        }"""
    )

    # Two ticks of the poll's timer while hidden: neither asks the server.
    wait_until(page, lambda: page.evaluate("window.pollsAsked") >= 2, "two poll ticks")
    assert polls == []

    page.evaluate("() => { delete document.visibilityState; }")  # the tab is back
    wait_until(page, lambda: polls, "a poll once visible")
