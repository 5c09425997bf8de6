"""The bucket: the rules the uploads need (configure_bucket) and a check of them (check_s3)."""

from __future__ import annotations

import fnmatch
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from .errors import NotSupportedByStore, StorageUnavailable
from .keys import object_key, upload_folder, uploads_root
from .s3 import S3Client
from .serving import acl_for

logger = logging.getLogger(__name__)

# --- Health check (manage.py check_s3) -------------------------------------------------------

MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False  # the store can't answer this check; not a failure

    @property
    def label(self) -> str:
        return "skip" if self.skipped else "ok  " if self.ok else "FAIL"


def store_ready() -> bool:
    """Whether the store answers a HEAD of the bucket within a request's time budget (for /readyz)."""
    probe = S3Client().probe_bucket()
    if probe.problem:
        logger.warning("The store is unavailable: %s (%s)", probe.problem, probe.error_code)
    return probe.problem is None


def storage_checks(*, origins: list[str] | None = None) -> Iterator[CheckResult]:
    """Check, in order, what the uploads need from S3; stop at the first failure others depend on."""
    client = S3Client(timeouts="batch")
    probe = client.probe_bucket()
    if probe.problem == "credentials":
        yield CheckResult(
            "credentials", False, f"S3 refused them ({probe.error_code}) for bucket {client.bucket_name!r}"
        )
        return
    if probe.problem == "missing":
        yield CheckResult("bucket", False, f"bucket {client.bucket_name!r} does not exist")
        return
    if probe.problem:
        yield CheckResult(
            "bucket", False, f"could not reach bucket {client.bucket_name!r} ({probe.error_code})"
        )
        return
    explicit = settings.AWS_ACCESS_KEY_ID and settings.AWS_SECRET_ACCESS_KEY
    yield CheckResult(
        "credentials", True, "accepted" if explicit else "accepted (from boto3: environment or role)"
    )
    yield CheckResult("bucket", True, f"{client.bucket_name!r} is reachable")
    if probe.region and probe.region != client.region:
        yield CheckResult(
            "region", False, f"the bucket is in {probe.region}, AWS_REGION says {client.region}"
        )
    else:
        yield CheckResult("region", True, probe.region or client.region)

    yield _cors_check(client, [*settings.UPLOADS_CORS_ORIGINS, *(origins or [])])

    if probe.server_time is not None:
        skew = abs(timezone.now() - probe.server_time)
        ok = skew <= MAX_CLOCK_SKEW
        yield CheckResult(
            "clock", ok, f"{skew.total_seconds():.0f}s from S3's clock" + ("" if ok else ": fix NTP")
        )

    yield _post_round_trip(client)
    yield _form_round_trip(client)


def _cors_check(client: S3Client, origins: list[str]) -> CheckResult:
    try:
        rules = client.get_cors()
    except NotSupportedByStore:
        return CheckResult(
            "cors", True, "not supported by this store: set its CORS another way", skipped=True
        )
    except StorageUnavailable as e:  # e.g. credentials without s3:GetBucketCORS
        return CheckResult("cors", False, str(e))
    missing = [origin for origin in origins if not _cors_allows_post(rules, origin)]
    if missing:
        return CheckResult(
            "cors", False, f"no CORS rule lets {', '.join(missing)} POST; run configure_bucket"
        )
    return CheckResult("cors", True, f"POST allowed from {', '.join(origins)}")


def _cors_allows_post(rules: list[dict[str, Any]], origin: str) -> bool:
    return any(
        "POST" in rule.get("AllowedMethods", [])
        and any(fnmatch.fnmatchcase(origin, allowed) for allowed in rule.get("AllowedOrigins", []))
        for rule in rules
    )


def _post_round_trip(client: S3Client) -> CheckResult:
    """Upload a small probe through a presigned POST, as a browser would; HEAD it; delete it."""
    key = object_key(uuid.uuid4(), "probe.txt", prefix="check-s3")
    body = b"check_s3 probe"
    try:
        post = client.presigned_post(
            key=key,
            content_type="text/plain",
            min_size=1,
            max_size=len(body),
            expires_in=60,
            acl=acl_for(False),
        )
        response = requests.post(post.url, data=post.fields, files={"file": ("probe.txt", body)}, timeout=10)
        if response.status_code >= 300:
            return CheckResult(
                "presigned post", False, f"S3 answered {response.status_code}: {response.text[:120]}"
            )
        info = client.head(key)
        if info is None or info.size != len(body):
            return CheckResult("presigned post", False, "the probe did not arrive intact")
        client.delete(key)
    except (StorageUnavailable, requests.RequestException) as e:
        return CheckResult("presigned post", False, str(e))
    return CheckResult("presigned post", True, "uploaded, found and deleted a probe object")


# Where the probe asks the store to send the browser: never visited, only read back.
PROBE_REDIRECT = "https://check-s3.invalid/uploads/finish/probe-token/"


def _form_round_trip(client: S3Client) -> CheckResult:
    """POST a probe as the no-JavaScript form does, and check the store's redirect keeps the token."""
    folder = upload_folder(uuid.uuid4(), prefix="check-s3")
    try:
        post = client.presigned_post(
            key=folder + "${filename}",
            min_size=1,
            max_size=64,
            expires_in=60,
            acl=acl_for(False),
            success_action_redirect=PROBE_REDIRECT,
        )
        response = requests.post(
            post.url,
            data=post.fields,
            files={"file": ("probe.txt", b"check_s3 form probe")},
            timeout=10,
            allow_redirects=False,
        )
        client.delete_many(info.key for info in client.iter_objects(prefix=folder))
    except (StorageUnavailable, requests.RequestException) as e:
        return CheckResult("form post", False, str(e))
    location = response.headers.get("Location", "")
    if response.status_code not in (301, 302, 303, 307) or not location.startswith(PROBE_REDIRECT):
        return CheckResult(
            "form post",
            False,
            f"the store answered {response.status_code} to {location or 'nowhere'}, not to the finish page",
        )
    return CheckResult("form post", True, "the store redirects to the finish page with its token")


# --- Bucket setup -----------------------------------------------------------------------------


# Our rules carry these IDs, so configure_bucket replaces them and leaves the bucket's others alone.
CORS_RULE_ID = "uploads-direct-post"
LIFECYCLE_RULE_ID = "uploads-abort-incomplete-multipart"


def bucket_settings(*, origins: list[str] | None = None, public: bool | None = None) -> dict[str, Any]:
    """Return the CORS, public access and lifecycle configuration the uploads need."""
    origins = settings.UPLOADS_CORS_ORIGINS if origins is None else origins
    public = settings.UPLOADS_PUBLIC if public is None else public
    return {
        "cors": [
            {
                "ID": CORS_RULE_ID,
                "AllowedOrigins": list(origins),
                # POST (or PUT) for uploads; GET and HEAD for downloads and thumbnails.
                "AllowedMethods": ["GET", "HEAD", "POST", "PUT"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag", "Location"],
                "MaxAgeSeconds": 3000,
            }
        ],
        "block_public_access": not public,
        "lifecycle": [
            {
                "ID": LIFECYCLE_RULE_ID,
                "Filter": {"Prefix": uploads_root()},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ],
    }


@dataclass(frozen=True)
class PartResult:
    """One part of the bucket's configuration: applied, not supported by the store, or failed."""

    name: str
    outcome: str  # "applied", "unsupported" or "failed"
    detail: str


def bucket_configure(
    *, create: bool = False, origins: list[str] | None = None, public: bool | None = None
) -> list[PartResult]:
    """Apply each part of `bucket_settings` the store supports, creating the bucket first if asked.

    A part the store doesn't implement is reported and skipped; a real failure (credentials, a
    missing bucket, a refusal) is reported too, and the other parts are still tried.
    """
    client = S3Client(timeouts="batch")
    wanted = bucket_settings(origins=origins, public=public)
    if create and not client.bucket_exists():
        client.create_bucket()  # without the bucket, every part would fail the same way
    parts = {
        "cors": (
            lambda: client.put_cors(_merge_rules(client.get_cors(), wanted["cors"])),
            f"POST from {', '.join(wanted['cors'][0]['AllowedOrigins'])}",
        ),
        "public access block": (
            lambda: client.put_public_access_block(block=wanted["block_public_access"]),
            "blocked" if wanted["block_public_access"] else "allowed",
        ),
        "lifecycle": (
            lambda: client.put_lifecycle(_merge_rules(client.get_lifecycle(), wanted["lifecycle"])),
            f"abort multipart uploads under {uploads_root()} after a day",
        ),
    }
    results = []
    for name, (apply, detail) in parts.items():
        try:
            apply()
        except NotSupportedByStore:
            results.append(PartResult(name, "unsupported", "not supported by this store"))
        except StorageUnavailable as e:
            results.append(PartResult(name, "failed", str(e)))
        else:
            results.append(PartResult(name, "applied", detail))
    return results


def _merge_rules(existing: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our rules replace the ones with the same ID; the bucket's other rules stay."""
    ids = {rule["ID"] for rule in ours}
    return [rule for rule in existing if rule.get("ID") not in ids] + ours
