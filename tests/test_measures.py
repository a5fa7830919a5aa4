"""Plans of measures: the proposal from the weakest criteria, drafting and its bad input, submit / approve / return
with history and notices, progress with links and files, overdue measures in reminders and dashboards, the lock when
the next campaign collects, the effect with its summary, the measures beside the next form's criteria, the API, and
a fixed number of queries on the region's and the country's pages."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from assessment import measure_selectors, measures, scoring
from assessment.measures import MeasureError, MeasureInput
from assessment.models import (
    Campaign,
    Criterion,
    CriterionMapping,
    Measure,
    MeasurePlan,
    MeasurePlanChange,
    MeasureProgress,
    Participation,
    Score,
    Stage,
    Submission,
)
from assessment.results import results_compute, specs_for
from assessment.services import campaign_save, methodology_import_file
from municipalities.access import access_for
from municipalities.models import Notification, Role
from reports import scorecard
from reports.documents import region_html, region_report
from tests.factories import AppointmentFactory, MunicipalityFactory, UserFactory

TODAY = timezone.localdate()
PDF = b"%PDF-1.4 a progress report"


def _access(user):
    user.__dict__.pop("_access", None)  # appointments may have changed since the last call
    return access_for(user)


def _criteria(campaign, *codes):
    return list(Criterion.objects.filter(mechanism__methodology=campaign.methodology, code__in=codes))


def _input(campaign, **changes):
    data = {
        "title": "Утвердить положение о муниципальной системе оценки качества",
        "criteria": ["1.1.1"],
        "responsible": "Иванова Мария Петровна",
        "due": TODAY + timedelta(days=90),
        "expected_result": "Положение утверждено и опубликовано на сайте МОУО",
        "indicator": "Баллы по критерию 1.1.1 при следующей оценке",
    }
    data.update(changes)
    return MeasureInput(**data)


@pytest.fixture
def empty_plan(finalized, world):
    """The organizer's draft plan answering the finalized test campaign, with no measure."""
    organizer = world.users["organizer"]
    return measures.plan_start(
        campaign=finalized, municipality=world.municipality, by=organizer, access=_access(organizer), proposal=False
    )


def _add(plan, world, **changes):
    organizer = world.users["organizer"]
    return measures.measure_add(
        plan=plan, data=_input(plan.campaign, **changes), by=organizer, access=_access(organizer)
    )


def _approved(plan, world):
    measures.plan_submit(plan=plan, by=world.users["organizer"], access=_access(world.users["organizer"]))
    measures.plan_approve(plan=plan, by=world.users["coordinator"], access=_access(world.users["coordinator"]))
    plan.refresh_from_db()
    return plan


def _follow_up(world, methodology, *, collection_in, results_in=None, members=None, slug="test-2027"):
    """A campaign following the test campaign: its data collection starts `collection_in` days from today, its
    results `results_in` days from today (a year later by default)."""
    start = TODAY + timedelta(days=collection_in)
    results = TODAY + timedelta(days=results_in if results_in is not None else collection_in + 365)
    stages = {stage: (start, start + timedelta(days=20)) for stage in Stage}
    stages[Stage.RESULTS] = (results, results + timedelta(days=30))
    return campaign_save(
        campaign=Campaign(
            slug=slug,
            title="Повторная оценка",
            year=2027,
            methodology=methodology,
            previous=Campaign.objects.get(slug="test-2026"),
        ),
        stages=stages,
        municipalities=members or [world.municipality, world.sibling],
        by=world.users["operator"],
    )


def _finalize(campaign, world, changes):
    """Finalize every submission of `campaign` with the final points of the test campaign, changed by `changes`
    ({municipality code: {criterion code: points added}})."""
    before = Campaign.objects.get(slug="test-2026")
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology)}
    scores = []
    for submission in campaign.submissions.select_related("municipality"):
        points = measures.final_points_of(before, submission.municipality)
        for code, delta in changes.get(submission.municipality.code, {}).items():
            points[code] = points.get(code, 0) + delta
        scores += [
            Score(submission=submission, criterion=criteria[code], round="final", points=p, by=world.users["operator"])
            for code, p in points.items()
        ]
    Score.objects.bulk_create(scores)
    campaign.submissions.update(status=Submission.Status.FINALIZED)
    results_compute(campaign=campaign)


def _with_room(campaign, municipality, n, room=3):
    """Codes of `n` criteria on which the municipality may still gain `room` points."""
    points = measures.final_points_of(campaign, municipality)
    codes = [
        c.code
        for c in measures.plan_criteria(campaign)
        if (points.get(c.code) or 0) + room <= c.max_points and c.max_points > room
    ]
    return codes[:n]


# --- the weakest criteria and the proposal --------------------------------------------------------------------------


def test_the_scorecard_recommendations_and_the_proposal_follow_one_rule_of_the_weakest_criteria(finalized, world):
    card = scorecard.card_for(finalized, world.municipality)

    shown = [r["criterion"].code for r in scorecard.recommendations(card)]
    proposed = measures.plan_proposal(campaign=finalized, municipality=world.municipality)

    assert shown == [c.code for c in measures.weakest_criteria(card.criteria, card.points, 8)]
    assert [p.criteria[0].code for p in proposed] == shown
    first = proposed[0].criteria[0]
    assert proposed[0].title == first.recommendation
    assert (card.points.get(first.code) or 0) / first.max_points == min(
        (card.points.get(c.code) or 0) / c.max_points for c in card.criteria if c.recommendation
    )


def test_accepting_the_proposal_drafts_its_measures_and_the_organizer_edits_adds_removes_and_submits(
    finalized, world, client
):
    client.force_login(world.users["organizer"])
    base = reverse("measure_plan", args=[finalized.slug, "kirov"])

    page = client.get(base)
    client.post(reverse("measure_plan_start", args=[finalized.slug, "kirov"]), {"proposal": "1"})
    plan = MeasurePlan.objects.get(campaign=finalized, municipality=world.municipality)
    first, second = plan.measures.order_by("order")[:2]
    edited = client.post(
        reverse("measure_edit", args=[finalized.slug, "kirov", first.pk]),
        {
            "title": "Семинар для руководителей школ",
            "criteria": ["1.1.1", "1.2.1"],
            "responsible": "Петров П. П.",
            "due": (TODAY + timedelta(days=60)).isoformat(),
            "expected_result": "Проведён семинар",
            "indicator": "Доля школ, направивших участников",
        },
    )
    added = client.post(
        reverse("measure_add", args=[finalized.slug, "kirov"]),
        {
            **{k: getattr(_input(finalized), k) for k in ("title", "responsible", "expected_result", "indicator")},
            "criteria": ["2.1.3"],
            "due": (TODAY + timedelta(days=30)).isoformat(),
        },
    )
    client.post(reverse("measure_remove", args=[finalized.slug, "kirov", second.pk]))
    client.post(reverse("measure_plan_submit", args=[finalized.slug, "kirov"]))

    assert page.status_code == 200 and b"data-proposal" in page.content
    assert edited.status_code == added.status_code == 302
    plan.refresh_from_db()
    assert plan.status == MeasurePlan.Status.SUBMITTED
    live = list(plan.measures.filter(is_removed=False).order_by("order"))
    assert len(live) == measures.PROPOSED  # eight proposed, one removed, one added
    assert live[0].title == "Семинар для руководителей школ"
    assert sorted(c.code for c in live[0].criteria.all()) == ["1.1.1", "1.2.1"]
    assert Measure.objects.get(pk=second.pk).is_removed  # hidden, never deleted
    assert list(plan.changes.values_list("old", "new")) == [("", "draft"), ("draft", "submitted")]
    notice = Notification.objects.get(user=world.users["coordinator"], kind=Notification.Kind.SUBMITTED)
    assert notice.path == base


def test_the_coordinator_returns_with_comments_and_approves_the_resubmitted_plan_with_history_and_notices(
    empty_plan, world, client
):
    _add(empty_plan, world)
    organizer, coordinator = world.users["organizer"], world.users["coordinator"]
    measures.plan_submit(plan=empty_plan, by=organizer, access=_access(organizer))
    client.force_login(coordinator)
    slug = empty_plan.campaign.slug

    refused = client.post(reverse("measure_plan_return", args=[slug, "kirov"]), {"reason": "  "})
    client.post(reverse("measure_plan_return", args=[slug, "kirov"]), {"reason": "Уточните сроки"})
    measures.plan_submit(plan=empty_plan, by=organizer, access=_access(organizer))
    client.post(reverse("measure_plan_approve", args=[slug, "kirov"]))

    assert refused.status_code == 302
    empty_plan.refresh_from_db()
    assert empty_plan.status == MeasurePlan.Status.APPROVED and empty_plan.decided_by == coordinator
    assert list(empty_plan.changes.values_list("old", "new", "reason")) == [
        ("", "draft", ""),
        ("draft", "submitted", ""),
        ("submitted", "returned", "Уточните сроки"),
        ("returned", "submitted", ""),
        ("submitted", "approved", ""),
    ]
    returned = Notification.objects.filter(kind=Notification.Kind.RETURNED, body__contains="Уточните сроки")
    assert {n.user for n in returned} == {organizer, world.users["deputy"]}
    assert Notification.objects.filter(user=organizer, kind=Notification.Kind.REVIEW).count() == 1
    assert Notification.objects.filter(user=coordinator, kind=Notification.Kind.SUBMITTED).count() == 2


def test_only_the_region_s_coordinator_approves_and_the_organizer_cannot_approve_their_own(empty_plan, world, client):
    _add(empty_plan, world)
    measures.plan_submit(plan=empty_plan, by=world.users["organizer"], access=_access(world.users["organizer"]))
    client.force_login(world.users["organizer"])

    response = client.post(reverse("measure_plan_approve", args=[empty_plan.campaign.slug, "kirov"]))

    assert response.status_code == 403
    assert MeasurePlan.objects.get(pk=empty_plan.pk).status == MeasurePlan.Status.SUBMITTED


# --- bad input: a clear message, nothing half-saved -----------------------------------------------------------------


def _state():
    return (
        list(Measure.objects.order_by("pk").values_list("title", "due_on", "is_removed", "status")),
        list(Measure.criteria.through.objects.order_by("pk").values_list("measure_id", "criterion_id")),
        list(MeasurePlan.objects.values_list("status")),
        MeasurePlanChange.objects.count(),
        MeasureProgress.objects.count(),
    )


BAD_MEASURES = {
    "no criteria": ({"criteria": []}, "criteria", "at least one criterion"),
    "unknown criterion": ({"criteria": ["9.9.9"]}, "criteria", "not a criterion of the methodology"),
    "due before the plan": ({"due": TODAY - timedelta(days=1)}, "due", "before the plan"),
    "due as garbage": ({"due": "31.02.2021"}, "due", "as a date"),
    "due far away": ({"due": TODAY + timedelta(days=365 * 4)}, "due", "years after the plan"),
    "no title": ({"title": "  "}, "title", "title"),
    "long title": ({"title": "т" * 301}, "title", "longer than 300"),
    "long responsible": ({"responsible": "т" * 201}, "responsible", "longer than 200"),
    "long expected result": ({"expected_result": "т" * 2001}, "expected_result", "longer than 2000"),
    "long indicator": ({"indicator": "т" * 1001}, "indicator", "longer than 1000"),
    "no responsible": ({"responsible": ""}, "responsible", "responsible"),
}


@pytest.mark.parametrize("case", BAD_MEASURES)
def test_a_bad_measure_is_refused_with_a_message_naming_the_field_and_nothing_is_saved(case, empty_plan, world):
    changes, field, words = BAD_MEASURES[case]
    measure = _add(empty_plan, world)
    before = _state()

    with translation.override("en"), pytest.raises(MeasureError) as added:
        _add(empty_plan, world, **changes)
    with translation.override("en"), pytest.raises(MeasureError) as edited:
        measures.measure_edit(
            measure=measure,
            data=_input(empty_plan.campaign, **changes),
            by=world.users["organizer"],
            access=_access(world.users["organizer"]),
        )

    assert set(added.value.errors) == set(edited.value.errors) == {field}
    assert words in added.value.errors[field] and words in added.value.message
    assert _state() == before


def test_a_criterion_of_another_edition_of_the_methodology_is_refused(empty_plan, world):
    later, _ = methodology_import_file(path=settings.BASE_DIR / "fixtures" / "methodology_2026.json")
    foreign = Criterion.objects.select_related("mechanism").get(mechanism__methodology=later, code="1.1.1")
    before = _state()

    with translation.override("en"), pytest.raises(MeasureError) as refused:
        _add(empty_plan, world, criteria=[foreign])

    assert "another edition of the methodology" in refused.value.errors["criteria"]
    assert _state() == before


def test_a_measure_cannot_be_due_after_the_next_campaign_s_data_collection_starts(empty_plan, world, methodology):
    follow_up = _follow_up(world, methodology, collection_in=60)
    start = follow_up.stage_dates[Stage.DATA_COLLECTION].starts_on
    before = _state()

    with translation.override("en"), pytest.raises(MeasureError) as refused:
        _add(empty_plan, world, due=start + timedelta(days=1))
    on_the_day = _add(empty_plan, world, due=start)

    assert "start of the data collection of «Повторная оценка»" in refused.value.errors["due"]
    assert on_the_day.due_on == start and len(_state()[0]) == len(before[0]) + 1


def test_a_plan_whose_measure_became_late_for_a_campaign_announced_since_is_not_submitted(
    empty_plan, world, methodology
):
    _add(empty_plan, world, due=TODAY + timedelta(days=200))
    _follow_up(world, methodology, collection_in=100)
    before = _state()

    with translation.override("en"), pytest.raises(MeasureError) as refused:
        measures.plan_submit(plan=empty_plan, by=world.users["organizer"], access=_access(world.users["organizer"]))

    assert "start of the data collection" in refused.value.message
    assert _state() == before


def test_a_bad_measure_posted_comes_back_as_typed_with_400_and_nothing_saved(empty_plan, world, client):
    client.force_login(world.users["organizer"])
    before = _state()

    response = client.post(
        reverse("measure_add", args=[empty_plan.campaign.slug, "kirov"]),
        {"title": "Мой черновик мероприятия", "criteria": [], "responsible": "Иванова", "due": "2020-01-01"},
    )

    assert response.status_code == 400
    assert "Мой черновик мероприятия" in response.content.decode() and b"is-invalid" in response.content
    assert _state() == before


def test_a_foreign_municipality_s_plan_is_a_404_for_the_organizer_and_refused_to_the_service(finalized, world, client):
    stranger = AppointmentFactory(
        user=UserFactory(username="t-elista"), role=Role.ORGANIZER, municipality=world.other_municipality
    ).user
    plan = measures.plan_start(
        campaign=finalized, municipality=world.other_municipality, by=stranger, access=_access(stranger)
    )
    client.force_login(world.users["organizer"])
    before = _state()

    pages = [
        client.get(reverse("measure_plan", args=[finalized.slug, "elista"])),
        client.post(reverse("measure_add", args=[finalized.slug, "elista"]), {"title": "x"}),
        client.post(reverse("measure_plan_submit", args=[finalized.slug, "elista"])),
    ]
    with pytest.raises(MeasureError):
        _add(plan, world)
    with pytest.raises(MeasureError):
        measures.plan_start(
            campaign=finalized,
            municipality=world.other_municipality,
            by=world.users["organizer"],
            access=_access(world.users["organizer"]),
        )

    assert [p.status_code for p in pages] == [404, 404, 404]
    assert _state() == before


def test_no_plan_before_the_results_are_published_or_final(campaign, world):
    organizer = world.users["organizer"]

    with pytest.raises(MeasureError):  # the test campaign's submissions are not finalized
        measures.plan_start(campaign=campaign, municipality=world.municipality, by=organizer, access=_access(organizer))

    assert not MeasurePlan.objects.exists()


# --- progress during the year ---------------------------------------------------------------------------------------


def test_progress_with_a_link_and_a_file_is_recorded_and_the_file_served_to_whoever_sees_the_plan(
    empty_plan, world, client
):
    measure = _add(empty_plan, world)
    _approved(empty_plan, world)
    client.force_login(world.users["organizer"])
    url = reverse("measure_progress", args=[empty_plan.campaign.slug, "kirov", measure.pk])

    client.post(url, {"status": "in_progress", "comment": "Проект положения готов"})
    response = client.post(
        url,
        {
            "status": "done",
            "comment": "Положение утверждено приказом № 45",
            "links": "https://kirov-edu.example.org/docs/45.pdf\n\nhttps://kirov-edu.example.org/news/1",
            "file": SimpleUploadedFile("приказ 45.pdf", PDF, content_type="application/pdf"),
        },
    )

    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.status == Measure.Status.DONE
    report = measure.progress.order_by("at", "pk").last()
    assert report.links == ["https://kirov-edu.example.org/docs/45.pdf", "https://kirov-edu.example.org/news/1"]
    assert report.original_name == "приказ 45.pdf" and report.sha256
    download = client.get(reverse("measure_file", args=[report.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    page = client.get(reverse("measure_plan", args=[empty_plan.campaign.slug, "kirov"])).content.decode()
    assert "https://kirov-edu.example.org/docs/45.pdf" in page and "приказ 45.pdf" in page


PROGRESS_REFUSED = {
    "internal link": {"status": "in_progress", "links": "http://127.0.0.1/admin"},
    "not a web address": {"status": "in_progress", "links": "javascript:alert(1)"},
    "fake pdf": {"status": "in_progress", "file": "fake"},
    "unknown status": {"status": "finished", "comment": "x"},
    "done without a word": {"status": "done"},
    "nothing new": {"status": "planned"},
    "long comment": {"status": "in_progress", "comment": "т" * 5001},
}


@pytest.mark.parametrize("case", PROGRESS_REFUSED)
def test_bad_progress_is_refused_with_a_message_and_nothing_saved(case, empty_plan, world, client):
    measure = _add(empty_plan, world)
    _approved(empty_plan, world)
    client.force_login(world.users["organizer"])
    data = dict(PROGRESS_REFUSED[case])
    if data.get("file") == "fake":
        data["file"] = SimpleUploadedFile("отчёт.pdf", b"MZ not a pdf", content_type="application/pdf")
    before = _state()

    response = client.post(reverse("measure_progress", args=[empty_plan.campaign.slug, "kirov", measure.pk]), data)

    assert response.status_code == 302
    assert [m.level_tag for m in response.wsgi_request._messages._queued_messages] == ["error"]
    assert _state() == before


def test_progress_waits_for_the_approval(empty_plan, world):
    measure = _add(empty_plan, world)

    with pytest.raises(MeasureError):
        measures.progress_report(
            measure=measure,
            by=world.users["organizer"],
            access=_access(world.users["organizer"]),
            status="done",
            comment="Готово",
        )

    assert not MeasureProgress.objects.exists()


# --- overdue measures -------------------------------------------------------------------------------------------


def test_overdue_measures_are_reminded_once_a_day_and_shown_on_the_dashboards(empty_plan, world, client):
    late = _add(empty_plan, world)
    done = _add(empty_plan, world, title="Сделано")
    _approved(empty_plan, world)
    Measure.objects.filter(pk__in=[late.pk, done.pk]).update(due_on=TODAY - timedelta(days=3))
    Measure.objects.filter(pk=done.pk).update(status=Measure.Status.DONE)
    path = reverse("measure_plan", args=[empty_plan.campaign.slug, "kirov"])

    first = measures.overdue_reminders_send(today=TODAY)
    again = measures.overdue_reminders_send(today=TODAY)
    organizer_steps = measure_selectors.measure_steps(_access(world.users["organizer"]), TODAY)
    coordinator_steps = measure_selectors.measure_steps(_access(world.users["coordinator"]), TODAY)
    client.force_login(world.users["organizer"])
    home = client.get(reverse("home"))

    assert (first, again) == (1, 0)
    reminded = Notification.objects.filter(kind=Notification.Kind.DEADLINE, path=path)
    assert {n.user for n in reminded} == {world.users["organizer"], world.users["deputy"]}
    assert "Утвердить положение" in reminded[0].body and "Сделано" not in reminded[0].body
    assert [(s.tone, s.url) for s in organizer_steps] == [("danger", path)]
    assert [(s.tone, s.url) for s in coordinator_steps] == [
        ("danger", reverse("region_plans", args=[empty_plan.campaign.slug, world.region.code]))
    ]
    assert home.status_code == 200 and path in home.content.decode()
    page = client.get(path).content.decode()
    assert page.count("data-overdue") == 1


def test_send_reminders_reports_the_plans_reminded(empty_plan, world):
    _add(empty_plan, world)
    _approved(empty_plan, world)
    Measure.objects.update(due_on=TODAY - timedelta(days=1))
    out = StringIO()

    call_command("send_reminders", stdout=out)

    assert "Планы мероприятий с просроченными мероприятиями: 1" in out.getvalue()


def test_the_dashboards_ask_to_draft_and_to_approve(finalized, world):
    organizer, coordinator = world.users["organizer"], world.users["coordinator"]

    draft_steps = measure_selectors.measure_steps(_access(organizer), TODAY)
    plan = measures.plan_start(
        campaign=finalized, municipality=world.municipality, by=organizer, access=_access(organizer)
    )
    measures.plan_submit(plan=plan, by=organizer, access=_access(organizer))
    approve_steps = measure_selectors.measure_steps(_access(coordinator), TODAY)

    url = reverse("measure_plan", args=[finalized.slug, "kirov"])
    assert [(s.url, s.icon) for s in draft_steps] == [(url, "list-check")]
    assert [(s.url, s.tone) for s in approve_steps] == [
        (reverse("region_plans", args=[finalized.slug, world.region.code]), "warning")
    ]


# --- locking -----------------------------------------------------------------------------------------------------


def test_the_plan_locks_when_the_next_campaign_collects_but_stays_open_where_the_municipality_does_not_take_part(
    empty_plan, world, methodology, client
):
    measure = _add(empty_plan, world)
    kumeny_organizer = AppointmentFactory(
        user=UserFactory(username="t-kumeny"), role=Role.ORGANIZER, municipality=world.sibling
    ).user
    kumeny = measures.plan_start(
        campaign=empty_plan.campaign, municipality=world.sibling, by=kumeny_organizer, access=_access(kumeny_organizer)
    )
    _follow_up(world, methodology, collection_in=-1, members=[world.municipality])
    client.force_login(world.users["organizer"])
    before = _state()

    with translation.override("en"), pytest.raises(MeasureError) as edited:
        measures.measure_edit(
            measure=measure,
            data=_input(empty_plan.campaign),
            by=world.users["organizer"],
            access=_access(world.users["organizer"]),
        )
    posted = client.post(reverse("measure_plan_submit", args=[empty_plan.campaign.slug, "kirov"]))
    page = client.get(reverse("measure_plan", args=[empty_plan.campaign.slug, "kirov"])).content.decode()
    measures.plan_submit(plan=kumeny, by=kumeny_organizer, access=_access(kumeny_organizer))
    measures.plan_approve(plan=kumeny, by=world.users["coordinator"], access=_access(world.users["coordinator"]))

    assert "read-only" in edited.value.message and "«Повторная оценка»" in edited.value.message
    assert posted.status_code == 302
    assert _state()[:2] == before[:2] and MeasurePlan.objects.get(pk=empty_plan.pk).status == "draft"
    assert "data-locked" in page and reverse("measure_add", args=[empty_plan.campaign.slug, "kirov"]) not in page
    assert MeasurePlan.objects.get(pk=kumeny.pk).status == MeasurePlan.Status.APPROVED


def test_progress_on_a_locked_plan_is_refused(empty_plan, world, methodology):
    measure = _add(empty_plan, world)
    _approved(empty_plan, world)
    _follow_up(world, methodology, collection_in=0)

    with pytest.raises(MeasureError):
        measures.progress_report(
            measure=measure,
            by=world.users["organizer"],
            access=_access(world.users["organizer"]),
            status="done",
            comment="Поздно",
        )

    assert not MeasureProgress.objects.exists()


# --- the effect -------------------------------------------------------------------------------------------------


@pytest.fixture
def measured(empty_plan, world, methodology):
    """The organizer's approved plan: three measures done (on four criteria: three gained 2, 1 and 3 points, one
    nothing), one in progress (its criterion gained too, but it is not done); the follow-up campaign finalized."""
    campaign = empty_plan.campaign
    a, b, c, d, e = _with_room(campaign, world.municipality, 5)
    first = _add(empty_plan, world, criteria=[a])
    second = _add(empty_plan, world, criteria=[b, c])
    third = _add(empty_plan, world, criteria=[d])
    fourth = _add(empty_plan, world, criteria=[e])
    _approved(empty_plan, world)
    Measure.objects.filter(pk__in=[first.pk, second.pk, fourth.pk]).update(status=Measure.Status.DONE)
    Measure.objects.filter(pk=third.pk).update(status=Measure.Status.IN_PROGRESS)
    follow_up = _follow_up(world, methodology, collection_in=-40, results_in=-1)
    _finalize(follow_up, world, {"kirov": {a: 2, b: 1, d: 3, e: 3}})
    return empty_plan, follow_up, (a, b, c, d, e)


def test_the_effect_shows_before_and_after_per_criterion_and_the_summary(measured, world):
    plan, follow_up, (a, b, c, d, e) = measured

    row = measure_selectors.plan_row(plan, _access(world.users["ministry"]))
    with translation.override("en"):
        sentence = row.summary.sentence()

    assert row.measured.campaign == follow_up and row.locked
    effects = {e.code: (e.before, e.after, e.delta) for m in row.measures for e in m.effects}
    before = measures.final_points_of(plan.campaign, world.municipality)
    assert effects[a] == (before.get(a, 0), before.get(a, 0) + 2, 2)
    assert effects[c] == (before.get(c, 0), before.get(c, 0), 0)
    assert (row.summary.criteria, row.summary.gained, row.summary.not_gained) == (4, 3, 1)
    assert sentence == "Measures were done on 4 criteria; 3 of them gained points, on average +2.0; 1 did not."


def test_the_summary_speaks_plurals_and_says_what_has_no_counterpart():
    summary = measure_selectors.EffectSummary

    with translation.override("en"):
        one = summary(criteria=1, compared=1, gained=1, gain=3, municipalities=1).sentence()
        none = summary(criteria=2, compared=1, gained=0, municipalities=1).sentence()
        nothing = summary().sentence()

    assert one == "Measures were done on 1 criterion; 1 of them gained points, on average +3.0."
    assert (
        none
        == "Measures were done on 2 criteria; none of them gained points; 1 has no counterpart in the next campaign."
    )
    assert nothing == "No measure is marked done yet: there is nothing to compare."
    assert (summary(3, 3, 2, 5, 1) + summary(2, 2, 1, 1, 1)).mean_gain == 2  # (5 + 1) / 3 criteria that gained


def test_a_criterion_without_counterpart_in_the_next_edition_says_so_instead_of_a_number(empty_plan, world):
    later, _ = methodology_import_file(path=settings.BASE_DIR / "fixtures" / "methodology_2026.json")
    campaign = empty_plan.campaign
    a, b = _with_room(campaign, world.municipality, 2)
    measure = _add(empty_plan, world, criteria=[a, b])
    _approved(empty_plan, world)
    Measure.objects.filter(pk=measure.pk).update(status=Measure.Status.DONE)
    CriterionMapping.objects.create(source=Criterion.objects.get(mechanism__methodology=campaign.methodology, code=b))
    follow_up = _follow_up(world, later, collection_in=-40, results_in=-1)
    _finalize(follow_up, world, {"kirov": {a: 1}})

    row = measure_selectors.plan_row(empty_plan, _access(world.users["ministry"]))

    effects = {e.code: e for e in row.measures[0].effects}
    assert effects[a].delta == 1 and effects[b].after is None and effects[b].why
    assert (row.summary.criteria, row.summary.compared, row.summary.not_comparable) == (2, 1, 1)


def test_the_effect_appears_on_the_plan_the_next_scorecard_the_overview_the_regional_report_and_the_api(
    measured, world, client
):
    plan, follow_up, codes = measured
    client.force_login(world.users["ministry"])

    pages = {
        "plan": client.get(reverse("measure_plan", args=[plan.campaign.slug, "kirov"])),
        "scorecard": client.get(reverse("scorecard", args=[follow_up.slug, "kirov"])),
        "overview": client.get(reverse("ministry_dashboard", args=[follow_up.slug])),
        "region": client.get(reverse("region_plans", args=[plan.campaign.slug, world.region.code])),
        "national": client.get(reverse("national_plans", args=[plan.campaign.slug]) + "?region=43"),
    }
    report = region_html(region_report(follow_up, world.region))
    api = client.get(reverse("api-measures", args=[plan.campaign.slug, "kirov"])).json()

    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    for name in ("plan", "scorecard", "region"):
        assert b"data-effect-summary" in pages[name].content, name
    assert (
        b"data-plans-overview" in pages["overview"].content
        and "Кировская область" in pages["overview"].content.decode()
    )
    assert b"data-plans-table" in pages["national"].content
    assert "Повторная оценка" in report and str(measure_selectors.CAVEAT) in report
    first = api["results"][0]
    assert first["effect"]["campaign"] == follow_up.slug
    assert first["effect"]["criteria"][0]["after"] - first["effect"]["criteria"][0]["before"] == 2


def test_not_measured_yet_before_the_next_campaign_is_final(empty_plan, world, methodology, client):
    _add(empty_plan, world)
    _approved(empty_plan, world)
    _follow_up(world, methodology, collection_in=30)
    client.force_login(world.users["organizer"])

    page = client.get(reverse("measure_plan", args=[empty_plan.campaign.slug, "kirov"])).content.decode()
    api = client.get(reverse("api-measures", args=[empty_plan.campaign.slug, "kirov"])).json()

    assert "data-effect-pending" in page and "data-effect-summary" not in page
    assert api["results"][0]["effect"] is None and api["plan"] == {"status": "approved", "locked": False}


# --- the organizer's own cycle in the next form ---------------------------------------------------------------------


def test_the_next_form_shows_the_measures_beside_the_criteria_they_addressed(empty_plan, world, methodology, client):
    (a,) = _with_room(empty_plan.campaign, world.municipality, 1)
    measure = _add(empty_plan, world, criteria=[a], title="Циклограмма сбора данных")
    _approved(empty_plan, world)
    measures.progress_report(
        measure=measure,
        by=world.users["organizer"],
        access=_access(world.users["organizer"]),
        status="done",
        links_text="https://kirov-edu.example.org/cyclogram",
    )
    follow_up = _follow_up(world, methodology, collection_in=-1)
    client.force_login(world.users["organizer"])
    mechanism = a.rsplit(".", 1)[0]

    page = client.get(reverse("submission_mechanism", args=[follow_up.slug, "kirov", mechanism])).content.decode()
    other = [m for m in ("1.1", "2.5") if m != mechanism][0]
    elsewhere = client.get(reverse("submission_mechanism", args=[follow_up.slug, "kirov", other])).content.decode()

    block = page[page.index(f'id="c-{a}"') :]
    block = block[: block.index("</section>")]
    assert "data-earlier-measures" in block and "Циклограмма сбора данных" in block
    assert "https://kirov-edu.example.org/cyclogram" in block
    assert "Циклограмма сбора данных" not in elsewhere


# --- the API ------------------------------------------------------------------------------------------------------


def test_the_api_gives_each_measure_in_the_documented_shape(empty_plan, world, client):
    measure = _add(empty_plan, world, criteria=["1.1.1", "1.2.2"])
    client.force_login(world.users["coordinator"])

    body = client.get(reverse("api-measures", args=[empty_plan.campaign.slug, "kirov"])).json()
    none = client.get(reverse("api-measures", args=[empty_plan.campaign.slug, "kumeny"])).json()

    assert body == {
        "plan": {"status": "draft", "locked": False},
        "results": [
            {
                "id": measure.pk,
                "title": measure.title,
                "criteria": ["1.1.1", "1.2.2"],
                "responsible": measure.responsible,
                "due": measure.due_on.isoformat(),
                "status": "planned",
                "expected_result": measure.expected_result,
                "indicator": measure.indicator,
                "evidence": [],
                "effect": None,
            }
        ],
    }
    assert none == {"plan": None, "results": []}


def test_the_api_is_scoped_like_the_card(empty_plan, world, client):
    client.force_login(world.users["organizer"])

    own = client.get(reverse("api-measures", args=[empty_plan.campaign.slug, "kirov"]))
    other = client.get(reverse("api-measures", args=[empty_plan.campaign.slug, "elista"]))
    client.logout()
    anonymous = client.get(reverse("api-measures", args=[empty_plan.campaign.slug, "kirov"]))

    assert (own.status_code, other.status_code, anonymous.status_code) == (200, 404, 401)


# --- a fixed number of queries --------------------------------------------------------------------------------------


def _more_plans(campaign, follow_up, world, n, start):
    """`n` more municipalities of the world's region with final results in both campaigns and an approved plan of two
    measures answering the first, one done, each with a progress report."""
    specs = specs_for(campaign.methodology_id)
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology)}
    operator = world.users["operator"]
    for i in range(start, start + n):
        municipality = MunicipalityFactory(region=world.region, code=f"m-{i}", name=f"Район {i}")
        for number, held in enumerate((campaign, follow_up)):
            Participation.objects.create(campaign=held, municipality=municipality)
            submission = Submission.objects.create(campaign=held, municipality=municipality, status="finalized")
            Score.objects.bulk_create(
                Score(submission=submission, criterion=criteria[code], round="final", points=p, by=operator)
                for code, p in scoring.distribute(100 + i + 20 * number, specs).items()
            )
        plan = MeasurePlan.objects.create(
            campaign=campaign, municipality=municipality, status="approved", created_by=operator
        )
        for order, code in enumerate(["1.1.1", "2.1.2"]):
            measure = Measure.objects.create(
                plan=plan,
                title=f"Мероприятие {order}",
                responsible="x",
                due_on=TODAY - timedelta(days=order),
                expected_result="x",
                indicator="x",
                order=order,
                status="done" if order else "planned",
            )
            measure.criteria.set([criteria[code]])
            MeasureProgress.objects.create(
                measure=measure, status=measure.status, links=["https://e.org/"], by=operator
            )
    results_compute(campaign=campaign)
    results_compute(campaign=follow_up)


@pytest.mark.parametrize("page", ["region", "national"])
def test_the_region_and_national_pages_read_a_fixed_number_of_queries(page, finalized, world, client, methodology):
    follow_up = _follow_up(world, methodology, collection_in=-40, results_in=-1)
    client.force_login(world.users["ministry"])
    url = {
        "region": reverse("region_plans", args=[finalized.slug, world.region.code]),
        "national": reverse("national_plans", args=[finalized.slug]) + f"?region={world.region.code}",
    }[page]

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200 and b"data-effect-summary" in response.content or page == "national"
        return len(queries)

    _more_plans(finalized, follow_up, world, 2, 0)
    few = count()
    _more_plans(finalized, follow_up, world, 6, 10)
    many = count()

    assert few == many


def test_the_overview_keeps_the_country_s_summary_until_the_results_change(measured, world, client):
    plan, follow_up, (a, b, c, d, e) = measured
    client.force_login(world.users["ministry"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the figures are read from the English sentence
    url = reverse("ministry_dashboard", args=[follow_up.slug])

    before = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as again:
        client.get(url)
    # An appeal upheld in the follow-up: criterion c, unchanged so far, gains a point.
    Score.objects.filter(
        submission__campaign=follow_up, submission__municipality=world.municipality, criterion__code=c
    ).update(points=F("points") + 1)
    results_compute(campaign=follow_up)
    after = client.get(url).content.decode()

    assert not any("assessment_measureprogress" in q["sql"] for q in again.captured_queries)  # served from the cache
    assert "3 of them gained points" in before and "4 of them gained points" in after
