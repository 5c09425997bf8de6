"""The bucket's rules and their check: configure_bucket and check_s3, against moto's S3 server."""

import io
import json

import pytest
from botocore.exceptions import ClientError
from django.core.management import CommandError, call_command

from uploads import bucket
from uploads.errors import StorageUnavailable
from uploads.keys import uploads_root
from uploads.s3 import S3Client

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- configure_bucket -------------------------------------------------------------------------


def test_configure_bucket_print_shows_the_configuration_and_applies_nothing(s3, settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://example.com"]

    printed = json.loads(run("configure_bucket", "--print"))

    assert printed["cors"][0]["AllowedOrigins"] == ["https://example.com"]
    assert "POST" in printed["cors"][0]["AllowedMethods"]
    assert printed["block_public_access"] is True
    assert printed["lifecycle"][0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert s3.get_cors() == []


def test_configure_bucket_applies_cors_for_the_sites_origins(s3, settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://example.com"]

    run("configure_bucket")

    rules = s3.get_cors()
    assert rules[0]["AllowedOrigins"] == ["https://example.com"]
    assert "*" not in rules[0]["AllowedOrigins"]


def test_configure_bucket_blocks_public_access_unless_public_uploads_are_on(s3, settings):
    run("configure_bucket")

    block = s3.client.get_public_access_block(Bucket=s3.bucket_name)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_configure_bucket_adds_the_multipart_lifecycle_rule(s3):
    run("configure_bucket")

    rules = s3.client.get_bucket_lifecycle_configuration(Bucket=s3.bucket_name)["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert rules[0]["Filter"] == {"Prefix": uploads_root()}


def test_configure_bucket_keeps_the_buckets_other_rules(s3):
    s3.put_cors([{"ID": "cdn", "AllowedOrigins": ["https://cdn.example"], "AllowedMethods": ["GET"]}])
    expire_logs = {
        "ID": "logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 7},
    }
    s3.put_lifecycle([expire_logs])

    run("configure_bucket")
    run("configure_bucket")  # twice: our rules are replaced, not added again

    assert [rule["ID"] for rule in s3.get_cors()] == ["cdn", bucket.CORS_RULE_ID]
    assert [rule["ID"] for rule in s3.get_lifecycle()] == ["logs", bucket.LIFECYCLE_RULE_ID]


def test_configure_bucket_create_makes_a_missing_bucket(s3, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "brand-new-bucket"

    run("configure_bucket", "--create")

    assert S3Client().bucket_exists()


# --- check_s3 ---------------------------------------------------------------------------------


@pytest.fixture
def configured(s3, settings):
    settings.UPLOADS_CORS_ORIGINS = ["http://localhost:8000"]
    run("configure_bucket")
    return s3


def test_check_s3_passes_against_a_configured_bucket(configured):
    output = run("check_s3")

    lines = output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok   credentials",
        "ok   bucket",
        "ok   region",
        "ok   cors",
        "ok   clock",
        "ok   presigned post",
        "ok   form post",
    ]
    assert list(configured.iter_objects(prefix=uploads_root())) == []  # the probe is gone


def test_check_s3_fails_with_one_clear_line_when_the_bucket_is_missing(configured, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"
    out = io.StringIO()

    with pytest.raises(CommandError, match="S3 check failed: bucket"):
        call_command("check_s3", stdout=out)

    assert out.getvalue().strip() == "FAIL bucket: bucket 'no-such-bucket' does not exist"


def test_check_s3_fails_when_the_credentials_are_refused(configured, monkeypatch):
    # moto checks credentials only once told to; its IAM then knows no access key at all.
    monkeypatch.setattr("moto.settings.INITIAL_NO_AUTH_ACTION_COUNT", 0)
    out = io.StringIO()

    with pytest.raises(CommandError, match="S3 check failed: credentials"):
        call_command("check_s3", stdout=out)

    assert out.getvalue().startswith("FAIL credentials: S3 refused them")


def test_check_s3_fails_when_cors_does_not_allow_the_sites_origin(configured, settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://elsewhere.example"]
    out = io.StringIO()

    with pytest.raises(CommandError, match="cors"):
        call_command("check_s3", stdout=out)

    assert "FAIL cors: no CORS rule lets https://elsewhere.example POST" in out.getvalue()


def test_check_s3_checks_the_origin_the_site_is_served_from(configured):
    out = io.StringIO()

    with pytest.raises(CommandError, match="cors"):
        call_command("check_s3", "--origin", "http://127.0.0.1:8123", stdout=out)

    assert "FAIL cors: no CORS rule lets http://127.0.0.1:8123 POST" in out.getvalue()


def test_check_s3_reports_unreadable_cors_rules_in_one_line(configured, monkeypatch):
    def refuse(self):
        raise StorageUnavailable("Storage refused to read the bucket's CORS rules (AccessDenied).")

    monkeypatch.setattr(S3Client, "get_cors", refuse)
    out = io.StringIO()

    with pytest.raises(CommandError, match="S3 check failed: cors"):
        call_command("check_s3", stdout=out)

    assert "FAIL cors: Storage refused to read the bucket's CORS rules (AccessDenied)." in out.getvalue()


@pytest.fixture
def store_without_public_access_block(s3, monkeypatch):
    """A store that answers NotImplemented to PutPublicAccessBlock, as MinIO, SeaweedFS and R2 do."""

    def not_implemented(**kwargs):
        raise ClientError({"Error": {"Code": "NotImplemented"}}, "PutPublicAccessBlock")

    monkeypatch.setattr(S3Client(timeouts="batch").client, "put_public_access_block", not_implemented)
    return s3


def test_configure_bucket_applies_the_parts_a_store_supports_and_names_the_others(
    store_without_public_access_block,
):
    output = run("configure_bucket")

    assert "unsupported public access block: not supported by this store" in output
    assert store_without_public_access_block.get_lifecycle()[0]["ID"] == bucket.LIFECYCLE_RULE_ID
    assert store_without_public_access_block.get_cors()[0]["ID"] == bucket.CORS_RULE_ID


def test_configure_bucket_exits_non_zero_for_a_real_failure(s3, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"

    with pytest.raises(
        CommandError, match="Could not configure the bucket's cors, public access block, lifecycle"
    ):
        run("configure_bucket")


def test_check_s3_skips_cors_on_a_store_without_the_cors_api(configured, monkeypatch):
    def not_implemented(**kwargs):
        raise ClientError({"Error": {"Code": "NotImplemented"}}, "GetBucketCors")

    monkeypatch.setattr(S3Client(timeouts="batch").client, "get_bucket_cors", not_implemented)

    output = run("check_s3")

    assert "skip cors: not supported by this store" in output
