"""Quotas on PostgreSQL: a burst of parallel presigns against the limits, and the quota check at 1M rows.

python -m benchmarks quotas    (DATABASE_URL, else the local server's database `quota_bench`)

Both halves compare, in one run, the check as it was (sum the user's rows, then insert: no lock)
with the check as it is (`quotas.require_room`: one usage row locked in the insert's transaction).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta

from benchmarks.load import ensure_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/quota_bench"
BURST = 50
ROWS = 1_000_000


def _old_presign(user, size: int) -> None:
    """The check before the usage row: an aggregate over the user's rows, then the insert."""
    from django.conf import settings
    from django.utils import timezone

    from uploads.errors import QuotaExceeded, TooManyPending
    from uploads.models import Upload

    usage = Upload.objects.owned_by(user).usage()
    if usage["pending"] >= settings.UPLOADS_QUOTA_PENDING:
        raise TooManyPending()
    if usage["bytes_stored"] + usage["bytes_reserved"] + size > settings.UPLOADS_QUOTA_BYTES:
        raise QuotaExceeded()
    upload_id = uuid.uuid4()
    Upload.objects.create(  # as main's upload_start did, after its check
        id=upload_id,
        owner=user,
        file=f"uploads/{upload_id}/a.txt",
        original_filename="a.txt",
        content_type="text/plain",
        max_size=size,
        expected_size=size,
        expires_at=timezone.now() + timedelta(minutes=10),
    )


def _new_presign(user, size: int) -> None:
    from uploads import services

    services.upload_start(owner=user, filename="a.txt", content_type="text/plain", size=size)


def burst(presign, user, *, size: int) -> dict:
    """`BURST` presigns released at the same instant from as many threads; what they left."""
    from django.conf import settings
    from django.db import connections

    from uploads.errors import UploadError
    from uploads.models import Upload, Usage

    Upload.objects.all().delete()
    Usage.objects.all().delete()
    barrier = threading.Barrier(BURST)

    def run():
        try:
            barrier.wait()
            presign(user, size)
        except UploadError:
            pass
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = Upload.objects.owned_by(user).usage()
    return {
        "pending": usage["pending"],
        "pending_limit": settings.UPLOADS_QUOTA_PENDING,
        "bytes": usage["bytes_reserved"],
        "bytes_limit": settings.UPLOADS_QUOTA_BYTES,
    }


def quota_check_at_scale(user) -> dict:
    """The quota check for a user with ROWS uploads: the old aggregate against the usage row."""
    from django.db import connection, transaction

    from uploads import quotas
    from uploads.models import Upload

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # a million rows take longer than a request may
        cursor.execute("TRUNCATE uploads_upload")
        cursor.execute(
            """
            INSERT INTO uploads_upload (id, owner_id, file, original_filename, content_type, max_size,
                expected_size, size, etag, public, status, created_at, expires_at, multipart_upload_id,
                failure_code, failure_reason)
            SELECT gen_random_uuid(), %s, 'uploads/' || g || '/f.txt', 'f.txt', 'text/plain', 1000,
                NULL, CASE WHEN g %% 10 = 0 THEN NULL ELSE 100 END, '', false,
                CASE WHEN g %% 10 = 0 THEN 'pending' ELSE 'complete' END, now(), now(), '', '', ''
            FROM generate_series(1, %s) AS g
            """,
            [user.pk, ROWS],
        )
        cursor.execute("ANALYZE uploads_upload")
    quotas.recount_usage(user.pk)

    def timed(operation, times: int = 5) -> float:
        operation()  # warm the caches
        samples = []
        for _ in range(times):
            start = time.perf_counter()
            operation()
            samples.append((time.perf_counter() - start) * 1000)
        return sorted(samples)[len(samples) // 2]

    def new_check():
        with transaction.atomic():
            quotas.require_room(owner=user, size=1)

    before = timed(lambda: Upload.objects.owned_by(user).usage())
    after = timed(new_check, times=50)
    return {"rows": ROWS, "before_ms": round(before, 2), "after_ms": round(after, 3)}


def main() -> None:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith("postgres"):
        raise SystemExit("The quotas benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    from benchmarks.common import save, setup_django

    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="quota-bench")
    results = {}
    for name, pending_limit, bytes_limit, size in (("pending", 5, 10**12, 10), ("bytes", 10**6, 1000, 300)):
        settings.UPLOADS_QUOTA_PENDING, settings.UPLOADS_QUOTA_BYTES = pending_limit, bytes_limit
        results[f"burst_{name}"] = {
            "before": burst(_old_presign, user, size=size),
            "after": burst(_new_presign, user, size=size),
        }
    settings.UPLOADS_QUOTA_PENDING, settings.UPLOADS_QUOTA_BYTES = 10**6, 10**15
    results["check"] = quota_check_at_scale(user)
    save("quotas", results)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE uploads_upload, uploads_usage")


if __name__ == "__main__":
    main()
