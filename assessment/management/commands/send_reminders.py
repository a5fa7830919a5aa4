from django.core.management.base import BaseCommand
from django.utils import timezone

from assessment.collection import reminders_send
from assessment.experts import expert_reminders_send
from assessment.measures import overdue_reminders_send
from assessment.models import Campaign, Stage
from surveys import services as surveys


class Command(BaseCommand):
    help = (
        "E-mail the organizers of municipalities that have not finished their forms, the schools that have "
        "not answered an open survey, the experts whose reviews are due, and the organizers whose plans of measures "
        "have overdue measures (for a daily cron)."
    )

    def handle(self, *args, **options):
        today = timezone.localdate()
        total = schools = 0
        for campaign in Campaign.objects.prefetch_related("stages"):
            period = campaign.stage_dates.get(Stage.DATA_COLLECTION)
            if period and period.starts_on <= today <= period.ends_on:
                sent = reminders_send(campaign=campaign, today=today)
                total += sent
                self.stdout.write(f"{campaign.slug}: напоминаний муниципалитетам {sent}")
            if surveys.survey_state(campaign, today) == "open":
                sent = surveys.reminders_send(
                    campaign=campaign, municipalities=campaign.municipalities.all(), today=today
                )
                schools += sent
                self.stdout.write(f"{campaign.slug}: напоминаний школам {sent}")
        experts = expert_reminders_send(today=today)
        plans = overdue_reminders_send(today=today)
        self.stdout.write(f"Планы мероприятий с просроченными мероприятиями: {plans}")
        self.stdout.write(f"Всего напоминаний: муниципалитетам {total}, школам {schools}, экспертам {experts}")
