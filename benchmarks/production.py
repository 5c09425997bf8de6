"""The production server under load and under store faults: gunicorn from gunicorn.conf.py
(gthread) with PostgreSQL, and moto's S3 server behind the fault proxy of the tests
(tests/faults.py), driven by locust through presign -> POST to S3 -> complete.

Three phases: the store at +0 ms, the store at +200 ms each way (both: requests/s, p50/p99,
errors; target 0 errors), then a store that accepts connections and never answers: the time
each of a few concurrent completes takes to answer 503 (target: within the in-request store
budget), and a presign meanwhile (signing needs no store).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import requests

from benchmarks.common import HOST, ROOT, free_port, moto_server, process, save, setup_django
from benchmarks.load import DEFAULT_DATABASE_URL, ensure_database, prepare, run_locust
from tests.faults import FaultProxy

USERS = 16  # concurrent uploaders: as many as the server's threads on this machine (2 × 8)
RUN_TIME_S = 20
LATENCIES_MS = (0, 200)
HUNG_REQUESTS = 4
SLACK_S = 1.0  # Django and the database around the store budget


def locust(site: str, tokens: list[str], env: dict[str, str], out: Path) -> dict:
    return run_locust(site, tokens, env, out, users=USERS, run_time_s=RUN_TIME_S, stop_timeout_s=15)[0]


def hung_store(site: str, token: str) -> dict:
    """Start uploads, hang the store, then time concurrent completes to their 503 and a presign."""
    headers = {"Authorization": f"Bearer {token}"}

    def presign() -> tuple[int, float, str]:
        started = time.monotonic()
        response = requests.post(
            f"{site}/api/uploads",
            json={"filename": "hung.txt", "content_type": "text/plain", "size": 1},
            headers=headers,
            timeout=60,
        )
        return response.status_code, time.monotonic() - started, response.json().get("id", "")

    def complete(upload_id: str) -> tuple[int, float, str]:
        started = time.monotonic()
        response = requests.post(f"{site}/api/uploads/{upload_id}/complete", headers=headers, timeout=60)
        return response.status_code, time.monotonic() - started, response.json().get("code", "")

    ids = [presign()[2] for _ in range(HUNG_REQUESTS)]
    with ThreadPoolExecutor(HUNG_REQUESTS + 1) as pool:
        completes = list(pool.map(complete, ids))
        presigned = presign()
    return {
        "completes": [{"status": s, "seconds": round(t, 2), "code": c} for s, t, c in completes],
        "max_seconds_to_503": round(max(t for _, t, _ in completes), 2),
        "presign_while_hung": {"status": presigned[0], "seconds": round(presigned[1], 3)},
    }


def run() -> dict:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith("postgres"):
        raise SystemExit("The production benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    if database_url == DEFAULT_DATABASE_URL:
        ensure_database(database_url)

    results: dict = {"users": USERS, "run_time_s": RUN_TIME_S, "database": "PostgreSQL", "latency": {}}
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        store = FaultProxy((urlparse(endpoint).hostname, urlparse(endpoint).port))
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": database_url,
            "AWS_S3_ENDPOINT_URL": store.url,
            "BIND": f"{HOST}:{port}",
            "GUNICORN_LOG_LEVEL": "warning",
        }
        os.environ.update(env)
        setup_django()
        from django.conf import settings

        from uploads.models import Upload

        tokens = prepare(USERS)
        config = _gunicorn_config()
        results["server"] = {key: config[key] for key in ("worker_class", "workers", "threads", "timeout")}
        budget = settings.UPLOADS_S3_MAX_ATTEMPTS * (
            settings.UPLOADS_S3_CONNECT_TIMEOUT + settings.UPLOADS_S3_READ_TIMEOUT
        )
        server = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        with process(server, env=env, ready_url=f"http://{HOST}:{port}/healthz"):
            site = f"http://{HOST}:{port}"
            for latency in LATENCIES_MS:
                Upload.objects.all().delete()
                store.mode, store.delay_ms = ("delay", latency) if latency else ("pass", 0)
                stats = locust(site, tokens, env, Path(tmp) / f"latency-{latency}.json")
                completed = Upload.objects.filter(status=Upload.Status.COMPLETE).count()
                results["latency"][str(latency)] = {
                    "operations": stats,
                    "django_rps": round(stats["presign"]["rps"] + stats["complete"]["rps"], 1),
                    "uploads_completed": completed,
                    "errors": sum(op["failures"] for op in stats.values()),
                }
            store.mode = "hang"
            hung = hung_store(site, tokens[0])
            store.mode = "pass"
        store.close()

    hung["budget_s"] = budget
    results["hung_store"] = hung
    results["meets_target"] = (
        all(
            run["errors"] == 0 and run["uploads_completed"] == run["operations"]["complete"]["requests"]
            for run in results["latency"].values()
        )
        and all(c["status"] == 503 and c["code"] == "storage_unavailable" for c in hung["completes"])
        and hung["max_seconds_to_503"] <= budget + SLACK_S
        and hung["presign_while_hung"]["status"] == 201
    )
    return results


def _gunicorn_config() -> dict:
    import runpy

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {key: value for key, value in config.items() if not key.startswith("_")}


def main() -> None:
    save("production", run())


if __name__ == "__main__":
    main()
