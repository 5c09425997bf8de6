# ruff: noqa: F811 (the browser fixtures are imported from test_browser and used as arguments)
"""Multipart uploads in a real browser: the page's uploader (parts in parallel, resume after a
reload) and Uppy 6's @uppy/aws-s3 with `signRequest` against /api/uploads/{id}/sign.

Uppy is built once from the npm registry (pinned versions) into .cache/ (tests/uppy.py); users
never need Node: only this test and the multipart benchmark do.
"""

import collections
import os

import pytest
from moto.s3.models import S3Backend

from tests import uppy
from tests.browser import wait_until
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    browser_errors,
    open_context,
    screenshot,
    sign_in,
    site,
)
from uploads.models import Upload

MIB = 1024 * 1024

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="browser tests skipped: no Chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(open_context):
    """Under the site's real CSP and configure_bucket's CORS rules (site), watched for errors."""
    return open_context(viewport={"width": 1100, "height": 800})


@pytest.fixture
def parts_stored(monkeypatch):
    """How many times the store (moto's server, in this process) received each 8 MiB part whole.

    A part whose connection a reload broke may reach moto cut short; it is not counted (the page
    sends it again, whole).
    """
    stored = collections.Counter()
    upload_part = S3Backend.upload_part

    def count(self, bucket_name, multipart_id, part_id, value):
        if len(value) in (8 * MIB, 300 * MIB - 37 * 8 * MIB):
            stored[int(part_id)] += 1
        return upload_part(self, bucket_name, multipart_id, part_id, value)

    monkeypatch.setattr(S3Backend, "upload_part", count)
    return stored


def test_a_300_mib_file_resumes_after_a_reload_and_each_part_is_sent_once(
    site,
    page,
    browser_errors,
    user,
    tmp_path,
    settings,
    parts_stored,
):
    settings.UPLOADS_MAX_FILE_SIZE = 400 * MIB  # parts of 8 MiB above the default 64 MiB threshold
    # moto's server runs in this process and joins 300 MiB in Python: on a busy machine its
    # CompleteMultipartUpload outlasts the 8 s deadline a real store meets (tested in the fault tier).
    settings.UPLOADS_REQUEST_DEADLINE = 60.0
    path = tmp_path / "film.bin"
    with path.open("wb") as f:
        for _ in range(300):
            f.write(os.urandom(MIB))
    sign_in(page, site, user)
    sent = "() => Number(document.querySelector('#transfers .transfer')?.dataset.sent || 0)"

    page.set_input_files("#file-input", str(path))
    wait_until(page, lambda: page.evaluate(sent) >= 150 * MIB, timeout=120)
    halfway = page.evaluate(sent)
    # The reload aborts what is in flight (part PUTs, the list's poll); the watcher knows a
    # navigation's aborts from the site's own (tests/browser.py).
    page.reload()
    sync_api.expect(page.locator("#upload-rows")).to_contain_text("Resume")
    screenshot(page, "multipart-resume-hint")
    page.set_input_files("#file-input", str(path))

    transfer = page.locator("#transfers .transfer")
    sync_api.expect(transfer).to_have_attribute("data-state", "done", timeout=180_000)
    upload = Upload.objects.get()
    assert (upload.status, upload.size, upload.etag.endswith("-38")) == ("complete", 300 * MIB, True)
    assert 100 * MIB < halfway < 300 * MIB
    assert sorted(parts_stored) == list(range(1, 39))
    assert set(parts_stored.values()) == {1}  # no part was stored twice


@pytest.fixture(scope="session")
def uppy_ready():
    try:
        uppy.bundle()
    except uppy.NoNpm as reason:
        pytest.skip(f"the Uppy test: {reason}")


UPLOAD_WITH_UPPY = """async ({ csrf, files }) => {
  const { uppy, complete } = window.uppyThroughApi({ csrf });
  const parts = [];
  uppy.on("s3-multipart:part-uploaded", (file, part) => parts.push(part.PartNumber));
  for (const { name, size, type } of files) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
    uppy.addFile({ name, type, data: new Blob([bytes], { type }) });
  }
  const result = await uppy.upload();
  const completed = [];
  for (const file of result.successful) completed.push(await complete(file));
  return { failed: result.failed.map((file) => String(file.error)), completed, parts };
}"""


def test_uppy_6_uploads_a_small_and_a_multipart_file_through_sign(
    site,
    open_context,
    user,
    uppy_ready,
    settings,
):
    # The real CSP and the CORS rules configure_bucket sets (site); any console error fails it.
    page = open_context()
    settings.UPLOADS_MULTIPART_THRESHOLD = settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    sign_in(page, site, user)
    csrf = uppy.load(page)
    files = [
        {"name": "small.txt", "size": 5, "type": "text/plain"},
        {"name": "large.bin", "size": 11 * MIB, "type": "application/octet-stream"},
    ]

    result = page.evaluate(UPLOAD_WITH_UPPY, {"csrf": csrf, "files": files})

    assert result["failed"] == []
    assert sorted((u["filename"], u["size"], u["status"]) for u in result["completed"]) == [
        ("large.bin", 11 * MIB, "complete"),
        ("small.txt", 5, "complete"),
    ]
    assert sorted(result["parts"]) == [1, 2, 3]  # the server's 5 MiB parts
    large = Upload.objects.get(original_filename="large.bin")
    assert large.multipart_upload_id
    assert large.key.endswith("/large.bin")


CANCEL_WITH_UPPY = """async ({ csrf, size }) => {
  const { uppy } = window.uppyThroughApi({ csrf, limit: 2 });
  const id = uppy.addFile({ name: "big.bin", type: "application/octet-stream", data: new Blob([new Uint8Array(size)]) });
  const firstPart = new Promise((resolve) => uppy.on("s3-multipart:part-uploaded", resolve));
  uppy.upload();
  await firstPart;
  uppy.removeFile(id);  // what Uppy's Dashboard does on the file's cancel button
}"""


def test_uppy_6_cancel_mid_upload_leaves_no_record_and_no_multipart_upload(
    site, open_context, browser_errors, user, uppy_ready, settings, s3
):
    # Under configure_bucket's CORS rules (no DELETE): the glue cancels through our API.
    page = open_context()
    settings.UPLOADS_MULTIPART_THRESHOLD = settings.UPLOADS_MULTIPART_PART_SIZE = 5 * MIB
    sign_in(page, site, user)
    csrf = uppy.load(page)
    # Cancelling cuts the part PUTs in flight: failures the test causes on purpose.
    browser_errors.allow(r"failed: PUT .*partNumber=.*net::ERR_ABORTED")

    page.evaluate(CANCEL_WITH_UPPY, {"csrf": csrf, "size": 60 * MIB})

    wait_until(page, lambda: not Upload.objects.exists(), timeout=20)
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket_name).get("Uploads", []) == []
    assert s3.client.list_objects_v2(Bucket=s3.bucket_name).get("KeyCount") == 0
