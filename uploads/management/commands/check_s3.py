from django.core.management.base import BaseCommand, CommandError

from uploads.bucket import storage_checks
from uploads.management.commands._command_errors import one_line_errors


class Command(BaseCommand):
    help = (
        "Check the S3 settings: credentials, bucket, region, CORS, clock skew, and presigned POSTs "
        "as the page's uploader and its no-JavaScript form send them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            metavar="URL",
            help="Also check that CORS lets this origin upload: the one your site is served from (repeatable).",
        )

    @one_line_errors
    def handle(self, *args, origin: list[str], **options):
        failed = []
        for check in storage_checks(origins=origin):
            self.stdout.write(f"{check.label} {check.name}: {check.detail}")
            if not check.ok:
                failed.append(check.name)
        if failed:
            raise CommandError(f"S3 check failed: {', '.join(failed)}.")
