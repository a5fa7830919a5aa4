"""`manage.py generate_national` at 1 % of the national size: the counts, a finalized campaign with published
results, valid survey answers, the same rows for the same seed, and the refusals."""

import hashlib
import io
from collections import Counter
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q, Sum

from assessment.models import (
    Answer,
    Campaign,
    EvidenceLink,
    MechanismAnalysis,
    Result,
    ReviewAssignment,
    Score,
    Stage,
    StatusChange,
    Submission,
)
from municipalities.models import Appointment, Municipality, Region, Role, School
from surveys import answers as A
from surveys.models import PUBLICATION_STEP, Invitation, Question, Response, ResponseAnswer

TODAY = date(2026, 11, 20)


def generate(**options):
    out = io.StringIO()
    call_command("generate_national", stdout=out, **{"scale": 0.01, "today": TODAY, **options})
    return out.getvalue()


def digest(queryset, *fields):
    rows = sorted(repr(row) for row in queryset.values_list(*fields))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def fingerprint(slug):
    """Every generated value that is not a primary key or a moment of the run, by natural keys."""
    generated = Municipality.objects.filter(code__startswith="nat-")
    people = get_user_model().objects.filter(username__startswith="nat-")
    territory = {
        "regions": digest(Region.objects.all(), "code", "name"),
        "municipalities": digest(
            generated, "code", "name", "kind", "region__code", "authority_name", "website", "email", "phone"
        ),
        "schools": digest(
            School.objects.filter(municipality__in=generated), "municipality__code", "name", "short_name", "email"
        ),  # fmt: skip
        "users": digest(people, "username", "first_name", "last_name", "email", "is_staff"),
        "appointments": digest(
            Appointment.objects.filter(user__in=people),
            "user__username",
            "role",
            "region__code",
            "municipality__code",
            "position",
        ),  # fmt: skip
    }
    campaign = Campaign.objects.get(slug=slug)
    m = "submission__municipality__code"
    of_campaign = {"submission__campaign": campaign}
    responses = Response.objects.filter(campaign=campaign)
    data = {
        "campaign": digest(Campaign.objects.filter(pk=campaign.pk), "title", "year", "methodology__code"),
        "stages": digest(campaign.stages.all(), "stage", "starts_on", "ends_on"),
        "submissions": digest(campaign.submissions.all(), "municipality__code", "status", "submitted_at"),
        "answers": digest(
            Answer.objects.filter(**of_campaign), m, "criterion__code", "description", "updated_by__username"
        ),  # fmt: skip
        "links": digest(
            EvidenceLink.objects.filter(answer__submission__campaign=campaign),
            "answer__submission__municipality__code",
            "answer__criterion__code",
            "url",
            "position",
            "state",
        ),  # fmt: skip
        "analyses": digest(
            MechanismAnalysis.objects.filter(**of_campaign), m, "mechanism__code", "conclusions", "problems", "measures"
        ),  # fmt: skip
        "scores": digest(
            Score.objects.filter(**of_campaign),
            m,
            "criterion__code",
            "round",
            "points",
            "comment",
            "by__username",
            "at",
            "previous__round",
            "previous__criterion__code",
        ),  # fmt: skip
        "assignments": digest(ReviewAssignment.objects.filter(**of_campaign), m, "expert__username", "due_on"),
        "history": digest(StatusChange.objects.filter(**of_campaign), m, "old", "new", "by__username", "at"),
        "results": digest(
            Result.objects.filter(campaign=campaign),
            "municipality__code",
            "total",
            "share",
            "level",
            "mechanisms",
            "rank_region",
            "rank_country",
        ),  # fmt: skip
        "invitations": digest(
            Invitation.objects.filter(campaign=campaign),
            "school__municipality__code",
            "school__name",
            "role",
            "token",
            "opened",
            "completed",
            "emailed_at",
            "reminded_at",
        ),  # fmt: skip
        "responses": digest(responses, "id", "municipality__code", "role", "release", "pending"),
        "response_answers": digest(
            ResponseAnswer.objects.filter(response__in=responses),
            "response_id",
            "question__code",
            "value",
            "number",
            "text",
        ),  # fmt: skip
    }
    return territory, data


def test_one_percent_of_the_country(db):
    output = generate()

    campaign = Campaign.objects.get(slug="national")
    generated = Municipality.objects.filter(code__startswith="nat-")
    assert Region.objects.count() == 89
    assert generated.count() == 24
    assert generated.values("region").distinct().count() == 24  # fewer municipalities than regions: one each
    assert School.objects.filter(municipality__in=generated).count() == 400
    assert Invitation.objects.filter(campaign=campaign).count() == 1200
    assert 800 <= Response.objects.filter(campaign=campaign).count() <= 1000
    roles = Counter(Appointment.objects.filter(user__username__startswith="nat-").values_list("role", flat=True))
    assert roles == {Role.COORDINATOR: 89, Role.ORGANIZER: 24, Role.EXPERT: 2, Role.OPERATOR: 1, Role.MINISTRY: 1}
    assert (
        get_user_model().objects.get(username="nat-organizer-" + generated.first().code[4:]).check_password("demo12345")
    )
    assert "анкетирование:" in output and "ответы анкет:" in output and "«national» создана" in output


def test_every_submission_is_finalized_with_81_scores_in_each_round_and_a_result(db):
    generate()

    campaign = Campaign.objects.get(slug="national")
    assert campaign.results_published_on(TODAY)
    submissions = campaign.submissions.annotate(
        pre=Count("scores", filter=Q(scores__round="prescore", scores__is_current=True)),
        expert=Count("scores", filter=Q(scores__round="expert", scores__is_current=True)),
        final=Count("scores", filter=Q(scores__round="final", scores__is_current=True)),
        final_points=Sum("scores__points", filter=Q(scores__round="final")),
    )
    assert {(s.status, s.pre, s.expert, s.final) for s in submissions} == {(Submission.Status.FINALIZED, 81, 81, 81)}
    results = {r.submission_id: r for r in Result.objects.filter(campaign=campaign)}
    assert len(results) == 24
    assert all(results[s.pk].total == s.final_points <= 555 for s in submissions)
    assert sorted(r.rank_country for r in results.values())[0] == 1
    assert Answer.objects.filter(submission__campaign=campaign).count() == 24 * 81
    links = EvidenceLink.objects.filter(answer__submission__campaign=campaign)
    assert links.count() > 24 * 81 * 0.6
    assert not links.exclude(url__startswith="https://nat-").exists()
    assert StatusChange.objects.filter(submission__campaign=campaign, new="finalized").count() == 24
    # The chain of a point as the review makes it: final ← expert ← pre-score, a reason wherever they differ.
    experts = Score.objects.filter(submission__campaign=campaign, round="expert").select_related("previous")
    assert all(s.previous.round == "prescore" and s.previous.criterion_id == s.criterion_id for s in experts)
    assert all(s.comment for s in experts if s.points != s.previous.points)
    assert not Score.objects.filter(submission__campaign=campaign, round="final").exclude(previous__round="expert")
    # Each expert reviews a municipality of another region.
    for a in ReviewAssignment.objects.filter(submission__campaign=campaign).select_related("submission__municipality"):
        home = Appointment.objects.get(user=a.expert_id, role=Role.EXPERT).region_id
        assert home != a.submission.municipality.region_id
        assert set(Score.objects.filter(submission=a.submission, round="expert").values_list("by", flat=True)) == {
            a.expert_id
        }


def test_survey_answers_are_valid_and_anonymous(db):
    generate()

    campaign = Campaign.objects.get(slug="national")
    completed = Invitation.objects.filter(campaign=campaign, completed=True)
    responses = Response.objects.filter(campaign=campaign)
    by_group = Counter(completed.values_list("school__municipality_id", "role"))
    assert by_group == Counter(responses.values_list("municipality_id", "role"))
    assert {f.name for f in Response._meta.get_fields()} & {"invitation", "token", "school", "submitted_on"} == set()
    # A closed survey: every group of at least PUBLICATION_STEP is published as one step, smaller ones wait.
    published = Counter(responses.filter(release=1).values_list("municipality_id", "role"))
    assert published == Counter({group: n for group, n in by_group.items() if n >= PUBLICATION_STEP})
    assert not responses.filter(release__gt=1).exists()
    questions = {}
    for q in Question.objects.filter(questionnaire__methodology=campaign.methodology).order_by("order"):
        questions.setdefault(q.questionnaire_id, []).append(q)
    given = {}
    for response_id, code, kind, value, number, text in (
        ResponseAnswer.objects.filter(response__campaign=campaign)
        .order_by("pk")
        .values_list("response_id", "question__code", "question__kind", "value", "number", "text")
    ):
        _put(given.setdefault(response_id, {}), code, kind, value, number, text)
    by_id = {q.pk: q for qs in questions.values() for q in qs}
    for response in responses.filter(release__isnull=True):  # waiting: the answers are kept in the response
        assert not ResponseAnswer.objects.filter(response=response).exists()
        for question_id, value, number, text in response.pending:
            q = by_id[question_id]
            _put(given.setdefault(response.pk, {}), q.code, q.kind, value, number, text)
    for response in responses:
        qs, answers = questions[response.questionnaire_id], given[response.pk]
        assert response.questionnaire.role == response.role
        by_code = {q.code: q for q in qs}
        assert all(A.parse_stored(by_code[code], value) == (value, None) for code, value in answers.items())
        assert A.visible_answers(qs, answers) == answers
        assert A.missing(qs, answers) == []


def _put(answers, code, kind, value, number, text):
    if kind == A.MULTIPLE:
        answers.setdefault(code, []).append(value)
    else:
        answers[code] = number if kind == A.NUMBER else text if kind == A.TEXT else value


def test_the_same_seed_gives_the_same_rows_and_a_taken_slug_is_refused(db):
    with transaction.atomic():
        generate()
        first = fingerprint("national")
        transaction.set_rollback(True)  # the second run starts from an empty country again
    generate()
    second = fingerprint("national")

    with pytest.raises(CommandError, match="Кампания «national» уже есть"):
        generate()
    with pytest.raises(CommandError, match="в другом масштабе"):
        generate(scale=0.02, slug="larger")
    generate(replace=True)  # the campaign again, on the territory made by the run before
    replaced = fingerprint("national")
    generate(slug="other", seed=7)
    other = fingerprint("other")

    assert first == second
    assert replaced == second
    assert other[0] == second[0]  # the same territory, reused
    assert all(other[1][part] != second[1][part] for part in ("scores", "answers", "invitations", "responses"))
    assert Campaign.objects.filter(slug__in=["national", "other"]).count() == 2


def test_a_previous_campaign_with_plans_of_measures_answers_its_results(db):
    from assessment.dynamics import changes, standings, succession_of
    from assessment.models import Measure, MeasurePlan, MeasureProgress

    generate(scale=0.02)

    campaign = Campaign.objects.get(slug="national")
    previous = campaign.previous
    assert (previous.slug, previous.year) == ("national-2023", 2023)
    assert previous.stages.get(stage=Stage.RESULTS).starts_on < campaign.stages.get(stage=Stage.RESOURCES).starts_on
    n = Municipality.objects.filter(code__startswith="nat-").count()
    assert Submission.objects.filter(campaign=previous, status=Submission.Status.FINALIZED).count() == n
    assert Result.objects.filter(campaign=previous).count() == n
    assert Score.objects.filter(submission__campaign=previous, round="final", is_current=True).count() == n * 81

    # Most municipalities did better than three years before, not all: the ranking has both kinds of change.
    found = changes(succession_of(campaign), standings(campaign))
    deltas = [change.total for _was, change in found.values()]
    assert len(found) == n
    assert sum(d > 0 for d in deltas) > n / 2 and any(d < 0 for d in deltas)

    plans = MeasurePlan.objects.filter(campaign=previous)
    assert 0.5 * n < plans.count() < 0.9 * n
    assert plans.filter(status=MeasurePlan.Status.APPROVED).count() > plans.count() / 2
    measures = Measure.objects.filter(plan__campaign=previous)
    assert measures.count() >= 2 * plans.count() - plans.filter(measures=None).count() * 2
    horizon = campaign.stages.get(stage=Stage.DATA_COLLECTION).starts_on
    for measure in measures.prefetch_related("criteria").select_related("plan"):
        assert measure.due_on < horizon
        assert measure.plan.created_at.date() < measure.due_on
        assert [c.mechanism.methodology_id for c in measure.criteria.all()] == [previous.methodology_id]
    # Only approved plans were carried out; what was done has its report.
    assert not measures.exclude(plan__status=MeasurePlan.Status.APPROVED).exclude(status="planned").exists()
    done = measures.filter(status="done")
    assert done.exists() and MeasureProgress.objects.filter(measure__in=done).count() == done.count()


def test_the_ranking_with_changes_asks_as_many_queries_for_ten_municipalities_as_for_a_hundred(db):
    """Generated twice in one test, the first rolled back: the query counts of the ranking page and of its JSON,
    changes since the previous campaign included, do not grow with the number of municipalities."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    class Rollback(Exception):
        pass

    def counted():
        client = Client()
        client.force_login(get_user_model().objects.get(username="nat-ministry"))
        found = {}
        for name, url in (
            ("page", reverse("ranking", args=["national"])),
            ("json", reverse("api-ranking", args=["national"])),
        ):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            found[name] = len(queries)
        page = client.get(reverse("ranking", args=["national"])).content.decode()
        assert "ranking-compared" in page  # the changes are there
        return found, Municipality.objects.filter(code__startswith="nat-").count()

    with pytest.raises(Rollback), transaction.atomic():
        generate(scale=0.004)
        small, few = counted()
        raise Rollback
    generate(scale=0.04)
    large, many = counted()

    assert few <= 10 and many >= 90
    assert small == large
