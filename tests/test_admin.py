"""The Upload admin: filters, search, thumbnails, and deletes and checks that go through the services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from uploads import admin_changelist
from uploads.models import Upload

CHANGELIST = "admin:uploads_upload_changelist"


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_it_filters_by_status_type_owner_and_date(s3, admin, user, upload_factory):
    upload_factory(owner=user, filename="cat.png", content_type="image/png", status="complete")
    upload_factory(owner=user, filename="notes.pdf")

    html = admin.get(reverse(CHANGELIST), {"family": "image", "status__exact": "complete"}).content.decode()

    assert "cat.png" in html
    assert "notes.pdf" not in html
    for filter_name in ("By status", "By type", "By owner", "By created at"):  # owner: a text box
        assert filter_name in html


def test_it_searches_names_and_keys(s3, admin, user, upload_factory):
    wanted = upload_factory(owner=user, filename="quarterly.pdf")
    upload_factory(owner=user, filename="other.pdf")

    by_key = admin.get(reverse(CHANGELIST), {"q": wanted.key.split("/")[1]}).content.decode()

    assert "quarterly.pdf" in by_key
    assert "other.pdf" not in by_key


def test_it_shows_the_workers_thumbnail_only_for_a_processed_upload(s3, admin, user, upload_factory):
    cat = upload_factory(owner=user, filename="cat.png", content_type="image/png", status="complete")
    upload_factory(owner=user, filename="logo.svg", content_type="image/svg+xml", status="complete")
    key = cat.key.rsplit("/", 1)[0] + "/_derived/thumbnail.webp"
    cat.__class__.objects.filter(pk=cat.pk).update(
        processing="done", thumbnail={"key": key, "width": 256, "height": 192, "content_type": "image/webp"}
    )

    html = admin.get(reverse(CHANGELIST)).content.decode()

    assert html.count("X-Amz-Signature") == 1
    assert "/_derived/thumbnail.webp?" in html


def test_the_change_page_links_the_file_only_once_it_may_be_served(s3, admin, user, upload_factory, settings):
    settings.UPLOADS_SCANNER = "clamav"
    unscanned = upload_factory(owner=user, status="complete", body=b"x", scan=Upload.Scan.PENDING)
    clean = upload_factory(owner=user, status="complete", body=b"x", scan=Upload.Scan.CLEAN)

    held = admin.get(reverse("admin:uploads_upload_change", args=[unscanned.pk])).content.decode()
    served = admin.get(reverse("admin:uploads_upload_change", args=[clean.pk])).content.decode()

    assert unscanned.key in held
    assert "X-Amz-Signature" not in held
    assert "X-Amz-Signature" in served


def test_delete_selected_deletes_the_objects_with_the_records(s3, admin, user, upload_factory):
    uploads = [upload_factory(owner=user, status="complete", body=b"x") for _ in range(2)]

    admin.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [u.pk for u in uploads], "post": "yes"},
    )

    assert not Upload.objects.exists()
    assert all(s3.head(u.key) is None for u in uploads)


def test_checking_with_s3_completes_a_pending_upload_whose_file_arrived(s3, admin, user, upload_factory):
    arrived = upload_factory(owner=user, filename="a.txt", content_type="text/plain", body=b"here")
    missing = upload_factory(owner=user, filename="b.txt", content_type="text/plain")

    response = admin.post(
        reverse(CHANGELIST),
        {"action": "check_with_storage", "_selected_action": [arrived.pk, missing.pk]},
        follow=True,
    )

    assert Upload.objects.get(pk=arrived.pk).status == Upload.Status.COMPLETE
    assert Upload.objects.get(pk=missing.pk).status == Upload.Status.PENDING
    assert "1 completed, 1 object_missing" in response.content.decode()


def test_checking_with_s3_fails_a_complete_upload_whose_file_is_gone(s3, admin, user, upload_factory):
    intact = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"still here")
    intact.etag = s3.head(intact.key).etag
    intact.save()
    gone = upload_factory(owner=user, status=Upload.Status.COMPLETE)

    response = admin.post(
        reverse(CHANGELIST),
        {"action": "check_with_storage", "_selected_action": [intact.pk, gone.pk]},
        follow=True,
    )

    assert Upload.objects.get(pk=gone.pk).status == Upload.Status.FAILED
    assert Upload.objects.get(pk=intact.pk).status == Upload.Status.COMPLETE
    assert "1 gone, 1 intact" in response.content.decode()


def test_the_owner_filter_takes_a_username(s3, admin, user, other_user, upload_factory):
    upload_factory(owner=user, filename="mine.pdf")
    upload_factory(owner=other_user, filename="theirs.pdf")

    html = admin.get(reverse(CHANGELIST), {"owner": user.username}).content.decode()

    assert "mine.pdf" in html
    assert "theirs.pdf" not in html


@pytest.mark.parametrize("term", ["username", "id", "key"])
def test_search_finds_by_exact_username_id_and_key(s3, admin, user, other_user, upload_factory, term):
    wanted = upload_factory(owner=user, filename="quarterly.pdf")
    upload_factory(owner=other_user, filename="other.pdf")
    query = {"username": user.username, "id": str(wanted.pk), "key": wanted.key}[term]

    html = admin.get(reverse(CHANGELIST), {"q": query}).content.decode()

    assert "quarterly.pdf" in html
    assert "other.pdf" not in html


def test_the_changelist_counts_at_most_a_bounded_number_of_rows(s3, user, upload_factory, monkeypatch):
    for _ in range(4):
        upload_factory(owner=user)
    monkeypatch.setattr(admin_changelist, "EXACT_COUNT_UP_TO", 2)
    queries = CaptureQueriesContext(connection)

    with queries:
        counted = admin_changelist.EstimatedCountPaginator(Upload.objects.all(), 2).count

    # Past the bound, an estimate (the count itself on SQLite, the planner's on PostgreSQL).
    assert counted >= 3
    assert "LIMIT 3" in queries[0]["sql"].upper()


def test_the_changelist_never_counts_without_a_bound(s3, admin, user, upload_factory):
    upload_factory(owner=user)

    with CaptureQueriesContext(connection) as queries:
        admin.get(reverse(CHANGELIST))

    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts
    assert all("LIMIT" in sql.upper() for sql in counts)
