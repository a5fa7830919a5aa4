from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessment.models import Campaign
from municipalities.models import Region
from reports import documents


class Command(BaseCommand):
    help = "Make the regional report of a campaign (PDF, or XLSX with --format xlsx), as the task worker does."

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign code, e.g. 2020-approbation")
        parser.add_argument("--region", required=True, help="region code, e.g. 43")
        parser.add_argument("--format", choices=["pdf", "xlsx"], default="pdf")
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args, **options):
        campaign = Campaign.objects.select_related("methodology").filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"Кампания «{options['campaign']}» не найдена.")
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"Регион «{options['region']}» не найден.")
        with translation.override("ru"):
            report = documents.region_report(campaign, region)
            if not report.results:
                raise CommandError("У региона нет итоговых результатов в этой кампании.")
            if options["format"] == "xlsx":
                content = documents.xlsx_bytes(documents.region_sheets(report))
            else:
                content = documents.pdf_bytes(documents.region_html(report))
        Path(options["output"]).write_bytes(content)
        self.stdout.write(f"Отчёт записан: {options['output']} ({len(content)} байт).")
