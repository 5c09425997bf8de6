"""A database outage is a 503 with Retry-After and one log line; a database bug stays a 500
(project/outages.py). Real outages under gunicorn are in tests/test_faults_database.py."""

import logging

import pytest
from django.db import InterfaceError, OperationalError, connection

from project import outages
from uploads import listing


@pytest.fixture
def locked_database(monkeypatch):
    """Every list query meets a database that is locked (SQLite) or gone (PostgreSQL)."""
    error = OperationalError(
        "database is locked" if connection.vendor == "sqlite" else "server closed the connection"
    )

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(listing, "upload_list", fail)


def test_a_lost_connection_is_an_outage():
    assert outages.is_database_outage(InterfaceError("connection already closed"))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's messages")
def test_a_missing_table_is_a_bug_not_an_outage():
    assert not outages.is_database_outage(OperationalError("no such table: uploads_upload"))


@pytest.mark.django_db
def test_the_api_answers_database_unavailable_with_retry_after_and_one_log_line(api, locked_database, caplog):
    with caplog.at_level(logging.WARNING):
        response = api.get("/api/uploads")

    assert (response.status_code, response.json()["code"]) == (503, "database_unavailable")
    assert int(response["Retry-After"]) > 0
    assert [record.getMessage().split(":")[0] for record in caplog.records] == ["Database unavailable"]
    assert all(record.exc_info is None for record in caplog.records)


@pytest.mark.django_db
def test_the_page_answers_a_readable_503_with_retry_after(client, user, locked_database, caplog):
    client.force_login(user)

    with caplog.at_level(logging.WARNING):
        response = client.get("/")

    assert response.status_code == 503
    assert "Unavailable for a moment" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert len(caplog.records) == 1
