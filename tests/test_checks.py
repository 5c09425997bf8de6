import secrets
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.helpers import ROOT, manage
from uploads import checks


def ids(messages):
    return [m.id for m in messages]


def test_it_reports_a_missing_bucket(settings):
    settings.AWS_STORAGE_BUCKET_NAME = ""

    assert "uploads.E001" in ids(checks.check_s3_settings(None))


def test_it_reports_a_key_without_a_secret(settings):
    settings.AWS_ACCESS_KEY_ID = "AKIA..."
    settings.AWS_SECRET_ACCESS_KEY = ""

    assert "uploads.E002" in ids(checks.check_s3_settings(None))


def test_it_reports_an_endpoint_that_is_not_a_url(settings):
    settings.AWS_S3_ENDPOINT_URL = "127.0.0.1:9000"

    assert "uploads.E003" in ids(checks.check_s3_settings(None))


def test_it_reports_a_policy_expiration_of_days(settings):
    settings.UPLOADS_PRESIGN_EXPIRATION = 3 * 24 * 3600

    assert ids(checks.check_upload_limits(None)) == ["uploads.E011"]


def test_it_reports_a_policy_grace_of_hours(settings):
    settings.UPLOADS_POLICY_GRACE = 2 * 3600

    assert ids(checks.check_upload_limits(None)) == ["uploads.E024"]


def test_it_reports_a_non_positive_max_file_size(settings):
    settings.UPLOADS_MAX_FILE_SIZE = 0

    assert ids(checks.check_upload_limits(None)) == ["uploads.E010"]


def test_it_reports_a_bad_content_type_pattern(settings):
    settings.UPLOADS_ALLOWED_CONTENT_TYPES = ["images"]

    assert ids(checks.check_upload_limits(None)) == ["uploads.E014"]


def test_it_accepts_sound_settings(settings):
    settings.AWS_STORAGE_BUCKET_NAME = "bucket"

    assert checks.check_s3_settings(None) + checks.check_upload_limits(None) == []


def test_manage_check_fails_with_a_clear_message(settings):
    settings.AWS_STORAGE_BUCKET_NAME = ""

    with pytest.raises(SystemCheckError, match="AWS_STORAGE_BUCKET_NAME is not set"):
        call_command("check")


def test_it_reports_an_unknown_addressing_style_by_its_setting_name(settings):
    settings.AWS_S3_ADDRESSING_STYLE = ""

    messages = checks.check_s3_settings(None)

    assert "uploads.E005" in ids(messages)
    assert "AWS_S3_ADDRESSING_STYLE" in next(m.msg for m in messages if m.id == "uploads.E005")


def test_it_reports_a_region_that_is_not_a_region_name(settings):
    settings.AWS_S3_REGION_NAME = "US East (N. Virginia)"

    assert "uploads.E004" in ids(checks.check_s3_settings(None))


def test_it_reports_a_cors_origin_with_a_path(settings):
    settings.UPLOADS_CORS_ORIGINS = ["https://example.com/uploads"]

    assert "uploads.E007" in ids(checks.check_s3_settings(None))


def test_an_empty_value_in_the_environment_means_the_default(monkeypatch):
    from project.settings import Env

    monkeypatch.setenv("AWS_S3_ADDRESSING_STYLE", "")
    monkeypatch.setenv("UPLOADS_MAX_FILE_SIZE", "")

    env = Env()
    assert env.str("AWS_S3_ADDRESSING_STYLE", default="path") == "path"
    assert env.int("UPLOADS_MAX_FILE_SIZE", default=5) == 5


# --- Security -----------------------------------------------------------------------------------

BASE_DIR = ROOT


def production_env() -> dict[str, str]:
    lines = (BASE_DIR / ".env.production.example").read_text().splitlines()
    example = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {**example, "SECRET_KEY": secrets.token_urlsafe(50)}  # what a deployer fills in


def test_check_deploy_is_clean_with_the_production_example():
    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout


def test_the_app_refuses_to_start_with_debug_off_and_the_development_key():
    # Not only --deploy: runserver, migrate and every command run this check.
    checked = manage("check", env={**production_env(), "SECRET_KEY": ""})

    assert checked.returncode == 1
    assert "uploads.E020" in checked.stderr


def test_the_development_key_is_fine_with_debug_on(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = settings.INSECURE_DEV_SECRET_KEY

    assert checks.check_secret_key(None) == []


def test_it_reports_a_missing_libmagic(monkeypatch):
    monkeypatch.setattr(checks, "libmagic_problem", lambda: "failed to find libmagic")

    assert "uploads.E021" in ids(checks.check_security_settings(None))


@pytest.mark.parametrize("name", checks.RATE_SETTINGS)
def test_it_reports_a_rate_that_is_not_a_rate(settings, name):
    setattr(settings, name, "fast")

    assert ids(checks.check_security_settings(None)) == ["uploads.E022"]


def test_it_reports_a_negative_quota(settings):
    settings.UPLOADS_QUOTA_PENDING = -1

    assert ids(checks.check_security_settings(None)) == ["uploads.E023"]


def test_the_readme_documents_every_rate_and_the_trusted_proxy_settings():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()

    for name in (*checks.RATE_SETTINGS, "TRUSTED_PROXY_COUNT", "CLIENT_IP_HEADER"):
        assert f"`{name}`" in readme, name
