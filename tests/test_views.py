"""The web page and its htmx partials, through Django's test client (moto's server for S3)."""

import json
import re
import uuid
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import requests
from django.core.cache import cache
from django.urls import reverse

from uploads import listing
from uploads.keys import object_key, uploads_root
from uploads.models import Upload
from uploads.serving import RASTER_IMAGE_TYPES

HTMX = {"HX-Request": "true"}


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def form_upload(browser, post_to_s3, body: bytes, filename: str):
    """Do what a browser without JavaScript does: render the page, POST the form to S3, follow S3's redirect."""
    form = browser.get(reverse("uploads:form_upload")).context["form"]
    response = post_to_s3(form.url, form.fields, body, filename=filename, content_type="text/plain")
    assert response.status_code == 303, response.text
    finish = urlparse(response.headers["Location"])
    return browser.get(f"{finish.path}?{finish.query}", follow=True)


# --- The page ---------------------------------------------------------------------------------


def test_the_page_needs_a_signed_in_user(client, db):
    response = client.get(reverse("uploads:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_shows_the_form_and_the_users_uploads(s3, browser, user, other_user, upload_factory):
    upload_factory(owner=user, filename="mine.pdf", status=Upload.Status.COMPLETE)
    upload_factory(owner=other_user, filename="theirs.pdf", status=Upload.Status.COMPLETE)

    response = browser.get(reverse("uploads:index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("uploads:form_upload")}"' in html  # without JavaScript, a form on request
    assert "mine.pdf" in html
    assert "theirs.pdf" not in html


def test_the_form_page_signs_a_form_for_one_file_in_a_fresh_folder(s3, browser, settings):
    form = browser.get(reverse("uploads:form_upload")).context["form"]

    assert form.fields["key"].startswith(f"{settings.UPLOADS_KEY_PREFIX}/")
    assert form.fields["key"].endswith("/${filename}")
    assert "/uploads/finish/" in form.fields["success_action_redirect"]
    assert "?" not in form.fields["success_action_redirect"]  # the token is in the path


def test_the_page_signs_no_form_and_reserves_nothing(s3, browser):
    browser.get(reverse("uploads:index"))
    browser.get(reverse("uploads:index"))

    assert not Upload.objects.exists()


def test_the_form_page_reserves_a_pending_upload(s3, browser, user):
    form = browser.get(reverse("uploads:form_upload")).context["form"]

    placeholder = Upload.objects.get()
    assert (placeholder.owner, placeholder.status) == (user, Upload.Status.PENDING)
    assert form.fields["key"] == placeholder.key


def test_the_form_page_refuses_a_form_past_the_pending_limit(s3, browser, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_PENDING = 1
    upload_factory(owner=user)

    response = browser.get(reverse("uploads:form_upload"), follow=True)

    assert "at most 1 may be at once" in response.content.decode()
    assert Upload.objects.count() == 1


def test_form_pages_share_the_presign_rate_limit(s3, browser, settings):
    cache.clear()
    settings.UPLOADS_RATE_PRESIGN = "1/m"
    browser.get(reverse("uploads:form_upload"))

    response = browser.get(reverse("uploads:form_upload"), follow=True)

    assert "Too many uploads started" in response.content.decode()
    assert Upload.objects.count() == 1


@pytest.fixture
def collected_static(settings, tmp_path):
    """Production's static setup: collectstatic into STATIC_ROOT with the manifest storage."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    return tmp_path


def test_the_page_renders_with_the_manifest_storage_after_collectstatic(s3, browser, collected_static):
    html = browser.get(reverse("uploads:index")).content.decode()

    # Hashed names prove the manifest served them (and that collectstatic found every file).
    assert re.search(r"/static/vendor/htmx-2\.0\.11\.min\.[0-9a-f]{12}\.js", html)
    assert re.search(r"/static/uploads/upload-client\.[0-9a-f]{12}\.js", html)
    assert re.search(r"/static/uploads/uploader\.[0-9a-f]{12}\.js", html)
    assert re.search(r"/static/uploads/app\.[0-9a-f]{12}\.css", html)


def test_whitenoise_serves_the_hashed_stylesheet_the_page_links(s3, browser, collected_static):
    html = browser.get(reverse("uploads:index")).content.decode()
    href = re.search(r'href="(/static/uploads/app\.[0-9a-f]{12}\.css)"', html).group(1)

    # The client loads its middleware on the first request, after STATIC_ROOT was set:
    # WhiteNoise indexes the collected files, the only place the hashed name exists.
    response = browser.get(href)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b".dropzone" in b"".join(response.streaming_content)


# --- The list partial -------------------------------------------------------------------------


def test_the_page_answers_only_the_list_section_to_htmx(s3, browser, user, upload_factory):
    upload_factory(owner=user, filename="a.pdf")

    response = browser.get(reverse("uploads:index"), headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="upload-list"')
    assert "a.pdf" in html
    assert "<html" not in html


def test_the_page_varies_on_the_htmx_header(s3, browser):
    response = browser.get(reverse("uploads:index"))

    # Page and partial share a URL: a cache must not answer one with the other.
    assert "HX-Request" in response["Vary"]


def test_the_list_refreshes_itself_from_the_page_url(s3, browser):
    html = browser.get(reverse("uploads:index")).content.decode()

    assert f'hx-get="{reverse("uploads:index")}" hx-trigger="uploads-changed from:body"' in html


def test_the_list_shows_size_status_and_a_download_link(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, filename="a.pdf", status=Upload.Status.COMPLETE, size=2048)

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert "2.0 KiB" in html
    assert "Complete" in html
    assert reverse("uploads:download", args=[upload.pk]) in html


def test_a_pending_multipart_row_says_it_can_be_resumed_not_that_its_link_expires(
    s3, browser, user, upload_factory
):
    upload_factory(
        owner=user, filename="film.bin", multipart_upload_id="mpu-1", part_size=8 * 2**20, size=2**30
    )

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert "Resume: choose the file again" in html
    assert "choose the same file again to send only the missing parts, until cleanup" in html
    assert "upload link expires" not in html


def test_the_list_shows_the_workers_thumbnail_for_a_processed_image(s3, browser, user, upload_factory):
    upload = upload_factory(
        owner=user, filename="cat.png", content_type="image/png", status=Upload.Status.COMPLETE
    )
    thumbnail = {
        "key": upload.key.rsplit("/", 1)[0] + "/_derived/thumbnail.webp",
        "width": 256,
        "height": 192,
    }
    Upload.objects.filter(pk=upload.pk).update(
        processing="done", thumbnail={**thumbnail, "content_type": "image/webp"}
    )

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert '<img src="http://127.0.0.1' in html
    assert "/_derived/thumbnail.webp?" in html
    assert "X-Amz-Signature" in html


def test_the_list_never_shows_the_original_as_a_thumbnail(s3, browser, user, upload_factory):
    upload_factory(owner=user, filename="cat.png", content_type="image/png", status=Upload.Status.COMPLETE)

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert "<img src=" not in html


def test_the_list_shows_the_first_page_of_rows_and_a_load_more_link(s3, browser, user, upload_factory):
    for age in range(30):
        upload_factory(owner=user, filename=f"file-{age:02}.txt", age=timedelta(minutes=age))

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert "file-00.txt" in html
    assert "file-24.txt" in html
    assert "file-25.txt" not in html
    assert "Load more" in html


def test_load_more_answers_htmx_only_the_next_rows(s3, browser, user, upload_factory):
    for age in range(30):
        upload_factory(owner=user, filename=f"file-{age:02}.txt", age=timedelta(minutes=age))

    html = browser.get(reverse("uploads:index"), {"page": 2}, headers=HTMX).content.decode()

    assert html.lstrip().startswith("<tr")
    assert "file-24.txt" not in html
    assert "file-25.txt" in html
    assert "file-29.txt" in html
    assert "Load more" not in html  # the last page


def test_load_more_asks_the_same_url_with_and_without_javascript(s3, browser, user, upload_factory):
    for _ in range(26):
        upload_factory(owner=user)

    html = browser.get(reverse("uploads:index")).content.decode()

    link = re.search(r"<a [^>]*>Load more</a>", html).group(0)
    href = re.search(r'href="(/\?cursor=[^"]+)"', link).group(1)
    assert f'hx-get="{href}"' in link


def test_without_javascript_the_load_more_link_shows_the_next_page(s3, browser, user, upload_factory):
    for age in range(26):
        upload_factory(owner=user, filename=f"file-{age:02}.txt", age=timedelta(minutes=age))

    first = browser.get(reverse("uploads:index")).content.decode()
    href = re.search(r'href="(/\?cursor=[^"]+)"', first).group(1)

    # No HX-Request: what the "Load more" link's plain href gets.
    html = browser.get(href).content.decode()

    assert "file-25.txt" in html
    assert "file-00.txt" not in html


@pytest.mark.parametrize("rows", [2, 30])
def test_the_list_query_count_does_not_grow_with_rows(
    s3, browser, user, upload_factory, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        upload_factory(owner=user, content_type="image/png", status=Upload.Status.COMPLETE)

    # session, user, one page of rows, the usage row (the usage line and the list version, read once)
    with django_assert_max_num_queries(4):
        browser.get(reverse("uploads:index"), headers=HTMX)


def test_the_poller_answers_204_while_nothing_changed(s3, browser, user, upload_factory):
    upload_factory(owner=user)
    version = listing.upload_list_version(owner=user)

    response = browser.get(reverse("uploads:changes"), {"version": version}, headers=HTMX)

    assert response.status_code == 204


def test_the_poller_asks_for_a_refresh_when_an_upload_appeared(s3, browser, user, upload_factory):
    version = listing.upload_list_version(owner=user)
    upload_factory(owner=user)

    response = browser.get(reverse("uploads:changes"), {"version": version}, headers=HTMX)

    assert response.status_code == 200
    assert "uploads-changed" in json.loads(response["HX-Trigger"])


def test_the_poller_ignores_other_users_uploads(s3, browser, user, other_user, upload_factory):
    version = listing.upload_list_version(owner=user)
    upload_factory(owner=other_user)

    response = browser.get(reverse("uploads:changes"), {"version": version}, headers=HTMX)

    assert response.status_code == 204


# --- Download and delete ----------------------------------------------------------------------


def test_download_redirects_to_a_presigned_get_with_the_original_name(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, filename="report.pdf", status=Upload.Status.COMPLETE, body=b"%PDF")

    response = browser.get(reverse("uploads:download", args=[upload.pk]))
    fetched = requests.get(response["Location"], timeout=10)

    assert response.status_code == 302
    assert fetched.content == b"%PDF"
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'


def test_delete_with_htmx_answers_an_empty_row(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")

    response = browser.post(reverse("uploads:delete", args=[upload.pk]), headers=HTMX)

    assert response.status_code == 200
    assert response.content == b""  # swapped for the row, which disappears
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert s3.head(upload.key) is None


def test_delete_with_htmx_tells_the_list_to_refresh(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")

    response = browser.post(reverse("uploads:delete", args=[upload.pk]), headers=HTMX)

    assert "uploads-changed" in json.loads(response["HX-Trigger"])


def test_delete_without_htmx_redirects_with_a_message(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, filename="old.txt", status=Upload.Status.COMPLETE, body=b"x")

    response = browser.post(reverse("uploads:delete", args=[upload.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("uploads:index")
    assert "Deleted old.txt." in response.content.decode()
    assert not Upload.objects.filter(pk=upload.pk).exists()


def test_a_failed_delete_keeps_the_row_and_says_why_in_the_messages(s3_down, browser, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE)

    response = browser.post(reverse("uploads:delete", args=[upload.pk]), headers=HTMX)

    # base.html's htmx responseHandling swaps a 503 into #messages.
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["HX-Retarget"] == "#messages"
    assert response["HX-Reswap"] == "innerHTML"
    assert "could not be reached" in response.content.decode()
    assert Upload.objects.filter(pk=upload.pk).exists()


@pytest.mark.parametrize("view", ["uploads:download", "uploads:delete"])
def test_another_users_upload_is_not_found(s3, browser, other_user, upload_factory, view):
    upload = upload_factory(owner=other_user, status=Upload.Status.COMPLETE, body=b"x")

    response = (browser.post if view.endswith("delete") else browser.get)(reverse(view, args=[upload.pk]))

    assert response.status_code == 404
    assert Upload.objects.filter(pk=upload.pk).exists()


# --- The form path (no JavaScript) ------------------------------------------------------------


def test_a_form_upload_lands_back_on_the_page_complete(s3, browser, user, post_to_s3):
    response = form_upload(browser, post_to_s3, b"plain text", "notes.txt")

    upload = Upload.objects.get()
    assert upload.owner == user
    assert upload.status == Upload.Status.COMPLETE
    assert upload.size == len(b"plain text")
    assert s3.head(upload.key).size == len(b"plain text")
    assert "Uploaded" in response.content.decode()


def test_finishing_a_form_upload_twice_is_harmless(s3, browser, post_to_s3):
    form = browser.get(reverse("uploads:form_upload")).context["form"]
    redirect = urlparse(post_to_s3(form.url, form.fields, b"abc").headers["Location"])
    finish_url = f"{redirect.path}?{redirect.query}"

    browser.get(finish_url)
    browser.get(finish_url)

    assert Upload.objects.count() == 1


def test_finish_trusts_the_signed_folder_not_the_key_s3_appends(s3, browser, post_to_s3, put_object):
    form = browser.get(reverse("uploads:form_upload")).context["form"]
    redirect = urlparse(post_to_s3(form.url, form.fields, b"abc").headers["Location"])
    elsewhere = put_object(object_key(uuid.uuid4(), "evil.txt"))

    browser.get(redirect.path, {"key": elsewhere})

    assert Upload.objects.get().key.startswith(form.fields["key"].removesuffix("${filename}"))


def test_finish_refuses_another_users_link(s3, browser, other_user, post_to_s3, client):
    form = browser.get(reverse("uploads:form_upload")).context["form"]
    redirect = urlparse(post_to_s3(form.url, form.fields, b"abc").headers["Location"])
    client.force_login(other_user)

    response = client.get(f"{redirect.path}?{redirect.query}")

    assert response.status_code == 404
    assert not Upload.objects.filter(owner=other_user).exists()
    assert Upload.objects.get().status == Upload.Status.PENDING  # the signer's placeholder, untouched


def test_finish_works_when_the_store_replaces_the_redirects_query(s3, browser, post_to_s3):
    # SeaweedFS and MinIO redirect to the URL with their own query instead of appending to it.
    form = browser.get(reverse("uploads:form_upload")).context["form"]
    post_to_s3(form.url, form.fields, b"abc", filename="notes.txt")

    response = browser.get(
        form.fields["success_action_redirect"], {"bucket": "b", "key": "k", "etag": "e"}, follow=True
    )

    assert "Uploaded notes.txt." in response.content.decode()


def test_finish_refuses_a_forged_token(s3, browser):
    response = browser.get(reverse("uploads:finish", args=["forged"]))

    assert response.status_code == 404
    assert "may have expired" in response.content.decode()
    assert not Upload.objects.exists()


def test_finish_with_the_store_down_offers_to_try_the_same_link_again(s3, browser, post_to_s3, settings):
    form = browser.get(reverse("uploads:form_upload")).context["form"]
    finish = urlparse(post_to_s3(form.url, form.fields, b"abc", filename="notes.txt").headers["Location"])
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # the store goes down before the browser lands

    response = browser.get(f"{finish.path}?{finish.query}")

    assert response.status_code == 503
    assert f'href="{finish.path}?{finish.query}"'.replace("&", "&amp;") in response.content.decode()
    assert Upload.objects.get().status == Upload.Status.PENDING  # recorded later, never swept


def test_finish_with_the_store_down_says_when_to_try_again(s3, browser, post_to_s3, settings):
    form = browser.get(reverse("uploads:form_upload")).context["form"]
    finish = urlparse(post_to_s3(form.url, form.fields, b"abc", filename="notes.txt").headers["Location"])
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"

    response = browser.get(f"{finish.path}?{finish.query}")

    assert int(response["Retry-After"]) > 0


def test_the_page_shows_the_users_usage_when_limits_are_set(s3, browser, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_BYTES = 10 * 1024
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=2048)

    html = browser.get(reverse("uploads:index")).content.decode()

    assert "2.0 KiB of 10.0 KiB used." in html


def test_the_list_refresh_carries_the_usage_line_out_of_band(s3, browser, user, upload_factory, settings):
    settings.UPLOADS_QUOTA_BYTES = 10 * 1024
    upload_factory(owner=user, status=Upload.Status.COMPLETE, size=2048)

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    usage = re.search(r'<p [^>]*id="usage"[^>]*>(.*?)</p>', html, re.S)
    assert usage is not None
    assert 'hx-swap-oob="true"' in usage.group(0)
    assert "2.0 KiB of 10.0 KiB used." in usage.group(1)


def test_a_form_upload_over_the_size_limit_is_deleted_and_its_upload_failed(
    s3, browser, settings, post_to_s3
):
    # S3 enforces content-length-range; the finish view checks again with what S3 stored.
    settings.UPLOADS_MAX_FILE_SIZE = 4

    response = form_upload(browser, post_to_s3, b"too large", "big.txt")

    assert "at most 4 are allowed" in response.content.decode()
    assert Upload.objects.get().failure_code == "object_too_large"
    assert list(s3.iter_objects(prefix=uploads_root())) == []


# --- Notes, filters, bulk delete, share and preview ---------------------------------------------


def test_a_pending_row_says_it_waits_for_the_file_and_what_cleanup_does(s3, browser, user, upload_factory):
    upload_factory(owner=user, filename="late.txt")

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert "Waiting for the file" in html
    assert "cleanup marks it failed" in html


def test_a_stale_pending_row_says_the_next_cleanup_settles_it(s3, browser, user, upload_factory):
    upload_factory(owner=user, filename="stale.txt", age=timedelta(hours=1))

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert "The upload link expired" in html
    assert "The next cleanup checks storage" in html


def test_a_deleting_row_says_so(s3, browser, user, upload_factory):
    upload_factory(owner=user, filename="going.txt", status=Upload.Status.DELETING)

    html = browser.get(reverse("uploads:index"), headers=HTMX).content.decode()

    assert "Being deleted" in html


def test_staff_see_a_banner_when_the_sites_origin_is_missing_from_the_bucket_cors(
    s3, client, admin_user, settings
):
    settings.UPLOADS_CORS_ORIGINS = ["https://elsewhere.example"]
    client.force_login(admin_user)

    html = client.get(reverse("uploads:index")).content.decode()

    assert "<code>http://testserver</code>, is not in <code>UPLOADS_CORS_ORIGINS</code>" in html
    assert "manage.py configure_bucket" in html


def test_staff_see_no_banner_when_the_origin_is_allowed(s3, client, admin_user, settings):
    settings.UPLOADS_CORS_ORIGINS = ["http://testserver"]
    client.force_login(admin_user)

    assert "configure_bucket" not in client.get(reverse("uploads:index")).content.decode()


def test_other_users_never_see_the_cors_banner(s3, browser, settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://elsewhere.example"]

    assert "configure_bucket" not in browser.get(reverse("uploads:index")).content.decode()


def test_the_list_keeps_its_filters_in_the_refresh_and_load_more_urls(s3, browser, user, upload_factory):
    for age in range(26):
        upload_factory(
            owner=user, filename=f"photo-{age:02}.png", content_type="image/png", age=timedelta(minutes=age)
        )

    html = browser.get(
        reverse("uploads:index"), {"q": "photo", "type": "image"}, headers=HTMX
    ).content.decode()

    assert 'hx-get="/?q=photo&amp;type=image" hx-trigger="uploads-changed from:body"' in html
    assert re.search(r'href="/\?q=photo&amp;type=image&amp;cursor=[^"]+"', html)


def test_a_bad_filter_value_is_ignored_not_an_error(s3, browser, user, upload_factory):
    upload_factory(owner=user, filename="kept.txt")

    response = browser.get(reverse("uploads:index"), {"sort": "drop table", "type": "nope", "page": "x"})

    assert response.status_code == 200
    assert "kept.txt" in response.content.decode()


def test_a_filter_that_matches_nothing_offers_to_show_all(s3, browser, user, upload_factory):
    upload_factory(owner=user, filename="kept.txt")

    html = browser.get(reverse("uploads:index"), {"q": "zzz"}, headers=HTMX).content.decode()

    assert "No files match." in html


def test_bulk_delete_without_confirmation_shows_a_page_and_deletes_nothing(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, filename="keep-me.txt", status=Upload.Status.COMPLETE)

    response = browser.post(reverse("uploads:delete_many"), {"ids": [upload.pk]})

    assert "Delete 1 file?" in response.content.decode()
    assert Upload.objects.filter(pk=upload.pk).exists()


def test_bulk_delete_with_htmx_reports_and_refreshes_the_list(s3, browser, user, upload_factory):
    uploads = [upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x") for _ in range(2)]

    response = browser.post(
        reverse("uploads:delete_many"), {"ids": [u.pk for u in uploads], "confirmed": "true"}, headers=HTMX
    )

    assert "Deleted 2 files." in response.content.decode()
    assert "uploads-changed" in json.loads(response["HX-Trigger"])
    assert not Upload.objects.exists()


def test_bulk_delete_ignores_ids_that_are_not_the_users(s3, browser, other_user, upload_factory):
    theirs = upload_factory(owner=other_user, status=Upload.Status.COMPLETE)

    browser.post(reverse("uploads:delete_many"), {"ids": [theirs.pk, "not-a-uuid"], "confirmed": "true"})

    assert Upload.objects.filter(pk=theirs.pk).exists()


def test_share_offers_lifetimes_up_to_the_setting(s3, browser, user, upload_factory, settings):
    settings.UPLOADS_URL_MAX_EXPIRATION = 7 * 86400
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE)

    html = browser.get(reverse("uploads:share", args=[upload.pk]), headers=HTMX).content.decode()

    for label in ("1 hour", "1 day", "7 days"):
        assert label in html


def test_share_refuses_a_lifetime_not_offered(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE)

    html = browser.post(reverse("uploads:share", args=[upload.pk]), {"expires_in": "999999"}).content.decode()

    assert "X-Amz-Signature" not in html
    assert "Create link" in html


def test_share_and_preview_are_only_for_the_owner(s3, browser, other_user, upload_factory):
    theirs = upload_factory(owner=other_user, filename="cat.png", content_type="image/png", status="complete")

    assert browser.get(reverse("uploads:share", args=[theirs.pk])).status_code == 404
    assert browser.get(reverse("uploads:preview", args=[theirs.pk])).status_code == 404


def test_preview_refuses_a_type_not_safe_inline(s3, browser, user, upload_factory):
    upload = upload_factory(owner=user, filename="x.svg", content_type="image/svg+xml", status="complete")

    assert browser.get(reverse("uploads:preview", args=[upload.pk])).status_code == 404


def test_the_poll_reads_one_row_however_many_uploads(
    browser, user, upload_factory, django_assert_num_queries
):
    for _ in range(3):
        upload_factory(owner=user)

    # session, user, the usage row's version
    with django_assert_num_queries(3):
        browser.get(reverse("uploads:changes"), {"version": "0"}, headers=HTMX)


def test_htmx_swaps_an_outages_503_into_the_messages_and_no_other_error(browser):
    page = browser.get(reverse("uploads:index")).content.decode()

    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page).group(1))
    rules = {rule["code"]: rule for rule in config["responseHandling"]}
    assert list(rules).index("503") < list(rules).index("[45]..")  # htmx takes the first match
    assert (rules["503"]["swap"], rules["503"]["target"]) == (True, "#messages")
    assert rules["[45].."]["swap"] is False
    assert "{#" not in page


def test_the_uploader_previews_locally_the_raster_types_the_server_names(browser):
    page = browser.get(reverse("uploads:index")).content.decode()

    listed = re.search(r'data-raster-types="([^"]*)"', page).group(1).split(",")
    assert set(listed) == RASTER_IMAGE_TYPES
