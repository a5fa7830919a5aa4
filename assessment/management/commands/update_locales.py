"""Refresh the .po files after strings change: `make messages-update`.

The source strings are English, so the English catalogue is the identity: it is filled here, so that only
the Russian one needs a human (test_i18n fails on any Russian string left untranslated)."""

import re

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

QUOTED = r'"(?:[^"\\]|\\.)*"\n'
# Not the product's strings: the virtualenv, the tests, collected and vendored static files.
IGNORE = [".venv/*", "tests/*", "staticfiles/*", "static/vendor/*"]
ENTRY = re.compile(rf"(msgid (?:{QUOTED})+)(msgid_plural (?:{QUOTED})+)?((?:msgstr(?:\[\d\])? (?:{QUOTED})+)+)")


def fill_identity(po_text):
    def replace(match):
        msgid, plural = match.group(1), match.group(2)
        if msgid.startswith('msgid ""\n') and msgid.count("\n") == 1:
            return match.group(0)  # the header
        singular = msgid[len("msgid ") :]
        if plural:
            many = plural[len("msgid_plural ") :]
            return f"{msgid}{plural}msgstr[0] {singular}msgstr[1] {many}"
        return f"{msgid}msgstr {singular}"

    filled = ENTRY.sub(replace, po_text)
    # Identity translations are never fuzzy; drop the flag and msgmerge's notes on the previous msgid.
    lines = [line for line in filled.splitlines() if not line.startswith("#|") and line != "#, fuzzy"]
    return "\n".join(line.replace("#, fuzzy, ", "#, ") for line in lines) + "\n"


class Command(BaseCommand):
    help = "Run makemessages for ru and en and fill the English catalogue from the source strings."

    def handle(self, *args, **options):
        call_command(
            "makemessages",
            locale=["ru", "en"],
            ignore_patterns=list(IGNORE),
            no_obsolete=True,
            verbosity=0,
        )
        call_command(
            "makemessages",
            domain="djangojs",
            locale=["ru", "en"],
            ignore_patterns=list(IGNORE),
            no_obsolete=True,
            verbosity=0,
        )
        for domain in ("django", "djangojs"):
            path = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"
            if path.exists():
                path.write_text(fill_identity(path.read_text(encoding="utf-8")), encoding="utf-8")
        self.stdout.write("Каталоги обновлены; переведите новые строки в locale/ru/LC_MESSAGES/*.po.")
