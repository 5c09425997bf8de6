"""The data path: a 100 MiB file through the page's own uploader in headless Chromium, to an S3
server, against `curl` POSTing the same file with the same presigned fields to the same server;
once on moto's server and once on SeaweedFS (the embedded store of `make run`, which enforces
the policy and writes to disk).

The site runs under gunicorn (one worker, so its byte counter sees every request). Figures: each
side's throughput (the median of ROUNDS; moto's time per request varies a lot), their ratio (target: the page reaches 80% of curl), and
the request-body bytes Django received meanwhile (target: none of the file's).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.common import gunicorn, moto_server, save, seaweedfs, setup_django

FILE_SIZE = 100 * 1024 * 1024  # 100 MiB, the default UPLOADS_MAX_FILE_SIZE
ROUNDS = 7
TARGET_RATIO = 0.8
PASSWORD = "datapath-benchmark"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these Chromium keeps calling home, and this machine refuses every such connection.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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


def configure_bucket_for(site: str) -> None:
    """The CORS rules (and the rest) `manage.py configure_bucket` sets, as users get them."""
    from uploads.bucket import bucket_configure

    failed = [p for p in bucket_configure(create=True, origins=[site]) if p.outcome == "failed"]
    if failed:
        raise RuntimeError(f"configure_bucket failed: {failed}")


def watched_page(browser):
    """A page under the site's real CSP, and what went wrong in it (tests.browser.BrowserErrors)."""
    from tests.browser import BrowserErrors

    context = browser.new_context()
    errors = BrowserErrors()
    errors.attach(context)
    return context.new_page(), errors


def sign_in(page, site: str) -> None:
    """Sign the benchmark's user in, as a person would."""
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("datapath")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/")


def browser_upload(page, path: Path, s3_url: str) -> tuple[float, dict]:
    """Upload through the page; return the S3 POST's duration in seconds and the signed upload."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/uploads") and r.request.method == "POST"
    ) as signed:
        page.set_input_files("#file-input", str(path))
    direct = signed.value.json()
    page.locator(".transfer[data-state=done]").first.wait_for(timeout=600_000)
    # The XHR to S3, as the browser timed it (Resource Timing: request start to last byte).
    duration_ms = page.evaluate(
        """(url) => {
            const entries = performance.getEntriesByType("resource")
                .filter((e) => e.name === url && e.initiatorType === "xmlhttprequest");
            const last = entries[entries.length - 1];
            return last.responseEnd - last.startTime;
        }""",
        s3_url,
    )
    page.evaluate("performance.clearResourceTimings()")
    page.evaluate("document.getElementById('transfers').replaceChildren()")
    return duration_ms / 1000, direct


def curl_upload(path: Path, direct: dict) -> float:
    """POST the file with the same signed fields, as a plain client would; return seconds."""
    args = [
        "curl",
        "--silent",
        "--show-error",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_code} %{time_total}",
    ]
    for name, value in direct["fields"].items():
        args += ["--form-string", f"{name}={value}"]
    args += ["--form", f"file=@{path};type=application/octet-stream", direct["url"]]
    status, seconds = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
    if status != "201":
        raise SystemExit(f"curl's POST to S3 answered {status}")
    return float(seconds)


def store(name: str, tmp: str):
    """The S3 server a run uploads to: moto's, or SeaweedFS on disk in `tmp`."""
    if name == "moto":
        return moto_server()
    return seaweedfs(Path(tmp) / "s3", access_key="bench", secret_key="bench-secret")


def run(store_name: str = "moto") -> dict:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise SystemExit("The data-path benchmark drives Debian's Chromium: apt-get install -y chromium")

    with tempfile.TemporaryDirectory() as tmp, store(store_name, tmp) as endpoint:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": f"sqlite:///{tmp}/datapath.sqlite3",
            "AWS_S3_ENDPOINT_URL": endpoint,
            # One POST: this benchmark is the single-request path (multipart has its own).
            "UPLOADS_MULTIPART_THRESHOLD": str(2 * FILE_SIZE),
        }
        os.environ.update(env)
        setup_django()
        path = Path(tmp) / "hundred-mib.bin"
        with path.open("wb") as f:
            for _ in range(FILE_SIZE // 2**20):
                f.write(os.urandom(2**20))

        browser_seconds, curl_seconds, end_to_end = [], [], []
        with gunicorn(env=env, workers=1, threads=4) as site:
            prepare(site)
            from django.conf import settings

            # Where the page POSTs files: path-style (endpoint/bucket/).
            s3_url = f"{endpoint}/{settings.AWS_STORAGE_BUCKET_NAME}/"
            received_before = requests.get(f"{site}/bench/received", timeout=10).json()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page, errors = watched_page(browser)
                sign_in(page, site)
                for _ in range(ROUNDS):
                    started = time.perf_counter()
                    seconds, direct = browser_upload(page, path, s3_url)
                    end_to_end.append(time.perf_counter() - started)
                    browser_seconds.append(seconds)
                    curl_seconds.append(curl_upload(path, direct))
                browser.close()
                if errors.unexpected():
                    raise RuntimeError("the browser reported: " + "; ".join(errors.unexpected()))
            received_after = requests.get(f"{site}/bench/received", timeout=10).json()

        from uploads.models import Upload

        completed = list(Upload.objects.filter(status=Upload.Status.COMPLETE).values_list("size", flat=True))

    mib = FILE_SIZE / 2**20
    browser_s, curl_s = statistics.median(browser_seconds), statistics.median(curl_seconds)
    ratio = round(curl_s / browser_s, 2)
    body_bytes = received_after["body_bytes"] - received_before["body_bytes"]
    return {
        "store": "moto" if store_name == "moto" else "SeaweedFS",
        "file_mib": mib,
        "rounds": ROUNDS,
        "browser_seconds": [round(s, 3) for s in browser_seconds],
        "curl_seconds": [round(s, 3) for s in curl_seconds],
        "browser_mib_s": round(mib / browser_s, 1),
        "curl_mib_s": round(mib / curl_s, 1),
        "browser_best_mib_s": round(mib / min(browser_seconds), 1),
        "curl_best_mib_s": round(mib / min(curl_seconds), 1),
        "page_end_to_end_s": round(statistics.median(end_to_end), 3),
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "django_requests": received_after["requests"] - received_before["requests"],
        "django_body_bytes": body_bytes,
        "uploads_completed": len(completed),
        "sizes_recorded": sorted(set(completed)),
        # The uploads' JSON bodies are a few dozen bytes each; one file would be 100 MiB.
        "meets_target": ratio >= TARGET_RATIO
        and body_bytes < 1024 * ROUNDS
        and completed == [FILE_SIZE] * ROUNDS,
    }


def main() -> None:
    """Both stores, each in its own process: Django is configured once per process."""
    if sys.argv[1:] == ["seaweedfs"]:
        save("datapath_seaweedfs", run("seaweedfs"))
        return
    save("datapath", run("moto"))
    subprocess.run([sys.executable, "-m", "benchmarks.datapath", "seaweedfs"], check=True)


if __name__ == "__main__":
    main()
