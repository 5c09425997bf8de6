"""The fault tier, part three: the database unreachable or failing (project/outages.py).

Faults, by name (each a test below):
- the database unreachable: the API answers `503 database_unavailable` with Retry-After, the page
  a readable 503, /healthz 503; each request logs ONE line, never a traceback.
- a real outage: PostgreSQL behind the proxy refuses, then resets, mid-run under gunicorn; every
  request answers 503 with Retry-After and one log line, and the next requests after it recover.
- a bug, not an outage (an unmigrated database): still a 500, logged with its traceback.
- a command with the database unreachable, reset or hung: one line, exit 1, within the connect timeout.
"""

import pytest
import requests
from django.db import connection
from django.test import Client

from tests.faults import FaultProxy, database_url, gunicorn, timed, wait_until, within
from tests.helpers import manage

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:9/nowhere"  # nothing listens on the discard port
OUTAGE_LINE = "Database unavailable:"


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory):
    """The app under gunicorn whose database refuses connections; yields its URL and its stderr."""
    log = tmp_path_factory.mktemp("gunicorn") / "stderr.log"
    env = {"DATABASE_URL": UNREACHABLE_DATABASE, "AWS_STORAGE_BUCKET_NAME": "unused"}
    with gunicorn(env, log) as site:
        yield site, log


@pytest.fixture(scope="module")
def server_without_tables(tmp_path_factory):
    """The app under gunicorn on an empty SQLite file (never migrated): every query is a bug."""
    folder = tmp_path_factory.mktemp("gunicorn")
    (folder / "empty.sqlite3").touch()
    env = {"DATABASE_URL": f"sqlite:///{folder / 'empty.sqlite3'}", "AWS_STORAGE_BUCKET_NAME": "unused"}
    with gunicorn(env, folder / "stderr.log") as site:
        yield site, folder / "stderr.log"


def outage_lines(log) -> list[str]:
    return [line for line in log.read_text().splitlines() if OUTAGE_LINE in line]


def test_an_unreachable_database_is_a_json_503_with_retry_after_on_the_api(server_without_database):
    site, log = server_without_database

    response = requests.get(f"{site}/api/uploads", headers={"Authorization": "Bearer s3u_x"}, timeout=10)

    assert (response.status_code, response.json()["code"]) == (503, "database_unavailable")
    assert int(response.headers["Retry-After"]) > 0
    wait_until(lambda: any("GET /api/uploads:" in line for line in outage_lines(log)))
    assert "OperationalError" not in log.read_text()  # one line, no traceback


def test_an_unreachable_database_is_a_readable_503_page_with_retry_after(server_without_database):
    site, log = server_without_database

    response = requests.get(f"{site}/", cookies={"sessionid": "a-session-to-look-up"}, timeout=10)

    assert response.status_code == 503
    assert "Unavailable for a moment" in response.text
    assert int(response.headers["Retry-After"]) > 0
    wait_until(lambda: any("GET /:" in line for line in outage_lines(log)))
    assert "OperationalError" not in log.read_text()  # one line, no traceback


def test_healthz_answers_503_when_the_database_is_down(server_without_database):
    site, _ = server_without_database

    response = requests.get(f"{site}/healthz", timeout=10)

    assert (response.status_code, response.json()["checks"]) == (503, {"database": "unavailable"})


def test_a_page_500_is_logged_to_stderr_with_its_traceback(server_without_tables):
    site, log = server_without_tables

    response = requests.get(f"{site}/", cookies={"sessionid": "a-session-to-look-up"}, timeout=10)

    assert response.status_code == 500
    text = wait_until(lambda: "Internal Server Error: /" in log.read_text() and log.read_text())
    assert "Traceback (most recent call last)" in text
    assert "no such table" in text


def test_an_api_500_answers_json_and_is_logged_with_its_traceback(server_without_tables):
    site, log = server_without_tables

    response = requests.get(f"{site}/api/uploads", headers={"Authorization": "Bearer s3u_x"}, timeout=10)

    assert (response.status_code, response.json()["code"]) == (500, "internal_error")
    text = wait_until(lambda: "Unhandled error in GET /api/uploads" in log.read_text() and log.read_text())
    assert "Traceback (most recent call last)" in text


# --- The database behind the proxy (PostgreSQL) --------------------------------------------------


@pytest.fixture
def database(db):
    """The proxy in front of the PostgreSQL server the tests use, passing until told otherwise."""
    if connection.vendor != "postgresql":
        pytest.skip("the database proxy stands in front of PostgreSQL (DATABASE_URL=postgres://…)")
    proxy = FaultProxy(
        (connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432))
    )
    yield proxy
    proxy.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["refuse", "reset"])
def test_a_postgresql_outage_under_gunicorn_is_503_with_one_line_each_and_then_recovers(
    database, user, token, tmp_path, fault
):
    session = Client()
    session.force_login(user)
    through_proxy = database_url({**connection.settings_dict, "HOST": "127.0.0.1", "PORT": database.port})
    env = {
        "DATABASE_URL": through_proxy,
        "DATABASE_CONNECT_TIMEOUT": "1",
        "AWS_STORAGE_BUCKET_NAME": "unused",
    }
    log = tmp_path / "stderr.log"
    api = {"headers": {"Authorization": f"Bearer {token}"}, "timeout": 30}
    page = {"cookies": {"sessionid": session.cookies["sessionid"].value}, "timeout": 30}

    with gunicorn(env, log) as site:
        assert requests.get(f"{site}/api/uploads", **api).status_code == 200
        database.mode = fault
        answers = [requests.get(f"{site}/api/uploads", **api) for _ in range(4)]
        answers += [requests.get(f"{site}/", **page) for _ in range(2)]
        database.mode = "pass"
        recovered = wait_until(
            lambda: requests.get(f"{site}/api/uploads", **api).status_code == 200, timeout=15
        )

    assert [answer.status_code for answer in answers] == [503] * 6
    assert all(answer.headers["Retry-After"] for answer in answers)
    assert {answer.json()["code"] for answer in answers[:4]} == {"database_unavailable"}
    assert recovered
    assert len(outage_lines(log)) == 6
    assert "OperationalError" not in log.read_text()  # one line each, no traceback


# --- Commands ----------------------------------------------------------------------------------


def manage_on(database_url: str, *args: str):
    """A command with its database at `database_url` and a one-second connect timeout."""
    env = {
        "DATABASE_URL": database_url,
        "DATABASE_CONNECT_TIMEOUT": "1",
        "AWS_STORAGE_BUCKET_NAME": "unused",
        "SECRET_KEY": "fault-tests-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    }
    return manage(*args, env=env)


def test_a_command_with_the_database_unreachable_prints_one_line(db):
    result = manage_on(UNREACHABLE_DATABASE, "cleanup_uploads")

    assert result.returncode == 1
    assert result.stderr.strip().startswith("CommandError: The database is unavailable")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fault", ["reset", "hang"])
def test_cleanup_with_a_failing_database_prints_one_line_within_the_connect_timeout(database, fault):
    # Starting Python and Django, and a connection refused at once: what the command costs anyway.
    _, baseline = timed(lambda: manage_on(UNREACHABLE_DATABASE, "cleanup_uploads"))
    database.mode = fault

    result, elapsed = timed(
        lambda: manage_on(f"postgres://postgres@127.0.0.1:{database.port}/x", "cleanup_uploads")
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "The database is unavailable" in result.stderr
    assert within(elapsed, 1, baseline=baseline), (elapsed, baseline)  # DATABASE_CONNECT_TIMEOUT=1
