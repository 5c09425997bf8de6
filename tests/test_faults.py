"""The fault tier: the store (and PostgreSQL) misbehaving behind a TCP proxy (tests/faults.py).

A store call made in a request costs at most its budget, then our JSON 503; no transient fault
ever deletes a file a user uploaded; a lost answer leaves a record the next cleanup repairs;
races end consistent, never in a 500; the server logs every 500 and answers its health checks.
"""

import runpy
import subprocess
import sys
import threading
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from tests.faults import ROOT, FaultProxy, database_url, gunicorn, wait_until
from uploads.cleanup import CleanupRun
from uploads.models import Upload

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

READ_TIMEOUT = 0.5
BUDGET = 2 * (0.5 + READ_TIMEOUT)  # 2 attempts × (connect + read): the store budget in these tests
SLACK = 1.0  # Django, the database and a loaded 2-core machine


@pytest.fixture
def store(s3, moto_server, settings):
    """The proxy between the app and moto's S3 server, passing until told otherwise."""
    endpoint = urlparse(moto_server)
    proxy = FaultProxy((endpoint.hostname, endpoint.port))
    settings.AWS_S3_ENDPOINT_URL = proxy.url
    settings.UPLOADS_S3_CONNECT_TIMEOUT = 0.5
    settings.UPLOADS_S3_READ_TIMEOUT = READ_TIMEOUT
    settings.UPLOADS_S3_MAX_ATTEMPTS = 2
    yield proxy
    proxy.close()


@pytest.fixture
def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# --- A hung store costs a request its budget ---------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "before", "status"),
    [
        ("post", "/api/uploads/{id}/complete", Upload.Status.PENDING, 503),
        ("delete", "/api/uploads/{id}", Upload.Status.COMPLETE, 503),
        ("get", "/api/uploads/{id}/url", Upload.Status.COMPLETE, 200),  # signing is local
        ("get", "/api/uploads/{id}", Upload.Status.COMPLETE, 200),
    ],
)
def test_a_hung_store_costs_each_request_at_most_its_budget(
    store, api, user, upload_factory, method, path, before, status
):
    upload = upload_factory(owner=user, status=before, body=b"x")
    store.mode = "hang"

    response, elapsed = timed(lambda: getattr(api, method)(path.format(id=upload.pk)))

    assert response.status_code == status
    assert status != 503 or response.json()["code"] == "storage_unavailable"
    assert elapsed < BUDGET + SLACK


def test_the_page_renders_while_the_store_hangs(store, page, user, upload_factory):
    upload_factory(owner=user, filename="photo.png", content_type="image/png", status=Upload.Status.COMPLETE)
    store.mode = "hang"

    response, elapsed = timed(lambda: page.get("/"))

    assert response.status_code == 200
    assert b"photo.png" in response.content
    assert elapsed < SLACK  # the page needs no store: its links are signed locally


def test_signing_needs_no_store_and_works_while_it_hangs(store, api):
    store.mode = "hang"

    response = api.post(
        "/api/uploads",
        {"filename": "a.txt", "content_type": "text/plain", "size": 1},
        content_type="application/json",
    )

    assert response.status_code == 201


def test_a_delayed_store_is_still_answered(store, api, user, upload_factory):
    upload = upload_factory(owner=user, content_type="text/plain", body=b"slow")
    store.mode, store.delay_ms = "delay", 200

    response, elapsed = timed(lambda: api.post(f"/api/uploads/{upload.pk}/complete"))

    assert response.status_code == 200
    assert elapsed >= 0.4  # the HEAD went there and back through the delay


# --- No transient fault deletes a user's file --------------------------------------------------


@pytest.mark.parametrize("fault", ["refuse", "reset", "hang", "hold"])
def test_a_store_fault_during_complete_answers_503_and_a_retry_completes_the_file_intact(
    store, s3, api, user, upload_factory, fault
):
    upload = upload_factory(owner=user, content_type="text/plain", body=b"precious")
    store.mode = fault

    failed = api.post(f"/api/uploads/{upload.pk}/complete")
    store.mode = "pass"
    retried = api.post(f"/api/uploads/{upload.pk}/complete")

    assert (failed.status_code, retried.status_code) == (503, 200)
    assert retried.json()["status"] == "complete"
    assert s3.head(upload.key).size == len(b"precious")


def test_a_lost_answer_to_delete_leaves_the_record_deleting_and_the_next_cleanup_finishes_it(
    store, s3, api, user, upload_factory
):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")
    store.mode, store.hold_matching = "hold", b"?delete"  # the batch delete, after the folder's listing

    response = api.delete(f"/api/uploads/{upload.pk}")

    assert response.status_code == 503
    assert store.answers_dropped >= 1
    assert s3.head(upload.key) is None  # the store did delete it
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.DELETING
    store.mode = "pass"
    assert CleanupRun().run().deletes_finished == 1
    assert not Upload.objects.filter(pk=upload.pk).exists()


def test_a_deleting_upload_is_neither_listed_as_a_file_nor_downloadable(store, api, user, upload_factory):
    upload = upload_factory(owner=user, status=Upload.Status.COMPLETE, body=b"x")
    store.mode = "hold"
    api.delete(f"/api/uploads/{upload.pk}")

    response = api.get(f"/api/uploads/{upload.pk}/url")

    assert response.status_code in (404, 409)


# --- Races: complete, delete and cleanup at once -------------------------------------------------


def race(*calls):
    """Run the calls at the same moment, each in its own thread with its own connection."""
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index, call):
        start.wait()
        try:
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_complete_delete_and_cleanup_racing_end_consistent_and_never_500(
    store, s3, token, user, upload_factory
):
    store.mode, store.delay_ms = "delay", 20  # store calls overlap
    client = lambda: Client(headers={"Authorization": f"Bearer {token}"})  # noqa: E731

    for _ in range(4):
        upload = upload_factory(owner=user, content_type="text/plain", body=b"x", age=timedelta(days=2))
        completed, deleted, _ = race(
            lambda u=upload: client().post(f"/api/uploads/{u.pk}/complete").status_code,
            lambda u=upload: client().delete(f"/api/uploads/{u.pk}").status_code,
            lambda: CleanupRun(older_than=timedelta(days=1)).run(),
        )
        assert completed in (200, 404, 409)
        assert deleted == 204
        assert not Upload.objects.filter(pk=upload.pk).exists()
        assert s3.head(upload.key) is None


@pytest.mark.django_db(transaction=True)
def test_complete_and_cleanup_racing_settle_an_upload_once_and_keep_its_file(
    store, s3, token, user, upload_factory
):
    store.mode, store.delay_ms = "delay", 20

    for _ in range(4):
        upload = upload_factory(owner=user, content_type="text/plain", body=b"x", age=timedelta(days=2))
        completed, cleanup = race(
            lambda u=upload: Client(headers={"Authorization": f"Bearer {token}"}).post(
                f"/api/uploads/{u.pk}/complete"
            ),
            lambda: CleanupRun(older_than=timedelta(days=1)).run(),
        )
        assert completed.json()["status"] == "complete"
        assert cleanup.failed == 0
        assert cleanup.completed <= 1  # or none: the user's complete came first
        assert s3.head(upload.key) is not None


# --- Health checks ------------------------------------------------------------------------------


def test_healthz_and_readyz_answer_ok_when_everything_answers(store, client):
    assert client.get("/healthz").json() == {"status": "ok", "checks": {"database": "ok"}}
    assert client.get("/readyz").json() == {"status": "ok", "checks": {"database": "ok", "store": "ok"}}


def test_readyz_answers_503_within_the_budget_while_the_store_hangs(store, client):
    store.mode = "hang"

    response, elapsed = timed(lambda: client.get("/readyz"))

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "store": "unavailable"}}
    assert elapsed < BUDGET + SLACK
    assert client.get("/healthz").status_code == 200  # liveness doesn't depend on the store


def test_the_health_checks_need_no_sign_in_and_no_csrf_token(s3):
    response = Client(enforce_csrf_checks=True).head("/healthz")

    assert response.status_code == 200


# --- The production server ------------------------------------------------------------------------


def test_the_request_budgets_stay_well_under_gunicorns_timeout(settings):
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    store_budget = settings.UPLOADS_S3_MAX_ATTEMPTS * (
        settings.UPLOADS_S3_CONNECT_TIMEOUT + settings.UPLOADS_S3_READ_TIMEOUT
    )

    assert config["worker_class"] == "gthread"
    assert store_budget <= config["timeout"] / 2
    assert config["timeout"] > settings.DATABASE_STATEMENT_TIMEOUT_MS / 1000


@pytest.mark.django_db(transaction=True)
def test_the_api_under_gunicorn_answers_json_503_within_the_budget_while_the_store_hangs(
    store, token, user, upload_factory, tmp_path
):
    upload = upload_factory(owner=user, status=Upload.Status.PENDING)
    store.mode = "hang"
    env = {
        "DATABASE_URL": database_url(connection.settings_dict),
        **{name: str(getattr(django_settings, name)) for name in SERVER_SETTINGS},
    }

    with gunicorn(env, tmp_path / "stderr.log") as site:
        response, elapsed = timed(
            lambda: requests.post(
                f"{site}/api/uploads/{upload.pk}/complete",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        )

    assert (response.status_code, response.json()["code"]) == (503, "storage_unavailable")
    assert elapsed < BUDGET + SLACK


SERVER_SETTINGS = (
    "AWS_S3_ENDPOINT_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "UPLOADS_S3_CONNECT_TIMEOUT",
    "UPLOADS_S3_READ_TIMEOUT",
    "UPLOADS_S3_MAX_ATTEMPTS",
)
UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:9/nowhere"  # nothing listens on the discard port


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory):
    """The app under gunicorn whose database refuses connections; yields its URL and its stderr."""
    log = tmp_path_factory.mktemp("gunicorn") / "stderr.log"
    env = {"DATABASE_URL": UNREACHABLE_DATABASE, "AWS_STORAGE_BUCKET_NAME": "unused"}
    with gunicorn(env, log) as site:
        yield site, log


def test_a_page_500_is_logged_to_stderr_with_its_traceback(server_without_database):
    site, log = server_without_database

    response = requests.get(f"{site}/", cookies={"sessionid": "a-session-to-look-up"}, timeout=10)

    assert response.status_code == 500
    text = wait_until(lambda: "Internal Server Error: /" in log.read_text() and log.read_text())
    assert "Traceback (most recent call last)" in text
    assert "OperationalError" in text


def test_an_api_500_answers_json_and_is_logged_with_its_traceback(server_without_database):
    site, log = server_without_database

    response = requests.get(f"{site}/api/uploads", headers={"Authorization": "Bearer s3u_x"}, timeout=10)

    assert (response.status_code, response.json()["code"]) == (500, "internal_error")
    text = wait_until(lambda: "Unhandled error in GET /api/uploads" in log.read_text() and log.read_text())
    assert "Traceback (most recent call last)" in text


def test_healthz_answers_503_when_the_database_is_down(server_without_database):
    site, _ = server_without_database

    response = requests.get(f"{site}/healthz", timeout=10)

    assert (response.status_code, response.json()["checks"]) == (503, {"database": "unavailable"})


# --- The database behind the proxy (PostgreSQL) --------------------------------------------------


@pytest.fixture
def database(db):
    """The proxy in front of the PostgreSQL server the tests use, passing until told otherwise."""
    if connection.vendor != "postgresql":
        pytest.skip("the database proxy stands in front of PostgreSQL (DATABASE_URL=postgres://…)")
    proxy = FaultProxy(
        (connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432))
    )
    yield proxy
    proxy.close()


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {
        "DATABASE_URL": database_url,
        "DATABASE_CONNECT_TIMEOUT": "1",
        "AWS_STORAGE_BUCKET_NAME": "unused",
        "SECRET_KEY": "fault-tests-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**_environ(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _environ() -> dict[str, str]:
    import os

    return {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}


def test_a_command_with_the_database_unreachable_prints_one_line(db):
    result = manage("cleanup_uploads", database_url=UNREACHABLE_DATABASE)

    assert result.returncode == 1
    assert result.stderr.strip().startswith("CommandError: The database is unavailable")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fault", ["reset", "hang"])
def test_cleanup_with_a_failing_database_prints_one_line_within_the_connect_timeout(database, fault):
    database.mode = fault

    result, elapsed = timed(
        lambda: manage("cleanup_uploads", database_url=f"postgres://postgres@127.0.0.1:{database.port}/x")
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "The database is unavailable" in result.stderr
    assert elapsed < 1 + 5  # the connect timeout, plus starting Python and Django
