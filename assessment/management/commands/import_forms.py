from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from assessment import excel_import
from assessment.models import Campaign
from municipalities.access import access_for


class Command(BaseCommand):
    help = "Import primary-data forms from an Excel workbook, as the upload page does (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("campaign")
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="the coordinator (or operator) on whose behalf to import")

    def handle(self, *args, campaign, file, user, **options):
        campaign = Campaign.objects.filter(slug=campaign).first()
        if campaign is None:
            raise CommandError("Кампания не найдена.")
        account = get_user_model().objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError("Пользователь не найден.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Файл не найден: {file}")
        try:
            result = excel_import.import_workbook(
                path.read_bytes(), campaign=campaign, user=account, access=access_for(account)
            )
        except excel_import.ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(exc.message) from None
        self.stdout.write(f"Изменено муниципалитетов: {len(result.changed)}; без изменений: {len(result.unchanged)}.")
