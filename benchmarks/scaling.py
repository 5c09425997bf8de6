"""Scaling: queries per list page at 10 and 10,000 uploads; cleanup over many stale records,
orphan objects and complete records to verify (moto in-process): wall time, S3 requests by type,
peak memory as N doubles."""

from __future__ import annotations

import math
import threading
import time
import tracemalloc
import uuid
from datetime import timedelta
from functools import partial

from benchmarks.common import save, setup_django

CLEANUP_SIZES = (10_000, 20_000)


def run() -> dict:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from moto import mock_aws
    from moto.backends import get_backend

    from uploads.cleanup import CleanupRun
    from uploads.models import Upload
    from uploads.s3 import S3Client, clear_client_cache

    def make_uploads(owner, count: int, *, status="complete", age=timedelta(0), keys=None):
        now = timezone.now() - age
        rows = []
        for i in range(count):
            upload_id = uuid.uuid4()
            key = keys[i] if keys else f"uploads/{upload_id}/photo.png"
            rows.append(
                Upload(
                    id=upload_id,
                    owner=owner,
                    file=key,
                    original_filename="photo.png",
                    content_type="image/png",
                    max_size=1000,
                    size=10,
                    status=status,
                    created_at=now,
                    expires_at=now,
                )
            )
        Upload.objects.bulk_create(rows, batch_size=2000)

    results: dict = {}
    with mock_aws():
        clear_client_cache()
        call_command("migrate", verbosity=0)
        Upload.objects.all().delete()
        s3 = S3Client()
        s3.create_bucket()
        backend = get_backend("s3")["123456789012"]["aws"]
        User = get_user_model()
        User.objects.filter(username__startswith="scale-").delete()

        # --- Queries per list page ---
        queries = {}
        for rows in (10, 10_000):
            user = User.objects.create(username=f"scale-{rows}")
            make_uploads(user, rows)
            api, page = Client(), Client()
            api.force_login(user)
            page.force_login(user)
            for name, client, url, headers in (
                ("api", api, "/api/uploads", {}),
                ("htmx_partial", page, "/", {"HX-Request": "true"}),
            ):
                client.get(url, headers=headers)  # warm the session
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url, headers=headers)
                assert response.status_code == 200
                queries[f"{name}_{rows}_rows"] = len(captured.captured_queries)
        queries["equal"] = all(
            queries[f"{n}_10_rows"] == queries[f"{n}_10000_rows"] for n in ("api", "htmx_partial")
        )
        results["list_queries"] = queries

        # --- Cleanup at scale ---
        calls: dict[str, int] = {}

        counting = threading.Lock()  # HEADs are made from 8 threads at once

        def count(model, **kwargs):
            with counting:
                calls[model.name] = calls.get(model.name, 0) + 1

        # Cleanup speaks through its own client (longer timeouts than a request's): count its calls.
        batch_client = CleanupRun().client.client
        batch_client.meta.events.register("before-call.s3", count)
        cleanup = {}
        for n in CLEANUP_SIZES:
            Upload.objects.all().delete()
            owner = User.objects.create(username=f"scale-cleanup-{n}")
            # Stale pending records whose browser never came back (no object: each is HEADed, then failed).
            make_uploads(owner, n, status="pending", age=timedelta(days=2))
            # Orphan objects: straight into moto's backend (setup, not measured).
            for i in range(n):
                backend.put_object(s3.bucket_name, f"uploads/orphan-{i:06}/file.bin", b"")
            later = timezone.now() + timedelta(days=2)  # every orphan is past the grace period

            # Complete records whose objects are there, for --verify (set up after the orphans go).
            keys = [f"uploads/complete-{i:06}/file.bin" for i in range(n)]

            def verify_setup(keys=keys, owner=owner):
                for key in keys:
                    backend.put_object(s3.bucket_name, key, b"")
                make_uploads(owner, len(keys), keys=keys, age=timedelta(days=2))

            for name, setup, job in (
                (
                    "stale",
                    None,
                    partial(_run, CleanupRun(older_than=timedelta(days=1)), "settle_stale_uploads"),
                ),
                ("orphans", None, partial(_run, CleanupRun(orphans=True, now=later), "delete_orphans")),
                (
                    "verify",
                    verify_setup,
                    partial(_run, CleanupRun(verify=True, now=later), "verify_complete"),
                ),
            ):
                if setup:
                    setup()  # not measured
                calls.clear()
                tracemalloc.start()
                started = time.perf_counter()
                report = job()
                wall = time.perf_counter() - started
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                cleanup[f"{name}_{n}"] = {
                    "n": n,
                    "wall_s": round(wall, 2),
                    "per_item_ms": round(wall / n * 1000, 3),
                    "peak_memory_mib": round(peak / 2**20, 2),
                    "s3_requests": dict(calls),
                    "failed": report.failed,
                    "orphans_deleted": report.orphans_deleted,
                    "gone": report.gone,
                }
            assert cleanup[f"orphans_{n}"]["s3_requests"].get("DeleteObjects") == math.ceil(n / 1000)
            s3.delete_many(keys)  # the next N's orphan sweep must find only its own orphans
        batch_client.meta.events.unregister("before-call.s3", count)
        small, large = CLEANUP_SIZES
        for name in ("stale", "orphans", "verify"):
            cleanup[f"{name}_memory_growth"] = round(
                cleanup[f"{name}_{large}"]["peak_memory_mib"] / cleanup[f"{name}_{small}"]["peak_memory_mib"],
                2,
            )
        results["cleanup"] = cleanup
        Upload.objects.all().delete()
        clear_client_cache()
    return results


def _run(cleanup, step: str):
    """One step of a cleanup run; return its report."""
    getattr(cleanup, step)()
    return cleanup.report


def main() -> None:
    save("scaling", run())


if __name__ == "__main__":
    main()
