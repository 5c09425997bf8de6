"""One line, not a traceback, when the database or the store is down: every command's `handle`."""

from __future__ import annotations

import functools

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError

from uploads.errors import UploadError


def one_line_errors(handle):
    """Turn an unreachable database or store (and our other typed errors) into a CommandError.

    Django prints a CommandError as one line and exits 1; `--traceback` still shows the cause.
    """

    @functools.wraps(handle)
    def wrapper(self, *args, **options):
        try:
            return handle(self, *args, **options)
        except (OperationalError, InterfaceError) as e:
            # psycopg's messages run over several lines ("Is the server running…"): keep the first.
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CommandError(f"The database is unavailable: {reason}") from e
        except UploadError as e:  # StorageUnavailable and the rest: already one sentence
            raise CommandError(str(e)) from e

    return wrapper
