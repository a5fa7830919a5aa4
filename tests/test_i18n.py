"""Russian first, English complete: a string without a translation fails here, not in front of a user."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation


def entries(po):
    """(msgid, msgstr list, fuzzy) for each entry of a .po file, header excluded."""
    text = Path(po).read_text(encoding="utf-8")
    result = []
    for block in text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if line]
        if not any(line.startswith("msgid") for line in lines):
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        current, msgid, msgstrs = None, "", []
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith("msgid "):
                current, msgid = "id", line[6:].strip('"')
            elif line.startswith("msgid_plural"):
                current = "plural"
            elif line.startswith("msgstr"):
                current = "str"
                msgstrs.append(line.split(" ", 1)[1].strip('"'))
            elif line.startswith('"'):
                if current == "id":
                    msgid += line.strip('"')
                elif current == "str":
                    msgstrs[-1] += line.strip('"')
        if msgid:
            result.append((msgid, msgstrs, fuzzy))
    return result


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_is_translated(language, domain):
    po = settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / f"{domain}.po"

    missing = [msgid for msgid, msgstrs, fuzzy in entries(po) if fuzzy or not all(msgstrs)]

    assert not missing, f"{language}: {len(missing)} untranslated, e.g. {missing[:5]}"


def test_russian_plurals_have_three_forms():
    with translation.override("ru"):
        from django.utils.translation import ngettext

        forms = [
            ngettext("%(n)s municipality takes part", "%(n)s municipalities take part", n) % {"n": n} for n in (1, 3, 5)
        ]

    assert forms == ["1 муниципалитет участвует", "3 муниципалитета участвуют", "5 муниципалитетов участвуют"]


def test_the_language_switcher_changes_the_ui_to_english(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")}, follow=True)

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html
