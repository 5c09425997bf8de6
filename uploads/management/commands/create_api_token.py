from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from uploads.management.commands._command_errors import one_line_errors
from uploads.models import ApiToken


class Command(BaseCommand):
    help = "Create a personal API token for a user. The token is printed once and stored only hashed."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to tell the user's tokens apart.")

    @one_line_errors
    def handle(self, *args, username: str, name: str, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        token, secret = ApiToken.issue(user=user, name=name)
        self.stderr.write(f"Created token {token.hint}… ({name!r}) for {username}. It is shown only now:")
        # The secret alone on stdout, so scripts can capture it: TOKEN=$(manage.py create_api_token …)
        self.stdout.write(secret)
