"""The Content-Security-Policy every page is sent with (Django's SecurityMiddleware sends the rest).

Scripts and styles come from this site only: no inline script, style or eval. The one
allowance is 'wasm-unsafe-eval', which lets WebAssembly compile (hash-wasm hashes uploads in a
Web Worker); it allows no JavaScript eval. The one other
origin a page talks to is the store's, which browsers reach for uploads (the script's POST or
PUT, the no-JavaScript form's POST) and thumbnails; it is read from the S3 settings on each
response, so a changed endpoint (or UPLOADS_PUBLIC_ENDPOINT_URL) needs no second setting.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Where browsers report what the policy refused (project/csp_report.py logs one line for each).
REPORT_PATH = "/csp-report"


def content_security_policy() -> str:
    storage = storage_origin(
        settings.AWS_STORAGE_BUCKET_NAME,
        settings.AWS_S3_REGION_NAME,
        settings.AWS_S3_ENDPOINT_URL,
        settings.UPLOADS_PUBLIC_ENDPOINT_URL,
        settings.AWS_S3_ADDRESSING_STYLE,
    )
    directives = {
        "default-src": "'self'",
        "script-src": "'self' 'wasm-unsafe-eval'",
        "style-src": "'self'",
        # blob: the queue previews a chosen image from the local file, before it is sent.
        "img-src": f"'self' blob: {storage}",
        # Previews of PDFs and text (an <iframe>), audio and video play from the store's presigned URLs.
        "media-src": f"'self' {storage}",
        "frame-src": f"'self' {storage}",
        "connect-src": f"'self' {storage}",
        "form-action": f"'self' {storage}",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "object-src": "'none'",
        # report-uri, not report-to: browsers send these at once; report-to waits to batch them.
        "report-uri": REPORT_PATH,
    }
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


@lru_cache(maxsize=8)
def storage_origin(bucket: str, region: str, endpoint: str | None, public: str | None, style: str) -> str:
    """The scheme and host browsers reach the bucket at, as boto3 builds its URLs (no request)."""
    from uploads.s3 import S3Client  # the app's settings must be loaded first

    if not bucket:
        return ""
    url = urlsplit(S3Client().object_url("csp"))
    return f"{url.scheme}://{url.netloc}"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
            response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
