"""Load over HTTP on 127.0.0.1: the app under gunicorn (2 workers) with PostgreSQL and moto's S3
server, driven by locust (headless, bounded) through presign -> POST to S3 -> complete.

PostgreSQL comes from DATABASE_URL, else the local server's database `uploads_bench` (created if
missing). Figures: requests per second, p50/p99 latency per operation, and the errors (target: 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, gunicorn, moto_server, save, setup_django

WORKERS = 2
USERS = 8  # concurrent uploaders, each looping presign -> S3 -> complete with no pause
RUN_TIME_S = 30  # the run is bounded: locust stops after this
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/uploads_bench"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
# Names of the rows in locust's statistics (set in locustfile.py).
OPERATIONS = {
    "presign": "presign POST /api/uploads",
    "complete": "complete POST /api/uploads/{id}/complete",
    "s3_post": "S3 POST (moto, not Django)",
}


def ensure_database(url: str) -> None:
    """Create the benchmark database on the local PostgreSQL when it does not exist yet."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        raise SystemExit(f"The load benchmark needs PostgreSQL on 127.0.0.1:5432 ({e})") from None


def prepare(tokens: int) -> list[str]:
    """Migrate, empty the uploads table, create the bucket and one API token per simulated user."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from uploads.models import ApiToken, Upload
    from uploads.s3 import S3Client

    call_command("migrate", verbosity=0)
    Upload.objects.all().delete()
    S3Client().create_bucket()
    secrets = []
    for i in range(tokens):
        user, _ = get_user_model().objects.get_or_create(username=f"load-{i}")
        secrets.append(ApiToken.issue(user=user, name="load benchmark")[1])
    return secrets


def percentile(response_times: dict[str, int], fraction: float) -> float:
    """The response time (ms) under which `fraction` of requests fall, from locust's histogram."""
    histogram = sorted((float(ms), count) for ms, count in response_times.items())
    wanted = fraction * sum(count for _, count in histogram)
    seen = 0
    for ms, count in histogram:
        seen += count
        if seen >= wanted:
            return ms
    return histogram[-1][0]


def run_locust(
    site: str,
    tokens: list[str],
    env: dict[str, str],
    out: Path,
    *,
    users: int,
    run_time_s: int,
    stop_timeout_s: int,
) -> tuple[dict, int]:
    """Run locust headless against `site` (each user with one of `tokens`); return its stats and exit code."""
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "--locustfile",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            site,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{run_time_s}s",
            "--stop-timeout",
            str(stop_timeout_s),
            "--json-file",
            str(out.with_suffix("")),  # locust adds ".json"
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],  # fmt: skip
        env={**env, "BENCH_TOKENS": ",".join(tokens)},
        cwd=ROOT,
    )
    return read_stats(out), finished.returncode


def read_stats(path: Path) -> dict:
    """Locust's final statistics, by operation: count, failures, rps, p50 and p99 in ms."""
    rows = {row["name"]: row for row in json.loads(path.read_text())}
    stats = {}
    for name, label in OPERATIONS.items():
        row = rows[label]
        seconds = row["last_request_timestamp"] - row["start_time"]
        stats[name] = {
            "requests": row["num_requests"],
            "failures": row["num_failures"],
            "rps": round(row["num_requests"] / seconds, 1),
            "p50_ms": percentile(row["response_times"], 0.50),
            "p99_ms": percentile(row["response_times"], 0.99),
        }
    return stats


def run() -> dict:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith("postgres"):
        raise SystemExit("The load benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    if database_url == DEFAULT_DATABASE_URL:
        ensure_database(database_url)

    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": database_url,
            "AWS_S3_ENDPOINT_URL": endpoint,
        }
        os.environ.update(env)
        setup_django()
        tokens = prepare(USERS)
        with gunicorn(env=env, workers=WORKERS) as site:
            stats_file = Path(tmp) / "load.json"
            stats, locust_exit_code = run_locust(
                site, tokens, env, stats_file, users=USERS, run_time_s=RUN_TIME_S, stop_timeout_s=10
            )

    from uploads.models import Upload

    completed = Upload.objects.filter(status=Upload.Status.COMPLETE).count()
    errors = sum(op["failures"] for op in stats.values())
    return {
        "gunicorn_workers": WORKERS,
        "users": USERS,
        "run_time_s": RUN_TIME_S,
        "database": "PostgreSQL",
        "operations": stats,
        "django_rps": round(stats["presign"]["rps"] + stats["complete"]["rps"], 1),
        "uploads_completed": completed,
        "errors": errors,
        "locust_exit_code": locust_exit_code,
        "meets_target": errors == 0 and completed == stats["complete"]["requests"],
    }


def main() -> None:
    save("load", run())


if __name__ == "__main__":
    main()
