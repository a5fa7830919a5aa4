from django.core.management.base import BaseCommand

from municipalities.notifications import digests_send


class Command(BaseCommand):
    help = "E-mail the daily digest to everyone who chose it instead of a message per event (for a daily cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"Дайджестов отправлено: {digests_send()}")
