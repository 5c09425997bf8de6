"""project/localstore.py: SeaweedFS for `make run` keeps its objects across a restart."""

import time

import boto3
import pytest
from botocore.exceptions import ClientError

from project import localstore

pytestmark = pytest.mark.strict


def client(store):
    return boto3.client(
        "s3",
        endpoint_url=store.endpoint,
        aws_access_key_id=store.access_key,
        aws_secret_access_key=store.secret_key,
        region_name="us-east-1",
    )


def read_once_ready(s3, bucket: str, key: str, timeout: float = 30.0) -> bytes:
    """SeaweedFS answers S3 before its volume server has registered again after a restart: a read
    in that moment is a 500 InternalError (seen once under load). The object must come back."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] != "InternalError" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_store_keeps_its_objects_across_a_restart(tmp_path):
    first = localstore.start(data_dir=tmp_path, access_key="k", secret_key="s3cret")
    client(first).create_bucket(Bucket="kept")
    client(first).put_object(Bucket="kept", Key="a.txt", Body=b"still here")
    first.stop()

    second = localstore.start(data_dir=tmp_path, access_key="k", secret_key="s3cret")
    try:
        assert read_once_ready(client(second), "kept", "a.txt") == b"still here"
    finally:
        second.stop()
    assert (first.process.returncode, second.process.returncode) == (0, 0)


def test_the_store_refuses_a_port_already_in_use(tmp_path, seaweedfs):
    in_use = int(seaweedfs.endpoint.rsplit(":", 1)[1])

    with pytest.raises(localstore.LocalStoreError, match=f"Port {in_use} is in use"):
        localstore.start(data_dir=tmp_path, access_key="k", secret_key="s", s3_port=in_use)
