"""The strict tier: the same services against SeaweedFS, a store that enforces what moto lets through.

moto accepts any POST whatever its policy says; SeaweedFS checks the signature, every condition,
the size range and the expiry, so these tests prove the policy we sign is the one we mean.
"""

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from tests.browser import sign_in
from tests.helpers import store_preflight as preflight
from uploads import bucket, deletion, form_uploads, services, shortcuts
from uploads.cleanup import CleanupRun
from uploads.errors import ObjectTypeMismatch, UploadNotFound
from uploads.keys import object_key, upload_folder, uploads_root
from uploads.models import Upload

pytestmark = pytest.mark.strict

BODY = b"strict store\n" * 100
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def start(user):
    """Sign an upload of BODY as notes.txt, text/plain."""
    return services.upload_start(owner=user, filename="notes.txt", content_type="text/plain", size=len(BODY))


def assert_refused(response, s3, key):
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert s3.head(key) is None


# --- The POST policy -----------------------------------------------------------------------------


def test_the_signed_upload_is_accepted_as_signed(strict_s3, user, post_to_s3):
    direct = start(user)

    response = post_to_s3(direct.url, direct.fields, BODY)

    assert response.status_code == 201
    info = strict_s3.head(direct.upload.key)
    assert (info.size, info.content_type) == (len(BODY), "text/plain")


def test_a_body_over_the_signed_size_is_refused(strict_s3, user, post_to_s3):
    direct = start(user)

    response = post_to_s3(direct.url, direct.fields, BODY + b"x")

    assert_refused(response, strict_s3, direct.upload.key)
    assert "EntityTooLarge" in response.text


def test_a_body_under_the_signed_size_is_refused(strict_s3, user, post_to_s3):
    direct = start(user)

    response = post_to_s3(direct.url, direct.fields, BODY[:-1])

    assert_refused(response, strict_s3, direct.upload.key)
    assert "EntityTooSmall" in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Content-Type", "text/html"),
        ("Content-Disposition", 'attachment; filename="evil.html"'),
        ("acl", "public-read"),
        ("success_action_status", "200"),
    ],
)
def test_a_signed_field_changed_after_signing_is_refused(strict_s3, user, post_to_s3, field, value):
    direct = start(user)

    response = post_to_s3(direct.url, {**direct.fields, field: value}, BODY)

    assert_refused(response, strict_s3, direct.upload.key)
    assert "AccessDenied" in response.text


def test_another_key_than_the_signed_one_is_refused(strict_s3, user, post_to_s3):
    direct = start(user)
    other_key = direct.upload.key.replace("notes.txt", "other.txt")

    response = post_to_s3(direct.url, {**direct.fields, "key": other_key}, BODY)

    assert_refused(response, strict_s3, other_key)
    assert strict_s3.head(direct.upload.key) is None


def test_a_policy_signed_with_another_secret_is_refused(strict_s3, user, post_to_s3, settings):
    settings.AWS_SECRET_ACCESS_KEY = "not-the-secret"
    direct = start(user)

    response = post_to_s3(direct.url, direct.fields, BODY)

    assert_refused(response, strict_s3, direct.upload.key)
    assert "SignatureDoesNotMatch" in response.text


def test_an_expired_policy_is_refused(strict_s3, user, post_to_s3, settings):
    settings.UPLOADS_PRESIGN_EXPIRATION = 1
    direct = start(user)
    time.sleep(2)

    response = post_to_s3(direct.url, direct.fields, BODY)

    assert_refused(response, strict_s3, direct.upload.key)
    assert "Policy expired" in response.text


@pytest.mark.xfail(
    strict=True,
    reason="SeaweedFS 4.48 rejects only unsigned x-amz-* fields; AWS refuses any form field the "
    "policy does not name ('Extra input fields'), so here an unsigned Cache-Control is stored",
)
def test_a_field_the_policy_does_not_name_is_refused(strict_s3, user, post_to_s3):
    direct = start(user)

    response = post_to_s3(direct.url, {**direct.fields, "Cache-Control": "max-age=31536000"}, BODY)

    assert_refused(response, strict_s3, direct.upload.key)


def test_an_unsigned_x_amz_field_is_refused(strict_s3, user, post_to_s3):
    direct = start(user)

    response = post_to_s3(direct.url, {**direct.fields, "x-amz-meta-owner": "mallory"}, BODY)

    assert_refused(response, strict_s3, direct.upload.key)
    assert "Extra input fields" in response.text


# --- Bucket setup and CORS -----------------------------------------------------------------------

ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def cors(strict_s3, settings):
    """The bucket with the CORS rules configure_bucket applies for ORIGIN."""
    settings.UPLOADS_CORS_ORIGINS = [ORIGIN]
    strict_s3.put_cors(bucket.bucket_settings()["cors"])
    return strict_s3


def test_configure_bucket_applies_what_seaweedfs_supports_and_names_the_rest(strict_s3, settings):
    settings.UPLOADS_CORS_ORIGINS = [ORIGIN]

    results = {part.name: part.outcome for part in bucket.bucket_configure(create=True)}

    # SeaweedFS 4.48 answers PutPublicAccessBlock with 501 NotImplemented.
    assert results == {"cors": "applied", "public access block": "unsupported", "lifecycle": "applied"}
    assert strict_s3.get_cors()[0]["AllowedOrigins"] == [ORIGIN]
    assert strict_s3.get_lifecycle()[0]["ID"] == bucket.LIFECYCLE_RULE_ID


def test_the_cors_and_lifecycle_rules_are_stored_and_read_back(strict_s3, settings):
    wanted = bucket.bucket_settings(origins=[ORIGIN])

    strict_s3.put_cors(wanted["cors"])
    strict_s3.put_lifecycle(wanted["lifecycle"])

    assert strict_s3.get_cors() == wanted["cors"]
    assert strict_s3.get_lifecycle() == wanted["lifecycle"]


def test_a_preflight_for_an_object_follows_the_bucket_cors_rules(cors, user):
    object_url = f"{cors.endpoint_url}/{cors.bucket_name}/{object_key('some', 'notes.txt')}"

    allowed, other = preflight(object_url, ORIGIN), preflight(object_url, "http://evil.example")

    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_preflight_for_the_upload_url_follows_the_bucket_cors_rules(cors, user):
    direct = start(user)

    other = preflight(direct.url, "http://evil.example")

    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_upload_response_lets_only_an_allowed_origin_read_it(cors, user):
    direct = start(user)
    files = {"file": ("notes.txt", BODY, "text/plain")}

    allowed = requests.post(direct.url, data=direct.fields, files=files, headers={"Origin": ORIGIN})

    assert allowed.status_code == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]


# --- The lifecycle, the Python interface and the commands ----------------------------------------


def test_the_whole_lifecycle_runs_through_the_services(strict_s3, user, post_to_s3):
    direct = start(user)
    assert post_to_s3(direct.url, direct.fields, BODY).status_code == 201

    upload = services.upload_complete(upload=direct.upload)
    link = services.upload_download_url(upload=upload)
    downloaded = requests.get(link.url, timeout=10)
    deletion.upload_delete(upload=upload)

    assert upload.size == len(BODY)
    assert hashlib.sha256(downloaded.content).digest() == hashlib.sha256(BODY).digest()
    assert downloaded.headers["Content-Type"] == "text/plain"
    assert strict_s3.head(upload.key) is None


def test_the_shortcuts_upload_link_and_delete(strict_s3, user, post_to_s3):
    form = shortcuts.get_direct_upload_form_data("notes.txt", "text/plain", max_file_size=len(BODY))
    assert post_to_s3(form["form_url"], form["form_fields"], BODY).status_code == 201

    completed = shortcuts.complete_upload(form["upload_id"], status=Upload.STATUS_COMPLETE)
    link = shortcuts.get_upload_file_url(form["upload_id"], presigned=True, expiration=60)
    downloaded = requests.get(link["url"], timeout=10).content
    deleted = shortcuts.delete_upload(form["upload_id"])

    assert completed["success"]
    assert deleted["success"]
    assert downloaded == BODY
    assert strict_s3.list_objects(prefix=uploads_root())["count"] == 0


def test_the_clients_dict_methods_upload_list_and_delete_with_default_checksums(strict_s3, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(BODY)

    key = object_key("seed", "notes.txt")

    uploaded = strict_s3.upload_file(str(path), key)
    listed = strict_s3.list_objects(prefix=upload_folder("seed"))
    deleted = strict_s3.delete_object(key)

    assert uploaded["success"], uploaded
    assert [(obj["key"], obj["size"]) for obj in listed["objects"]] == [(key, len(BODY))]
    assert deleted["success"]
    assert strict_s3.list_objects(prefix=upload_folder("seed"))["count"] == 0


def test_the_clients_upload_file_stores_a_multipart_file_with_default_checksums(strict_s3, tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"m" * (9 * 1024 * 1024))  # over boto3's 8 MiB multipart threshold

    uploaded = strict_s3.upload_file(str(path), object_key("seed", "big.bin"))

    assert uploaded["success"], uploaded
    assert strict_s3.head(object_key("seed", "big.bin")).size == path.stat().st_size


def test_cleanup_uploads_settles_stale_uploads(strict_s3, upload_factory, capsys):
    arrived = upload_factory(body=b"late", content_type="text/plain", age=timedelta(hours=2))
    missing = upload_factory(age=timedelta(hours=2))

    call_command("cleanup_uploads", "--older-than", "1h")

    arrived.refresh_from_db()
    missing.refresh_from_db()
    assert (arrived.status, missing.status) == (Upload.Status.COMPLETE, Upload.Status.FAILED)
    assert "1 stale uploads completed, 1 marked failed" in capsys.readouterr().out


def test_cleanup_deletes_orphans_and_aborts_multipart_uploads(strict_s3, upload_factory, put_object):
    kept = upload_factory(body=b"kept", content_type="text/plain", status=Upload.Status.COMPLETE)
    put_object(object_key("orphan", "a.txt"), b"o")
    strict_s3.client.create_multipart_upload(Bucket=strict_s3.bucket_name, Key=object_key("mp", "big.bin"))
    cleanup = CleanupRun(orphans=True, now=timezone.now() + timedelta(days=2))

    cleanup.delete_orphans()
    cleanup.abort_stale_multipart_uploads()
    report = cleanup.report

    assert (report.orphans_deleted, report.multipart_aborted, report.errors) == (1, 1, [])
    assert strict_s3.head(kept.key) is not None
    assert list(strict_s3.iter_multipart_uploads(prefix=uploads_root())) == []


def test_cleanup_lists_and_deletes_past_a_thousand_orphans_in_the_stores_pages(strict_s3, put_object, db):
    # The one case at S3's real sizes (1000 keys a page and a DeleteObjects); the fast tier patches
    # both to 3 (tests/test_cleanup.py, tests/test_s3.py).
    orphans = [object_key(f"orphan-{number:04}", "a.txt") for number in range(1005)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda key: put_object(key, b""), orphans))
    listed = strict_s3.list_objects(prefix=uploads_root(), max_keys=2000)
    deletes = []
    cleanup = CleanupRun(orphans=True, now=timezone.now() + timedelta(days=2))
    cleanup.client.client.meta.events.register("before-call.s3.DeleteObjects", lambda **kw: deletes.append(1))

    cleanup.delete_orphans()

    assert (listed["count"], listed["truncated"]) == (1005, False)
    assert (cleanup.report.orphans_deleted, cleanup.report.errors, len(deletes)) == (1005, [], 2)
    assert list(strict_s3.iter_objects(prefix=uploads_root())) == []


def test_check_s3_passes_every_check(cors, capsys):
    call_command("check_s3")

    out = capsys.readouterr().out
    for name in ("credentials", "bucket", "region", "cors", "clock", "presigned post", "form post"):
        assert f"ok   {name}:" in out


# --- Other signed requests -----------------------------------------------------------------------


def start_put(user, settings):
    """Sign an upload of BODY as a presigned PUT (UPLOADS_UPLOAD_METHOD=put)."""
    settings.UPLOADS_UPLOAD_METHOD = "put"
    return start(user)


def test_a_presigned_put_stores_the_signed_body(strict_s3, user, settings, put_to_s3):
    direct = start_put(user, settings)

    response = put_to_s3(direct.url, direct.headers, BODY)

    assert response.status_code == 200
    assert strict_s3.head(direct.upload.key).size == len(BODY)


def test_a_presigned_put_refuses_another_content_type(strict_s3, user, settings, put_to_s3):
    direct = start_put(user, settings)

    response = put_to_s3(direct.url, {**direct.headers, "Content-Type": "text/html"}, BODY)

    assert_refused(response, strict_s3, direct.upload.key)


def test_a_presigned_put_refuses_another_content_length(strict_s3, user, settings, put_to_s3):
    direct = start_put(user, settings)

    response = put_to_s3(direct.url, direct.headers, BODY + b"x")

    assert_refused(response, strict_s3, direct.upload.key)


# --- Attacks that involve the store (tests/test_security.py has them all on moto) ---------------


def test_a_script_capable_file_is_served_as_an_attachment_by_seaweedfs(strict_s3, user, post_to_s3):
    direct = services.upload_start(
        owner=user, filename="evil.svg", content_type="image/svg+xml", size=len(SVG)
    )
    post_to_s3(direct.url, direct.fields, SVG)
    upload = services.upload_complete(upload=direct.upload)

    served = requests.get(services.upload_download_url(upload=upload).url, timeout=10)

    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["Content-Type"] == "application/octet-stream"


def test_html_declared_as_a_png_fails_complete_and_its_file_goes_on_seaweedfs(strict_s3, user, post_to_s3):
    html = b"<html><script>alert(document.domain)</script></html>"
    direct = services.upload_start(owner=user, filename="cat.png", content_type="image/png", size=len(html))
    post_to_s3(direct.url, direct.fields, html)

    with pytest.raises(ObjectTypeMismatch):
        services.upload_complete(upload=direct.upload)

    assert strict_s3.head(direct.upload.key) is None


def test_a_used_form_token_records_nothing_again_on_seaweedfs(strict_s3, user):
    response = form_post(strict_s3, user)
    token = urlsplit(response.headers["Location"]).path.rstrip("/").rsplit("/", 1)[-1]
    upload = form_uploads.form_upload_finish(owner=user, token=token)
    deletion.upload_delete(upload=upload)

    with pytest.raises(UploadNotFound):
        form_uploads.form_upload_finish(owner=user, token=token)

    assert not Upload.objects.exists()


# --- The form without JavaScript -----------------------------------------------------------------


def form_post(s3, user, body=BODY):
    form = form_uploads.form_upload_start(
        owner=user, finish_url=lambda token: f"http://testserver/uploads/finish/{token}/"
    )
    files = {"file": ("plain.txt", body, "text/plain")}
    return requests.post(form.url, data=form.fields, files=files, allow_redirects=False, timeout=10)


def test_the_form_upload_redirects_to_the_finish_url(strict_s3, user):
    response = form_post(strict_s3, user)

    assert response.status_code == 303
    assert response.headers["Location"].startswith("http://testserver/uploads/finish/")


def test_the_form_upload_redirect_keeps_our_token_in_its_path(strict_s3, user):
    # SeaweedFS replaces the redirect's whole query with bucket, key and etag (AWS appends them).
    response = form_post(strict_s3, user)

    location = urlsplit(response.headers["Location"])
    assert len(location.path.strip("/").split("/")) == 3  # uploads/finish/<token>
    assert parse_qs(location.query)["key"][0].endswith("/plain.txt")


# --- The page in Chromium ------------------------------------------------------------------------

# Playwright's sync API runs an event loop in this thread; Django's ORM calls here are still sync.
# Set for the whole run, as tests/test_browser.py does: set per test, PostgreSQL's test database
# outlived the run ("being accessed by other users").
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def strict_chromium(chromium, strict_s3, live_server):
    """Chromium on the live server, whose bucket on SeaweedFS accepts POSTs from its origin."""
    strict_s3.put_cors(bucket.bucket_settings(origins=[live_server.url])["cors"])
    yield chromium, pytest.importorskip("playwright.sync_api").expect
    for context in chromium.contexts:
        context.close()


@pytest.mark.browser
def test_the_page_uploads_a_file_to_seaweedfs(strict_chromium, strict_s3, live_server, user, tmp_path):
    browser, expect = strict_chromium
    page = browser.new_page()
    path = tmp_path / "seaweed.bin"
    path.write_bytes(BODY * 50)
    sign_in(page, live_server.url, user)

    page.set_input_files("#file-input", str(path))

    expect(page.locator("#transfers .transfer")).to_have_attribute("data-state", "done", timeout=15_000)
    expect(page.locator("#upload-rows tr.status-complete")).to_contain_text("seaweed.bin")
    assert strict_s3.head(Upload.objects.get().key).size == len(BODY) * 50


@pytest.mark.browser
def test_without_javascript_the_form_uploads_to_seaweedfs(strict_chromium, live_server, user, tmp_path):
    browser, expect = strict_chromium
    page = browser.new_context(java_script_enabled=False).new_page()
    path = tmp_path / "plain.txt"
    path.write_bytes(BODY)
    sign_in(page, live_server.url, user)

    page.get_by_role("link", name="Upload a file").click()  # the form is signed on a page of its own
    page.set_input_files("#file-input", str(path))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(f"{live_server.url}/")

    # The page is rendered by the server: nothing more will arrive, so no need to wait long.
    expect(page.locator("#upload-rows tr.status-complete")).to_contain_text("plain.txt", timeout=1000)
