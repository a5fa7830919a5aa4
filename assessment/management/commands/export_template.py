from django.core.management.base import BaseCommand, CommandError

from assessment import excel_export
from assessment.models import Campaign
from municipalities.models import Region


class Command(BaseCommand):
    help = "Export a region's primary-data forms to an Excel workbook (one sheet per municipality)."

    def add_arguments(self, parser):
        parser.add_argument("campaign")
        parser.add_argument("--region", required=True)
        parser.add_argument("-o", "--output", required=True)

    def handle(self, *args, campaign, region, output, **options):
        campaign = Campaign.objects.filter(slug=campaign).first()
        if campaign is None:
            raise CommandError("Кампания не найдена.")
        region = Region.objects.filter(code=region).first()
        if region is None:
            raise CommandError("Регион не найден.")
        municipalities = list(region.municipalities.filter(participations__campaign=campaign).in_display_order())
        data = excel_export.export_workbook(campaign=campaign, municipalities=municipalities)
        with open(output, "wb") as f:
            f.write(data)
        self.stdout.write(f"{output}: {len(municipalities)} листов.")
