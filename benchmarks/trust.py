"""Trust (issue 25): what checksums and scanning cost.

- Server-side verification, one process (= one worker): SHA-256 of a file already on disk, and
  the worker's read of the object from SeaweedFS (hashed on its way to the temporary file)
  against the read alone, side by side. `python -m benchmarks.trust verify` runs only this.
- Scanning: ClamAV's daemon (started here as the tests start it, with the EICAR signature only:
  a real signature database scans slower, see BENCHMARKS.md) over INSTREAM, MiB/s; and 100 small
  files completed in a burst, complete → clean (p50/p99) on one real Celery worker process, with
  the scanner against without it (complete → done), in the same run.
- The browser: SHA-256 in the page's Web Worker (hashing.js, hash-wasm) in Chromium, MiB/s, with
  crypto.subtle.digest (whole file in memory, no streaming) for scale.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from functools import partial
from pathlib import Path

from benchmarks.common import RESULTS, ROOT, save, seaweedfs, setup_django
from benchmarks.processing import brokers, make_uploads, percentile, start_workers, stop_workers, use_broker

ACCESS_KEY, SECRET_KEY = "bench", "bench-secret"
MIB = 1024 * 1024
VERIFY_MIB = 256
SCAN_MIB = 64
BURST = 100
BROWSER_MIB = 256


def verify_throughput(tmp: Path) -> dict:
    """One process (= one worker): SHA-256 of a file on disk, the object's read to a file alone, and
    the worker's own read (`trust.read_stored`: every byte hashed on its way to the temporary file)."""
    from uploads.processing.trust import read_stored
    from uploads.s3 import S3Client

    body = os.urandom(VERIFY_MIB * MIB)
    local = tmp / "local.bin"
    local.write_bytes(body)
    client = S3Client(timeouts="batch")
    client.client.put_object(Bucket=client.bucket_name, Key="bench/verify.bin", Body=body)
    etag = client.head("bench/verify.bin").etag

    def chunks():
        return client.object_chunks("bench/verify.bin", etag=etag, max_bytes=len(body))

    def hash_local(_out) -> None:
        digest = hashlib.sha256()
        with local.open("rb") as stream:
            while chunk := stream.read(MIB):
                digest.update(chunk)

    def read(out) -> None:
        for chunk in chunks():
            out.write(chunk)

    def worker_read(out) -> None:
        read_stored(chunks(), size=len(body), copy=out)

    runs = {"hash_local": hash_local, "read": read, "worker_read": worker_read}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(3):  # interleaved, best of three each
        for name, run in runs.items():
            target = tmp / f"{name}.bin"
            start = time.perf_counter()
            with target.open("wb") as out:
                run(out)
            times[name].append(time.perf_counter() - start)
            target.unlink()
    return {
        "size_mib": VERIFY_MIB,
        **{f"{name}_mib_s": round(VERIFY_MIB / min(t), 1) for name, t in times.items()},
    }


def scan_throughput(socket_path: Path, tmp: Path) -> dict:
    import clamdpy

    sample = tmp / "scan.bin"
    sample.write_bytes(os.urandom(SCAN_MIB * MIB))
    daemon = clamdpy.ClamdUnixSocket(path=str(socket_path), timeout=120, max_chunk_size=MIB)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with sample.open("rb") as stream:
            assert daemon.instream(stream).status == "OK"
        times.append(time.perf_counter() - start)
    return {"size_mib": SCAN_MIB, "instream_mib_s": round(SCAN_MIB / min(times), 1)}


def burst(owner, env: dict, tmp: Path, *, scanner: bool) -> dict:
    from django.conf import settings
    from django.db import transaction

    from uploads.models import Processing, Scan, Upload
    from uploads.processing.state import after_complete

    bodies = [f"small file {n}\n".encode() * 200 for n in range(BURST)]
    uploads = make_uploads(owner, bodies, name="notes{n}.txt", content_type="text/plain")
    settings.UPLOADS_SCANNER = "clamav" if scanner else "none"  # what after_complete sets `scan` from
    workers = start_workers(1, env, tmp)
    try:
        sent = {}
        for upload in uploads:
            with transaction.atomic():
                after_complete(upload)
            sent[upload.pk] = time.perf_counter()
        done: dict = {}
        deadline = time.monotonic() + 600
        finished_state = {"scan": Scan.CLEAN} if scanner else {"processing": Processing.NONE}
        while len(done) < BURST and time.monotonic() < deadline:
            now = time.perf_counter()
            for pk in Upload.objects.filter(pk__in=list(sent), **finished_state).values_list("pk", flat=True):
                done.setdefault(pk, now)
            time.sleep(0.02)
    finally:
        stop_workers(workers)
    if len(done) < BURST:
        raise SystemExit(f"Only {len(done)} of {BURST} finished (scanner={scanner})")
    delays = [done[pk] - sent[pk] for pk in sent]
    return {
        "p50_s": round(statistics.median(delays), 2),
        "p99_s": round(percentile(delays, 99), 2),
        "all_done_s": round(max(done.values()) - min(sent.values()), 2),
    }


def browser_hashing() -> dict:
    """hashing.js in Chromium, served from static/ by a plain HTTP server (a Worker needs http)."""
    from playwright.sync_api import sync_playwright

    from uploads.widgets import HASH_WASM, HASH_WORKER

    static = ROOT / "static"
    page_html = (
        f"<!doctype html><script src='/uploads/hashing.js' data-worker='/{HASH_WORKER}' "
        f"data-lib='/{HASH_WASM}'></script>"
    )
    (static / "bench-hashing.html").write_text(page_html)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(static))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/bench-hashing.html")
            figures = page.evaluate(
                """async (mib) => {
                  const bytes = new Uint8Array(mib * 1024 * 1024);
                  for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
                  const blob = new Blob([bytes]);
                  const best = async (run) => { let t = Infinity; for (let i = 0; i < 3; i++) { const s = performance.now(); await run(); t = Math.min(t, performance.now() - s); } return t / 1000; };
                  const worker = await best(() => UploadHashing.sha256(blob, { partSize: 8 * 1024 * 1024 }));
                  const subtle = await best(async () => crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
                  return { worker_mib_s: mib / worker, subtle_whole_in_memory_mib_s: mib / subtle };
                }""",
                BROWSER_MIB,
            )
            browser.close()
    finally:
        server.shutdown()
        (static / "bench-hashing.html").unlink()
    return {"size_mib": BROWSER_MIB, **{k: round(v, 1) for k, v in figures.items()}}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    sys.path.insert(0, str(ROOT))
    from tests.clamav import Clamd

    tmp = Path(tempfile.mkdtemp(prefix="bench-trust-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    (tmp / "clamd").mkdir()
    clamd = Clamd(tmp / "clamd")
    clamd.start()
    results: dict = {}
    try:
        only_verify = sys.argv[1:] == ["verify"]
        with seaweedfs(tmp / "s3", access_key=ACCESS_KEY, secret_key=SECRET_KEY) as endpoint:
            os.environ.update(
                AWS_S3_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                AWS_STORAGE_BUCKET_NAME="bench-trust", UPLOADS_CLAMD_SOCKET=str(clamd.socket),
            )  # fmt: skip
            setup_django()
            from django.contrib.auth import get_user_model
            from django.core.management import call_command

            from uploads.s3 import S3Client

            call_command("migrate", verbosity=0)
            S3Client().create_bucket()
            results["verify"] = verify_throughput(tmp)
            print("verify", results["verify"], flush=True)
            if only_verify:  # the other figures stay as the last full run left them
                save("trust", {**json.loads((RESULTS / "trust.json").read_text()), **results})
                return
            results["scan"] = scan_throughput(clamd.socket, tmp)
            print("scan", results["scan"], flush=True)
            owner = get_user_model().objects.create_user(username="bench", password="bench")
            name, url = next(iter(reversed(brokers(tmp).items())))  # Redis when it answers
            results["burst_broker"] = name
            for scanner in (False, True):
                queue = f"bench-{uuid.uuid4().hex[:6]}"
                use_broker(url, queue)
                env = {
                    **os.environ, "CELERY_BROKER_URL": url, "CELERY_TASK_DEFAULT_QUEUE": queue,
                    "UPLOADS_SCANNER": "clamav" if scanner else "none",
                }  # fmt: skip
                key = "burst_with_scanner" if scanner else "burst_without_scanner"
                results[key] = burst(owner, env, tmp, scanner=scanner)
                print(key, results[key], flush=True)
        results["browser"] = browser_hashing()
        print("browser", results["browser"], flush=True)
    finally:
        clamd.stop()
    save("trust", results)


if __name__ == "__main__":
    main()
