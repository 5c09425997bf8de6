"""Every command's `handle`: one line, not a traceback, when the database or the store is down,
and its own statement timeout (a walk over ten million rows is not a request)."""

from __future__ import annotations

import contextlib
import functools
import re

from django.conf import settings
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, connection

from uploads.errors import UploadError


def one_line_errors(handle):
    """Turn an unreachable database or store (and our other typed errors) into a CommandError.

    Django prints a CommandError as one line and exits 1; `--traceback` still shows the cause.
    """

    @functools.wraps(handle)
    def wrapper(self, *args, **options):
        try:
            with command_statement_timeout():
                return handle(self, *args, **options)
        except (OperationalError, InterfaceError) as e:
            # psycopg's messages run over several lines ("Is the server running…"): keep the first.
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CommandError(f"The database is unavailable: {reason}") from e
        except UploadError as e:  # StorageUnavailable and the rest: already one sentence
            raise CommandError(str(e)) from e

    return wrapper


@contextlib.contextmanager
def command_statement_timeout():
    """Run with UPLOADS_COMMAND_STATEMENT_TIMEOUT_MS (PostgreSQL) instead of the requests' timeout.

    Before the first query the connection's options change (no connection is opened for a
    command that needs none, like check_s3); on an open one, a SET undone at the end.
    """
    if connection.vendor != "postgresql":
        yield
        return
    timeout = int(settings.UPLOADS_COMMAND_STATEMENT_TIMEOUT_MS)
    if connection.connection is None:
        options = connection.settings_dict.setdefault("OPTIONS", {})
        rest = re.sub(r"-c statement_timeout=\S+", "", options.get("options", "")).strip()
        options["options"] = f"{rest} -c statement_timeout={timeout}".strip()
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [str(timeout)])
    try:
        yield
    finally:
        with contextlib.suppress(OperationalError, InterfaceError), connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
