"""Uppy 6 (@uppy/core + @uppy/aws-s3) against our API, for the browser test and the benchmark.

Uppy is built once from the npm registry (pinned versions) into .cache/; users never need Node:
only the test and the benchmark that compare Uppy with the page's own uploader do.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

UPPY_VERSION = "6.3.1"
ESBUILD_VERSION = "0.25.12"
CACHE = Path(__file__).resolve().parent.parent / ".cache" / f"uppy-{UPPY_VERSION}"


class NoNpm(RuntimeError):
    pass


def bundle() -> Path:
    """One script defining window.UppyBundle = {Uppy, AwsS3}; built on first use."""
    built = CACHE / "uppy.js"
    if built.exists():
        return built
    npm = shutil.which("npm")
    if npm is None:
        raise NoNpm("building Uppy needs npm: apt-get install -y npm")
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "package.json").write_text(
        '{"private": true, "dependencies": {'
        f'"@uppy/core": "{UPPY_VERSION}", "@uppy/aws-s3": "{UPPY_VERSION}", "esbuild": "{ESBUILD_VERSION}"'
        "}}"
    )
    (CACHE / "entry.js").write_text(
        'import Uppy from "@uppy/core";\nimport AwsS3 from "@uppy/aws-s3";\nwindow.UppyBundle = { Uppy, AwsS3 };\n'
    )
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CACHE, check=True)
    esbuild = CACHE / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [str(esbuild), "entry.js", "--bundle", "--format=iife", "--outfile=uppy.js"], cwd=CACHE, check=True
    )
    return built


# The glue: the server plans each upload, Uppy follows the plan. Before Uppy starts a file (a
# pre-processor), the glue creates our upload (`client_multipart: true`); the answer says whether
# it goes whole or in parts and of what size, which Uppy's `shouldUseMultipart` and
# `getChunkSize` return (the part size depends only on the file's size). Uppy then asks
# `signRequest` for every S3 request; the first one (Uppy proposes the file's id as its key) gets
# the server's key, which Uppy uses from then on. Once Uppy is done, `complete(file)` is our
# complete, which checks the object as always. On cancel (a file removed before it completed) the
# glue calls our `DELETE /api/uploads/{id}`, which aborts the multipart upload in the store and
# removes the record: the bucket's CORS rules allow no DELETE, so Uppy's own
# AbortMultipartUpload (a signRequest for DELETE) is answered by that same call, never sent to S3.
GLUE = """
window.uppyThroughApi = ({ csrf, limit = 6 }) => {
  const { Uppy, AwsS3 } = window.UppyBundle;
  const api = async (path, body) => {
    const response = await fetch(`/api/uploads${path}`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    return response.json();
  };
  const uploads = new Map(); // Uppy's file id -> our upload (its id, key and plan)
  const cancelled = new Map(); // our upload id -> its DELETE, made once
  const cancel = (upload) => {
    if (!cancelled.has(upload.id)) {
      cancelled.set(upload.id, fetch(`/api/uploads/${upload.id}`, { method: "DELETE", headers: { "X-CSRFToken": csrf } }));
    }
    return cancelled.get(upload.id);
  };
  const partSizes = new Map(); // a file's size -> the server's part size
  const uppy = new Uppy().use(AwsS3, {
    limit,
    shouldUseMultipart: (file) => uploads.get(file.id)?.method === "multipart",
    getChunkSize: ({ size }) => partSizes.get(size),
    generateObjectKey: (file) => file.id,
    signRequest(request) {
      const file = uppy.getFile(request.key);
      const upload = file ? uploads.get(file.id) : [...uploads.values()].find((u) => u.key === request.key);
      if (request.method === "DELETE") {
        // AbortMultipartUpload: done by our API; Uppy only logs this refusal as a warning.
        return cancel(upload).then(() => Promise.reject(new Error("cancelled through DELETE /api/uploads/{id}")));
      }
      return api(`/${upload.id}/sign`, request);
    },
  });
  uppy.addPreProcessor(async (fileIds) => {
    for (const fileId of fileIds) {
      const file = uppy.getFile(fileId);
      if (uploads.has(fileId)) continue;
      const upload = await api("", { filename: file.name, content_type: file.type, size: file.size, client_multipart: true });
      uploads.set(fileId, upload);
      if (upload.method === "multipart") partSizes.set(file.size, upload.part_size);
    }
  });
  uppy.on("file-removed", (file) => {
    const upload = uploads.get(file.id);
    if (upload && !upload.completed) cancel(upload);
  });
  const complete = async (file) => {
    const upload = uploads.get(file.id);
    upload.completed = true;
    return api(`/${upload.id}/complete`);
  };
  return { uppy, complete };
};
"""


def load(page) -> str:
    """Put Uppy and the glue into `page` under its real CSP; return the CSRF token.

    Both are served as scripts of the page's own origin (script-src 'self'), as a site that uses
    Uppy serves them, rather than injected inline with the CSP bypassed.
    """
    origin = urlsplit(page.url)
    base = f"{origin.scheme}://{origin.netloc}/__tests__/uppy"
    scripts = {f"{base}.js": bundle().read_bytes(), f"{base}-glue.js": GLUE.encode()}
    page.route(
        f"{base}*.js",
        lambda route: route.fulfill(body=scripts[route.request.url], content_type="text/javascript"),
    )
    for url in scripts:
        page.add_script_tag(url=url)
    return page.evaluate("document.querySelector('meta[name=csrf-token]').content")
