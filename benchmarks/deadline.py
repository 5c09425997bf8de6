"""The request deadline under a slow or hung store (issue 21 §3): a multipart complete and a bulk
delete of 100 rows, each against moto's S3 server behind the tests' fault proxy (tests/faults.py),
in-process through Django's test client with the project's settings (deadline 8 s, store calls
2 x (2 s + 3 s)).

Stores: healthy; +2 s (each request and each answer 1 s late); hung (the join's answer never
comes, for the complete; nothing answered, for the delete). Each figure is the request's wall
time and its answer. `python -m benchmarks deadline [label]` saves results/deadline-<label>.json.
"""

from __future__ import annotations

import sys
import time
import uuid
from urllib.parse import urlparse

import requests

from benchmarks.common import moto_server, save, setup_django
from tests.faults import FaultProxy

MIB = 1024 * 1024
ROWS = 100


def main(label: str) -> dict:
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from uploads.models import ApiToken, Upload
    from uploads.s3 import S3Client, clear_client_cache

    setup_test_environment()
    call_command("migrate", verbosity=0)
    results: dict = {"label": label, "deadline_s": getattr(settings, "UPLOADS_REQUEST_DEADLINE", None)}
    with moto_server() as endpoint:
        target = urlparse(endpoint)
        proxy = FaultProxy((target.hostname, target.port))
        settings.AWS_S3_ENDPOINT_URL = proxy.url
        settings.AWS_S3_ADDRESSING_STYLE = "path"
        settings.UPLOADS_MULTIPART_THRESHOLD = settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
        settings.UPLOADS_QUOTA_PENDING = settings.UPLOADS_QUOTA_BYTES = 0
        clear_client_cache()
        s3 = S3Client()
        s3.client.create_bucket(Bucket=s3.bucket_name)
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
        api = Client(headers={"Authorization": f"Bearer {ApiToken.issue(user=user, name='bench')[1]}"})
        page = Client()
        page.force_login(user)

        def multipart_ready() -> str:
            proxy.mode = "pass"
            size = 11 * MIB
            started = api.post(
                "/api/uploads",
                {"filename": "video.mp4", "content_type": "video/mp4", "size": size},
                content_type="application/json",
            ).json()
            numbers = list(range(1, started["parts_count"] + 1))
            urls = api.post(
                f"/api/uploads/{started['id']}/parts",
                {"part_numbers": numbers},
                content_type="application/json",
            ).json()
            for part in urls["parts"]:
                requests.put(part["url"], data=b"\0" * part["size"], timeout=60).raise_for_status()
            return started["id"]

        def rows_ready() -> list[str]:
            proxy.mode = "pass"
            ids = []
            for _ in range(ROWS):
                upload_id = uuid.uuid4()
                key = f"uploads/{upload_id}/row.txt"
                s3.client.put_object(Bucket=s3.bucket_name, Key=key, Body=b"x", ContentType="text/plain")
                Upload.objects.create(
                    id=upload_id,
                    owner=user,
                    file=key,
                    original_filename="row.txt",
                    content_type="text/plain",
                    max_size=10,
                    status=Upload.Status.COMPLETE,
                    expires_at=_now(),
                )
                ids.append(str(upload_id))
            return ids

        def run(store: str, request) -> dict:
            if store == "+2 s":
                proxy.mode, proxy.delay_ms = "delay", 1000
            elif store == "hung (join)":
                proxy.mode, proxy.hold_matching = "hold", b"POST "
            elif store == "hung":
                proxy.mode = "hang"
            started = time.monotonic()
            response = request()
            elapsed = time.monotonic() - started
            proxy.mode, proxy.hold_matching, proxy.delay_ms = "pass", None, 0
            print(f"  {store}: {elapsed:.1f} s, {response.status_code}", flush=True)
            return {"seconds": round(elapsed, 2), "status": response.status_code}

        for store in ("healthy", "+2 s", "hung (join)"):
            upload_id = multipart_ready()
            results[f"multipart complete, {store}"] = run(
                store, lambda upload_id=upload_id: api.post(f"/api/uploads/{upload_id}/complete")
            )
        for store in ("healthy", "+2 s", "hung"):
            ids = rows_ready()
            results[f"bulk delete of {ROWS} rows, {store}"] = run(
                store, lambda ids=ids: page.post("/uploads/delete/", {"ids": ids, "confirmed": "true"})
            )
            left = Upload.objects.filter(pk__in=ids).count()
            results[f"bulk delete of {ROWS} rows, {store}"]["rows_left_deleting"] = left
        proxy.close()
    save(f"deadline-{label}", results)
    return results


def _now():
    from django.utils import timezone

    return timezone.now()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "after")
