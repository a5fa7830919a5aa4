from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessment.dynamics import succession_of
from assessment.models import Campaign
from municipalities.models import Region
from reports.results import Filters
from reports.views import EXPORT_FORMATS, ranking_export_content


class Command(BaseCommand):
    help = "Write the ranking of a campaign (national, or of one region) as xlsx, csv or json."

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign code, e.g. 2020-approbation")
        parser.add_argument("--region", default="", help="region code, e.g. 08: the regional ranking")
        parser.add_argument("--format", choices=EXPORT_FORMATS, default="xlsx")
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args, **options):
        campaign = Campaign.objects.select_related("methodology").filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"Кампания «{options['campaign']}» не найдена.")
        if options["region"] and not Region.objects.filter(code=options["region"]).exists():
            raise CommandError(f"Регион «{options['region']}» не найден.")
        with translation.override("ru"):
            # Whoever runs the command on the server sees every campaign, the previous one's results too.
            content, _type, _name = ranking_export_content(
                campaign, Filters(region=options["region"]), options["format"], succession_of(campaign)
            )
        Path(options["output"]).write_bytes(content)
        self.stdout.write(f"Рейтинг записан: {options['output']} ({len(content)} байт).")
