"""`make run`'s launcher (project/dev.py): what it sets up, and what it leaves alone."""

import os
import subprocess

import pytest

from project import dev


def test_run_turns_debug_on_even_when_the_env_file_says_false(monkeypatch):
    monkeypatch.setenv("DEBUG", "false")

    env, _ = dev.dev_env()

    assert env["DEBUG"] == "true"


def test_run_starts_the_embedded_s3_without_a_bucket_setting(monkeypatch):
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    monkeypatch.setenv("S3_PORT", "9123")

    env, s3_port = dev.dev_env()

    assert s3_port == "9123"
    assert env["AWS_S3_ENDPOINT_URL"] == "http://127.0.0.1:9123"


def test_run_uses_your_bucket_and_starts_no_s3_when_one_is_set(monkeypatch):
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "my-bucket")

    env, s3_port = dev.dev_env()

    assert s3_port is None
    assert env["AWS_STORAGE_BUCKET_NAME"] == "my-bucket"


def test_run_configures_only_the_embedded_bucket():
    assert ["configure_bucket", "--create"] in dev.setup_commands(embedded_s3=True)
    assert not any(command[0] == "configure_bucket" for command in dev.setup_commands(embedded_s3=False))


def refusing(stderr: str):
    def run(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, stdout="", stderr=stderr)

    return run


def test_run_goes_on_when_seaweedfs_has_no_public_access_block(monkeypatch, capsys):
    refusal = "CommandError: Storage refused to set the bucket's public access block (NotImplemented).\n"
    monkeypatch.setattr(subprocess, "run", refusing(refusal))

    dev.manage("configure_bucket", "--create", env={})

    assert "no public access block" in capsys.readouterr().out


def test_run_stops_when_configure_bucket_fails_otherwise(monkeypatch):
    monkeypatch.setattr(subprocess, "run", refusing("CommandError: Storage refused to create the bucket.\n"))

    with pytest.raises(subprocess.CalledProcessError):
        dev.manage("configure_bucket", "--create", env={})


def test_run_starts_a_celery_worker_and_the_beat_scheduler_beside_the_server():
    worker, beat = dev.celery_commands()

    assert worker[worker.index("-A") + 1 :][:2] == ["project", "worker"]
    assert beat[beat.index("-A") + 1 :][:2] == ["project", "beat"]
    assert any(".data" in part for part in beat)  # its schedule file stays with the app's data


def test_manage_talks_to_the_ports_run_was_started_with(monkeypatch, tmp_path):
    monkeypatch.setattr(dev, "RUN_FILE", tmp_path / "run.json")
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    monkeypatch.delenv("S3_PORT", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    dev.remember_ports(web_port="8100", s3_port="9100")

    env = dev.manage_env()

    assert env["AWS_S3_ENDPOINT_URL"] == "http://127.0.0.1:9100"
    assert "http://127.0.0.1:8100" in env["UPLOADS_CORS_ORIGINS"]


def test_manage_without_a_run_file_uses_the_default_ports(monkeypatch, tmp_path):
    monkeypatch.setattr(dev, "RUN_FILE", tmp_path / "absent.json")
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    monkeypatch.delenv("S3_PORT", raising=False)

    assert dev.manage_env()["AWS_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"


@pytest.mark.django_db
def test_the_development_user_opens_the_admin(settings, client):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("create_dev_user", stdout=open(os.devnull, "w"))  # noqa: SIM115

    dev_user = get_user_model().objects.get(username="dev")
    assert dev_user.check_password("dev")
    client.force_login(dev_user)
    assert client.get("/admin/").status_code == 200
