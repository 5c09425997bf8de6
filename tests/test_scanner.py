"""The scanner's settings and their system checks (uploads/processing/scanner.py, checks.py)."""

from pathlib import Path

import pytest

from uploads.processing import checks, scanner


def ids(messages):
    return [m.id for m in messages]


def test_an_unknown_scanner_is_refused(settings):
    settings.UPLOADS_SCANNER = "norton"
    assert "uploads.E041" in ids(checks.check_scanner(None))


def test_a_socket_and_an_address_at_once_are_refused(settings):
    settings.UPLOADS_CLAMD_SOCKET, settings.UPLOADS_CLAMD_ADDRESS = "/run/clamd.ctl", "clamav:3310"
    assert "uploads.E042" in ids(checks.check_scanner(None))


def test_an_address_without_a_port_is_refused(settings):
    settings.UPLOADS_CLAMD_ADDRESS = "clamav"
    assert "uploads.E043" in ids(checks.check_scanner(None))


def test_a_scan_limit_below_the_largest_upload_is_named(settings):
    settings.UPLOADS_SCANNER = "clamav"
    settings.UPLOADS_SCAN_MAX_SIZE, settings.UPLOADS_MAX_FILE_SIZE = 25 * 1024**2, 100 * 1024**2
    assert "uploads.W046" in ids(checks.check_scanner(None))


def test_the_defaults_pass(settings):
    assert checks.check_scanner(None) == []


def test_the_address_picks_a_network_socket(settings):
    settings.UPLOADS_CLAMD_SOCKET, settings.UPLOADS_CLAMD_ADDRESS = "", "clamav.internal:3311"
    daemon = scanner.daemon()
    assert (daemon.host, daemon.port) == ("clamav.internal", 3311)


def test_an_unreachable_daemon_is_scanner_unavailable(settings, tmp_path):
    settings.UPLOADS_CLAMD_SOCKET = str(tmp_path / "nobody.sock")
    sample = Path(tmp_path / "a.txt")
    sample.write_bytes(b"data")
    with (
        pytest.raises(scanner.ScannerUnavailable, match="ClamAV could not scan"),
        sample.open("rb") as stream,
    ):
        scanner.scan_stream(stream)


def test_the_clamav_tier_skips_without_clamd_and_says_why(monkeypatch):
    from tests import clamav

    monkeypatch.setattr(clamav, "CLAMD", "/nonexistent/clamd")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="clamav-daemon"):
        clamav.require_clamd()


def test_the_clamav_tier_fails_without_clamd_in_ci(monkeypatch):
    from tests import clamav

    monkeypatch.setattr(clamav, "CLAMD", "/nonexistent/clamd")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="clamav-daemon"):
        clamav.require_clamd()
