"""The connection every part of S3Client shares: the bucket, the boto3 clients, S3's page sizes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings

from . import limits
from .connection import Connection, Timeouts, boto3_client


class BucketClient:
    """A bucket on S3 or an S3-compatible store, configured from Django settings by default."""

    # Class attributes, so a test can show the paging with a page of 3 (the strict tier uses S3's).
    DELETE_BATCH_SIZE = limits.DELETE_BATCH
    LIST_PAGE_SIZE = limits.LIST_PAGE

    bucket_name: str
    region: str
    endpoint_url: str | None
    client: Any  # boto3's S3 client for calls the server makes
    _signer: Any  # the same, for the host browsers reach: URLs handed out are signed with it
    _unsigned_client: Any  # plain URLs of public objects

    def __init__(
        self,
        *,
        bucket_name: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeouts: Timeouts = "request",
    ):
        self.bucket_name = bucket_name or settings.AWS_STORAGE_BUCKET_NAME
        connection = Connection.from_settings(
            timeouts,
            region=region,
            endpoint_url=endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )
        self.region = connection.region
        self.endpoint_url = connection.endpoint_url
        self.client = boto3_client(connection)
        # URLs for browsers are signed for the host browsers reach (SigV4 signs the host), which
        # may differ from the one the server uses (`http://s3:9000` inside a container network).
        public = settings.UPLOADS_PUBLIC_ENDPOINT_URL
        browser_side = replace(connection, endpoint_url=public) if public and not endpoint_url else connection
        self._signer = boto3_client(browser_side)
        self._unsigned_client = boto3_client(browser_side, signed=False)
