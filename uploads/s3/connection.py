"""The boto3 plumbing behind S3Client: one configuration, one client per process, one error.

The S3 layer (`uploads/s3/`) is the only package that imports boto3/botocore.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from ..deadline import call_within_deadline
from ..errors import NotSupportedByStore, StorageUnavailable

logger = logging.getLogger("uploads.s3")

NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
# What stores answer for an S3 API they don't implement.
NOT_IMPLEMENTED_CODES = {"NotImplemented", "501", "XNotImplemented"}
CREDENTIAL_CODES = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"}
STORE_ERRORS = (ClientError, BotoCoreError, S3UploadFailedError)

# "request": calls made while a user waits, bounded well under a worker's timeout.
# "batch": cleanup and setup commands, which may wait longer for a slow store.
Timeouts = Literal["request", "batch"]
BATCH_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 30, "total_max_attempts": 3}


@dataclass(frozen=True)
class Connection:
    """Everything a boto3 client is built from: the cache key of `_boto3_client`."""

    region: str
    endpoint_url: str | None
    access_key_id: str
    secret_access_key: str
    addressing_style: str
    checksums: str
    connect_timeout: float
    read_timeout: float
    total_max_attempts: int

    @classmethod
    def from_settings(cls, timeouts: Timeouts = "request", **overrides: Any) -> Connection:
        budget = (
            BATCH_TIMEOUTS
            if timeouts == "batch"
            else {
                "connect_timeout": settings.UPLOADS_S3_CONNECT_TIMEOUT,
                "read_timeout": settings.UPLOADS_S3_READ_TIMEOUT,
                "total_max_attempts": settings.UPLOADS_S3_MAX_ATTEMPTS,
            }
        )
        values = {
            "region": settings.AWS_S3_REGION_NAME,
            "endpoint_url": settings.AWS_S3_ENDPOINT_URL,
            "access_key_id": settings.AWS_ACCESS_KEY_ID,
            "secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
            "addressing_style": settings.AWS_S3_ADDRESSING_STYLE,
            "checksums": settings.UPLOADS_S3_CHECKSUMS,
            **budget,
        }
        return cls(**{**values, **{name: value for name, value in overrides.items() if value is not None}})

    def config(self) -> Config:
        return Config(
            # Always SigV4: botocore falls back to SigV2 in us-east-1 with a custom endpoint.
            signature_version="s3v4",
            s3={"addressing_style": self.addressing_style},
            retries={"mode": "standard", "total_max_attempts": self.total_max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pool_connections=20,
            # boto3 1.36+ adds CRC checksums to every upload, which several S3-compatible stores reject.
            request_checksum_calculation=self.checksums,
            response_checksum_validation=self.checksums,
        )


def client_config(timeouts: Timeouts = "request") -> Config:
    """Return the app's one boto3 configuration (S3Client and django-storages share it)."""
    return Connection.from_settings(timeouts).config()


_clients: dict[tuple[Connection, bool], Any] = {}
# Building a client takes ~0.3 s of CPU (botocore loads and parses its service models); with an
# unlocked cache, every thread of a fresh worker built its own at once and the first requests
# after a deploy waited 5 s. One lock: the first builds, the others wait for it, then share it.
_clients_lock = threading.Lock()


def boto3_client(connection: Connection, signed: bool = True):
    """The process's boto3 S3 client for this configuration, built once (clients are thread-safe)."""
    client = _clients.get((connection, signed))
    if client is None:
        with _clients_lock:
            client = _clients.get((connection, signed))
            if client is None:
                client = _clients[(connection, signed)] = _build(connection, signed)
    return client


def _build(connection: Connection, signed: bool):
    config = connection.config()
    if not signed:
        config = config.merge(Config(signature_version=UNSIGNED))
    client = boto3.session.Session().client(
        "s3",
        region_name=connection.region,
        endpoint_url=connection.endpoint_url,
        aws_access_key_id=connection.access_key_id or None,
        aws_secret_access_key=connection.secret_access_key or None,
        config=config,
    )
    # Every operation (paginators too) goes through `_make_api_call`: inside a request, each gets
    # only what is left of the request's deadline (uploads/deadline.py). Signing makes no call.
    make_api_call = client._make_api_call

    def _make_api_call(operation_name: str, params: dict[str, Any]):
        return call_within_deadline(lambda: make_api_call(operation_name, params), operation_name)

    client._make_api_call = _make_api_call
    return client


def clients_built() -> int:
    return len(_clients)


def clear_client_cache() -> None:
    """Forget the process's boto3 clients; moto's in-process mock only sees clients built after it starts."""
    with _clients_lock:
        _clients.clear()


def error_code(e: Exception) -> str:
    if isinstance(e, ClientError):
        return str(e.response.get("Error", {}).get("Code", "")) or "Unknown"
    return ""


def unavailable(action: str, e: Exception) -> StorageUnavailable:
    """Turn any failure of S3 or the network into our one storage error, and log it."""
    code = error_code(e)
    if code in NOT_IMPLEMENTED_CODES:
        return NotSupportedByStore(f"Not supported by this store: {action} ({code}).")
    if code:
        logger.warning("S3 refused to %s: %s", action, code)
        return StorageUnavailable(f"Storage refused to {action} ({code}).")
    if isinstance(e, S3UploadFailedError):
        # boto3's transfer manager wraps S3's refusal (a missing bucket, AccessDenied) in its own error.
        logger.warning("S3 refused to %s: %s", action, e)
        return StorageUnavailable(f"Storage refused to {action} ({e}).")
    logger.warning("S3 unreachable while trying to %s: %s", action, e)
    return StorageUnavailable(f"Storage could not be reached to {action}.")


STORE_ERRORS = (ClientError, BotoCoreError, S3UploadFailedError)


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    try:
        yield
    except STORE_ERRORS as e:
        raise unavailable(action, e) from e
