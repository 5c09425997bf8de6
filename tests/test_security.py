"""Attacks, each refused. Every case reads as what an attacker tries and what stops it.

No case may answer 500, and a refused request leaves no row behind.

Attacks tested in sibling modules, by name:

- The signing endpoint and multipart plans (test_security_sign.py; the store-involving ones
  again on SeaweedFS in test_security_sign_strict.py):
  the `/sign` memory/CPU bomb, a 0- or 1-byte part 1 on a client multipart upload, completed
  through `/sign` or `/complete` (`409 part_size_mismatch`, one ListParts walk); parts uploaded
  far beyond the plan (never walked); CreateMultipartUpload signed for an upload planned whole
  (`not_multipart`) or a second time (`multipart_already_started`); part numbers outside
  1..parts_count (`invalid_part_numbers`); part URLs without their exact length (every one is
  signed with `content-length`, and the strict store refuses a longer body); a whole-object PUT
  for an upload planned in parts (`sign_refused`); signing after the policy expired
  (`410 upload_expired`); a replayed CreateMultipartUpload URL (its upload gets no part signed);
  floods of `/sign` and `/parts` (`429 throttled`).
- The site's surface (test_security_site.py, test_browser_docs.py): the API docs and schema
  for anonymous visitors, the docs outside the CSP or loading another origin; the password
  reset and change pages; locking any account out from behind a proxy, and dodging the lockout
  with a forged X-Forwarded-For; form fields a POST policy does not name.
"""

from urllib.parse import urlsplit

import pytest
import requests
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.test_content import HTML, PE
from uploads import deletion, form_uploads, lifecycle, services
from uploads.cleanup import CleanupRun
from uploads.errors import UploadNotFound
from uploads.models import ApiToken, Upload, UsedFormToken
from uploads.s3 import S3Client

pytestmark = pytest.mark.django_db


def start(client, **fields):
    payload = {"filename": "notes.txt", "content_type": "text/plain", "size": 5, **fields}
    return client.post("/api/uploads", payload, content_type="application/json")


def session_client(user) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


SCRIPT = b"<script>alert(document.domain)</script>"
SCRIPT_CAPABLE = [
    ("evil.html", "text/html"),
    ("evil.svg", "image/svg+xml"),
    ("evil.xhtml", "application/xhtml+xml"),
    ("evil.xml", "text/xml"),
    ("evil.js", "text/javascript"),
]


# --- Stored XSS through the files we serve ----------------------------------------------------


@pytest.mark.parametrize(("filename", "content_type"), SCRIPT_CAPABLE)
def test_a_script_capable_file_is_never_served_inline(s3, api, user, upload_factory, filename, content_type):
    upload = upload_factory(
        owner=user, filename=filename, content_type=content_type, status="complete", body=SCRIPT
    )

    link = api.get(f"/api/uploads/{upload.pk}/url").json()
    served = requests.get(link["url"], timeout=10)

    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(("filename", "content_type"), SCRIPT_CAPABLE)
def test_a_script_capable_type_added_to_the_inline_setting_is_still_an_attachment(
    s3, upload_factory, settings, filename, content_type
):
    settings.UPLOADS_INLINE_TYPES = ["*/*"]
    upload = upload_factory(filename=filename, content_type=content_type, status="complete", body=SCRIPT)

    served = requests.get(services.upload_download_url(upload=upload).url, timeout=10)

    assert served.headers["Content-Disposition"].startswith("attachment;")


def test_the_storage_url_of_a_script_capable_file_is_an_attachment_too(s3, upload_factory):
    upload = upload_factory(filename="evil.html", content_type="text/html", status="complete", body=SCRIPT)

    served = requests.get(upload.file.url, timeout=10)

    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["Content-Type"] == "application/octet-stream"


def test_the_policy_stores_a_script_capable_file_as_an_attachment(s3, user):
    direct = services.upload_start(owner=user, filename="evil.svg", content_type="image/svg+xml", size=10)

    assert direct.fields["Content-Disposition"].startswith("attachment;")


def test_a_safe_image_is_still_shown_inline(s3, upload_factory):
    upload = upload_factory(filename="cat.png", content_type="image/png", status="complete", body=b"\x89PNG")

    served = requests.get(services.upload_download_url(upload=upload).url, timeout=10)

    assert served.headers["Content-Disposition"].startswith("inline;")
    assert served.headers["Content-Type"] == "image/png"


def test_an_svg_gets_no_thumbnail(upload_factory):
    upload = upload_factory(filename="evil.svg", content_type="image/svg+xml", status="complete")

    assert not upload.is_image


# --- Content that lies about its type -------------------------------------------------------


def test_html_uploaded_as_a_png_is_refused_on_complete_and_deleted(s3, api, user, upload_factory):
    upload = upload_factory(
        owner=user, filename="cat.png", content_type="image/png", max_size=4096, body=HTML
    )

    response = api.post(f"/api/uploads/{upload.pk}/complete")

    assert (response.status_code, response.json()["code"]) == (409, "object_type_mismatch")
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.FAILED
    assert s3.head(upload.key) is None


def test_an_executable_uploaded_as_a_pdf_is_refused_on_complete(s3, api, user, upload_factory):
    upload = upload_factory(owner=user, filename="invoice.pdf", max_size=4096, body=PE)

    assert api.post(f"/api/uploads/{upload.pk}/complete").status_code == 409
    assert s3.head(upload.key) is None


# --- Another user's uploads (IDOR) --------------------------------------------------------------

API_OPERATIONS = [
    ("get", "/api/uploads/{id}"),
    ("post", "/api/uploads/{id}/complete"),
    ("get", "/api/uploads/{id}/url"),
    ("delete", "/api/uploads/{id}"),
]


@pytest.mark.parametrize(("method", "path"), API_OPERATIONS)
@pytest.mark.parametrize("status", [Upload.Status.PENDING, Upload.Status.COMPLETE])
def test_another_users_upload_is_not_found_on_every_api_operation(
    s3, bob_api, user, upload_factory, method, path, status
):
    upload = upload_factory(owner=user, status=status, body=b"%PDF-1.7 mine")

    response = getattr(bob_api, method)(path.format(id=upload.pk))

    assert response.status_code == 404
    assert Upload.objects.get(pk=upload.pk).status == status
    assert s3.head(upload.key) is not None


def test_another_users_uploads_are_not_listed(s3, bob_api, user, upload_factory):
    upload_factory(owner=user, status=Upload.Status.COMPLETE)

    assert bob_api.get("/api/uploads").json()["items"] == []


@pytest.mark.parametrize(("view", "method"), [("uploads:download", "get"), ("uploads:delete", "post")])
def test_another_users_upload_is_not_found_on_every_page(s3, other_user, user, upload_factory, view, method):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"mine")
    browser = Client()
    browser.force_login(other_user)

    response = getattr(browser, method)(reverse(view, args=[upload.pk]))

    assert response.status_code == 404
    assert s3.head(upload.key) is not None


# --- Cross-site requests on the browser's session (CSRF) ----------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/api/uploads"), *API_OPERATIONS[1:2], API_OPERATIONS[3]]
)
def test_a_session_write_without_the_csrf_token_is_refused(s3, user, upload_factory, method, path):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"mine")

    response = getattr(session_client(user), method)(
        path.format(id=upload.pk), content_type="application/json"
    )

    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    assert list(Upload.objects.values_list("pk", "status")) == [(upload.pk, Upload.Status.COMPLETE)]


def test_the_pages_delete_form_without_the_csrf_token_is_refused(s3, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"mine")

    response = session_client(user).post(reverse("uploads:delete", args=[upload.pk]))

    assert response.status_code == 403
    assert Upload.objects.filter(pk=upload.pk).exists()


# --- Stolen, revoked or made-up credentials -----------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["Bearer s3u_made-up", "Bearer ", "Basic YWxpY2U6aHVudGVy", "s3u_no-scheme", "Bearer " + "x" * 5000],
)
def test_a_wrong_token_is_401(db, authorization):
    response = Client(headers={"Authorization": authorization}).get("/api/uploads")

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_a_revoked_token_is_401(s3, user, token):
    ApiToken.objects.find(token).revoke()

    assert start(Client(headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert not Upload.objects.exists()


def test_password_guessing_locks_the_username_out_even_for_the_right_password(user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    browser = Client()
    for _ in range(3):
        browser.post(reverse("login"), {"username": "alice", "password": "guess"})

    response = browser.post(reverse("login"), {"username": "alice", "password": "correct-horse-battery"})

    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session


# --- Hostile file names, types and sizes --------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("evil\x00.html.png", "evil.html.png"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        ("/", None),
        ("x" * 10_000, None),
    ],
)
def test_a_hostile_file_name_is_cleaned_or_refused(s3, api, filename, shown):
    response = start(api, filename=filename)

    if shown is None:
        assert response.status_code == 422
        assert not Upload.objects.exists()
    else:
        upload = Upload.objects.get()
        assert response.status_code == 201
        assert upload.original_filename == shown
        assert ".." not in upload.key.split("/")
        assert not {"\x00", "\u202e"} & set(upload.key)


@pytest.mark.parametrize(
    ("content_type", "recorded"),
    [
        ("text/plain; charset=utf-8", "text/plain"),
        ("TEXT/PLAIN", "text/plain"),
        ("text/plain\r\nX-Injected: 1", None),
        ("x" * 1000, None),
        ("a/" + "b" * 1000, None),
    ],
)
def test_a_hostile_content_type_is_cleaned_or_refused(s3, api, content_type, recorded):
    response = start(api, content_type=content_type)

    assert response.status_code == (201 if recorded else 422)
    assert list(Upload.objects.values_list("content_type", flat=True)) == ([recorded] if recorded else [])


@pytest.mark.parametrize("size", [-1, 0, 1.5, "5", True, None, 2**64, [5]])
def test_a_size_that_is_not_a_positive_integer_is_refused(s3, api, size):
    response = start(api, size=size)

    assert response.status_code in (413, 422)
    assert not Upload.objects.exists()


# --- Requests built to crash or flood the server ------------------------------------------------


@pytest.mark.parametrize(
    "page", ["0", "-1", "100001", "99999999999999999999", "400000000000000000", "1e9", "x"]
)
def test_a_huge_or_bogus_page_number_is_a_422(s3, api, page):
    assert api.get("/api/uploads", {"page": page}).status_code == 422


def test_a_huge_page_number_on_the_page_is_not_a_500(s3, user):
    browser = Client(raise_request_exception=False)
    browser.force_login(user)

    assert browser.get("/", {"page": "99999999999999999999"}).status_code < 500


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        ("[" * 100_000 + "]" * 100_000, 400),
        ('{"filename": "a", "size": 1, "content_type": "' + "x" * 300_000 + '"}', 413),
        ("null", 422),
    ],
)
def test_a_malformed_or_oversized_json_body_is_refused(s3, api, body, status):
    response = api.post("/api/uploads", body, content_type="application/json")

    assert (response.status_code, set(response.json())) == (status, {"detail", "code"})
    assert not Upload.objects.exists()


def test_a_flood_of_presigns_is_stopped_by_the_pending_limit_and_the_rate(s3, api, settings):
    settings.UPLOADS_QUOTA_PENDING = 5
    settings.UPLOADS_RATE_PRESIGN = "8/m"

    codes = [start(api).status_code for _ in range(10)]

    assert codes == [201] * 5 + [429] * 5
    assert Upload.objects.count() == 5


# --- The no-JavaScript finish token -----------------------------------------------------------


def signed_form(user, put_object, body=b"plain text", name="notes.txt") -> str:
    """Sign the page's form, place the file as S3 would, and return the finish token."""
    tokens = []
    form = form_uploads.form_upload_start(
        owner=user, finish_url=lambda token: tokens.append(token) or "http://testserver/"
    )
    put_object(form.fields["key"].replace("${filename}", name), body, "application/octet-stream")
    return tokens[0]


def test_the_finish_token_replayed_by_another_user_records_nothing(s3, user, other_user, put_object):
    token = signed_form(user, put_object)

    with pytest.raises(UploadNotFound, match="belongs to someone else"):
        form_uploads.form_upload_finish(owner=other_user, token=token)

    assert not Upload.objects.filter(owner=other_user).exists()
    assert Upload.objects.get().status == Upload.Status.PENDING  # the signer's placeholder, untouched


def test_the_finish_token_replayed_after_delete_re_creates_nothing(s3, user, put_object):
    token = signed_form(user, put_object)
    upload = form_uploads.form_upload_finish(owner=user, token=token)
    assert form_uploads.form_upload_finish(owner=user, token=token) == upload  # a reload: the same upload
    deletion.upload_delete(upload=upload)
    S3Client().client.put_object(Bucket=S3Client().bucket_name, Key=upload.key, Body=b"again")

    with pytest.raises(UploadNotFound, match="already been used"):
        form_uploads.form_upload_finish(owner=user, token=token)

    assert not Upload.objects.exists()


@pytest.mark.parametrize("token", ["", "forged", "a:b:c", "x" * 5000, signing.dumps({"id": 1, "owner": 1})])
def test_a_forged_finish_token_is_not_found(db, user, token):
    with pytest.raises(UploadNotFound):
        form_uploads.form_upload_finish(owner=user, token=token)


# --- What the pages and the admin send ----------------------------------------------------------


def test_pages_allow_scripts_from_the_site_only_and_talk_only_to_the_store(s3, client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    store = "{0.scheme}://{0.netloc}".format(urlsplit(S3Client().object_url("x")))

    assert "script-src 'self' 'wasm-unsafe-eval';" in policy  # WebAssembly only (hash-wasm), never eval
    assert "'unsafe-eval'" not in policy
    assert "'unsafe-inline'" not in policy
    assert f"connect-src 'self' {store};" in policy
    assert f"form-action 'self' {store};" in policy


def test_pages_cannot_be_framed_or_sniffed(db, client):
    response = client.get(reverse("login"))

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_a_token_created_in_the_admin_never_travels_in_a_cookie(admin_client, user):
    response = admin_client.post("/admin/uploads/apitoken/add/", {"user": user.pk, "name": "ci"}, follow=True)

    assert any("s3u_" in str(message) for message in response.context["messages"])
    assert all("s3u_" not in morsel.value for morsel in admin_client.cookies.values())


# --- Objects beside the recorded one ------------------------------------------------------------


def test_delete_removes_a_second_object_a_live_form_policy_put_in_the_uploads_folder(
    s3, user, upload_factory, put_object
):
    upload = upload_factory(owner=user, status="complete", body=b"recorded")
    UsedFormToken.objects.create(upload_id=upload.pk, owner=user, used_at=timezone.now())  # a no-JS form's
    extra = put_object(upload.key.rsplit("/", 1)[0] + "/smuggled.html", b"<script>", "text/html")

    deletion.upload_delete(upload=upload)

    assert s3.head(upload.key) is None
    assert s3.head(extra) is None


def test_a_second_object_beside_a_deleted_upload_goes_when_its_policy_is_dead(s3, upload_factory, put_object):
    # The API's policies pin the exact key, so delete lists nothing; a tombstone sweeps the folder later.
    upload = upload_factory(status="complete", body=b"recorded")
    extra = put_object(upload.key.rsplit("/", 1)[0] + "/smuggled.html", b"<script>", "text/html")
    deletion.upload_delete(upload=upload)

    CleanupRun(now=upload.expires_at + lifecycle.policy_grace()).sweep_dead_policies()

    assert s3.head(upload.key) is None
    assert s3.head(extra) is None


def test_delete_never_touches_objects_outside_the_uploads_own_folder(s3, upload_factory, put_object):
    neighbour = upload_factory(status="complete", body=b"someone else's")
    upload = upload_factory(status="complete", body=b"mine")

    deletion.upload_delete(upload=upload)

    assert s3.head(neighbour.key) is not None
