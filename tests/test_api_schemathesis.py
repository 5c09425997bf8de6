"""schemathesis (`st run`) against a live server: every check, positive and negative data, and
the stateful phase, which follows the schema's links from `POST /api/uploads` to the operations
on the upload it created. Bounded in time; any failure fails the test, with schemathesis' report.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from project.api import api as ninja_api

ST = Path(sys.executable).parent / "st"  # the dev extras' CLI, next to this Python
CONFIG = Path(__file__).with_name("schemathesis.toml")  # what the schema cannot say, per operation
MAX_TIME = 40  # seconds: the whole run, all phases
MAX_EXAMPLES = 25  # per operation and phase


@pytest.fixture
def open_limits(settings):
    """No throttle and no pending cap: the run exercises the operations, not the limits
    (which have tests of their own, test_api_rate_limits.py and test_quotas.py)."""
    for name in ("PRESIGN", "COMPLETE", "URL", "PARTS", "SIGN"):
        setattr(settings, f"UPLOADS_RATE_{name}", "0")
    settings.UPLOADS_QUOTA_PENDING = 100_000


@pytest.mark.schemathesis
def test_schemathesis_finds_no_failure_in_the_api(s3, live_server, token, open_limits, tmp_path):
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(ninja_api.get_openapi_schema()))

    run = subprocess.run(
        [
            str(ST),
            f"--config-file={CONFIG}",
            "run",
            str(schema),
            f"--url={live_server.url}",
            f"--header=Authorization: Bearer {token}",
            "--checks=all",
            "--mode=all",
            "--phases=examples,coverage,fuzzing,stateful",
            f"--max-examples={MAX_EXAMPLES}",
            f"--max-time={MAX_TIME}",
            "--workers=1",
            "--seed=22",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=MAX_TIME * 3,
        cwd=tmp_path,
    )

    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
