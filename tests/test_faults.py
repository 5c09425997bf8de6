"""The fault tier: the store misbehaving behind a TCP proxy (tests/faults.py). The request
deadline under a slow or hung store is `test_faults_deadline.py`; the database's faults are
`test_faults_database.py`.

Faults, by name (each a test below):
- a hung store: complete and delete answer our JSON 503 with Retry-After within the request's
  deadline; signing, a download URL, a record and the page need no store and answer as usual.
- a delayed store (+200 ms each way): still answered.
- refused, reset, hung or held (the store did the work, its answer lost) during complete: 503,
  and a retry completes the file intact: no transient fault deletes a user's file.
- a lost answer to a delete: the record stays `deleting`, the next cleanup finishes it.
- complete, delete and cleanup racing on a slow store: consistent, never a 500.
- /readyz with the store hung: 503 within the deadline; /healthz unaffected.
- the API under gunicorn with the store hung: JSON 503 within the deadline.

Time bounds compare with the same request against a healthy store, measured in the same test.
"""

import runpy
import threading
from datetime import timedelta

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from tests.conftest import FAULT_REQUEST_DEADLINE
from tests.faults import ROOT, database_url, gunicorn, quickest, timed, within
from uploads.cleanup import CleanupRun
from uploads.models import Upload

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

DEADLINE = FAULT_REQUEST_DEADLINE  # a request's store time in these tests (the `store` fixture)


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
def test_a_hung_store_costs_each_request_at_most_the_deadline(
    store, api, user, upload_factory, method, path, before, status
):
    healthy, upload = (upload_factory(owner=user, status=before, body=b"x") for _ in range(2))
    _, baseline = timed(lambda: getattr(api, method)(path.format(id=healthy.pk)))
    store.mode = "hang"

    response, elapsed = timed(lambda: getattr(api, method)(path.format(id=upload.pk)))

    assert response.status_code == status
    assert status != 503 or response.json()["code"] == "storage_unavailable"
    assert status != 503 or response["Retry-After"]
    assert within(elapsed, DEADLINE, baseline=baseline), (elapsed, baseline)


def test_the_page_renders_while_the_store_hangs(store, page, user, upload_factory):
    upload_factory(owner=user, filename="photo.png", content_type="image/png", status=Upload.Status.COMPLETE)
    page.get("/")  # templates compiled
    baseline = quickest(lambda: page.get("/"), lambda: page.get("/"))
    store.mode = "hang"

    response = page.get("/")
    elapsed = quickest(lambda: page.get("/"), lambda: page.get("/"))

    assert response.status_code == 200
    assert b"photo.png" in response.content
    assert within(elapsed, 0, baseline=baseline)  # the page needs no store: its links are signed locally


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
    store, s3, token, user, upload_factory, settings
):
    # Races, not time: the default deadline, so a busy machine's slow threads don't turn them into 503s.
    settings.UPLOADS_REQUEST_DEADLINE = 8
    settings.UPLOADS_S3_READ_TIMEOUT = 5
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
    store, s3, token, user, upload_factory, settings
):
    # Races, not time: the default deadline, so a busy machine's slow threads don't turn them into 503s.
    settings.UPLOADS_REQUEST_DEADLINE = 8
    settings.UPLOADS_S3_READ_TIMEOUT = 5
    store.mode, store.delay_ms = "delay", 20

    for _ in range(4):
        upload = upload_factory(owner=user, content_type="text/plain", body=b"x", age=timedelta(days=2))
        completed, cleanup = race(
            lambda u=upload: Client(headers={"Authorization": f"Bearer {token}"}).post(
                f"/api/uploads/{u.pk}/complete"
            ),
            lambda: CleanupRun(older_than=timedelta(days=1)).run(),
        )
        assert completed.status_code == 200, completed.content
        assert completed.json()["status"] == "complete"
        assert cleanup.failed == 0
        assert cleanup.completed <= 1  # or none: the user's complete came first
        assert s3.head(upload.key) is not None


# --- Health checks ------------------------------------------------------------------------------


def test_healthz_and_readyz_answer_ok_when_everything_answers(store, client):
    assert client.get("/healthz").json() == {"status": "ok", "checks": {"database": "ok"}}
    assert client.get("/readyz").json() == {"status": "ok", "checks": {"database": "ok", "store": "ok"}}


def test_readyz_answers_503_within_the_deadline_while_the_store_hangs(store, client):
    _, baseline = timed(lambda: client.get("/readyz"))
    store.mode = "hang"

    response, elapsed = timed(lambda: client.get("/readyz"))

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "store": "unavailable"}}
    assert within(elapsed, DEADLINE, baseline=baseline), (elapsed, baseline)
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
    assert min(10, config["timeout"] / 2) >= settings.UPLOADS_REQUEST_DEADLINE
    assert config["timeout"] > settings.DATABASE_STATEMENT_TIMEOUT_MS / 1000


@pytest.mark.django_db(transaction=True)
def test_the_api_under_gunicorn_answers_json_503_within_the_deadline_while_the_store_hangs(
    store, token, user, upload_factory, tmp_path
):
    healthy, upload = (upload_factory(owner=user, status=Upload.Status.PENDING) for _ in range(2))
    env = {
        "DATABASE_URL": database_url(connection.settings_dict),
        **{name: str(getattr(django_settings, name)) for name in SERVER_SETTINGS},
    }

    def complete(pk):
        headers = {"Authorization": f"Bearer {token}"}
        return requests.post(f"{site}/api/uploads/{pk}/complete", headers=headers, timeout=30)

    with gunicorn(env, tmp_path / "stderr.log") as site:
        complete(healthy.pk)  # the worker's first request builds its clients
        missing, baseline = timed(lambda: complete(healthy.pk))
        store.mode = "hang"
        response, elapsed = timed(lambda: complete(upload.pk))

    assert missing.json()["code"] == "object_missing"
    assert (response.status_code, response.json()["code"]) == (503, "storage_unavailable")
    assert within(elapsed, DEADLINE, baseline=baseline), (elapsed, baseline)


SERVER_SETTINGS = (
    "AWS_S3_ENDPOINT_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "UPLOADS_S3_CONNECT_TIMEOUT",
    "UPLOADS_S3_READ_TIMEOUT",
    "UPLOADS_S3_MAX_ATTEMPTS",
    "UPLOADS_REQUEST_DEADLINE",
)
