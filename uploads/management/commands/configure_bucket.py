import json

from django.core.management.base import BaseCommand, CommandError

from uploads import bucket
from uploads.errors import UploadError
from uploads.management.commands._command_errors import one_line_errors


class Command(BaseCommand):
    help = "Apply the CORS, public access and lifecycle rules the uploads need to the bucket."

    def add_arguments(self, parser):
        parser.add_argument("--create", action="store_true", help="Create the bucket if it does not exist.")
        parser.add_argument(
            "--print", action="store_true", dest="print_only", help="Print the configuration; apply nothing."
        )

    @one_line_errors
    def handle(self, *args, create: bool, print_only: bool, **options):
        if print_only:
            self.stdout.write(json.dumps(bucket.bucket_settings(), indent=2))
            return
        try:
            results = bucket.bucket_configure(create=create)
        except UploadError as e:
            raise CommandError(str(e)) from e
        for part in results:
            self.stdout.write(f"{part.outcome:<11} {part.name}: {part.detail}")
        failed = [part.name for part in results if part.outcome == "failed"]
        if failed:
            raise CommandError(f"Could not configure the bucket's {', '.join(failed)}.")
