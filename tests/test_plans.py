"""Query plans at 100,000 uploads for one user (PostgreSQL only): every query a request makes reads
an index, never the whole of uploads_upload, and the number of queries does not grow.

The rows are bulk-inserted once for the module (benchmarks/bulk.py) and analysed; each request is
run, its queries captured and each one EXPLAINed as it was sent.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.bulk import insert_uploads
from uploads.models import ApiToken, Upload
from uploads.quotas import recount_usage

ROWS = 100_000
HTMX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def crowd(django_db_setup, django_db_blocker):
    """A user with ROWS uploads (committed, so every test of the module sees them)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://…: the plans are PostgreSQL's")
    with django_db_blocker.unblock():
        user = get_user_model().objects.create(username="crowd", is_staff=True, is_superuser=True)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")  # building the data is no request
            insert_uploads(cursor, owner_id=user.pk, count=ROWS, tag="plans")
            cursor.execute("ANALYZE uploads_upload")
            cursor.execute("RESET statement_timeout")
        recount_usage(user.pk)
    yield user
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
        Upload.objects.filter(owner=user).delete()
        user.delete()
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


@pytest.fixture
def page(crowd, db, s3) -> Client:
    client = Client()
    client.force_login(crowd)
    return client


@pytest.fixture
def crowd_api(crowd, db, s3) -> Client:
    return Client(headers={"Authorization": f"Bearer {ApiToken.issue(user=crowd, name='plans')[1]}"})


def _plans(run) -> list[tuple[str, str]]:
    """Run a request and return (query, plan) of each SELECT it made."""
    with CaptureQueriesContext(connection) as queries:
        response = run()
    assert response.status_code < 300, response.content[:300]
    found = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if query["sql"].lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
                found.append((query["sql"], json.dumps(cursor.fetchone()[0])))
    return found


def _assert_no_seq_scan_on_uploads(plans) -> None:
    for sql, plan in plans:
        if "uploads_upload" in sql:
            assert '"Seq Scan"' not in plan or '"Relation Name": "uploads_upload"' not in plan, sql


SORTS = ["-created", "created", "name", "-name", "-size", "size"]


def test_the_poll_reads_no_upload_rows(page, crowd):
    plans = _plans(lambda: page.get("/uploads/changes/", {"version": "0"}, headers=HTMX))

    assert not [sql for sql, _plan in plans if "uploads_upload" in sql]


@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_of_the_page_reads_an_index(page, sort):
    _assert_no_seq_scan_on_uploads(_plans(lambda: page.get("/", {"sort": sort}, headers=HTMX)))


@pytest.mark.parametrize("sort", SORTS)
def test_a_deep_load_more_reads_an_index(page, crowd_api, sort):
    cursor = crowd_api.get("/api/uploads", {"sort": sort, "page_size": 100}).json()["next"]

    _assert_no_seq_scan_on_uploads(
        _plans(lambda: page.get("/", {"sort": sort, "cursor": cursor}, headers=HTMX))
    )


def test_a_name_search_with_no_match_reads_the_trigram_index(page):
    plans = _plans(lambda: page.get("/", {"q": "zzqqxx"}, headers=HTMX))

    _assert_no_seq_scan_on_uploads(plans)
    assert any("upload_name_trgm_idx" in plan for _sql, plan in plans)


def test_the_api_list_reads_an_index_and_does_not_count(crowd_api):
    plans = _plans(lambda: crowd_api.get("/api/uploads", {"status": "complete"}))

    _assert_no_seq_scan_on_uploads(plans)
    assert not [sql for sql, _plan in plans if "COUNT(" in sql.upper()]


def test_presign_reads_no_upload_rows_but_its_own(crowd_api, s3, settings):
    settings.UPLOADS_QUOTA_PENDING = settings.UPLOADS_QUOTA_BYTES = 0  # the crowd is over both
    plans = _plans(
        lambda: crowd_api.post(
            "/api/uploads", {"filename": "a.txt", "content_type": "text/plain", "size": 3}, "application/json"
        )
    )

    _assert_no_seq_scan_on_uploads(plans)


@pytest.mark.parametrize(
    "query", [{}, {"status__exact": "complete"}, {"family": "video"}, {"q": "report"}, {"owner": "crowd"}]
)
def test_the_admin_changelist_reads_indexes(page, query):
    plans = _plans(lambda: page.get("/admin/uploads/upload/", query))

    # The bounded count (LIMIT 10001) may read the table: it stops there.
    _assert_no_seq_scan_on_uploads([(sql, plan) for sql, plan in plans if "COUNT(" not in sql.upper()])


@pytest.mark.parametrize("url", ["/", "/uploads/changes/", "/api/uploads"])
def test_the_query_count_of_a_request_is_small_at_100k_rows(
    page, crowd_api, url, django_assert_max_num_queries
):
    client = crowd_api if url.startswith("/api") else page
    # session/token, user, the page of rows, the list version (the page); the token's last use (api)
    with django_assert_max_num_queries(4):
        client.get(url, headers=HTMX)


def test_cleanup_verify_walks_complete_records_in_key_order_from_an_index(crowd, db):
    from django.utils import timezone

    from uploads.bucket_walks import verify_candidates

    plan = verify_candidates(timezone.now()).explain()

    assert "upload_complete_file_c_idx" in plan
    assert "Sort" not in plan
