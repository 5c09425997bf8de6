"""Processing on real Celery workers: thumbnails per second per worker process, the delay from
complete to `done` for a burst of 100 image uploads with 1 and 2 worker processes, and the bytes
the list page's images cost for 25 image rows, originals (before) against thumbnails (after).

The store is SeaweedFS (`make run`'s), the database SQLite, the broker the embedded one of
`make run` and, when Redis answers (CELERY_BROKER_URL, or redis://127.0.0.1:6379/5), Redis too,
side by side. Workers are `celery -A project worker --concurrency=1` processes. Photos are made
here: smooth gradients with noise, as JPEG, so they compress like camera pictures.
"""

from __future__ import annotations

import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.common import ROOT, save, seaweedfs, setup_django

ACCESS_KEY, SECRET_KEY = "bench", "bench-secret"
THROUGHPUT_IMAGES = 40  # 12 MP photos, one worker process
BURST = 100  # 2 MP photos, completed at once
LIST_ROWS = 25  # 12 MP photos on one list page


def photo(width: int, height: int, seed: int) -> bytes:
    from PIL import Image

    gradient = Image.linear_gradient("L").resize((width, height)).rotate(seed * 37 % 360, expand=False)
    noise = Image.effect_noise((width, height), 24)
    image = Image.merge("RGB", (gradient, noise, Image.blend(gradient, noise, 0.5)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def brokers(tmp: Path) -> dict[str, str]:
    found = {"embedded": f"embedded+sqlite:///{tmp / 'broker.sqlite3'}"}
    redis_url = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/5"
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
        found["redis"] = redis_url
    except Exception:
        print(f"No Redis at {redis_url}: the embedded broker only.")
    return found


def start_workers(count: int, env: dict[str, str], tmp: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        log = (tmp / f"worker{n}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "project",
                    "worker",
                    "--concurrency=1",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"bench{n}@%h",
                    "-Q",
                    env["CELERY_TASK_DEFAULT_QUEUE"],
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    for n in range(count):
        deadline = time.monotonic() + 60
        while " ready." not in (tmp / f"worker{n}.log").read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise SystemExit(f"worker {n} did not start: {(tmp / f'worker{n}.log').read_text()[-2000:]}")
            time.sleep(0.1)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)


def use_broker(url: str, queue: str) -> None:
    from kombu import pools

    from project.celery import app

    app.conf.update(broker_url=url, task_default_queue=queue, task_always_eager=False)
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def make_uploads(
    owner, bodies: list[bytes], *, name: str = "photo{n}.jpg", content_type: str = "image/jpeg"
) -> list:
    """Complete uploads of these bodies, each stored under its own key, not yet processed."""
    from django.utils import timezone

    from uploads.keys import object_key
    from uploads.models import Processing, Upload
    from uploads.s3 import S3Client

    client = S3Client()
    uploads = []
    for n, body in enumerate(bodies):
        upload_id = uuid.uuid4()
        filename = name.format(n=n)
        key = object_key(upload_id, filename)
        client.client.put_object(Bucket=client.bucket_name, Key=key, Body=body, ContentType=content_type)
        now = timezone.now()
        uploads.append(
            Upload.objects.create(
                id=upload_id,
                owner=owner,
                file=key,
                original_filename=filename,
                content_type=content_type,
                max_size=len(body),
                size=len(body),
                etag=client.head(key).etag,
                status=Upload.Status.COMPLETE,
                processing=Processing.NONE,
                completed_at=now,
                expires_at=now,
            )  # fmt: skip
        )
    return uploads


def complete_all(uploads: list) -> dict:
    """What complete does for each (`after_complete` in its transaction); when each was sent."""
    from django.db import transaction

    from uploads.processing.state import after_complete

    sent = {}
    for upload in uploads:
        with transaction.atomic():
            after_complete(upload)
        sent[upload.pk] = time.perf_counter()
    return sent


def wait_done(uploads: list, timeout: float = 600) -> dict:
    """Poll every 20 ms; when each upload was first seen done."""
    from uploads.models import Processing, Upload

    done: dict = {}
    ids = [u.pk for u in uploads]
    deadline = time.monotonic() + timeout
    while len(done) < len(ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"Only {len(done)} of {len(ids)} processed in {timeout} s")
        now = time.perf_counter()
        finished = Upload.objects.filter(pk__in=ids, processing__in=[Processing.DONE, Processing.FAILED])
        for pk in finished.values_list("pk", flat=True):
            done.setdefault(pk, now)
        time.sleep(0.02)
    failed = Upload.objects.filter(pk__in=ids, processing=Processing.FAILED).count()
    if failed:
        raise SystemExit(f"{failed} uploads failed processing")
    return done


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def list_page_bytes(owner, uploads: list) -> dict:
    """Bytes of the images the list page shows: its <img> sources, fetched; and the originals'."""
    import requests
    from django.test import Client

    client = Client()
    client.force_login(owner)
    html = client.get("/").content.decode()
    sources = [s.replace("&amp;", "&") for s in re.findall(r'<td class="thumb">\s*<img src="([^"]+)"', html)]
    after = sum(len(requests.get(url, timeout=30).content) for url in sources)
    return {
        "rows": len(uploads),
        "images_on_page": len(sources),
        "before_bytes": sum(u.size for u in uploads),  # the page used to show each original
        "after_bytes": after,
        "html_bytes": len(html.encode()),
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    tmp = Path(tempfile.mkdtemp(prefix="bench-processing-"))
    db = tmp / "db.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    with seaweedfs(tmp / "s3", access_key=ACCESS_KEY, secret_key=SECRET_KEY) as endpoint:
        os.environ.update(
            AWS_S3_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_STORAGE_BUCKET_NAME="bench-processing",
        )  # fmt: skip
        setup_django()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from uploads.s3 import S3Client

        call_command("migrate", verbosity=0)
        S3Client().create_bucket()
        owner = get_user_model().objects.create_user(username="bench", password="bench")
        big = [photo(4000, 3000, seed) for seed in range(4)]
        small = [photo(1600, 1200, seed) for seed in range(4)]
        results: dict = {"photo_12mp_bytes": len(big[0]), "photo_2mp_bytes": len(small[0]), "brokers": {}}

        for name, url in brokers(tmp).items():
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            use_broker(url, queue)
            env = {**os.environ, "CELERY_BROKER_URL": url, "CELERY_TASK_DEFAULT_QUEUE": queue}
            figures: dict = {}
            # Thumbnails per second, one worker process.
            workers = start_workers(1, env, tmp)
            try:
                uploads = make_uploads(owner, [big[n % 4] for n in range(THROUGHPUT_IMAGES)])
                start = time.perf_counter()
                complete_all(uploads)
                done = wait_done(uploads)
                figures["thumbnails_per_s_1_process"] = round(len(uploads) / (max(done.values()) - start), 2)
            finally:
                stop_workers(workers)
            # A burst of 100: complete → done, with 1 and 2 worker processes.
            for count in (1, 2):
                workers = start_workers(count, env, tmp)
                try:
                    uploads = make_uploads(owner, [small[n % 4] for n in range(BURST)])
                    sent = complete_all(uploads)
                    done = wait_done(uploads)
                    delays = [done[pk] - sent[pk] for pk in sent]
                    figures[f"burst_{count}_workers"] = {
                        "p50_s": round(statistics.median(delays), 2),
                        "p99_s": round(percentile(delays, 99), 2),
                        "all_done_s": round(max(done.values()) - min(sent.values()), 2),
                    }
                finally:
                    stop_workers(workers)
            results["brokers"][name] = figures
            print(name, figures, flush=True)

        # The list page with 25 processed 12 MP photos.
        from uploads.models import Upload

        Upload.objects.all().delete()
        use_broker(brokers(tmp)["embedded"], "bench-list")
        env = {
            **os.environ,
            "CELERY_BROKER_URL": brokers(tmp)["embedded"],
            "CELERY_TASK_DEFAULT_QUEUE": "bench-list",
        }
        workers = start_workers(1, env, tmp)
        try:
            uploads = make_uploads(owner, [big[n % 4] for n in range(LIST_ROWS)])
            complete_all(uploads)
            wait_done(uploads)
        finally:
            stop_workers(workers)
        results["list_page"] = list_page_bytes(owner, uploads)
    save("processing", results)


if __name__ == "__main__":
    main()
