"""The bucket itself: existence, a probe for check_s3 and /readyz, creation, and the CORS,
lifecycle and public access rules configure_bucket sets."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any, Literal

from ..errors import StorageUnavailable
from .base import BucketClient
from .connection import (
    CREDENTIAL_CODES,
    NOT_FOUND_CODES,
    STORE_ERRORS,
    error_code,
    storage_errors,
    unavailable,
)
from .results import BucketProbe


class BucketRules(BucketClient):
    def bucket_exists(self) -> bool:
        probe = self.probe_bucket()
        if probe.problem == "missing":
            return False
        if probe.problem:
            raise StorageUnavailable(
                f"Storage could not be reached to check the bucket ({probe.error_code})."
            )
        return True

    def probe_bucket(self) -> BucketProbe:
        """HEAD the bucket without raising: say what is wrong, its region and S3's clock."""
        try:
            response = self.client.head_bucket(Bucket=self.bucket_name)
        except StorageUnavailable as e:  # the request's deadline (uploads/deadline.py)
            return BucketProbe("unreachable", type(e).__name__)
        except STORE_ERRORS as e:
            code = error_code(e)
            if code in CREDENTIAL_CODES:
                problem = "credentials"
            elif code in NOT_FOUND_CODES:
                problem = "missing"
            else:
                problem = "unreachable"
            headers = e.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) if code else {}
            return BucketProbe(
                problem, code or type(e).__name__, region=headers.get("x-amz-bucket-region", "")
            )
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        date = headers.get("date")
        return BucketProbe(
            None,
            region=headers.get("x-amz-bucket-region", ""),
            server_time=parsedate_to_datetime(date) if date else None,
        )

    def create_bucket(self) -> None:
        params: dict[str, Any] = {"Bucket": self.bucket_name}
        # us-east-1 is the one region that refuses an explicit LocationConstraint.
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with storage_errors("create the bucket"):
            self.client.create_bucket(**params)

    def get_cors(self) -> list[dict[str, Any]]:
        """Return the bucket's CORS rules ([] when it has none)."""
        return self._bucket_rules("cors")

    def put_cors(self, rules: list[dict[str, Any]]) -> None:
        with storage_errors("set the bucket's CORS rules"):
            self.client.put_bucket_cors(Bucket=self.bucket_name, CORSConfiguration={"CORSRules": rules})

    def get_lifecycle(self) -> list[dict[str, Any]]:
        """Return the bucket's lifecycle rules ([] when it has none)."""
        return self._bucket_rules("lifecycle")

    def put_lifecycle(self, rules: list[dict[str, Any]]) -> None:
        with storage_errors("set the bucket's lifecycle rules"):
            self.client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket_name, LifecycleConfiguration={"Rules": rules}
            )

    def put_public_access_block(self, *, block: bool) -> None:
        flags = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
        with storage_errors("set the bucket's public access block"):
            self.client.put_public_access_block(
                Bucket=self.bucket_name,
                PublicAccessBlockConfiguration={flag: block for flag in flags},
            )

    def _bucket_rules(self, kind: Literal["cors", "lifecycle"]) -> list[dict[str, Any]]:
        fetch, key, absent = {
            "cors": (self.client.get_bucket_cors, "CORSRules", "NoSuchCORSConfiguration"),
            "lifecycle": (
                self.client.get_bucket_lifecycle_configuration,
                "Rules",
                "NoSuchLifecycleConfiguration",
            ),
        }[kind]
        what = "CORS" if kind == "cors" else kind
        try:
            response = fetch(Bucket=self.bucket_name)
        except STORE_ERRORS as e:
            if error_code(e) == absent:
                return []  # a bucket without rules of this kind
            raise unavailable(f"read the bucket's {what} rules", e) from e
        return response.get(key, [])
