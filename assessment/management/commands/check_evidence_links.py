from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from assessment import linkcheck
from assessment.models import EvidenceLink, Submission


def _check(link_id):
    close_old_connections()
    link = EvidenceLink.objects.get(pk=link_id)
    linkcheck.record(link, linkcheck.fetch(link.url), "schedule")
    close_old_connections()
    return link.state


class Command(BaseCommand):
    help = "Check the evidence links of every submission not yet finalized (for a daily cron)."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=8)
        parser.add_argument("--limit", type=int, default=0, help="check at most this many, oldest-checked first")

    def handle(self, *args, workers, limit, **options):
        links = (
            EvidenceLink.objects.exclude(answer__submission__status=Submission.Status.FINALIZED)
            .order_by("checked_at", "pk")
            .values_list("pk", flat=True)
        )
        ids = list(links[:limit] if limit else links)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            states = list(pool.map(_check, ids))
        summary = {state: states.count(state) for state in set(states)}
        self.stdout.write(f"Проверено ссылок: {len(ids)}; {summary}")
