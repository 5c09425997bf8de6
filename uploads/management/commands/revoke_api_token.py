from django.core.management.base import BaseCommand, CommandError

from uploads.management.commands._command_errors import one_line_errors
from uploads.models import ApiToken


class Command(BaseCommand):
    help = "Revoke an API token, given the token itself or the hint shown when it was created."

    def add_arguments(self, parser):
        parser.add_argument("token", help="The token (s3u_…) or its hint (its first 10 characters).")

    @one_line_errors
    def handle(self, *args, token: str, **options):
        found = ApiToken.objects.find(token)
        if found is None:
            matches = list(ApiToken.objects.active().filter(hint=token[: ApiToken.HINT_LENGTH]))
            if len(token) < ApiToken.HINT_LENGTH or len(matches) != 1:
                raise CommandError(
                    "No single active token matches; give the full token or its 10-character hint."
                )
            found = matches[0]
        found.revoke()
        self.stdout.write(f"Revoked token {found.hint}… ({found.name!r}) of {found.user}.")
