"""The `/sign` bomb (issue 21): a 100 MiB upload created with `client_multipart: true`, whose
client sends a 1-byte part 1, then asks the server to complete it, through `/sign` (Uppy's
CompleteMultipartUpload) and through `/complete`. Time and peak memory of that one request.

python -m benchmarks.sign_bomb            # both routes, each in a fresh process (its own peak)
python -m benchmarks.sign_bomb sign       # one route, in this process

Against SeaweedFS (the store of `make run`), in-process through Django's test client, SQLite.
Not part of `make bench`: its point is the before/after written in BENCHMARKS.md, section 7
(run it once in a checkout of the old main and once here). Peak memory is the process's
maximum resident set (ru_maxrss) minus what it held before the request.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.common import ROOT, seaweedfs, setup_django

MIB = 1024 * 1024
SIZE = 100 * MIB


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(route: str) -> dict:
    with (
        tempfile.TemporaryDirectory() as tmp,
        seaweedfs(Path(tmp) / "s3", access_key="bench", secret_key="bench-secret") as endpoint,
    ):
        os.environ.update(
            {
                "DATABASE_URL": f"sqlite:///{tmp}/bomb.sqlite3",
                "AWS_S3_ENDPOINT_URL": endpoint,
                "AWS_STORAGE_BUCKET_NAME": "bomb",
            }
        )
        setup_django()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        from uploads.models import ApiToken, Upload
        from uploads.s3 import S3Client

        call_command("migrate", verbosity=0)
        store = S3Client()
        store.create_bucket()
        user = get_user_model().objects.create_user("bomber")
        _, raw = ApiToken.issue(user=user, name="bomb")
        api = Client(headers={"Authorization": f"Bearer {raw}"})

        def post(path: str, body: dict | None = None):
            return api.post(f"/api/uploads{path}", body or {}, content_type="application/json")

        upload = post(
            "",
            {
                "filename": "big.bin",
                "content_type": "application/octet-stream",
                "size": SIZE,
                "client_multipart": True,
            },
        ).json()
        create = post(f"/{upload['id']}/sign", {"method": "POST", "key": "uppy-key"}).json()
        answer = requests.post(create["url"], headers=create["headers"], timeout=30).text
        upload_id = answer.split("<UploadId>")[1].split("</UploadId>")[0]
        bound = post(f"/{upload['id']}/sign", {"method": "GET", "key": upload["key"], "uploadId": upload_id})
        assert bound.status_code == 200, bound.content
        key = Upload.objects.get(pk=upload["id"]).key
        store.client.upload_part(
            Bucket=store.bucket_name, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x"
        )

        before = peak_rss_mib()
        started = time.perf_counter()
        if route == "sign":
            response = post(f"/{upload['id']}/sign", {"method": "POST", "key": key, "uploadId": upload_id})
        else:
            response = post(f"/{upload['id']}/complete")
        seconds = time.perf_counter() - started
        return {
            "route": route,
            "seconds": round(seconds, 3),
            "peak_mib_over_baseline": round(peak_rss_mib() - before, 1),
            "process_peak_mib": round(peak_rss_mib(), 1),
            "status": response.status_code,
            "code": response.json().get("code"),
        }


def main(argv: list[str]) -> int:
    if argv:
        print(json.dumps(measure(argv[0])))
        return 0
    for route in ("sign", "complete"):
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.sign_bomb", route], cwd=ROOT, capture_output=True, text=True
        )
        print(child.stdout.strip() or child.stderr[-2000:], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
