"""The load benchmark's simulated clients (run by benchmarks/load.py, not alone).

Each user holds an API token and loops: presign, POST a small file straight to S3, complete.
"""

import os
from itertools import cycle

from locust import HttpUser, constant, task

TOKENS = cycle(os.environ["BENCH_TOKENS"].split(","))
BODY = b"load benchmark\n" * 64  # 960 bytes


class Uploader(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {next(TOKENS)}"}

    @task
    def upload(self) -> None:
        with self.client.post(
            "/api/uploads",
            json={"filename": "load.txt", "content_type": "text/plain", "size": len(BODY)},
            headers=self.headers,
            name="presign POST /api/uploads",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            direct = response.json()
        # The bytes go to S3 (moto), never to Django; listed apart from Django's operations.
        sent = self.client.post(
            direct["url"],
            data=direct["fields"],
            files={"file": ("load.txt", BODY, "text/plain")},
            name="S3 POST (moto, not Django)",
        )
        if sent.status_code != 201:
            return
        with self.client.post(
            f"/api/uploads/{direct['id']}/complete",
            headers=self.headers,
            name="complete POST /api/uploads/{id}/complete",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or response.json()["status"] != "complete":
                response.failure(f"{response.status_code}: {response.text[:200]}")
