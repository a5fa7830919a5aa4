"""Speed (issue 17 part 7, 5): a survey link's pages load only the icons they use — a subset of Bootstrap Icons
(bench/icon_subset.py) instead of the whole 131 KB font — so that a phone's first visit stays under 150 KB
(bench/survey_page_bench.py measures it in production mode). Every icon a survey page shows is in the subset."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from fontTools.ttLib import TTFont

from bench import icon_subset
from surveys.models import Invitation, Respondent

SUBSET_CSS = settings.BASE_DIR / "static" / "vendor" / "bootstrap-icons" / "survey-icons.css"
SUBSET_FONT = settings.BASE_DIR / "static" / "vendor" / "bootstrap-icons" / "fonts" / "bootstrap-icons-survey.woff2"
ICON = re.compile(r'class="[^"]*\b(bi-[a-z0-9-]+)')


def _subset_rules():
    return dict(re.findall(r'\.(bi-[a-z0-9-]+)::before\{content:"\\([0-9a-f]+)"\}', SUBSET_CSS.read_text()))


def _survey_pages(client, invitation):
    """Every public page of a survey link, rendered: intro, each page of questions, the check before sending,
    done, the neutral page of a used link, the lost-link form and its answer."""
    url = reverse("survey", args=[invitation.token])
    intro = client.get(url)
    pages = [intro, client.get(url, {"p": 1})]
    count = intro.context["review_number"]
    pages += [client.get(url, {"p": n}) for n in range(2, count + 1)]
    pages += [client.get(reverse("survey_done")), client.get(reverse("survey", args=["x" * 43]))]
    pages += [client.get(reverse("survey_lost_link"))]
    pages += [client.post(reverse("survey_lost_link"), {"email": "nobody@example.org", "role": "director"})]
    return pages


@pytest.mark.django_db
def test_every_icon_of_the_survey_pages_is_in_the_subset(survey_campaign, world, client):
    invitation = Invitation.objects.get(campaign=survey_campaign, school=world.school, role=Respondent.DIRECTOR)

    pages = _survey_pages(client, invitation)

    rules = _subset_rules()
    shown = set()
    for response in pages:
        assert response.status_code in (200, 404), response.status_code
        html = response.content.decode()
        assert "survey-icons" in html and "bootstrap-icons.min" not in html
        shown.update(ICON.findall(html))
    assert shown, "no icon found: the pattern no longer matches the pages"
    missing = shown - set(rules)
    assert not missing, f"run `python bench/icon_subset.py`: the survey pages show {sorted(missing)}"


def test_the_subset_font_has_a_glyph_for_every_icon_of_its_stylesheet():
    cmap = TTFont(SUBSET_FONT).getBestCmap()
    rules = _subset_rules()

    assert rules and all(int(code, 16) in cmap for code in rules.values())
    assert SUBSET_FONT.stat().st_size < 10_000  # the whole font is 134 KB


def test_the_subset_is_up_to_date_with_the_survey_templates():
    assert set(icon_subset.icons_used()) <= set(_subset_rules()), "run `python bench/icon_subset.py`"


def test_the_other_pages_keep_every_icon(world, as_role):
    html = as_role(world, "operator").get(reverse("home")).content.decode()

    assert "bootstrap-icons.min" in html and "survey-icons" not in html
