"""Expert assignment with conflicts of interest, re-scoring with reasons, reconciliation, finalization."""

import pytest
from django.urls import reverse

from assessment import appeals, scores
from assessment.experts import (
    agreement_stats,
    assign,
    assign_automatically,
    discrepancies,
    eligible_experts,
    expert_complete,
    reconcile,
    review_start,
    submission_finalize,
)
from assessment.models import Criterion, ExpertConflict, Result, ReviewAssignment, Score, Submission
from assessment.scores import ScoreError
from municipalities.access import access_for
from municipalities.models import Role
from tests.factories import AppointmentFactory, UserFactory


@pytest.fixture
def experts(world, db):
    """expert (home region 43, the world's), far-1 and far-2 (home region 08)."""
    far = [
        AppointmentFactory(user=UserFactory(username=f"far-{i}"), role=Role.EXPERT, region=world.other_region).user
        for i in (1, 2)
    ]
    return {"home": world.users["expert"], "far": far}


@pytest.fixture
def prescored(campaign, world):
    """The own submission with every criterion pre-scored 2 (or its maximum) and moved to expert review."""
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    submission.refresh_from_db()
    coordinator = world.users["coordinator"]
    for criterion in Criterion.objects.filter(mechanism__methodology=campaign.methodology).select_related("mechanism"):
        scores.score_set(
            submission=submission,
            criterion=criterion,
            round="prescore",
            points=2,
            comment="",
            by=coordinator,
            access=access_for(coordinator),
        )
    scores.prescore_complete(submission=submission, by=coordinator, access=access_for(coordinator))
    submission.refresh_from_db()
    return submission


def test_an_expert_never_gets_their_home_region_or_a_declared_conflict(prescored, experts, world):
    ExpertConflict.objects.create(
        expert=experts["far"][0], municipality=world.municipality, reason="Работала в управлении"
    )

    eligible = eligible_experts(prescored)

    assert eligible == [experts["far"][1]]
    with pytest.raises(ScoreError):
        assign(submission=prescored, expert=experts["home"], by=world.users["operator"])


def test_automatic_assignment_balances_load(campaign, experts, world):
    operator = world.users["operator"]
    for municipality in (world.municipality, world.sibling):
        Submission.objects.filter(campaign=campaign, municipality=municipality).update(status="prescored")

    made = assign_automatically(campaign=campaign, by=operator)

    assigned = list(ReviewAssignment.objects.values_list("expert__username", flat=True))
    assert made == 2 and sorted(assigned) == ["far-1", "far-2"]  # one each, never the home-region expert


def test_two_experts_per_submission_when_the_campaign_says_so(campaign, prescored, experts, world):
    campaign.experts_per_submission = 2
    campaign.save()

    assign_automatically(campaign=campaign, by=world.users["operator"])

    assert set(prescored.assignments.values_list("expert__username", flat=True)) == {"far-1", "far-2"}


def expert_score(submission, expert, code, points, comment=""):
    criterion = Criterion.objects.select_related("mechanism").get(
        mechanism__methodology=submission.campaign.methodology, code=code
    )
    seen = Score.objects.filter(
        submission=submission, criterion=criterion, round="expert", by=expert, is_current=True
    ).first()
    return scores.score_set(
        submission=submission,
        criterion=criterion,
        round="expert",
        points=points,
        comment=comment,
        by=expert,
        access=access_for(expert),
        seen=seen.pk if seen else None,
    )


def confirm_all(submission, expert):
    for code in Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology).values_list(
        "code", flat=True
    ):
        expert_score(submission, expert, code, 2)


def test_a_change_needs_a_reason_and_an_unassigned_expert_cannot_score(prescored, experts, world):
    operator = world.users["operator"]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    assign(submission=prescored, expert=experts["far"][0], by=operator)
    prescored.refresh_from_db()

    with pytest.raises(ScoreError, match="1.1.2"):
        expert_score(prescored, experts["far"][0], "1.1.2", 5)
    changed = expert_score(prescored, experts["far"][0], "1.1.2", 5, "Показатели с формулами есть в приказе")
    with pytest.raises(ScoreError):
        expert_score(prescored, experts["far"][1], "1.1.2", 2)

    assert changed.points == 5 and changed.comment


def test_one_expert_review_to_final_result(prescored, experts, world):
    operator, expert = world.users["operator"], experts["far"][0]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    assignment = assign(submission=prescored, expert=expert, by=operator)
    prescored.refresh_from_db()
    confirm_all(prescored, expert)
    expert_score(prescored, expert, "1.1.2", 6, "Есть формулы и целевые значения")

    expert_complete(assignment=assignment)
    submission_finalize(submission=prescored, by=operator, access=access_for(operator))

    result = Result.objects.get(submission=prescored)
    assert result.total == 81 * 2 + 4
    final = Score.objects.get(submission=prescored, criterion__code="1.1.2", round="final", is_current=True)
    assert final.points == 6 and final.previous.round == "expert" and final.previous.by == expert
    assert final.previous.previous.points == 2  # the expert first confirmed the pre-score, then changed it
    assert final.previous.previous.previous.round == "prescore"


def test_disagreeing_experts_go_to_reconciliation(campaign, prescored, experts, world):
    campaign.experts_per_submission = 2
    campaign.save()
    operator = world.users["operator"]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    a = assign(submission=prescored, expert=experts["far"][0], by=operator)
    b = assign(submission=prescored, expert=experts["far"][1], by=operator)
    prescored.refresh_from_db()
    for expert in experts["far"]:
        confirm_all(prescored, expert)
    expert_score(prescored, experts["far"][1], "1.1.2", 8, "Всё есть")  # 6 points apart, over the threshold
    expert_score(prescored, experts["far"][1], "1.1.5", 3, "Анализ есть")  # 1 of 10 apart: within it
    expert_complete(assignment=a)
    expert_complete(assignment=b)

    assert [d["code"] for d in discrepancies(prescored)] == ["1.1.2"]
    with pytest.raises(ScoreError, match="1.1.2"):
        submission_finalize(submission=prescored, by=operator, access=access_for(operator))
    criterion = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.2")
    reconcile(
        submission=prescored,
        criterion=criterion,
        points=7,
        reason="Формулы есть, порогов нет",
        by=operator,
        access=access_for(operator),
    )
    submission_finalize(submission=Submission.objects.get(pk=prescored.pk), by=operator, access=access_for(operator))

    finals = dict(
        Score.objects.filter(submission=prescored, round="final", is_current=True).values_list(
            "criterion__code", "points"
        )
    )
    assert finals["1.1.2"] == 7 and finals["1.1.5"] == 3  # (2 + 3) / 2 rounded half up
    assert Result.objects.get(submission=prescored).total == 81 * 2 + 5 + 1


def test_the_expert_queue_and_blind_review(campaign, prescored, experts, world, client):
    operator, expert = world.users["operator"], experts["far"][0]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    assign(submission=prescored, expert=expert, by=operator)
    client.force_login(expert)

    queue = client.get(reverse("expert_queue")).content.decode()
    seen = client.get(reverse("expert_scoring", args=["test-2026", "kirov"])).content.decode()
    campaign.blind_review = True
    campaign.save()
    blind = client.get(reverse("expert_scoring", args=["test-2026", "kirov"])).content.decode()

    assert "город Киров" in queue
    assert "Предварительный балл" in seen or "Pre-score" in seen
    assert "Предварительный балл" not in blind and "Pre-score:" not in blind


def test_the_operator_assigns_on_the_experts_page(campaign, prescored, experts, world, as_role):
    client = as_role(world, "operator")

    page = client.get(reverse("campaign_experts", args=["test-2026"])).content.decode()
    client.post(reverse("experts_auto", args=["test-2026"]))

    assert "far-1" in page or experts["far"][0].get_full_name() in page
    assert prescored.assignments.count() == 1


def test_every_final_point_is_explained_and_agreement_is_measured(prescored, experts, world, as_role):
    operator, expert = world.users["operator"], experts["far"][0]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    assignment = assign(submission=prescored, expert=expert, by=operator)
    prescored.refresh_from_db()
    confirm_all(prescored, expert)
    expert_score(prescored, expert, "1.1.2", 1, "Показателей нет на сайте")
    expert_complete(assignment=assignment)
    submission_finalize(submission=prescored, by=operator, access=access_for(operator))

    rows = {row["criterion"].code: row for row in scores.explain(prescored)}
    stats = agreement_stats(prescored.campaign)
    page = as_role(world, "organizer").get(reverse("submission_detail", args=["test-2026", "kirov"])).content.decode()

    assert [s.round for s in rows["1.1.2"]["history"]] == ["final", "expert", "expert", "prescore"]
    assert rows["1.1.2"]["score"].points == 1 and rows["1.1.2"]["history"][1].comment == "Показателей нет на сайте"
    assert stats["experts"][0][1]["n"] == 81 and stats["experts"][0][1]["bias"] == 1 / 81
    assert "Показателей нет на сайте" in page


@pytest.fixture
def finalized(campaign, prescored, experts, world):
    operator, expert = world.users["operator"], experts["far"][0]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    assignment = assign(submission=prescored, expert=expert, by=operator)
    prescored.refresh_from_db()
    confirm_all(prescored, expert)
    expert_complete(assignment=assignment)
    submission_finalize(submission=prescored, by=operator, access=access_for(operator))
    return Submission.objects.get(pk=prescored.pk)


def test_an_appeal_is_decided_by_a_different_expert_and_results_are_recomputed(finalized, experts, world):
    organizer = world.users["organizer"]
    criterion = Criterion.objects.get(mechanism__methodology=finalized.campaign.methodology, code="1.1.2")
    before = Result.objects.get(submission=finalized)

    appeals.appeal_file(
        submission=finalized,
        items=[(criterion, "Показатели опубликованы: приказ № 214")],
        by=organizer,
        access=access_for(organizer),
    )
    appeal = finalized.appeals.get()
    with pytest.raises(ScoreError):  # the reviewer of this submission may not decide
        appeals.appeal_decide(
            appeal=appeal, upheld=True, points=6, reason="x", by=experts["far"][0], access=access_for(experts["far"][0])
        )
    with pytest.raises(ScoreError):  # nor the expert of its region
        appeals.appeal_decide(
            appeal=appeal, upheld=True, points=6, reason="x", by=experts["home"], access=access_for(experts["home"])
        )
    appeals.appeal_decide(
        appeal=appeal,
        upheld=True,
        points=6,
        reason="Приказ найден",
        by=experts["far"][1],
        access=access_for(experts["far"][1]),
    )

    after = Result.objects.get(submission=finalized)
    final = Score.objects.get(submission=finalized, criterion=criterion, round="final", is_current=True)
    assert Submission.objects.get(pk=finalized.pk).status == "finalized"
    assert after.total == before.total + 4 and after.version == before.version + 1
    assert final.points == 6 and final.previous.round == "appeal"
    assert finalized.status_changes.filter(new="finalized").last().reason.startswith("1.1.2")


def test_after_an_upheld_appeal_the_page_the_api_and_the_scorecard_give_the_same_score(
    finalized, experts, world, as_role
):
    """One rule says which score stands for a criterion: after an upheld appeal, the FINAL row that follows the
    APPEAL row. The page once treated FINAL and APPEAL alike (and showed the appeal row), the API put FINAL first."""
    organizer, decider = world.users["organizer"], experts["far"][1]
    criterion = Criterion.objects.get(mechanism__methodology=finalized.campaign.methodology, code="1.1.2")
    appeals.appeal_file(
        submission=finalized, items=[(criterion, "Приказ № 214")], by=organizer, access=access_for(organizer)
    )
    appeals.appeal_decide(
        appeal=finalized.appeals.get(),
        upheld=True,
        points=6,
        reason="Приказ найден",
        by=decider,
        access=access_for(decider),
    )
    client = as_role(world, "operator")

    detail = client.get(reverse("submission_detail", args=["test-2026", "kirov"])).context["explanation"]
    page = next(row for row in detail if row["criterion"].code == "1.1.2")
    card = client.get(reverse("api-municipality", args=["test-2026", "kirov"])).json()
    api = next(row for row in card["criteria"] if row["code"] == "1.1.2")
    scorecard = client.get(reverse("scorecard", args=["test-2026", "kirov"])).context
    shown = next(row for m in scorecard["mechanisms"] for row in m["rows"] if row["criterion"].code == "1.1.2")

    assert page["score"].points == api["points"] == shown["score"].points == 6
    assert page["score"].round == api["explanation"]["round"] == shown["score"].round == "final"
    assert page["score"].comment == api["explanation"]["reason"] == "Приказ найден"
    chain = ["appeal", "final", "expert", "prescore"]
    assert [s.round for s in page["history"][1:]] == [e["round"] for e in api["explanation"]["history"]] == chain
    assert card["total"] == Result.objects.get(submission=finalized).total


@pytest.mark.parametrize("points", [True, 2.5, -1, 11])
def test_reconciled_and_appealed_points_are_whole_numbers_from_0_to_max(finalized, campaign, experts, world, points):
    """The reconciliation once checked only 0 <= points <= max: True (1 to Python) and 2.5 went through."""
    operator = world.users["operator"]
    criterion = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.2")  # max 10
    Submission.objects.filter(pk=finalized.pk).update(status="in_review")
    with pytest.raises(ScoreError, match="1.1.2"):
        reconcile(
            submission=finalized,
            criterion=criterion,
            points=points,
            reason="Эксперты разошлись",
            by=operator,
            access=access_for(operator),
        )
    Submission.objects.filter(pk=finalized.pk).update(status="finalized")
    appeals.appeal_file(
        submission=finalized,
        items=[(criterion, "Довод")],
        by=world.users["organizer"],
        access=access_for(world.users["organizer"]),
    )
    with pytest.raises(ScoreError, match="1.1.2"):
        appeals.appeal_decide(
            appeal=finalized.appeals.get(),
            upheld=True,
            points=points,
            reason="x",
            by=operator,
            access=access_for(operator),
        )

    assert not Score.objects.filter(submission=finalized, round__in=["appeal"]).exists()
    assert Score.objects.filter(submission=finalized, round="final", criterion=criterion, is_current=True).count() == 1


def test_a_second_appeal_on_the_same_criterion_is_refused(finalized, world):
    organizer = world.users["organizer"]
    criterion = Criterion.objects.get(mechanism__methodology=finalized.campaign.methodology, code="1.1.2")
    appeals.appeal_file(submission=finalized, items=[(criterion, "Довод")], by=organizer, access=access_for(organizer))

    with pytest.raises(ScoreError, match="1.1.2"):
        appeals.appeal_file(
            submission=Submission.objects.get(pk=finalized.pk),
            items=[(criterion, "Ещё раз")],
            by=organizer,
            access=access_for(organizer),
        )

    assert finalized.appeals.count() == 1


def test_appeals_only_in_the_appeal_window_and_only_by_the_organizer(finalized, world):
    import datetime

    criterion = Criterion.objects.get(mechanism__methodology=finalized.campaign.methodology, code="1.1.2")
    organizer, coordinator = world.users["organizer"], world.users["coordinator"]

    with pytest.raises(ScoreError):
        appeals.appeal_file(
            submission=finalized,
            items=[(criterion, "Довод")],
            by=organizer,
            access=access_for(organizer),
            today=datetime.date(2000, 1, 1),
        )
    with pytest.raises(Exception):  # noqa: B017 — the workflow refuses a coordinator
        appeals.appeal_file(
            submission=finalized, items=[(criterion, "Довод")], by=coordinator, access=access_for(coordinator)
        )


def test_a_finalized_score_cannot_be_changed_except_by_an_appeal(finalized, world):
    coordinator = world.users["coordinator"]
    criterion = Criterion.objects.select_related("mechanism").get(
        mechanism__methodology=finalized.campaign.methodology, code="1.1.2"
    )

    with pytest.raises(ScoreError):
        scores.score_set(
            submission=finalized,
            criterion=criterion,
            round="prescore",
            points=0,
            comment="",
            by=coordinator,
            access=access_for(coordinator),
            seen=None,
        )


def test_the_appeal_pages(finalized, experts, world, as_role, client):
    organizer_client = as_role(world, "organizer")

    organizer_client.post(reverse("appeal_form", args=["test-2026", "kirov"]), {"a-1.1.2": "Показатели опубликованы"})
    client.force_login(experts["far"][1])
    queue = client.get(reverse("appeal_queue")).content.decode()
    appeal = finalized.appeals.get()
    client.post(reverse("appeal_queue"), {"appeal": appeal.pk, "outcome": "rejected", "reason": "Документ не найден"})

    assert "Показатели опубликованы" in queue
    appeal.refresh_from_db()
    assert appeal.outcome == "rejected" and appeal.decided_by == experts["far"][1]


def test_an_expert_sends_back_naming_criteria_and_the_organizer_sees_them(prescored, experts, world, client, as_role):
    operator, expert = world.users["operator"], experts["far"][0]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    assign(submission=prescored, expert=expert, by=operator)
    from assessment.models import Answer

    Answer.objects.get_or_create(
        submission=prescored,
        criterion=Criterion.objects.get(mechanism__methodology=prescored.campaign.methodology, code="1.1.1"),
    )
    Answer.objects.filter(submission=prescored).update(is_complete=True)
    client.force_login(expert)

    response = client.post(
        reverse("submission_return", args=["test-2026", "kirov"]),
        {"criteria": ["1.1.1", "2.5.9"], "reason": "Нет ссылки на приказ о целях"},
    )

    change = prescored.status_changes.get(new="returned")
    assert response.status_code == 302 and change.criteria == ["1.1.1", "2.5.9"] and change.by == expert
    assert not Answer.objects.get(submission=prescored, criterion__code="1.1.1").is_complete
    page = as_role(world, "organizer").get(reverse("submission_detail", args=["test-2026", "kirov"])).content.decode()
    assert "Нет ссылки на приказ о целях" in page and "2.5.9" in page
    form = (
        as_role(world, "organizer")
        .get(reverse("submission_mechanism", args=["test-2026", "kirov", "1.1"]))
        .content.decode()
    )
    assert "text-bg-danger" in form


def test_an_expert_not_assigned_cannot_send_back(prescored, experts, world, client):
    operator = world.users["operator"]
    review_start(submission=prescored, by=operator, access=access_for(operator))
    client.force_login(experts["far"][1])

    response = client.post(reverse("submission_return", args=["test-2026", "kirov"]), {"reason": "x"})

    assert response.status_code == 404
    assert Submission.objects.get(pk=prescored.pk).status == "in_review"
