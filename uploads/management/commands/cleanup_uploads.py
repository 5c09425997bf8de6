import re
import sys
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from uploads.cleanup import CleanupRun
from uploads.errors import UploadError
from uploads.management.commands._command_errors import one_line_errors

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """Parse 90s, 30m, 24h or 7d."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(text)
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


duration.__name__ = "duration"  # argparse names the type in its error: "invalid duration value"


class Command(BaseCommand):
    help = (
        "Finish interrupted deletes, settle pending uploads that never completed, abort stale multipart "
        "uploads; with --verify, check complete uploads against the bucket; with --orphans, delete "
        "objects that have no record. Safe to run twice and from two hosts at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=duration,
            default=timedelta(hours=24),
            metavar="AGE",
            help="Pending uploads and multipart uploads older than this are settled (default 24h; e.g. 30m, 7d).",
        )
        parser.add_argument("--orphans", action="store_true", help="Also delete objects that have no record.")
        parser.add_argument(
            "--grace",
            type=duration,
            default=timedelta(hours=24),
            metavar="AGE",
            help="Only objects older than this count as orphans (default 24h), so uploads in flight are never touched.",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Also check complete uploads against the bucket: a file that is gone is marked failed, a replaced one reported.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Print what would happen; change nothing.")

    @one_line_errors
    def handle(
        self,
        *args,
        older_than: timedelta,
        orphans: bool,
        grace: timedelta,
        verify: bool,
        dry_run: bool,
        **options,
    ):
        progress = self._progress if sys.stderr.isatty() else None
        try:
            run = CleanupRun(
                older_than=older_than,
                orphans=orphans,
                grace=grace,
                verify=verify,
                dry_run=dry_run,
                progress=progress,
            )
        except UploadError as e:
            raise CommandError(str(e)) from e
        report = run.run()
        if progress:
            self.stderr.write("")
        if report.errors:
            raise CommandError(f"{report.summary()} First error: {report.errors[0]}")
        self.stdout.write(report.summary())

    def _progress(self, what: str, count: int) -> None:
        if count % 100 == 0:
            self.stderr.write(f"\r{count} {what}…", ending="")
