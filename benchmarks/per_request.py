"""Per-request cost in-process: each operation through Django's test client, against moto's
in-process S3, as a ratio to the floor (a trivial authenticated ninja endpoint writing one row)."""

from __future__ import annotations

import os
import statistics
import time

from benchmarks.common import measure_interleaved, save, setup_django

ITERATIONS = 400
WARMUP = 30
# Issue 26: each operation against the floor (Django answering a signed-in request with no work).
TARGETS = {"presign": 1.5, "url": 1.2, "complete": 2.0, "delete": 2.0}
# Complete queues processing: on production's broker (Redis) when one answers here, in a queue of
# its own that no worker reads and that is emptied at the end.
REDIS_BROKER_URL = "redis://127.0.0.1:6379/7"
QUEUE = "bench-per-request"


def choose_broker() -> str:
    """CELERY_BROKER_URL if set; else Redis when it answers; else the embedded broker, said aloud."""
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = QUEUE
    if os.environ.get("CELERY_BROKER_URL"):
        return os.environ["CELERY_BROKER_URL"].split(":", 1)[0]
    try:
        import redis

        redis.Redis.from_url(REDIS_BROKER_URL, socket_connect_timeout=1).ping()
    except Exception:
        print(f"No Redis at {REDIS_BROKER_URL}: complete queues on the embedded SQLite broker instead.")
        return "embedded"
    os.environ["CELERY_BROKER_URL"] = REDIS_BROKER_URL
    return "redis"


def empty_queue() -> None:
    from project.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(QUEUE)


def store_requests(client, operation, state) -> list[str]:
    """The store requests one call makes, by name (botocore's events on the app's shared client)."""
    seen: list[str] = []

    def record(model, **kwargs) -> None:
        seen.append(model.name)

    client.meta.events.register("before-call.s3", record)
    try:
        operation() if state is None else operation(state)
    finally:
        client.meta.events.unregister("before-call.s3", record)
    return seen


class StoreClock:
    """Time spent in store requests (boto3 building and signing them, and moto answering), summed
    from botocore's events on the app's shared client: what of an operation's time is the store's."""

    def __init__(self, client) -> None:
        self.total = 0.0
        client.meta.events.register("before-call.s3", self._started)
        client.meta.events.register("after-call.s3", self._ended)

    @staticmethod
    def _started(context, **kwargs) -> None:
        context["bench_started"] = time.perf_counter()

    def _ended(self, context, **kwargs) -> None:
        self.total += time.perf_counter() - context.pop("bench_started")

    def timing(self, operation, samples: list[float]):
        """`operation`, appending each call's store time (ms) to `samples`."""

        def timed(*state) -> None:
            before = self.total
            operation(*state)
            samples.append((self.total - before) * 1000)

        return timed


def run() -> dict:
    broker = choose_broker()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from moto import mock_aws

    from uploads import services
    from uploads.models import ApiToken, Upload
    from uploads.s3 import S3Client, clear_client_cache
    from uploads.s3.connection import clients_built

    with mock_aws():
        clear_client_cache()  # the mock sees only clients built after it started
        call_command("migrate", verbosity=0)
        Upload.objects.all().delete()
        s3 = S3Client()
        if not s3.bucket_exists():
            s3.create_bucket()
        user, _ = get_user_model().objects.get_or_create(username="bench")
        token = ApiToken.issue(user=user, name="bench")[1]
        api = Client(headers={"Authorization": f"Bearer {token}"})
        page = Client()
        page.force_login(user)

        def pending_with_object():
            direct = services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=5)
            s3.client.put_object(
                Bucket=s3.bucket_name, Key=direct.upload.key, Body=b"hello", ContentType="text/plain"
            )
            return direct.upload

        def complete_upload():
            return services.upload_complete(upload=pending_with_object())

        def ok(response, status=200):
            assert response.status_code == status, (response.status_code, response.content[:200])

        for _ in range(25):  # a full page of rows for the list
            complete_upload()

        # name: (operation, prepare or None); prepare runs untimed before each call.
        operations = {
            "floor": (lambda: ok(api.post("/bench/floor")), None),
            "presign": (
                lambda: ok(
                    api.post(
                        "/api/uploads",
                        {"filename": "photo.jpg", "content_type": "image/jpeg", "size": 1000},
                        content_type="application/json",
                    ),
                    201,
                ),
                None,
            ),
            "complete": (
                lambda upload: ok(api.post(f"/api/uploads/{upload.pk}/complete")),
                pending_with_object,
            ),
            "url": (
                lambda upload: ok(api.get(f"/api/uploads/{upload.pk}/url")),
                lambda: Upload.objects.filter(status="complete").first(),
            ),
            "delete": (lambda upload: ok(api.delete(f"/api/uploads/{upload.pk}"), 204), complete_upload),
            "list_api": (lambda: ok(api.get("/api/uploads")), None),
            "list_htmx": (lambda: ok(page.get("/", headers={"HX-Request": "true"})), None),
        }
        clock = StoreClock(s3.client)
        store_ms: dict[str, list[float]] = {name: [] for name in operations}
        timed = {
            name: (clock.timing(operation, store_ms[name]), prepare)
            for name, (operation, prepare) in operations.items()
        }
        results = measure_interleaved(timed, iterations=ITERATIONS, warmup=WARMUP)
        for name, (operation, prepare) in operations.items():
            state = prepare() if prepare else None  # untimed: what one call asks of the store
            results[name]["store_requests"] = store_requests(s3.client, operation, state)
        floor = results["floor"]["median_ms"]
        for name, result in results.items():
            result["ratio_to_floor"] = round(result["median_ms"] / floor, 2)
            # The median call's time in the store, and the ratio of what is left (the server's own).
            result["store_ms"] = round(statistics.median(store_ms[name][WARMUP:]), 3)
            result["own_ratio_to_floor"] = round((result["median_ms"] - result["store_ms"]) / floor, 2)
            if name in TARGETS:
                result["target"] = TARGETS[name]
                result["meets_target"] = result["ratio_to_floor"] <= TARGETS[name]
        # Signed clients are cached per configuration: one signing and one unsigned client.
        results["boto3_clients_built"] = clients_built()
        results["broker"] = broker
        clear_client_cache()
    empty_queue()
    return results


def main() -> None:
    save("per_request", run())


if __name__ == "__main__":
    main()
