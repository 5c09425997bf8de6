"""System checks: missing or inconsistent settings are reported at startup, not on a request."""

import re
from urllib.parse import urlparse

from django.conf import settings
from django.core import checks

from .validation import MIME_TYPE_PATTERN

REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d+|auto|[a-z0-9-]{2,32}")
ADDRESSING_STYLES = ("path", "virtual", "auto")
CHECKSUM_MODES = ("when_required", "when_supported")
# S3 accepts at most 5 GB in one POST.
S3_MAX_POST_SIZE = 5 * 1024**3
# SigV4 presigned URLs live at most seven days.
SIGV4_MAX_EXPIRATION = 7 * 24 * 3600


@checks.register()
def check_s3_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    if not settings.AWS_STORAGE_BUCKET_NAME:
        errors.append(
            checks.Error(
                "AWS_STORAGE_BUCKET_NAME is not set.",
                hint="Set it in the environment or .env; `make run` sets it for the embedded S3.",
                id="uploads.E001",
            )
        )
    if bool(settings.AWS_ACCESS_KEY_ID) != bool(settings.AWS_SECRET_ACCESS_KEY):
        errors.append(
            checks.Error(
                "Only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set.",
                hint="Set both, or neither to use the instance's role.",
                id="uploads.E002",
            )
        )
    endpoint = settings.AWS_S3_ENDPOINT_URL
    if endpoint and (urlparse(endpoint).scheme not in {"http", "https"} or not urlparse(endpoint).netloc):
        errors.append(
            checks.Error(
                f"AWS_S3_ENDPOINT_URL {endpoint!r} is not an http(s) URL.",
                hint="For example http://127.0.0.1:9000",
                id="uploads.E003",
            )
        )
    if not REGION.fullmatch(settings.AWS_S3_REGION_NAME or ""):
        errors.append(
            checks.Error(
                f"AWS_REGION {settings.AWS_S3_REGION_NAME!r} is not a region name.",
                hint="For example us-east-1, eu-central-1, or auto for Cloudflare R2.",
                id="uploads.E004",
            )
        )
    if settings.AWS_S3_ADDRESSING_STYLE not in ADDRESSING_STYLES:
        errors.append(
            checks.Error(
                f"AWS_S3_ADDRESSING_STYLE {settings.AWS_S3_ADDRESSING_STYLE!r} is not one of {', '.join(ADDRESSING_STYLES)}.",
                hint="Leave it empty for the default: path with AWS_S3_ENDPOINT_URL, else virtual.",
                id="uploads.E005",
            )
        )
    if settings.UPLOADS_S3_CHECKSUMS not in CHECKSUM_MODES:
        errors.append(
            checks.Error(
                f"UPLOADS_S3_CHECKSUMS {settings.UPLOADS_S3_CHECKSUMS!r} is not one of {', '.join(CHECKSUM_MODES)}.",
                id="uploads.E006",
            )
        )
    if settings.UPLOADS_UPLOAD_METHOD not in ("post", "put"):
        errors.append(
            checks.Error(
                f"UPLOADS_UPLOAD_METHOD {settings.UPLOADS_UPLOAD_METHOD!r} is not post or put.",
                id="uploads.E008",
            )
        )
    for origin in settings.UPLOADS_CORS_ORIGINS:
        parsed = urlparse(origin)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.path not in {"", "/"}:
            errors.append(
                checks.Error(
                    f"UPLOADS_CORS_ORIGINS has {origin!r}, which is not an origin.",
                    hint="An origin is a scheme, a host and maybe a port: https://example.com",
                    id="uploads.E007",
                )
            )
    return errors


@checks.register()
def check_upload_limits(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    if not 0 < settings.UPLOADS_MAX_FILE_SIZE <= S3_MAX_POST_SIZE:
        errors.append(
            checks.Error(
                f"UPLOADS_MAX_FILE_SIZE must be between 1 and {S3_MAX_POST_SIZE} bytes (S3's POST limit).",
                id="uploads.E010",
            )
        )
    if not 0 < settings.UPLOADS_PRESIGN_EXPIRATION <= 3600:
        errors.append(
            checks.Error(
                "UPLOADS_PRESIGN_EXPIRATION must be between 1 and 3600 seconds: policies live minutes, not days.",
                id="uploads.E011",
            )
        )
    if not 0 < settings.UPLOADS_URL_MAX_EXPIRATION <= SIGV4_MAX_EXPIRATION:
        errors.append(
            checks.Error(
                f"UPLOADS_URL_MAX_EXPIRATION must be between 1 and {SIGV4_MAX_EXPIRATION} seconds (SigV4's limit).",
                id="uploads.E012",
            )
        )
    if not 0 < settings.UPLOADS_URL_EXPIRATION <= settings.UPLOADS_URL_MAX_EXPIRATION:
        errors.append(
            checks.Error(
                "UPLOADS_URL_EXPIRATION must be positive and at most UPLOADS_URL_MAX_EXPIRATION.",
                id="uploads.E013",
            )
        )
    for pattern in settings.UPLOADS_ALLOWED_CONTENT_TYPES:
        if not MIME_TYPE_PATTERN.fullmatch(pattern.lower().replace("*", "x")):
            errors.append(
                checks.Error(
                    f"UPLOADS_ALLOWED_CONTENT_TYPES has {pattern!r}, which is not a type pattern.",
                    hint='Use types or patterns such as "image/png", "image/*" or "*/*".',
                    id="uploads.E014",
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        return [
            checks.Error(
                "SECRET_KEY is the development key while DEBUG is off.",
                hint="Set SECRET_KEY in the environment.",
                id="uploads.E020",
            )
        ]
    return []
