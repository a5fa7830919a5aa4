from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from assessment.collection import removed_files_purge


class Command(BaseCommand):
    help = (
        "Delete the stored files of attachments removed from the forms more than --days days ago (default "
        "REMOVED_FILES_RETENTION_DAYS); the rows and their history stay, marked purged (for a daily cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="retention in days (default: the setting)")

    def handle(self, *args, days, **options):
        days = settings.REMOVED_FILES_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days: число дней не может быть отрицательным (must not be negative)")
        purged = removed_files_purge(days=days)
        for a in purged:
            submission = a.answer.submission
            self.stdout.write(
                f"{submission.campaign.slug} / {submission.municipality.name} / {a.answer.criterion.code}: "
                f"«{a.original_name}» ({filesizeformat(a.size)}), снят с формы "
                f"{timezone.localtime(a.removed_at):%d.%m.%Y}"
            )
        self.stdout.write(
            f"Удалено файлов: {len(purged)} ({filesizeformat(sum(a.size for a in purged))}); "
            f"сняты с форм более {days} дн. назад, записи о них сохранены"
        )
