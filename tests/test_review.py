"""Pre-scoring, the review moves and the Result (the part of the scoring capability built so far)."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessment import experts, scores
from assessment.models import Criterion, Result, Score, Submission
from assessment.scores import ScoreError
from assessment.workflow import TransitionError
from municipalities.access import access_for


@pytest.fixture
def submitted(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    submission.refresh_from_db()
    return submission


def c(campaign, code):
    return Criterion.objects.select_related("mechanism").get(mechanism__methodology=campaign.methodology, code=code)


def score_all(campaign, submission, user, points=1):
    for criterion in Criterion.objects.filter(mechanism__methodology=campaign.methodology).select_related("mechanism"):
        scores.score_set(
            submission=submission,
            criterion=criterion,
            round=Score.Round.PRESCORE,
            points=min(points, criterion.max_points),
            comment="",
            by=user,
            access=access_for(user),
            seen=None,
        )


def test_a_score_keeps_its_history(campaign, world, submitted):
    coordinator = world.users["coordinator"]
    first = scores.score_set(
        submission=submitted,
        criterion=c(campaign, "1.1.2"),
        round="prescore",
        points=4,
        comment="",
        by=coordinator,
        access=access_for(coordinator),
    )

    second = scores.score_set(
        submission=submitted,
        criterion=c(campaign, "1.1.2"),
        round="prescore",
        points=6,
        comment="Есть формулы",
        by=coordinator,
        access=access_for(coordinator),
        seen=first.pk,
    )

    first.refresh_from_db()
    assert second.previous == first and not first.is_current and second.is_current
    assert Score.objects.filter(submission=submitted).count() == 2


@pytest.mark.parametrize("points", [-1, 11, "5", 2.5, True])
def test_points_outside_0_to_max_are_refused(campaign, world, submitted, points):
    coordinator = world.users["coordinator"]

    with pytest.raises(ScoreError):
        scores.score_set(
            submission=submitted,
            criterion=c(campaign, "1.1.2"),
            round="prescore",
            points=points,
            comment="",
            by=coordinator,
            access=access_for(coordinator),
        )

    assert not Score.objects.exists()


def test_two_people_saving_the_same_score_get_a_conflict(campaign, world, submitted):
    coordinator, operator = world.users["coordinator"], world.users["operator"]
    scores.score_set(
        submission=submitted,
        criterion=c(campaign, "1.1.1"),
        round="prescore",
        points=3,
        comment="",
        by=coordinator,
        access=access_for(coordinator),
        seen=None,
    )

    with pytest.raises(ScoreError) as error:
        scores.score_set(
            submission=submitted,
            criterion=c(campaign, "1.1.1"),
            round="prescore",
            points=5,
            comment="",
            by=operator,
            access=access_for(operator),
            seen=None,
        )

    assert error.value.conflict.points == 3
    assert Score.objects.get(is_current=True).points == 3


def test_a_foreign_or_draft_submission_cannot_be_scored(campaign, world):
    coordinator = world.users["coordinator"]
    foreign = campaign.submissions.get(municipality=world.other_municipality)
    Submission.objects.filter(pk=foreign.pk).update(status="submitted")
    draft = campaign.submissions.get(municipality=world.sibling)

    for submission in (Submission.objects.get(pk=foreign.pk), draft):
        with pytest.raises(ScoreError):
            scores.score_set(
                submission=submission,
                criterion=c(campaign, "1.1.1"),
                round="prescore",
                points=1,
                comment="",
                by=coordinator,
                access=access_for(coordinator),
            )


def test_prescoring_cannot_complete_with_unscored_criteria(campaign, world, submitted):
    coordinator = world.users["coordinator"]
    scores.score_set(
        submission=submitted,
        criterion=c(campaign, "1.1.1"),
        round="prescore",
        points=1,
        comment="",
        by=coordinator,
        access=access_for(coordinator),
    )

    with pytest.raises(ScoreError, match="1.1.2"):
        scores.prescore_complete(submission=submitted, by=coordinator, access=access_for(coordinator))


def test_the_whole_path_to_a_result(campaign, world, submitted):
    coordinator, operator = world.users["coordinator"], world.users["operator"]
    score_all(campaign, submitted, coordinator, points=5)

    scores.prescore_complete(submission=submitted, by=coordinator, access=access_for(coordinator))
    with pytest.raises(TransitionError):
        experts.submission_finalize(submission=submitted, by=operator, access=access_for(operator))
    experts.review_start(submission=submitted, by=operator, access=access_for(operator))
    with pytest.raises(TransitionError):
        experts.submission_finalize(submission=submitted, by=coordinator, access=access_for(coordinator))
    experts.submission_finalize(submission=submitted, by=operator, access=access_for(operator))

    result = Result.objects.get(submission=submitted)
    assert result.total == 9 * 9 * 5 - 0  # every criterion has a maximum of at least 5
    assert result.level == "formed" or result.level == "partially_formed"
    assert result.rank_region == 1 and result.rank_country == 1
    assert Score.objects.filter(submission=submitted, round="final", is_current=True).count() == 81
    with pytest.raises(ScoreError):
        scores.score_set(
            submission=Submission.objects.get(pk=submitted.pk),
            criterion=c(campaign, "1.1.1"),
            round="prescore",
            points=0,
            comment="",
            by=coordinator,
            access=access_for(coordinator),
            seen=None,
        )


def test_the_scoring_page_saves_all_or_nothing_without_javascript(campaign, world, submitted, as_role):
    client = as_role(world, "coordinator")
    url = reverse("scoring_page", args=["test-2026", "kirov"])

    refused = client.post(url, {"p-1.1.1": "3", "p-1.1.2": "70"})
    saved = client.post(url, {"p-1.1.1": "3", "p-1.1.2": "7", "c-1.1.2": "Показатели без порогов"})

    assert refused.status_code == 400 and "10" in refused.content.decode()
    assert saved.status_code == 302
    assert dict(Score.objects.filter(is_current=True).values_list("criterion__code", "points")) == {
        "1.1.1": 3,
        "1.1.2": 7,
    }


def test_the_scoring_page_shows_the_running_total_and_level(campaign, world, submitted, as_role):
    score_all(campaign, submitted, world.users["coordinator"], points=2)

    html = as_role(world, "coordinator").get(reverse("scoring_page", args=["test-2026", "kirov"])).content.decode()

    assert "data-total>162<" in html
    assert "level-separate_elements" in html


def test_the_demo_2020_results_match_the_seeds(db):
    call_command("load_demo", verbosity=0)

    results = {
        r.municipality.code: (r.total, r.level, r.rank_region)
        for r in Result.objects.filter(campaign__slug="2020-approbation").select_related("municipality")
    }

    assert {
        k: v[0] for k, v in results.items() if k in {"elista", "iki-burul", "lagan", "yashalta", "sarpa", "yashkul"}
    } == {
        "elista": 249,
        "iki-burul": 136,
        "lagan": 12,
        "yashalta": 8,
        "sarpa": 0,
        "yashkul": 0,
    }
    assert results["sarpa"][2] == results["yashkul"][2] == 5
    assert results["elista"][1] == "partially_formed" and results["iki-burul"][1] == "separate_elements"
    formed_partially = {k for k, v in results.items() if v[1] == "partially_formed" and k not in {"elista"}}
    assert formed_partially == {"kirov", "kumeny", "podosinovets"}
