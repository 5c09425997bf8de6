"""Scale-out: two app servers (gunicorn.conf.py, as `make serve`) on one PostgreSQL and one Redis.

python -m benchmarks scaleout   (DATABASE_URL, else the local database `scaleout`; REDIS_URL, else db 7)

Both servers share the database, the rate limits' cache (REDIS_URL) and the Celery broker (Redis
too); the store is moto's S3 server, as in production.py. Two phases, the servers restarted between:

1. Load: threads loop presign → POST to S3 → complete → url → list, each request to the other
   server from the one before, for a few seconds: requests/s per server and in all; errors (target 0).
2. Limits (UPLOADS_QUOTA_PENDING=5, UPLOADS_QUOTA_BYTES=1000, UPLOADS_RATE_URL=20/m): 50 presigns
   of one user released at once, half to each server, never leave more than 5 pending or more than
   1000 bytes reserved; 60 url requests of one user, half to each server (one after another, then all
   at once), are accepted at most 20 times in all.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager, suppress

import requests

from benchmarks.common import HOST, free_port, moto_server, process, save, setup_django
from benchmarks.load import ensure_database, prepare
from benchmarks.production import _gunicorn_config

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scaleout"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
SERVERS = 2
LOAD_THREADS = 8
LOAD_S = 15
BURST = 50
PENDING_LIMIT, BYTES_LIMIT = 5, 1000
URL_LIMIT, URL_REQUESTS = 20, 60
LIMITS = {
    "BENCH_QUOTA_PENDING": str(PENDING_LIMIT),
    "BENCH_QUOTA_BYTES": str(BYTES_LIMIT),
    "BENCH_RATE_URL": f"{URL_LIMIT}/m",
}
BODY = b"scale-out\n" * 3  # 30 bytes


@contextmanager
def servers(env: dict[str, str]):
    """SERVERS gunicorn processes from gunicorn.conf.py, each on its own port; yields their URLs."""
    sites = []
    with ExitStack() as stack:
        for _ in range(SERVERS):
            port = free_port()
            server = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
            ready = f"http://{HOST}:{port}/healthz"
            stack.enter_context(process(server, env={**env, "BIND": f"{HOST}:{port}"}, ready_url=ready))
            sites.append(f"http://{HOST}:{port}")
        yield sites


def one_upload(session: requests.Session, sites: list[str], token: str, count: Counter) -> str | None:
    """Presign on one server, send the bytes to S3, complete on the other; count each answer by server."""
    headers = {"Authorization": f"Bearer {token}"}

    def call(site: int, method: str, path: str, ok: int, **kwargs) -> requests.Response | None:
        try:
            response = session.request(method, f"{sites[site]}{path}", headers=headers, timeout=30, **kwargs)
        except requests.RequestException:
            count[site, "error"] += 1
            return None
        count[site, "ok" if response.status_code == ok else "error"] += 1
        return response if response.status_code == ok else None

    body = {"filename": "s.txt", "content_type": "text/plain", "size": len(BODY)}
    signed = call(0, "POST", "/api/uploads", 201, json=body)
    if signed is None:
        return None
    direct = signed.json()
    sent = session.post(direct["url"], data=direct["fields"], files={"file": ("s.txt", BODY, "text/plain")})
    if sent.status_code not in (200, 201, 204):
        count["store", "error"] += 1
        return None
    if call(1, "POST", f"/api/uploads/{direct['id']}/complete", 200) is None:
        return None
    return direct["id"]


def load(sites: list[str], tokens: list[str]) -> dict:
    """LOAD_THREADS threads, each with its own user, for LOAD_S seconds: per-server requests/s and errors."""
    count: Counter = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + LOAD_S

    def worker(token: str) -> None:
        mine: Counter = Counter()
        headers = {"Authorization": f"Bearer {token}"}
        with requests.Session() as session:
            while time.monotonic() < stop:
                upload_id = one_upload(session, sites, token, mine)
                if upload_id is None:
                    continue
                for site, path in ((0, f"/api/uploads/{upload_id}/url"), (1, "/api/uploads")):
                    try:
                        answer = session.get(f"{sites[site]}{path}", headers=headers, timeout=30).status_code
                    except requests.RequestException:
                        answer = 0
                    mine[site, "ok" if answer == 200 else "error"] += 1
        with lock:
            count.update(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    per_server = {
        f"server_{site + 1}": {
            "requests": count[site, "ok"] + count[site, "error"],
            "rps": round((count[site, "ok"] + count[site, "error"]) / seconds, 1),
            "errors": count[site, "error"],
        }
        for site in range(SERVERS)
    }
    total = sum(server["requests"] for server in per_server.values())
    return {
        "threads": len(tokens),
        "seconds": round(seconds, 1),
        "per_server": per_server,
        "requests": total,
        "rps": round(total / seconds, 1),
        "errors": sum(server["errors"] for server in per_server.values()) + count["store", "error"],
    }


def released_at_once(calls: list) -> list[int]:
    """Run each call in its own thread, all released by one barrier; their status codes (0 = no answer)."""
    barrier = threading.Barrier(len(calls))
    statuses = [0] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        with suppress(requests.RequestException):  # no answer stays 0, an error
            statuses[i] = calls[i]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def quota_burst(sites: list[str], user, token: str, *, size: int) -> dict:
    """BURST presigns of `size` bytes released at once, alternately to each server; what they left."""
    from uploads.models import Upload, Usage

    Upload.objects.filter(owner=user).delete()
    Usage.objects.filter(pk=user.pk).delete()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"filename": "q.txt", "content_type": "text/plain", "size": size}
    statuses = released_at_once(
        [
            lambda site=sites[i % SERVERS]: requests.post(
                f"{site}/api/uploads", json=body, headers=headers, timeout=30
            )
            for i in range(BURST)
        ]
    )
    usage = Upload.objects.owned_by(user).usage()
    return {
        "size": size,
        "accepted": statuses.count(201),
        "answers": dict(sorted(Counter(map(str, statuses)).items())),
        "pending": usage["pending"],
        "bytes": usage["bytes_reserved"],
        "errors": sum(1 for status in statuses if status == 0 or status >= 500),
    }


def rate_limit(sites: list[str], token: str, *, at_once: bool) -> dict:
    """URL_REQUESTS url requests of one user, alternately to each server: how many were accepted."""
    headers = {"Authorization": f"Bearer {token}"}
    with requests.Session() as session:
        upload_id = one_upload(session, sites, token, Counter())
    calls = [
        lambda site=sites[i % SERVERS]: requests.get(
            f"{site}/api/uploads/{upload_id}/url", headers=headers, timeout=30
        )
        for i in range(URL_REQUESTS)
    ]
    statuses = released_at_once(calls) if at_once else [call().status_code for call in calls]
    return {
        "requests": URL_REQUESTS,
        "accepted": statuses.count(200),
        "accepted_by_server": [statuses[i::SERVERS].count(200) for i in range(SERVERS)],
        "refused_429": statuses.count(429),
        "errors": sum(1 for status in statuses if status not in (200, 429)),
    }


def run() -> dict:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith("postgres"):
        raise SystemExit("The scale-out benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(database_url)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # no rate-limit history or queued task from a run before

    results: dict = {"servers": SERVERS, "database": "PostgreSQL", "cache_and_broker": "Redis"}
    with moto_server() as endpoint:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "AWS_S3_ENDPOINT_URL": endpoint,
            "GUNICORN_LOG_LEVEL": "warning",
        }
        os.environ.update(env)
        setup_django()
        from django.contrib.auth import get_user_model

        from uploads.models import ApiToken

        tokens = prepare(LOAD_THREADS)
        config = _gunicorn_config()
        results["server"] = {key: config[key] for key in ("worker_class", "workers", "threads")}
        with servers(env) as sites:
            results["load"] = load(sites, tokens)

        def user_token(name: str):
            user, _ = get_user_model().objects.get_or_create(username=f"scaleout-{name}")
            return user, ApiToken.issue(user=user, name="scale-out benchmark")[1]

        with servers({**env, **LIMITS}) as sites:
            user, token = user_token("quota")
            results["quota_burst"] = {
                "presigns": BURST,
                "pending_limit": PENDING_LIMIT,
                "bytes_limit": BYTES_LIMIT,
                "pending_bound": quota_burst(sites, user, token, size=10),
                "bytes_bound": quota_burst(sites, user, token, size=300),
            }
            results["rate_limit"] = {
                "limit": f"{URL_LIMIT}/m",
                "one_after_another": rate_limit(sites, user_token("rate-sequential")[1], at_once=False),
                "all_at_once": rate_limit(sites, user_token("rate-at-once")[1], at_once=True),
            }
    redis.Redis.from_url(redis_url).flushdb()  # the tasks queued for a worker that never ran
    results["missed"] = missed(results)
    results["meets_target"] = not results["missed"]
    return results


def missed(r: dict) -> list[str]:
    """What exceeded a limit or failed (report.py names each in MISSED)."""
    out = []
    if r["load"]["errors"]:
        out.append(f"{r['load']['errors']} errors under load")
    quota = r["quota_burst"]
    for name in ("pending_bound", "bytes_bound"):
        burst = quota[name]
        if burst["pending"] > quota["pending_limit"] or burst["bytes"] > quota["bytes_limit"]:
            out.append(f"a burst ({name}) left {burst['pending']} pending, {burst['bytes']} bytes reserved")
        if burst["errors"]:
            out.append(f"{burst['errors']} errors in the quota burst ({name})")
    for name in ("one_after_another", "all_at_once"):
        run = r["rate_limit"][name]
        if run["accepted"] > URL_LIMIT:
            out.append(f"rate limit {r['rate_limit']['limit']} accepted {run['accepted']} ({name})")
        if run["errors"]:
            out.append(f"{run['errors']} errors in the rate-limit run ({name})")
    return out


def main() -> None:
    save("scaleout", run())


if __name__ == "__main__":
    main()
