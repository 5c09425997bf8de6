from django.core.management.base import BaseCommand, CommandError

from uploads.bucket import storage_checks
from uploads.management.commands._outages import one_line_errors


class Command(BaseCommand):
    help = "Check the S3 settings: credentials, bucket, region, CORS, clock skew and a presigned POST round trip."

    @one_line_errors
    def handle(self, *args, **options):
        failed = []
        for check in storage_checks():
            self.stdout.write(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
            if not check.ok:
                failed.append(check.name)
        if failed:
            raise CommandError(f"S3 check failed: {', '.join(failed)}.")
