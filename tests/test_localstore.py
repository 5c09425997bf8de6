"""project/localstore.py: SeaweedFS for `make run` keeps its objects across a restart."""

import boto3
import pytest

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


def test_the_store_keeps_its_objects_across_a_restart(tmp_path):
    first = localstore.start(data_dir=tmp_path, access_key="k", secret_key="s3cret")
    client(first).create_bucket(Bucket="kept")
    client(first).put_object(Bucket="kept", Key="a.txt", Body=b"still here")
    first.stop()

    second = localstore.start(data_dir=tmp_path, access_key="k", secret_key="s3cret")
    try:
        # At once: start returns only when the master lists every volume on disk again.
        assert client(second).get_object(Bucket="kept", Key="a.txt")["Body"].read() == b"still here"
    finally:
        second.stop()
    assert (first.process.returncode, second.process.returncode) == (0, 0)


def test_the_store_refuses_a_port_already_in_use(tmp_path, seaweedfs):
    in_use = int(seaweedfs.endpoint.rsplit(":", 1)[1])

    with pytest.raises(localstore.LocalStoreError, match=f"Port {in_use} is in use"):
        localstore.start(data_dir=tmp_path, access_key="k", secret_key="s", s3_port=in_use)
