from django.core.management.base import BaseCommand, CommandError

from municipalities.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into a new folder under --dir (default: backups/)."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default="backups")

    def handle(self, *args, **options):
        try:
            folder = backup(options["dir"])
        except BackupError as exc:
            raise CommandError(f"Резервная копия не сделана: {exc}") from None
        self.stdout.write(f"Резервная копия: {folder}")
