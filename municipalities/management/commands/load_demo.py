from django.core.management.base import BaseCommand

from municipalities.demo import Loader


class Command(BaseCommand):
    help = "Load the demo regions, municipalities, schools, accounts and campaigns (idempotent)."

    def handle(self, *args, **options):
        created = Loader().run()
        if created:
            summary = ", ".join(f"{what}: {n}" for what, n in created.items())
            self.stdout.write(self.style.SUCCESS(f"Демо-данные загружены ({summary})."))
        else:
            self.stdout.write("Демо-данные уже загружены, ничего не изменено.")
