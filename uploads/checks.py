"""System checks: missing or inconsistent settings are reported at startup, not on a request."""

import re
from collections.abc import Iterator
from urllib.parse import urlparse

from django.conf import settings
from django.core import checks

from .api.auth import parse_rate
from .content import libmagic_problem
from .content_types import MIME_TYPE_PATTERN
from .s3 import limits

REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d+|auto|[a-z0-9-]{2,32}")
ADDRESSING_STYLES = ("path", "virtual", "auto")
CHECKSUM_MODES = ("when_required", "when_supported")
RATE_SETTINGS = (
    "UPLOADS_RATE_PRESIGN",
    "UPLOADS_RATE_COMPLETE",
    "UPLOADS_RATE_URL",
    "UPLOADS_RATE_PARTS",
    "UPLOADS_RATE_SIGN",
)


Problem = tuple[str, str, str]  # (id, message, hint)


def _errors(problems: Iterator[Problem]) -> list[checks.CheckMessage]:
    return [
        checks.Error(message, hint=hint or None, id=f"uploads.{code}") for code, message, hint in problems
    ]


@checks.register()
def check_s3_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return _errors(_s3_problems())


@checks.register()
def check_upload_limits(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return _errors(_limit_problems())


def _s3_problems() -> Iterator[Problem]:
    if not settings.AWS_STORAGE_BUCKET_NAME:
        yield (
            "E001",
            "AWS_STORAGE_BUCKET_NAME is not set.",
            "Set it in the environment or .env; `make run` sets it for the embedded S3.",
        )
    if bool(settings.AWS_ACCESS_KEY_ID) != bool(settings.AWS_SECRET_ACCESS_KEY):
        yield (
            "E002",
            "Only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set.",
            "Set both, or neither to use the instance's role.",
        )
    for name in ("AWS_S3_ENDPOINT_URL", "UPLOADS_PUBLIC_ENDPOINT_URL"):
        endpoint = getattr(settings, name)
        if endpoint and (urlparse(endpoint).scheme not in {"http", "https"} or not urlparse(endpoint).netloc):
            yield "E003", f"{name} {endpoint!r} is not an http(s) URL.", "For example http://127.0.0.1:9000"
    if not REGION.fullmatch(settings.AWS_S3_REGION_NAME or ""):
        yield (
            "E004",
            f"AWS_REGION {settings.AWS_S3_REGION_NAME!r} is not a region name.",
            "For example us-east-1, eu-central-1, or auto for Cloudflare R2.",
        )
    if settings.AWS_S3_ADDRESSING_STYLE not in ADDRESSING_STYLES:
        yield (
            "E005",
            f"AWS_S3_ADDRESSING_STYLE {settings.AWS_S3_ADDRESSING_STYLE!r} is not one of {', '.join(ADDRESSING_STYLES)}.",
            "Leave it empty for the default: path with AWS_S3_ENDPOINT_URL, else virtual.",
        )
    if settings.UPLOADS_S3_CHECKSUMS not in CHECKSUM_MODES:
        yield (
            "E006",
            f"UPLOADS_S3_CHECKSUMS {settings.UPLOADS_S3_CHECKSUMS!r} is not one of {', '.join(CHECKSUM_MODES)}.",
            "",
        )
    if settings.UPLOADS_UPLOAD_METHOD not in ("post", "put"):
        yield "E008", f"UPLOADS_UPLOAD_METHOD {settings.UPLOADS_UPLOAD_METHOD!r} is not post or put.", ""
    for origin in settings.UPLOADS_CORS_ORIGINS:
        parsed = urlparse(origin)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.path not in {"", "/"}:
            yield (
                "E007",
                f"UPLOADS_CORS_ORIGINS has {origin!r}, which is not an origin.",
                "An origin is a scheme, a host and maybe a port: https://example.com",
            )


def _limit_problems() -> Iterator[Problem]:
    if not 0 < settings.UPLOADS_MAX_FILE_SIZE <= limits.MAX_OBJECT_SIZE:
        yield (
            "E010",
            f"UPLOADS_MAX_FILE_SIZE must be between 1 and {limits.MAX_OBJECT_SIZE} bytes (S3's object limit).",
            "",
        )
    elif (
        settings.UPLOADS_MAX_FILE_SIZE > limits.MAX_SINGLE_UPLOAD
        and not settings.UPLOADS_MULTIPART_THRESHOLD < limits.MAX_SINGLE_UPLOAD
    ):
        yield (
            "E010",
            f"UPLOADS_MAX_FILE_SIZE is over {limits.MAX_SINGLE_UPLOAD} bytes (S3's limit for one POST or PUT), "
            "but UPLOADS_MULTIPART_THRESHOLD is not below it.",
            "Lower UPLOADS_MULTIPART_THRESHOLD (default 64 MiB) so larger files go in parts.",
        )
    if settings.UPLOADS_MULTIPART_THRESHOLD <= 0:
        yield "E015", "UPLOADS_MULTIPART_THRESHOLD must be a positive number of bytes.", ""
    if not limits.MIN_PART_SIZE <= settings.UPLOADS_MULTIPART_PART_SIZE <= limits.MAX_SINGLE_UPLOAD:
        yield (
            "E016",
            f"UPLOADS_MULTIPART_PART_SIZE must be between {limits.MIN_PART_SIZE} and {limits.MAX_SINGLE_UPLOAD} bytes (S3's part limits).",
            "",
        )
    if not 0 < settings.UPLOADS_PRESIGN_EXPIRATION <= 3600:
        yield (
            "E011",
            "UPLOADS_PRESIGN_EXPIRATION must be between 1 and 3600 seconds: policies live minutes, not days.",
            "",
        )
    if not 0 <= settings.UPLOADS_POLICY_GRACE <= 3600:
        yield (
            "E024",
            "UPLOADS_POLICY_GRACE must be between 0 and 3600 seconds: bytes a dead policy stored go within it.",
            "",
        )
    if not 0 < settings.UPLOADS_URL_MAX_EXPIRATION <= limits.SIGV4_MAX_EXPIRATION:
        yield (
            "E012",
            f"UPLOADS_URL_MAX_EXPIRATION must be between 1 and {limits.SIGV4_MAX_EXPIRATION} seconds (SigV4's limit).",
            "",
        )
    if not 0 < settings.UPLOADS_URL_EXPIRATION <= settings.UPLOADS_URL_MAX_EXPIRATION:
        yield "E013", "UPLOADS_URL_EXPIRATION must be positive and at most UPLOADS_URL_MAX_EXPIRATION.", ""
    if not 0 < settings.UPLOADS_REQUEST_DEADLINE <= 10:
        yield (
            "E030",
            "UPLOADS_REQUEST_DEADLINE must be between 0 and 10 seconds: a request's store time stays short.",
            "Work that takes longer is left to cleanup_uploads; the default is 8.",
        )
    for pattern in settings.UPLOADS_ALLOWED_CONTENT_TYPES:
        if not MIME_TYPE_PATTERN.fullmatch(pattern.lower().replace("*", "x")):
            yield (
                "E014",
                f"UPLOADS_ALLOWED_CONTENT_TYPES has {pattern!r}, which is not a type pattern.",
                'Use types or patterns such as "image/png", "image/*" or "*/*".',
            )


# Not deploy-only: a server started with DEBUG off and the published development key (any
# runserver, migrate or management command) stops here, not only `check --deploy`.
@checks.register(checks.Tags.security)
def check_secret_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        return [
            checks.Error(
                "SECRET_KEY is the development key while DEBUG is off.",
                hint="Set SECRET_KEY in the environment (python -c 'import secrets; print(secrets.token_urlsafe(50))').",
                id="uploads.E020",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_security_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return _errors(_security_problems())


def _security_problems() -> Iterator[Problem]:
    problem = libmagic_problem()
    if problem:
        yield (
            "E021",
            f"libmagic, which checks uploaded files' content, can't be loaded: {problem}",
            "Install it: apt-get install libmagic1 (Debian, Ubuntu), brew install libmagic (macOS).",
        )
    for name in RATE_SETTINGS:
        if parse_rate(getattr(settings, name)) is None:
            yield (
                "E022",
                f"{name} {getattr(settings, name)!r} is not a rate.",
                'Use "<requests>/<period>" such as "60/m" or "1000/h", or 0 for no limit.',
            )
    for name in ("UPLOADS_QUOTA_BYTES", "UPLOADS_QUOTA_PENDING"):
        if getattr(settings, name) < 0:
            yield "E023", f"{name} must be 0 (no limit) or positive.", ""
