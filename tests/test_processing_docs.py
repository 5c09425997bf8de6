"""What the README and .env.example say about processing names real settings and code."""

import re
from pathlib import Path

from django.conf import settings

from uploads import events
from uploads.processing.pipeline import STEPS, TRUST_STEPS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PROCESSING_SETTINGS = re.compile(
    r"\b((?:UPLOADS_(?:PROCESSING|THUMBNAIL|WEBHOOK|FFMPEG|MAX_IMAGE|CLEANUP)|CELERY)_[A-Z_]+)\b"
)


def test_every_processing_setting_the_readme_names_exists_and_is_in_env_example():
    named = set(PROCESSING_SETTINGS.findall(README))
    example = (ROOT / ".env.example").read_text()

    assert named
    read = (ROOT / "project" / "settings_processing.py").read_text()
    for name in named:
        assert hasattr(settings, name) or f'env.int("{name}"' in read, (
            name
        )  # a setting, or read from the environment
        assert f"{name}=" in example, name


def test_every_event_signal_the_readme_names_exists():
    for name in ("upload_completed", "upload_processed", "upload_failed", "upload_deleted"):
        assert f"`{name}`" in README
        assert getattr(events, name) in events.WEBHOOK_EVENTS


def test_trust_steps_run_before_every_other_step():
    assert STEPS[: len(TRUST_STEPS)] == TRUST_STEPS


def test_deploy_checks_warn_about_the_embedded_broker(settings):
    from uploads.processing.checks import check_broker

    settings.CELERY_BROKER_URL = "embedded+sqlite:///tmp/broker.sqlite3"
    assert [m.id for m in check_broker(None)] == ["uploads.W040"]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/1"
    assert check_broker(None) == []
