"""Multipart: a 1 GiB file through the page's multipart uploader in headless Chromium (parts of
8 MiB, 4 at a time), against `boto3.upload_file` with the same part size and concurrency (what
`aws s3 cp` does), both to SeaweedFS (the embedded store of `make run`, on disk).

Figures: each side's throughput (median of ROUNDS), their ratio (target: the page reaches 90% of
boto3), and the request-body bytes Django received (target: only the small JSON bodies). With
MULTIPART_BENCH_BIG_GIB=6 it also sends one 6 GiB file (over S3's single-POST limit) once.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.common import gunicorn, save, seaweedfs, setup_django
from benchmarks.datapath import CHROMIUM, CHROMIUM_ARGS, PASSWORD, sign_in

MIB = 2**20
FILE_SIZE = 1024 * MIB
PART_SIZE = 8 * MIB
CONCURRENCY = 4  # static/uploads/multipart.js
ROUNDS = 3
TARGET_RATIO = 0.9


def write_random(path: Path, size: int) -> None:
    with path.open("wb") as f:
        block = os.urandom(16 * MIB)
        for _ in range(size // len(block)):
            f.write(block)  # one random block repeated: the store neither compresses nor dedups


def prepare(site: str) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from uploads.models import Upload
    from uploads.s3 import S3Client

    call_command("migrate", verbosity=0)
    Upload.objects.all().delete()
    S3Client().create_bucket()
    S3Client().put_cors(
        [
            {
                "AllowedOrigins": [site],
                "AllowedMethods": ["GET", "POST", "PUT", "HEAD"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
            }
        ]
    )
    user, _ = get_user_model().objects.get_or_create(username="datapath")
    user.set_password(PASSWORD)
    user.save()


def page_upload(page, path: Path) -> float:
    """Upload through the page; return seconds from the first part PUT's start to the last's end."""
    page.set_input_files("#file-input", str(path))
    page.locator(".transfer[data-state=done]").first.wait_for(timeout=1_800_000)
    seconds = page.evaluate(
        """() => {
            const puts = performance.getEntriesByType("resource")
                .filter((e) => e.initiatorType === "xmlhttprequest" && e.name.includes("partNumber="));
            return (Math.max(...puts.map((e) => e.responseEnd)) - Math.min(...puts.map((e) => e.startTime))) / 1000;
        }"""
    )
    page.evaluate("performance.clearResourceTimings()")
    page.evaluate("document.getElementById('transfers').replaceChildren()")
    return seconds


def boto3_upload(path: Path, key: str) -> float:
    from boto3.s3.transfer import TransferConfig

    from uploads.s3 import S3Client

    client = S3Client(timeouts="batch")
    config = TransferConfig(
        multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=CONCURRENCY
    )
    started = time.perf_counter()
    client.client.upload_file(str(path), client.bucket_name, key, Config=config)
    return time.perf_counter() - started


def run() -> dict:
    from playwright.sync_api import sync_playwright

    big_gib = int(os.environ.get("MULTIPART_BENCH_BIG_GIB", "0"))
    with (
        tempfile.TemporaryDirectory() as tmp,
        seaweedfs(Path(tmp) / "s3", access_key="bench", secret_key="bench-secret") as endpoint,
    ):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": f"sqlite:///{tmp}/multipart.sqlite3",
            "AWS_S3_ENDPOINT_URL": endpoint,
            "UPLOADS_MAX_FILE_SIZE": str(max(FILE_SIZE, big_gib * 1024 * MIB)),
            "UPLOADS_MULTIPART_PART_SIZE": str(PART_SIZE),
            "UPLOADS_PRESIGN_EXPIRATION": "3600",
        }
        os.environ.update(env)
        setup_django()
        path = Path(tmp) / "one-gib.bin"
        write_random(path, FILE_SIZE)

        page_seconds, boto3_seconds, big = [], [], None
        with gunicorn(env=env, workers=1, threads=4) as site:
            prepare(site)
            received_before = requests.get(f"{site}/bench/received", timeout=10).json()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                sign_in(page, site)
                for round_ in range(ROUNDS):
                    page_seconds.append(page_upload(page, path))
                    boto3_seconds.append(boto3_upload(path, f"bench/boto3-{round_}.bin"))
                received_after = requests.get(f"{site}/bench/received", timeout=10).json()
                if big_gib:
                    path.unlink()
                    big_path = Path(tmp) / "big.bin"
                    write_random(big_path, big_gib * 1024 * MIB)
                    started = time.perf_counter()
                    parts_seconds = page_upload(page, big_path)
                    big = {
                        "gib": big_gib,
                        "parts_seconds": round(parts_seconds, 1),
                        "end_to_end_seconds": round(time.perf_counter() - started, 1),
                    }
                browser.close()

        from uploads.models import Upload

        completed = list(Upload.objects.filter(status=Upload.Status.COMPLETE).values_list("size", flat=True))

    mib = FILE_SIZE / MIB
    page_s, boto3_s = statistics.median(page_seconds), statistics.median(boto3_seconds)
    ratio = round(boto3_s / page_s, 2)
    body_bytes = received_after["body_bytes"] - received_before["body_bytes"]
    return {
        "file_mib": mib,
        "part_mib": PART_SIZE / MIB,
        "concurrency": CONCURRENCY,
        "rounds": ROUNDS,
        "store": "SeaweedFS",
        "page_seconds": [round(s, 2) for s in page_seconds],
        "boto3_seconds": [round(s, 2) for s in boto3_seconds],
        "page_mib_s": round(mib / page_s, 1),
        "boto3_mib_s": round(mib / boto3_s, 1),
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "django_requests": received_after["requests"] - received_before["requests"],
        "django_body_bytes": body_bytes,
        "uploads_completed": len(completed),
        "big": big,
        # Per 1 GiB upload: a start, a few part-URL batches and a complete, each under 1 KB.
        "meets_target": ratio >= TARGET_RATIO and body_bytes < 4096 * ROUNDS and len(completed) >= ROUNDS,
    }


def main() -> None:
    save("multipart", run())


if __name__ == "__main__":
    main()
