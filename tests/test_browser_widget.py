# ruff: noqa: F811 (the browser fixtures imported from test_browser, used as arguments)
"""UploadField's widget in a real browser: Debian's Chromium against the live server and moto's S3,
under the site's own Content-Security-Policy and the CORS rules configure_bucket sets (nothing
bypassed). Every test fails on a console error, a CSP violation or a failed request it did not cause
on purpose (tests.browser.BrowserErrors). The admin's add and change forms, the example's own form without
JavaScript, and a multipart upload through the widget."""

import os
import time
from pathlib import Path

import pytest
import requests

from project.examples.models import Document
from tests.browser import declared_checksums, part_requests
from tests.helpers import sha256
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    browser_errors,
    open_context,
    screenshot,
    site,
)
from uploads import services
from uploads.field_signing import sign_value
from uploads.models import Upload

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="browser tests skipped: no Chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

MIB = 1024 * 1024


@pytest.fixture
def page(open_context):
    return open_context(viewport={"width": 1100, "height": 900})


@pytest.fixture
def plain_page(open_context):
    """A browser with JavaScript off."""
    return open_context(viewport={"width": 1100, "height": 900}, java_script_enabled=False)


def eventually(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def sign_in(page, site, user) -> None:
    """Straight to the example's pages (the uploads page is another test file's business)."""
    page.goto(f"{site}/accounts/login/?next=/examples/documents/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/examples/documents/")


def admin_sign_in(page, site, admin_user) -> None:
    page.goto(f"{site}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/admin/")


@pytest.fixture
def slow_start(monkeypatch):
    """The server takes a few seconds to sign: time to press Save or Cancel mid-upload."""
    upload_start = services.upload_start

    def slow(**kwargs):
        time.sleep(2)
        return upload_start(**kwargs)

    monkeypatch.setattr(services, "upload_start", slow)


def a_file(tmp_path, name: str, body: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def upload_through_the_widget(page, path: Path) -> None:
    widget = page.locator("[data-direct-upload]")
    page.set_input_files("#id_file", str(path))
    expect(widget).to_have_attribute("data-state", "done", timeout=30_000)
    # From the progress events, not the bar: the bar is set to 100 once complete anyway.
    assert widget.get_attribute("data-sent") == str(path.stat().st_size)
    expect(widget.locator("progress")).to_have_attribute("value", "100")
    expect(widget.locator("[data-upload-status]")).to_contain_text(f"Uploaded {path.name}")


def complete_upload(owner, upload_factory, name="old.txt") -> Upload:
    return upload_factory(
        owner=owner,
        filename=name,
        content_type="text/plain",
        status="complete",
        body=b"old file\n",
        size=9,
        for_field="examples.Document.file",
    )


def test_the_admin_add_form_uploads_with_progress_saves_and_shows_the_file(site, page, admin_user, tmp_path):
    path = a_file(tmp_path, "report.txt", b"a line of the report\n" * 20_000)
    admin_sign_in(page, site, admin_user)
    page.goto(f"{site}/admin/examples/document/add/")
    page.get_by_label("Title").fill("Quarterly report")
    page.select_option("#id_owner", label=admin_user.username)

    upload_through_the_widget(page, path)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    document = Document.objects.select_related("file").get()
    assert document.file.status == Upload.Status.COMPLETE
    assert document.file.owner == admin_user
    page.locator("#result_list").get_by_role("link", name="Quarterly report").click()
    link = page.locator("[data-direct-upload] a[data-upload-name]")
    expect(link).to_have_text("report.txt")
    assert requests.get(link.get_attribute("href"), timeout=10).content == path.read_bytes()
    screenshot(page, "admin-upload-field")


def test_the_admin_change_form_replaces_the_file(site, page, admin_user, upload_factory, tmp_path):
    old = complete_upload(admin_user, upload_factory)
    document = Document.objects.create(owner=admin_user, title="Notes", file=old)
    path = a_file(tmp_path, "new.txt", b"the new notes\n" * 1000)
    admin_sign_in(page, site, admin_user)
    page.goto(f"{site}/admin/examples/document/{document.pk}/change/")
    expect(page.locator("[data-direct-upload] [data-upload-name]")).to_have_text("old.txt")

    upload_through_the_widget(page, path)
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator("[data-direct-upload] [data-upload-name]")).to_have_text("new.txt")
    document.refresh_from_db()
    assert document.file.original_filename == "new.txt"
    assert not Upload.objects.filter(pk=old.pk).exists()


def test_the_admin_change_form_clears_the_file(site, page, admin_user, upload_factory):
    document = Document.objects.create(
        owner=admin_user, title="Notes", file=complete_upload(admin_user, upload_factory)
    )
    admin_sign_in(page, site, admin_user)
    page.goto(f"{site}/admin/examples/document/{document.pk}/change/")

    page.get_by_label("Clear").check()
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator("[data-direct-upload] [data-upload-name]")).to_have_count(0)
    document.refresh_from_db()
    assert document.file is None


def test_cancel_stops_the_upload_and_leaves_no_record(site, page, user, tmp_path, slow_start):
    path = a_file(tmp_path, "cancelled.txt", b"never sent\n")
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/new/")

    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Cancel").click()

    expect(page.locator("[data-direct-upload]")).to_have_attribute("data-state", "cancelled")
    expect(page.locator("[data-upload-value]")).to_have_value("")
    eventually(lambda: not Upload.objects.exists())  # the client deletes the record it was given


def test_the_sites_own_form_sends_a_large_file_in_parts(site, page, user, tmp_path, settings):
    settings.UPLOADS_MULTIPART_THRESHOLD = 1 * MIB  # parts are at least 8 MiB: two of them
    path = a_file(tmp_path, "big.txt", b"a long line of text in a large file\n" * (9 * MIB // 36 + 1))
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/new/")
    page.get_by_label("Title").fill("Big")

    upload_through_the_widget(page, path)
    assert page.locator("[data-direct-upload]").get_attribute("data-method") == "multipart"
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{site}/examples/documents/")

    document = Document.objects.select_related("file").get()
    assert document.file.size == path.stat().st_size
    assert document.file.multipart_upload_id


def test_the_widget_declares_the_sha256_its_worker_computed(site, page, user, tmp_path):
    body = b"the bytes the user chose\n" * 1000
    path = a_file(tmp_path, "notes.txt", body)
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/new/")

    upload_through_the_widget(page, path)

    assert Upload.objects.get().declared_sha256 == sha256(body)


def test_the_widget_declares_each_parts_sha256_and_no_whole_files(site, page, user, tmp_path, settings):
    settings.UPLOADS_MULTIPART_THRESHOLD = 1 * MIB  # parts are at least 8 MiB: two of them
    body = b"a long line of text in a large file\n" * (9 * MIB // 36 + 1)
    path = a_file(tmp_path, "big.txt", body)
    rounds = part_requests(page)
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/new/")

    upload_through_the_widget(page, path)

    upload = Upload.objects.get()
    declared = declared_checksums(rounds)
    assert (
        declared
        == upload.declared_part_sha256
        == {"1": sha256(body[: 8 * MIB]), "2": sha256(body[8 * MIB :])}
    )
    assert upload.declared_sha256 == ""


def test_without_javascript_the_widget_says_so_and_saving_keeps_the_file(
    site, plain_page, user, upload_factory
):
    upload = complete_upload(user, upload_factory, name="kept.txt")
    document = Document.objects.create(owner=user, title="Notes", file=upload)
    sign_in(plain_page, site, user)
    plain_page.goto(f"{site}/examples/documents/{document.pk}/")

    expect(plain_page.locator("[data-upload-nojs]")).to_have_text(
        "Choosing a file here needs JavaScript; the current file stays unless you clear it."
    )
    expect(plain_page.locator("#id_file")).to_be_hidden()
    plain_page.get_by_label("Title").fill("Renamed")
    plain_page.get_by_role("button", name="Save").click()

    document.refresh_from_db()
    assert (document.title, document.file) == ("Renamed", upload)


def test_without_javascript_clear_empties_the_field(site, plain_page, user, upload_factory):
    document = Document.objects.create(owner=user, title="Notes", file=complete_upload(user, upload_factory))
    sign_in(plain_page, site, user)
    plain_page.goto(f"{site}/examples/documents/{document.pk}/")

    plain_page.get_by_label("Clear").check()
    plain_page.get_by_role("button", name="Save").click()
    plain_page.wait_for_url(f"{site}/examples/documents/")

    document.refresh_from_db()
    assert document.file is None


def test_a_value_forged_in_the_page_is_refused_with_a_message(site, page, user, other_user, upload_factory):
    theirs = complete_upload(other_user, upload_factory, name="theirs.txt")
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/new/")
    page.get_by_label("Title").fill("Borrowed")

    value = sign_value(upload_id=theirs.pk, label="examples.Document.file", user_pk=other_user.pk)
    page.locator("[data-upload-value]").evaluate("(input, value) => { input.value = value; }", value)
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".errorlist")).to_contain_text("uploaded by someone else")
    assert not Document.objects.exists()


def test_saving_mid_upload_waits_and_says_so(site, page, user, tmp_path, slow_start):
    path = a_file(tmp_path, "slow.txt", b"a line\n" * 1000)
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/new/")
    page.get_by_label("Title").fill("Too soon")
    page.set_input_files("#id_file", str(path))

    page.get_by_role("button", name="Save").click()

    expect(page.locator("[data-upload-status]")).to_have_text(
        "Wait for the upload to finish, or cancel it, before saving."
    )
    assert page.url == f"{site}/examples/documents/new/"
    assert not Document.objects.exists()


def test_a_type_the_field_does_not_take_is_refused_with_the_servers_words(
    site, page, user, tmp_path, browser_errors
):
    browser_errors.allow(r"(status of|answered) 415")
    path = a_file(tmp_path, "song.mp3", b"ID3" + b"\x00" * 1000)
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/new/")

    page.set_input_files("#id_file", str(path))

    widget = page.locator("[data-direct-upload]")
    expect(widget).to_have_attribute("data-state", "failed")
    expect(widget.locator("[data-upload-status]")).to_have_text(
        "Files of type audio/mpeg are not accepted here; this field takes application/pdf, image/*, text/*."
    )
    assert not Upload.objects.exists()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_widget_mid_upload_and_with_a_current_file_has_no_accessibility_violations(
    site, open_context, user, upload_factory, slow_start, tmp_path, scheme
):
    from tests.test_page_ui import assert_no_axe_violations

    document = Document.objects.create(
        owner=user, title="Notes", file=complete_upload(user, upload_factory, name="current.txt")
    )
    page = open_context(color_scheme=scheme, viewport={"width": 1100, "height": 800})
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/{document.pk}/")
    page.set_input_files("#id_file", str(a_file(tmp_path, "next.txt", b"next\n")))
    expect(page.locator("[data-upload-cancel]")).to_be_visible()

    assert_no_axe_violations(page)
    screenshot(page, f"widget-mid-upload-{scheme}")


def test_clear_ticked_after_a_new_upload_clears_the_field(site, page, user, upload_factory, tmp_path):
    document = Document.objects.create(owner=user, title="Notes", file=complete_upload(user, upload_factory))
    sign_in(page, site, user)
    page.goto(f"{site}/examples/documents/{document.pk}/")
    upload_through_the_widget(page, a_file(tmp_path, "new.txt", b"new\n"))

    page.get_by_label("Clear").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{site}/examples/documents/")

    document.refresh_from_db()
    assert document.file is None
