"""PostgreSQL at scale (issue 26): each request at 1k, 100k and 1M uploads for one user (in a table
of twice that: 1,000 other users own the rest), and the admin on 2M- and 10M-row tables.

    python -m benchmarks.scaling_pg                          # the sizes below, this checkout
    python -m benchmarks.scaling_pg --users 1000 --admin ""  # some of them
    python -m benchmarks.scaling_pg --label base             # another checkout (e.g. main), its own databases

Each size lives in its own database, `uploads_scale_<label>_<size>`, built once with
`INSERT … SELECT generate_series` (benchmarks/bulk.py; indexes dropped during the insert and
built after) and kept for the next run. One process per database (Django has one default).
A request's figure is the median of RUNS after a warm-up, with its query count; a request past
the statement timeout shows its status (500). Results: benchmarks/results/scaling_pg_<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.common import RESULTS

SERVER = os.environ.get("SCALING_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
USER_SIZES = (1_000, 100_000, 1_000_000)
ADMIN_SIZES = (10_000_000,)  # the admin is measured on each users' table too (2k, 200k, 2M rows)
OWNERS = 1_000  # the other users, who own the rest of the table
RUNS = 5
HTMX = {"HX-Request": "true"}


def _database(label: str, kind: str, size: int) -> str:
    return f"uploads_scale_{label}_{kind}_{size}"


def _ensure_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')


# --- In the child process: one database -------------------------------------------------------


def _build(kind: str, size: int) -> float:
    """Fill the database once; return the seconds it took (0 when it was already built)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from benchmarks.bulk import insert_uploads, insert_users, spread_uploads
    from uploads.models import Usage
    from uploads.quotas import recount_usage

    User = get_user_model()
    if User.objects.filter(username="scale-built").exists():
        return 0.0
    if User.objects.exists():
        raise SystemExit("A build was interrupted here: drop this database and run again.")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # building is not a request; measuring is
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'uploads_upload' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        insert_users(cursor, prefix="owner", count=OWNERS)
        spread_uploads(cursor, prefix="owner", users=OWNERS, per_user=size // OWNERS, tag="owner")
        if kind == "user":
            big = User.objects.create(username="big")
            insert_uploads(cursor, owner_id=big.pk, count=size, tag="big")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
        cursor.execute("RESET statement_timeout")
    for user_id in User.objects.values_list("pk", flat=True):
        if not Usage.objects.filter(user_id=user_id).exists():
            recount_usage(user_id)
    User.objects.create_superuser("scale-built", password="x")  # the mark of a finished build
    return time.perf_counter() - started


def _measure(client, method: str, url: str, data=None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def call():
        if method == "post":
            return client.post(url, data, content_type="application/json")
        return client.get(url, data or {}, headers=HTMX)

    call()  # warm-up
    times, status = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        status = call().status_code
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        call()
    return {"ms": round(statistics.median(times), 1), "queries": len(queries), "status": status}


def _user_requests(big) -> dict[str, tuple]:
    from uploads.models import Upload

    try:
        from uploads import cursors
    except ImportError:  # main before keyset pagination: the last page by OFFSET
        cursors = None
    rows = Upload.objects.filter(owner=big).count()
    last = Upload.objects.filter(owner=big).order_by("-created_at", "-id")[max(rows - 26, 0)]
    deep = {"cursor": cursors.encode(last, sort="-created")} if cursors else {"page": max(rows // 25, 1)}
    presign = json.dumps({"filename": "a.txt", "content_type": "text/plain", "size": 3})
    return {
        "poll fingerprint": ("page", "get", "/uploads/changes/", {"version": "0"}),
        "list render": ("page", "get", "/", None),
        "presign": ("api", "post", "/api/uploads", presign),
        "search, no match": ("page", "get", "/", {"q": "zzqqxx"}),
        "sort by size": ("page", "get", "/", {"sort": "-size"}),
        "sort by name": ("page", "get", "/", {"sort": "name"}),
        "last page": ("page", "get", "/", deep),
        "API list": ("api", "get", "/api/uploads", None),
    }


def _admin_requests() -> dict[str, tuple]:
    from django.contrib.auth import get_user_model

    try:
        from uploads import admin_changelist  # noqa: F401

        owner = {"owner": "owner-500"}
    except ImportError:  # main: the related-only owner filter
        owner = {"owner__id__exact": get_user_model().objects.get(username="owner-500").pk}
    changelist = "/admin/uploads/upload/"
    return {
        "admin changelist": ("admin", "get", changelist, None),
        "admin search": ("admin", "get", changelist, {"q": "report-abc"}),
        "admin type filter": ("admin", "get", changelist, {"family": "video"}),
        "admin status filter": ("admin", "get", changelist, {"status__exact": "failed"}),
        "admin owner filter": ("admin", "get", changelist, owner),
    }


def child(kind: str, size: int) -> dict:
    os.environ.setdefault("UPLOADS_QUOTA_PENDING", "0")  # the big user is far past any limit:
    os.environ.setdefault("UPLOADS_QUOTA_BYTES", "0")  # presign still checks (and locks) the row
    from benchmarks.common import setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from moto import mock_aws

    from uploads.models import ApiToken
    from uploads.s3 import clear_client_cache

    call_command("migrate", verbosity=0)
    built = _build(kind, size)
    User = get_user_model()
    with mock_aws():
        clear_client_cache()
        clients = {"admin": Client()}
        clients["admin"].force_login(User.objects.get(username="scale-built"))
        requests = {"admin": _admin_requests()}
        if kind == "user":
            big = User.objects.get(username="big")
            clients["page"] = Client()
            clients["page"].force_login(big)
            token = ApiToken.issue(user=big, name="bench")[1]
            clients["api"] = Client(headers={"Authorization": f"Bearer {token}"})
            requests["user"] = _user_requests(big)
        figures = {
            group: {
                name: _measure(clients[who], method, url, data)
                for name, (who, method, url, data) in asked.items()
            }
            for group, asked in requests.items()
        }
    table_rows = size * 2 if kind == "user" else size
    return {"built_seconds": round(built, 1), "table_rows": table_rows, "figures": figures}


# --- In the parent: one child per database, then the table ------------------------------------


def run(label: str, users: list[int], admins: list[int]) -> dict:
    results: dict = {"label": label, "user": {}, "admin": {}}
    # The tables of the larger sizes are merged in from the last run, so a size can be redone alone.
    previous = RESULTS / f"scaling_pg_{label}.json"
    if previous.exists():
        results = {**results, **{k: v for k, v in json.loads(previous.read_text()).items() if k != "label"}}
    for kind, sizes in (("user", users), ("admin", admins)):
        for size in sizes:
            name = _database(label, kind, size)
            _ensure_database(name)
            print(f"{name}…", flush=True)
            env = {**os.environ, "DATABASE_URL": f"{SERVER}/{name}"}
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.scaling_pg", "--child", kind, str(size)],
                env=env,
                cwd=os.getcwd(),
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                continue
            found = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(found), flush=True)
            if "user" in found["figures"]:
                results["user"][str(size)] = found["figures"]["user"]
            results["admin"][str(found["table_rows"])] = found["figures"]["admin"]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"scaling_pg_{label}.json").write_text(json.dumps(results, indent=2))
    return results


def table(results: dict, kind: str) -> str:
    """A markdown table: each request's ms (queries) per size, and the growth from smallest to largest."""
    sizes = sorted(results[kind], key=int)
    if not sizes:
        return ""
    names = list(results[kind][sizes[0]])
    header = " | ".join(f"{int(size):,} rows" for size in sizes)
    lines = [f"| request | {header} | growth |", "|---|" + "---|" * (len(sizes) + 1)]
    for name in names:
        cells = []
        for size in sizes:
            figure = results[kind][size][name]
            note = "" if figure["status"] < 400 else f" **{figure['status']}**"
            cells.append(f"{figure['ms']:,} ms ({figure['queries']} q){note}")
        first, last = (results[kind][s][name]["ms"] for s in (sizes[0], sizes[-1]))
        lines.append(f"| {name} | {' | '.join(cells)} | {last / first:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="after")
    parser.add_argument("--users", default=",".join(map(str, USER_SIZES)))
    parser.add_argument("--admin", default=",".join(map(str, ADMIN_SIZES)))
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    sizes = [[int(s) for s in value.split(",") if s] for value in (args.users, args.admin)]
    results = run(args.label, *sizes)
    print(table(results, "user"), "", table(results, "admin"), sep="\n")


if __name__ == "__main__":
    main()
