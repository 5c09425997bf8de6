"""One deadline per request for the store (uploads/deadline.py), and boto3 clients built once per
process (uploads/s3/connection.py). The fault tier shows the deadline against a misbehaving store."""

import threading
import time

import boto3
import pytest

from uploads import checks, services
from uploads.deadline import DeadlineExceeded, deadline, map_within_deadline, remaining
from uploads.errors import StorageUnavailable
from uploads.s3 import S3Client
from uploads.s3.connection import Connection, boto3_client


def test_a_store_call_after_the_deadline_is_refused_without_a_request(s3):
    sent = []
    record = lambda **kw: sent.append(kw)  # noqa: E731
    s3.client.meta.events.register("before-send.s3", record)

    with deadline(0), pytest.raises(DeadlineExceeded):
        S3Client().head("any")

    s3.client.meta.events.unregister("before-send.s3", record)
    assert sent == []
    assert issubclass(DeadlineExceeded, StorageUnavailable)  # answered as 503 storage_unavailable


def test_store_calls_outside_a_request_have_no_deadline(s3):
    assert remaining() is None
    assert S3Client().head("missing") is None


def test_a_request_deadline_bounds_work_spread_over_threads(s3):
    def slow(item):
        time.sleep(item)
        return item

    with deadline(0.3):
        started = time.monotonic()
        finished = dict(map_within_deadline(slow, [0, 0.01, 2]))
        elapsed = time.monotonic() - started

    assert finished == {0: 0, 0.01: 0.01}  # the slow one was left behind
    assert elapsed < 2


def test_a_deadline_over_ten_seconds_fails_the_system_check(settings):
    settings.UPLOADS_REQUEST_DEADLINE = 30

    assert "uploads.E030" in [message.id for message in checks.check_upload_limits(None)]


def test_a_client_is_built_once_when_many_threads_ask_for_it_at_once(settings, monkeypatch):
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9/fresh-endpoint"  # a configuration no test built
    built = []
    build = boto3.session.Session.client

    def slow_build(self, *args, **kwargs):
        built.append(threading.current_thread().name)
        time.sleep(0.05)  # botocore loading its models: long enough for every thread to ask meanwhile
        return build(self, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", slow_build)
    connection = Connection.from_settings()
    clients = []
    threads = [threading.Thread(target=lambda: clients.append(boto3_client(connection))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(built) == 1
    assert len({id(client) for client in clients}) == 1


@pytest.mark.django_db
def test_a_single_objects_complete_cut_off_by_the_deadline_completes_on_retry(s3, api, user, upload_factory):
    upload = upload_factory(owner=user, content_type="text/plain", body=b"hello")
    # What the API answers 503 for: nothing is judged or changed.
    with deadline(0), pytest.raises(DeadlineExceeded):
        services.upload_complete(upload=upload)

    retried = api.post(f"/api/uploads/{upload.pk}/complete")

    assert (retried.status_code, retried.json()["status"], retried.json()["size"]) == (200, "complete", 5)
    assert (
        api.post(f"/api/uploads/{upload.pk}/complete").json()["completed_at"]
        == retried.json()["completed_at"]
    )
