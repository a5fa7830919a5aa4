"""One score sheet for the coordinator's and the expert's pages (assessment/score_sheet.py, one template
include), the pre-scores the Excel import writes through it, the criteria count and the level bands given by
the page, and the what-if's points read by the one rule of scoring.py."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from assessment.models import Answer, Criterion, EvidenceLink, ReviewAssignment, Score, Submission
from assessment.score_sheet import prescores_import
from assessment.scores import score_set
from municipalities.access import access_for
from reports.scorecard import WhatIfError, card_for, what_if

with translation.override("ru"):
    WHOLE_NUMBER = gettext("Enter a whole number from 0 to %(max)s.") % {"max": 10}  # 1.1.2 is worth 10


@pytest.fixture
def submitted(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    submission.refresh_from_db()
    return submission


@pytest.fixture
def evidence(campaign, submitted, world):
    """A link on 1.1.1 whose page the checker has read (its digest), never scored yet."""
    answer, _created = Answer.objects.get_or_create(
        submission=submitted,
        criterion=Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.1"),
    )
    return EvidenceLink.objects.create(answer=answer, url="https://kirov.example.ru/order.pdf", sha256="a" * 64)


def current(submission):
    return dict(
        Score.objects.filter(submission=submission, round="prescore", is_current=True).values_list(
            "criterion__code", "points"
        )
    )


# --- the pre-scores of the Excel import ------------------------------------------------------------------------


def _import(submission, points, by):
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology)}
    prescores_import(
        {(submission, code): value for code, value in points.items()},
        criteria,
        by=by,
        at=timezone.now(),
        comment="imported from Excel",
    )


def test_imported_pre_scores_keep_the_evidence_as_it_was_when_scored(submitted, evidence, world):
    """The Excel import wrote pre-scores without the evidence snapshot the scoring page takes: a page changed
    after the import never showed as "changed since scoring". Through the sheet it takes it."""
    coordinator = world.users["coordinator"]

    _import(submitted, {"1.1.1": 4}, coordinator)

    evidence.refresh_from_db()
    assert evidence.sha256_at_scoring == "a" * 64
    score = Score.objects.get(submission=submitted, criterion__code="1.1.1", is_current=True)
    assert (score.points, score.comment, score.by) == (4, "imported from Excel", coordinator)


def test_imported_pre_scores_replace_the_current_ones_and_keep_their_history(submitted, world):
    coordinator = world.users["coordinator"]
    score_set(
        submission=submitted,
        criterion=Criterion.objects.get(mechanism__methodology=submitted.campaign.methodology, code="1.1.1"),
        round="prescore",
        points=3,
        comment="",
        by=coordinator,
        access=access_for(coordinator),
    )

    _import(submitted, {"1.1.1": 4, "1.1.2": None}, coordinator)
    _import(submitted, {"1.1.1": 5}, coordinator)

    score = Score.objects.get(submission=submitted, criterion__code="1.1.1", is_current=True)
    assert [score.points, score.previous.points, score.previous.previous.points] == [5, 4, 3]
    assert not score.previous.is_current and current(submitted) == {"1.1.1": 5}


def test_the_excel_import_writes_its_pre_scores_through_the_sheet(monkeypatch):
    """Not a second writer in excel_import: the bulk writer is the sheet's (the role, status and value checks of
    the workbook are in tests/test_excel.py)."""
    from assessment import excel_import, score_sheet

    assert excel_import.prescores_import is score_sheet.prescores_import
    assert "Score.objects" not in Path(excel_import.__file__).read_text(encoding="utf-8").split("def _write(", 1)[1]


# --- the pages -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "11", "+5", "٣", "1_0"])
def test_points_outside_0_to_max_on_the_scoring_pages_are_refused_and_nothing_is_saved(
    value, campaign, world, submitted, as_role
):
    other = campaign.submissions.get(municipality=world.other_municipality)
    Submission.objects.filter(pk=other.pk).update(status="in_review")
    ReviewAssignment.objects.create(submission=other, expert=world.users["expert"], assigned_by=world.users["operator"])
    sent = {"p-1.1.1": "3", "c-1.1.1": "Приказ не найден", "p-1.1.2": value, "c-1.1.2": "Нет показателей"}

    pages = [
        as_role(world, "coordinator").post(reverse("scoring_page", args=[campaign.slug, "kirov"]), sent),
        as_role(world, "expert").post(reverse("expert_scoring", args=[campaign.slug, "elista"]), sent),
    ]

    for page in pages:
        assert page.status_code == 400
        assert WHOLE_NUMBER in page.content.decode()
    assert not Score.objects.exists()


def test_both_scoring_pages_show_one_sheet(campaign, world, submitted, as_role):
    other = campaign.submissions.get(municipality=world.other_municipality)
    Submission.objects.filter(pk=other.pk).update(status="in_review")
    ReviewAssignment.objects.create(submission=other, expert=world.users["expert"], assigned_by=world.users["operator"])
    count = Criterion.objects.filter(mechanism__methodology=campaign.methodology).count()

    pages = [
        as_role(world, "coordinator").get(reverse("scoring_page", args=[campaign.slug, "kirov"])),
        as_role(world, "expert").get(reverse("expert_scoring", args=[campaign.slug, "elista"])),
    ]

    for page in pages:
        html = page.content.decode()
        assert "includes/score_sheet.html" in [t.name for t in page.templates]
        assert len(re.findall(r'name="p-\d+\.\d+\.\d+"', html)) == count
        assert len(re.findall(r'name="s-\d+\.\d+\.\d+"', html)) == count


def test_the_criteria_count_comes_from_the_methodology(campaign, world, submitted, as_role):
    """ "of 81" was written in three templates; a methodology with another number of criteria read it wrong."""
    Criterion.objects.filter(mechanism__methodology=campaign.methodology, code="2.5.9").delete()  # 80 left
    other = campaign.submissions.get(municipality=world.other_municipality)
    Submission.objects.filter(pk=other.pk).update(status="in_review")
    ReviewAssignment.objects.create(submission=other, expert=world.users["expert"], assigned_by=world.users["operator"])

    coordinator = as_role(world, "coordinator").get(reverse("scoring_page", args=[campaign.slug, "kirov"]))
    expert = as_role(world, "expert")
    scoring_page = expert.get(reverse("expert_scoring", args=[campaign.slug, "elista"]))
    queue = expert.get(reverse("expert_queue"))

    for page in (coordinator, scoring_page, queue):
        main = page.content.decode().split('id="main"')[-1]
        assert re.search(r"\b80\b", main) and not re.search(r"\b81\b", main)
    assert "0 / 80" in queue.content.decode()


def test_the_page_gives_the_level_bands_and_no_script_copies_them(campaign, world, submitted, finalized, as_role):
    from django.conf import settings

    pages = [
        as_role(world, "coordinator").get(reverse("scoring_page", args=[campaign.slug, "kirov"])),
        as_role(world, "coordinator").get(reverse("what_if", args=[finalized.slug, "kumeny"])),
    ]

    expected = [[share, code, str(label)] for share, code, label in campaign.methodology.band_rows()]
    for page in pages:
        html = page.content.decode()
        given = re.search(r'<script id="level-bands" type="application/json">(.*?)</script>', html).group(1)
        assert json.loads(given) == expected
        assert "data-bands" not in html and "js/levels.js" in html
    js = settings.BASE_DIR / "static" / "js"
    for name in ("scoring.js", "whatif.js"):
        source = (js / name).read_text(encoding="utf-8")
        assert "Levels.of" in source and "function level" not in source
        assert "dataset.bands" not in source and not re.search(r"0\.(1|4|75)\b", source)


# --- the what-if ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["٣", "+5", "1_0", " 5x"])
def test_the_what_if_reads_points_by_the_one_rule(finalized, world, as_role, value):
    """int() took "٣" (an Arabic-Indic three), "+5" and "1_0" as points; every other reader refused them."""
    page = as_role(world, "coordinator").get(reverse("what_if", args=[finalized.slug, "kumeny"]), {"p-1.1.2": value})

    assert page.status_code == 400 and "1.1.2" in page.context["errors"]
    with pytest.raises(WhatIfError):
        what_if(card_for(finalized, world.sibling), {"p-1.1.2": value})
