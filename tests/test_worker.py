"""The `worker` tier: a real Celery worker process on a real broker (embedded, or Redis in CI)."""

import pytest
from django.db import connection

from uploads.models import Processing, Upload
from uploads.processing.state import enqueue
from uploads.s3 import S3Client

from .faults import FaultProxy, database_url, wait_until
from .processing_helpers import png
from .worker import broker_url, celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env(s3, moto_server):
    return {
        "DATABASE_URL": database_url(connection.settings_dict),
        "AWS_S3_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_STORAGE_BUCKET_NAME": s3.bucket_name,
        "AWS_S3_ADDRESSING_STYLE": "path",
        "UPLOADS_PROCESSING_RETRY_BASE": "0.2",
    }


@pytest.fixture
def store_proxy(moto_server):
    host, port = moto_server.removeprefix("http://").split(":")
    proxy = FaultProxy((host, int(port)))
    yield proxy
    proxy.close()


def processing_of(upload: Upload) -> str:
    return Upload.objects.values_list("processing", flat=True).get(pk=upload.pk)


def derived(upload: Upload) -> list[str]:
    return [o.key for o in S3Client().iter_objects(prefix=upload.key.rsplit("/", 1)[0] + "/_derived/")]


def test_an_upload_completed_through_the_api_is_processed_by_a_real_worker(
    worker_env, tmp_path, api, post_to_s3
):
    body = png(640, 480)
    started = api.post(
        "/api/uploads",
        {"filename": "cat.png", "content_type": "image/png", "size": len(body)},
        content_type="application/json",
    ).json()
    post_to_s3(started["url"], started["fields"], body, filename="cat.png", content_type="image/png")

    with celery_worker(env=worker_env, log=tmp_path / "worker.log", broker=broker_url(tmp_path)):
        api.post(f"/api/uploads/{started['id']}/complete")  # the task is sent once it commits
        upload = Upload.objects.get(pk=started["id"])
        wait_until(lambda: processing_of(upload) == Processing.DONE, timeout=60)

    answer = api.get(f"/api/uploads/{started['id']}").json()
    assert answer["metadata"] == {"width": 640, "height": 480}
    assert answer["thumbnail"]["width"] == 256


def test_a_worker_killed_mid_task_runs_it_again_with_the_same_result(
    worker_env, tmp_path, upload_factory, user, store_proxy
):
    upload = stored(upload_factory, user, png(300, 200))
    # The worker reaches the store through the proxy, which holds the answer to its download.
    store_proxy.hold_matching = f"GET /{S3Client().bucket_name}/{upload.key}".encode()
    store_proxy.mode = "hold"
    worker_env["AWS_S3_ENDPOINT_URL"] = store_proxy.url

    with celery_worker(env=worker_env, log=tmp_path / "worker.log", broker=broker_url(tmp_path)) as worker:
        enqueue(upload.pk)
        wait_until(lambda: processing_of(upload) == Processing.RUNNING, timeout=60)
        killed = worker.kill_pool_child()  # SIGKILL, mid-download
        store_proxy.mode = "pass"
        wait_until(lambda: processing_of(upload) == Processing.DONE, timeout=60)
        assert killed not in worker.pool_children()
        assert "WorkerLostError" in worker.text()

    upload.refresh_from_db()
    assert upload.metadata["width"] == 300
    assert derived(upload) == [upload.thumbnail["key"]]  # one thumbnail, no leftovers


def test_a_store_outage_during_a_task_is_retried_then_done(
    worker_env, tmp_path, upload_factory, user, store_proxy
):
    upload = stored(upload_factory, user, png(64, 64))
    store_proxy.mode = "refuse"
    worker_env["AWS_S3_ENDPOINT_URL"] = store_proxy.url

    with celery_worker(env=worker_env, log=tmp_path / "worker.log", broker=broker_url(tmp_path)) as worker:
        enqueue(upload.pk)
        wait_until(lambda: "retry: Retry in" in worker.text(), timeout=60)
        store_proxy.mode = "pass"
        wait_until(lambda: processing_of(upload) == Processing.DONE, timeout=60)

    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE
    assert upload.thumbnail is not None


def stored(upload_factory, user, body: bytes) -> Upload:
    upload = upload_factory(
        owner=user,
        filename="a.png",
        content_type="image/png",
        body=body,
        max_size=len(body),
        size=len(body),
        status=Upload.Status.COMPLETE,
        processing=Processing.QUEUED,
    )
    upload.etag = S3Client().head(upload.key).etag
    upload.save(update_fields=["etag"])
    return upload
