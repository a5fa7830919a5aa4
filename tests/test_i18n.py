"""Russian first, English complete: a string without a translation fails here, not in front of a user."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation


def _parse(block):
    """(msgid, msgstr list, fuzzy, plural) of one .po entry, or None for a block without a msgid."""
    lines = [line for line in block.strip().splitlines() if line]
    if not any(line.startswith("msgid") for line in lines):
        return None
    fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
    current, msgid, msgstrs, plural = None, "", [], False
    for line in lines:
        if line.startswith("#"):
            continue
        if line.startswith("msgid "):
            current, msgid = "id", line[6:].strip('"')
        elif line.startswith("msgid_plural"):
            current, plural = "plural", True
        elif line.startswith("msgstr"):
            current = "str"
            msgstrs.append(line.split(" ", 1)[1].strip('"'))
        elif line.startswith('"'):
            if current == "id":
                msgid += line.strip('"')
            elif current == "str":
                msgstrs[-1] += line.strip('"')
    return (msgid, msgstrs, fuzzy, plural) if msgid else None


def _blocks(po):
    return [e for e in map(_parse, Path(po).read_text(encoding="utf-8").split("\n\n")) if e]


def entries(po):
    """(msgid, msgstr list, fuzzy) for each entry of a .po file, header excluded."""
    return [(msgid, msgstrs, fuzzy) for msgid, msgstrs, fuzzy, _plural in _blocks(po)]


def catalogue(language, domain="django"):
    return settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


def nplurals(po):
    return int(re.search(r"nplurals=(\d+)", Path(po).read_text(encoding="utf-8")).group(1))


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


# The product's counted nouns as the templates write them, and what Russian must read for 1, 2, 5, 11, 21,
# 22, 25 (one, few, many; 11 is "many", 21 is "one" again).
COUNTS = (1, 2, 5, 11, 21, 22, 25)
PLURALS = [
    (
        "{{ n }} municipality{% plural %}{{ n }} municipalities",
        "муниципалитет муниципалитета муниципалитетов муниципалитетов муниципалитет муниципалитета муниципалитетов",
    ),
    (
        "{{ n }} municipality takes part{% plural %}{{ n }} municipalities take part",
        "муниципалитет муниципалитета муниципалитетов муниципалитетов муниципалитет муниципалитета муниципалитетов",
    ),
    (
        "{{ n }} general-education school{% plural %}{{ n }} general-education schools",
        "организация организации организаций организаций организация организации организаций",
    ),
    ("{{ n }} point{% plural %}{{ n }} points", "балл балла баллов баллов балл балла баллов"),
    ("{{ n }} pt{% plural %}{{ n }} pts", "балл балла баллов баллов балл балла баллов"),
    ("of {{ max }} point{% plural %}of {{ max }} points", "балла баллов баллов баллов балла баллов баллов"),
    ("{{ n }} day left{% plural %}{{ n }} days left", "день дня дней дней день дня дней"),
    ("{{ n }} response{% plural %}{{ n }} responses", "ответ ответа ответов ответов ответ ответа ответов"),
    ("{{ n }} question{% plural %}{{ n }} questions", "вопрос вопроса вопросов вопросов вопрос вопроса вопросов"),
    ("{{ n }} link{% plural %}{{ n }} links", "ссылка ссылки ссылок ссылок ссылка ссылки ссылок"),
    ("{{ n }} file{% plural %}{{ n }} files", "файл файла файлов файлов файл файла файлов"),
    (
        "{{ n }} criterion scored of {{ total }}{% plural %}{{ n }} criteria scored of {{ total }}",
        "критерий критерия критериев критериев критерий критерия критериев",
    ),
    (
        "Up to {{ n }} character.{% plural %}Up to {{ n }} characters.",
        "символа символов символов символов символа символов символов",
    ),
]


@pytest.mark.parametrize(("source", "nouns"), PLURALS, ids=[p[0].split("{% plural")[0] for p in PLURALS])
def test_russian_counts_agree_with_their_nouns(source, nouns):
    from django.template import Context, Template

    var = re.search(r"\{\{ (\w+) \}\}", source).group(1)
    # Other variables of a phrase (the 81 of "scored of 81", now the methodology's count) are given a value too.
    template = Template(
        f"{{% load i18n %}}{{% blocktranslate count {var}=value with total=81 %}}{source}{{% endblocktranslate %}}"
    )
    with translation.override("ru"):
        rendered = {n: template.render(Context({"value": n})) for n in COUNTS}

    for n, noun in zip(COUNTS, nouns.split(), strict=True):
        assert re.search(rf"(^|\D){n}\D.*\b{noun}\b|\b{noun}\b.*\D{n}(\D|$)", rendered[n]), (n, rendered[n])


def test_the_language_switcher_changes_the_ui_to_english(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")}, follow=True)

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_plural_has_all_the_forms_of_its_language(language, domain):
    po = catalogue(language, domain)
    forms = nplurals(po)

    short = [
        msgid for msgid, msgstrs, _f, plural in _blocks(po) if plural and (len(msgstrs) != forms or not all(msgstrs))
    ]

    assert forms == {"ru": 4, "en": 2}[language]
    assert not short, f"{language}: plurals without all {forms} forms: {short[:5]}"


def _source_msgids(domain, tmp_path):
    """The msgids makemessages finds in the code now, extracted into a temporary directory: the real
    catalogues are not touched. The top-level folders are linked in, so that no `locale` folder is seen."""
    from django.core.management import call_command
    from django.test import override_settings

    from assessment.management.commands.update_locales import IGNORE

    skip = {"locale", ".git", ".venv", "tests", "staticfiles", "var", "media", "node_modules"}
    for item in settings.BASE_DIR.iterdir():
        if item.name not in skip and not item.name.startswith("."):
            (tmp_path / item.name).symlink_to(item)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
            call_command(
                "makemessages",
                locale=["ru"],
                domain=domain,
                ignore_patterns=list(IGNORE),
                symlinks=True,
                keep_pot=True,
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    return {msgid for msgid, _s, _f in entries(tmp_path / "locale" / f"{domain}.pot")}


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_catalogues_hold_every_string_of_the_code(domain, tmp_path):
    """A string added to the code and not yet extracted (`make messages-update`) would show in English."""
    source = _source_msgids(domain, tmp_path)

    for language in ("ru", "en"):
        known = {msgid for msgid, _s, _f in entries(catalogue(language, domain))}
        missing, stale = sorted(source - known), sorted(known - source)
        assert not missing, f"{language}/{domain}: {len(missing)} strings not in the catalogue, e.g. {missing[:8]}"
        assert not stale, f"{language}/{domain}: {len(stale)} strings no longer in the code, e.g. {stale[:8]}"


PLACEHOLDER = re.compile(r"%\(\w+\)[sdi]|%[sdi]")


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_translations_keep_the_placeholders_of_the_source(language, domain):
    """A placeholder lost in translation hides a number or a name; an extra one breaks the page."""
    wrong = [
        (msgid, msgstr)
        for msgid, msgstrs, _f, _plural in _blocks(catalogue(language, domain))
        for msgstr in msgstrs
        if msgstr and sorted(set(PLACEHOLDER.findall(msgstr))) != sorted(set(PLACEHOLDER.findall(msgid)))
    ]

    assert not wrong, f"{language}/{domain}: {len(wrong)} translations with other placeholders, e.g. {wrong[:3]}"
