from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from uploads.management.commands._command_errors import one_line_errors


class Command(BaseCommand):
    help = "Create (or reset) a development user to sign in with. Refused unless DEBUG is on."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="dev")
        parser.add_argument("--password", default="dev")

    @one_line_errors
    def handle(self, *args, username: str, password: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "create_dev_user only runs with DEBUG on: it makes a user with a known password."
            )
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        # Staff, so that the one user the README names also opens the admin (/admin/).
        user.is_staff = user.is_superuser = True
        user.save()
        verb = "Created" if created else "Reset"
        self.stdout.write(
            f"{verb} development user {username!r} with password {password!r} (staff: it opens /admin/ too)."
        )
