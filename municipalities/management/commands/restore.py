from django.core.management.base import BaseCommand, CommandError

from municipalities.backup import BackupError, restore, row_counts


class Command(BaseCommand):
    help = (
        "Restore a folder made by `backup` into the configured database (its current content is replaced) and "
        "the uploaded files; then compare every table's rows with the backup's manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **options):
        if not options["yes"]:
            answer = input("Текущие данные будут заменены данными из копии. Продолжить? [да/нет] ")
            if answer.strip().lower() not in {"да", "yes", "y", "д"}:
                raise CommandError("Отменено.")
        try:
            manifest = restore(options["folder"])
        except BackupError as exc:
            raise CommandError(f"Восстановление не выполнено: {exc}") from None
        now = row_counts()
        differ = {t: (n, now.get(t)) for t, n in manifest["rows"].items() if now.get(t) != n}
        if differ:
            raise CommandError(f"Восстановлено, но число строк не совпадает: {differ}")
        self.stdout.write(f"Восстановлено из {options['folder']}: таблиц {len(manifest['rows'])}, строки совпадают.")
