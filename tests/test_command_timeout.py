"""Every command's wrapper (uploads/management/commands/_command_errors.py): its own statement timeout."""

import pytest
from django.db import connection

from uploads.management.commands._command_errors import command_statement_timeout


@pytest.fixture
def postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://…: statement timeouts are PostgreSQL's")


def _statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_a_command_runs_under_its_own_statement_timeout(postgresql, settings):
    settings.UPLOADS_COMMAND_STATEMENT_TIMEOUT_MS = 123_000
    request_timeout = _statement_timeout()

    with command_statement_timeout():
        inside = _statement_timeout()

    assert inside == "123s"
    assert _statement_timeout() == request_timeout
