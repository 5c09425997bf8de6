"""Multipart: 1 GiB in 8 MiB parts, 4 at a time, to SeaweedFS (the embedded store of `make run`,
on disk), by four clients taking turns in each round:

- page:  the page's own uploader (static/uploads/multipart.js and its progress UI) in Chromium;
- uppy:  Uppy 6 (@uppy/core + @uppy/aws-s3, headless) in the same browser, signing through /sign;
- bare:  bare XHR PUTs of the same parts to URLs signed beforehand, nothing else: what Chromium
         itself can send, the ceiling of any uploader in it;
- boto3: `boto3.upload_file` with the same part size and concurrency (what `aws s3 cp` does).

Twice: with the store on its own half of the cores (as S3 is in every real deployment), and with
everything sharing every core (then the client's CPU per byte comes out of the store's). Figures:
median MiB/s of ROUNDS, ratios, CPU-seconds per process group, and the request-body bytes Django
received during the page's uploads. MULTIPART_BENCH_BIG_GIB=6 also sends one 6 GiB file (over
S3's 5 GB single-POST limit) through the page once.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import requests

from benchmarks import cpu
from benchmarks.common import gunicorn, save, seaweedfs, setup_django
from benchmarks.datapath import CHROMIUM, CHROMIUM_ARGS, PASSWORD, configure_bucket_for, sign_in, watched_page

MIB = 2**20
FILE_SIZE = 1024 * MIB
PART_SIZE = 8 * MIB
CONCURRENCY = 4  # static/uploads/multipart.js
ROUNDS = 3
TARGET_RATIO = 0.9  # the page against boto3, store on its own cores; and against bare Chromium
CLIENTS = ("page", "uppy", "bare", "boto3")

# Seconds from the first part PUT's start to the last one's end, from Resource Timing.
PART_PUTS_SECONDS = """() => {
  const puts = performance.getEntriesByType("resource").filter((e) => e.name.includes("partNumber="));
  performance.clearResourceTimings();
  return (Math.max(...puts.map((e) => e.responseEnd)) - Math.min(...puts.map((e) => e.startTime))) / 1000;
}"""

BARE_PUTS = """async ({ urls, part, concurrency }) => {
  const file = document.getElementById("bench-file").files[0];
  const queue = urls.map((url, index) => [url, index]);
  const put = (url, index) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`part ${index + 1}: ${xhr.status}`)));
    xhr.onerror = () => reject(new Error(`part ${index + 1}: network error`));
    xhr.send(file.slice(index * part, Math.min(file.size, (index + 1) * part)));
  });
  const worker = async () => { while (queue.length) await put(...queue.shift()); };
  await Promise.all(Array.from({ length: concurrency }, worker));
}"""

UPPY_UPLOAD = """async ({ csrf, concurrency }) => {
  const file = document.getElementById("bench-file").files[0];
  const { uppy, complete } = window.uppyThroughApi({ csrf, limit: concurrency });
  uppy.addFile({ name: file.name, type: "application/octet-stream", data: file });
  const result = await uppy.upload();
  if (result.failed.length) throw new Error(String(result.failed[0].error));
  await complete(result.successful[0]);
}"""


def write_random(path: Path, size: int) -> None:
    with path.open("wb") as f:
        block = os.urandom(16 * MIB)
        for _ in range(size // len(block)):
            f.write(block)  # one random block repeated: the store neither compresses nor dedups


def prepare(site: str) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from uploads.models import Upload

    call_command("migrate", verbosity=0)
    Upload.objects.all().delete()
    configure_bucket_for(site)
    user, _ = get_user_model().objects.get_or_create(username="datapath")
    user.set_password(PASSWORD)
    user.save()


def page_upload(page, path: Path) -> float:
    """Upload through the page's file input and its uploader; return the part PUTs' seconds."""
    page.set_input_files("#file-input", str(path))
    # A locator's wait, not wait_for_function's string (eval, which the site's CSP refuses).
    page.locator(".transfer[data-state=done], .transfer[data-state=failed]").first.wait_for(timeout=1_800_000)
    state = page.locator(".transfer").first.get_attribute("data-state")
    if state != "done":
        raise RuntimeError(f"the page's upload ended {state}")
    seconds = page.evaluate(PART_PUTS_SECONDS)
    page.evaluate("document.getElementById('transfers').replaceChildren()")
    return seconds


def uppy_upload(page, csrf: str) -> float:
    page.evaluate(UPPY_UPLOAD, {"csrf": csrf, "concurrency": CONCURRENCY})
    return page.evaluate(PART_PUTS_SECONDS)


def bare_upload(page) -> float:
    from uploads.s3 import S3Client

    client, key = S3Client(), f"bench/bare-{uuid.uuid4().hex}.bin"
    upload_id = client.create_multipart_upload(key=key, content_type="application/octet-stream")
    count = math.ceil(FILE_SIZE / PART_SIZE)
    urls = [
        client.presigned_upload_part(
            key=key,
            upload_id=upload_id,
            part_number=number,
            size=min(PART_SIZE, FILE_SIZE - (number - 1) * PART_SIZE),
            expires_in=3600,
        ).url
        for number in range(1, count + 1)
    ]
    try:
        page.evaluate(BARE_PUTS, {"urls": urls, "part": PART_SIZE, "concurrency": CONCURRENCY})
    finally:
        client.abort_multipart(key=key, upload_id=upload_id)
    return page.evaluate(PART_PUTS_SECONDS)


def boto3_upload(path: Path) -> float:
    from boto3.s3.transfer import TransferConfig

    from uploads.s3 import S3Client

    client = S3Client(timeouts="batch")
    config = TransferConfig(
        multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=CONCURRENCY
    )
    started = time.perf_counter()
    client.client.upload_file(
        str(path), client.bucket_name, f"bench/boto3-{uuid.uuid4().hex}.bin", Config=config
    )
    return time.perf_counter() - started


def run_rounds(uploads: dict, received) -> dict:
    """ROUNDS turns of every client, the order rotated each round; their figures side by side."""
    seconds = {name: [] for name in CLIENTS}
    spent = {name: [] for name in CLIENTS}
    body_bytes = 0
    for round_ in range(ROUNDS):
        for name in CLIENTS[round_:] + CLIENTS[:round_]:
            before, bytes_before = cpu.cpu_seconds(), received()
            seconds[name].append(round(uploads[name](), 2))
            spent[name].append(cpu.spent(before, cpu.cpu_seconds()))
            if name == "page":
                body_bytes += received() - bytes_before
    mib = FILE_SIZE / MIB
    speed = {name: round(mib / statistics.median(times), 1) for name, times in seconds.items()}
    return {
        "seconds": seconds,
        "mib_s": speed,
        # CPU-seconds per 1 GiB (median round) of each process group, per client
        "cpu_seconds": {
            name: {group: statistics.median(r[group] for r in rounds) for group in cpu.GROUPS}
            for name, rounds in spent.items()
        },
        "page_vs_boto3": round(speed["page"] / speed["boto3"], 2),
        "page_vs_bare": round(speed["page"] / speed["bare"], 2),
        "uppy_vs_boto3": round(speed["uppy"] / speed["boto3"], 2),
        "bare_vs_boto3": round(speed["bare"] / speed["boto3"], 2),
        "page_body_bytes": body_bytes,
    }


def run() -> dict:
    from playwright.sync_api import sync_playwright

    from tests import uppy

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

        placements, big = {}, None
        with gunicorn(env=env, workers=1, threads=4) as site:
            prepare(site)

            def received() -> int:
                return requests.get(f"{site}/bench/received", timeout=10).json()["body_bytes"]

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                # Under the site's real CSP: Uppy is served as a same-origin script (uppy.load).
                page, errors = watched_page(browser)
                sign_in(page, site)
                csrf = uppy.load(page)
                page.evaluate(
                    "document.body.append(Object.assign(document.createElement('input'), {type: 'file', id: 'bench-file', hidden: true}))"
                )
                page.set_input_files("#bench-file", str(path))
                uploads = {
                    "page": lambda: page_upload(page, path),
                    "uppy": lambda: uppy_upload(page, csrf),
                    "bare": lambda: bare_upload(page),
                    "boto3": lambda: boto3_upload(path),
                }
                if cpu.can_separate():
                    with cpu.store_on_own_cores() as cores:
                        placements["separate"] = {"cores": cores, **run_rounds(uploads, received)}
                placements["shared"] = run_rounds(uploads, received)
                if big_gib:
                    path.unlink()
                    big_path = Path(tmp) / "big.bin"
                    write_random(big_path, big_gib * 1024 * MIB)
                    started = time.perf_counter()
                    page_upload(page, big_path)
                    big = {"gib": big_gib, "end_to_end_seconds": round(time.perf_counter() - started, 1)}
                browser.close()
                if errors.unexpected():
                    raise RuntimeError("the browser reported: " + "; ".join(errors.unexpected()))

        from uploads.models import Upload

        completed = Upload.objects.filter(status=Upload.Status.COMPLETE, size=FILE_SIZE).count()

    headline = placements.get("separate", placements["shared"])
    shared = placements["shared"]
    return {
        "file_mib": FILE_SIZE / MIB,
        "part_mib": PART_SIZE / MIB,
        "concurrency": CONCURRENCY,
        "rounds": ROUNDS,
        "store": "SeaweedFS",
        "placements": placements,
        "ratio": headline["page_vs_boto3"],
        "target_ratio": TARGET_RATIO,
        "uploads_completed": completed,
        "big": big,
        # Per 1 GiB through the page: a start, a few part-URL batches and a complete, under 1 KB each.
        "meets_target": headline["page_vs_boto3"] >= TARGET_RATIO
        and shared["page_vs_bare"] >= TARGET_RATIO
        and all(p["page_body_bytes"] < 4096 * ROUNDS for p in placements.values())
        and completed == 2 * len(placements) * ROUNDS,  # the page's and Uppy's, each complete
    }


def main() -> None:
    save("multipart", run())


if __name__ == "__main__":
    main()
