from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from municipalities.api_auth import TokenError, api_token_create


class Command(BaseCommand):
    help = (
        "Issue a personal API token for a user and print it (only the token goes to standard output, so "
        "TOKEN=$(manage.py issue_token USERNAME) works). The token is not stored and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for (default: issue_token and the date)")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user «%(username)s».") % {"username": username})
        name = name.strip() or f"issue_token {timezone.localdate():%Y-%m-%d}"
        try:
            token, key = api_token_create(user=user, name=name)
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            _("The token «%(name)s» (%(prefix)s…) is issued for %(username)s; it is shown only once:")
            % {"name": token.name, "prefix": token.prefix, "username": user.username}
        )
        self.stdout.write(key)
