"""Every page a role can open, rendered in Russian, shows no English word of the product's own strings; in
English, no Russian sentence of the catalogue.

The pages are the rows of tests/test_url_access.py (own object, GET, 200, HTML). The English words are those of
the msgids of locale/ru/LC_MESSAGES/django.po: a Latin word on a Russian page that is one of them is a string
that was not wrapped in a translation or has no Russian. Latin words the Russian catalogue itself keeps (Excel,
PDF, API…) are allowed, and so is text in another language on purpose (an element with its own lang attribute,
such as the language switcher) and code (<code>, <pre>)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import ROLES
from tests.test_i18n import entries
from tests.test_url_access import ADMIN_ROW, ROWS, _report_jobs, expected

PO = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.po"

LATIN = re.compile(r"[A-Za-z]+")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
# Placeholders, markup and entities inside msgids are not words a user reads.
NOT_PROSE = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{[^}]*\}\}|\{\w*\}|<[^>]+>|&\w+;|\\n")
# Latin words that are right on a Russian page although the catalogue never writes them: terms of the
# methodology's own Russian text (IT-куб). Case matters: "IT" is allowed, "it" is not.
ALLOWED = {"IT"}


def _catalogue():
    return [(msgid, msgstrs) for msgid, msgstrs, _fuzzy in entries(PO)]


def _words(text):
    return {w.lower() for w in LATIN.findall(NOT_PROSE.sub(" ", text))}


def english_words():
    """Words of the English source strings, less those the Russian translations keep as they are."""
    catalogue = _catalogue()
    source = set().union(*(_words(msgid) for msgid, _ in catalogue))
    kept = set().union(*(_words(s) for _, msgstrs in catalogue for s in msgstrs))
    return {w for w in source - kept if len(w) > 1}


def russian_sentences():
    """Russian translations long enough to be unmistakable, cut at their placeholders."""
    result = set()
    for msgid, msgstrs in _catalogue():
        for msgstr in msgstrs:
            if msgstr == msgid:
                continue
            for part in NOT_PROSE.split(msgstr.replace('\\"', '"')):
                part = " ".join(part.split()).strip(" .,:;—-«»()")
                if len(part) >= 24 and CYRILLIC.search(part):
                    result.add(part)
    return result


class VisibleText(HTMLParser):
    """The text a user reads: element text and the attributes that are shown or read out, without scripts,
    styles, code, and elements in a language other than the page's."""

    SKIP = {"script", "style", "code", "pre", "kbd", "samp"}
    SHOWN = {"title", "aria-label", "placeholder", "alt"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.stack, self.language = [], [], None

    def _skipping(self):
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.language = attrs.get("lang")
        other_language = tag != "html" and attrs.get("lang") not in (None, self.language)
        skip = tag in self.SKIP or other_language
        if not (skip or self._skipping()):
            self.parts += [attrs[a] for a in self.SHOWN if attrs.get(a)]
            if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._skipping():
            self.parts.append(data)


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def latin_words(text):
    """Latin words of running text; addresses, file names, e-mails and identifiers are not words."""
    words = set()
    for token in text.split():
        token = token.strip(".,:;!?()[]«»\"'—")
        if any(c in token for c in "@/_=#") or re.search(r"\w\.\w", token):
            continue
        words.update(LATIN.findall(token))
    return words


# --- the pages -------------------------------------------------------------------------------------------

STATES = ["empty", "collection", "results"]


def pages_for(role, world):
    """(name, url) of every GET page the role opens on its own object; for respondents, every page of a real
    survey link of each questionnaire."""
    rows = [*ROWS.items(), ("admin:index", ADMIN_ROW)]
    pages = []
    for name, row in rows:
        if expected(row, role, "own") != 200:
            continue
        try:
            pages.append((name, row.own(world)))
        except AttributeError:  # the row's object does not exist in this state (no campaign, no report yet)
            continue
    if role == "anonymous" and world.campaign is not None:
        from surveys.models import Invitation
        from surveys.views import Survey

        for invitation in Invitation.objects.filter(campaign=world.campaign, school=world.school):
            url = reverse("survey", args=[invitation.token])
            last = Survey(invitation, "").review_number
            pages += [(f"survey {invitation.role}", f"{url}?p={p}") for p in range(last + 1)]
    return pages


@pytest.fixture(params=STATES)
def prepared(request, world):
    """The world of tests/test_url_access.py in one of three states: before any campaign (the empty
    states), in data collection (forms being filled, surveys open), and with published results. Every row
    gets what it needs: an assigned expert, attachments, report files."""
    from django.core.cache import cache

    from assessment.models import ReviewAssignment

    cache.clear()  # cached fragments of another test's campaign with the same primary key
    world.state, world.campaign = request.param, None
    world.own_job = world.other_job = world.own_attachment = world.other_attachment = None
    world.users["operator"].is_staff = True
    world.users["operator"].save()
    if request.param == "empty":
        return world
    campaign = world.campaign = request.getfixturevalue("survey_campaign")
    if request.param == "results":
        request.getfixturevalue("finalized")
    world.own_job, world.other_job = _report_jobs(world, campaign)
    ReviewAssignment.objects.create(
        submission=campaign.submissions.get(municipality=world.municipality),
        expert=world.users["expert"],
        assigned_by=world.users["operator"],
    )
    world.own_attachment, world.other_attachment = (
        s.answers.get().attachments.get()
        for s in campaign.submissions.exclude(municipality=world.sibling)
        .order_by("municipality__region__code")
        .reverse()
    )
    return world


def rendered(client, url):
    """The HTML of a page, or None when the page is not one in this state (not found, a redirect, a file)."""
    response = client.get(url)
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return None
    return response.content.decode()


def _report(found):
    return "\n".join(f"  {page}: {', '.join(items)}" for page, items in sorted(found.items()))


@pytest.mark.parametrize("role", ROLES)
def test_russian_pages_show_no_english_words(role, prepared, as_role):
    english = english_words()
    client = as_role(prepared, role)
    found, seen = {}, 0

    for name, url in pages_for(role, prepared):
        html = rendered(client, url)
        if html is None:
            continue
        seen += 1
        assert '<html lang="ru"' in html, url
        words = {w for w in latin_words(visible_text(html)) if w.lower() in english and w not in ALLOWED}
        if words:
            found[f"{name} {url}"] = sorted(words)

    assert seen, "no page rendered"
    assert not found, f"English words on Russian pages ({prepared.state}, {role}):\n{_report(found)}"


# The English pages are checked for the roles whose pages differ most (the others see subsets of theirs).
ENGLISH_ROLES = ["anonymous", "operator", "coordinator", "organizer", "expert"]


@pytest.mark.parametrize("role", ENGLISH_ROLES)
def test_english_pages_show_no_russian_strings(role, prepared, as_role):
    russian = russian_sentences()
    client = as_role(prepared, role)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    found = {}

    for name, url in pages_for(role, prepared):
        html = rendered(client, url)
        if html is None:
            continue
        assert '<html lang="en"' in html, url
        text = visible_text(html)
        sentences = {s for s in russian if s in text}
        if sentences:
            found[f"{name} {url}"] = sorted(sentences)

    assert not found, f"Russian strings on English pages ({prepared.state}, {role}):\n{_report(found)}"
