"""Each role's home leads with its main job (issue 18, part 1): the ministry's latest published results, the
operator's campaigns under way with what blocks them, the coordinator's laggards and what waits for pre-scoring, the
organizer's form with its deadline and days left, the expert's queue with due dates; in a number of queries that does
not grow with the number of municipalities (here, and on the synthetic national data). And no page links a user to a
page they may not open (part 2): the survey overview and the ranking."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from assessment.models import (
    Campaign,
    Participation,
    ReviewAssignment,
    Stage,
    StatusChange,
    Submission,
)
from assessment.services import campaign_save
from municipalities.home import Due
from municipalities.models import Appointment, Municipality, Role
from tests.factories import AppointmentFactory, UserFactory
from tests.test_dynamics import _grow, followed  # noqa: F401

TODAY = timezone.localdate


def _days(a, b):
    return (TODAY() + timedelta(days=a), TODAY() + timedelta(days=b))


RUNNING = {
    Stage.RESOURCES: _days(-40, -30),
    Stage.CONSULTATION: _days(-35, -20),
    Stage.DATA_COLLECTION: _days(-10, 12),
    Stage.SURVEYS: _days(-5, 20),
    Stage.PRESCORING: _days(13, 25),
    Stage.EXPERT_REVIEW: _days(26, 40),
    Stage.APPEALS: _days(41, 50),
    Stage.RESULTS: _days(60, 400),
}


@pytest.fixture
def running(world, methodology):
    """A campaign collecting data (12 days left) with the world's three municipalities: kirov's form is a draft,
    kumeny's was returned with two criteria to correct, elista's is sent and waits for pre-scoring; kumeny is assigned
    to the expert, due in 30 days."""
    campaign = campaign_save(
        campaign=Campaign(slug="run-2027", title="Кампания 2027", year=2027, methodology=methodology),
        stages=RUNNING,
        municipalities=[world.municipality, world.sibling, world.other_municipality],
        by=world.users["operator"],
    )
    operator = world.users["operator"]
    kumeny = campaign.submissions.get(municipality=world.sibling)
    Submission.objects.filter(pk=kumeny.pk).update(status=Submission.Status.RETURNED)
    StatusChange.objects.create(
        submission=kumeny,
        old="submitted",
        new="returned",
        by=operator,
        criteria=["1.1.2", "2.3.4"],
        reason="Нет ссылки",
    )
    campaign.submissions.filter(municipality=world.other_municipality).update(
        status=Submission.Status.SUBMITTED, submitted_at=timezone.now()
    )
    ReviewAssignment.objects.create(
        submission=kumeny, expert=world.users["expert"], assigned_by=operator, due_on=TODAY() + timedelta(days=30)
    )
    cache.clear()
    return campaign


def _home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def _before_the_steps(html, marker):
    """The marker is on the page, above «What to do next»: the first thing the role sees."""
    assert marker in html, marker
    return html.index(marker) < html.index('id="next-steps"')


# --- the lead of each role -------------------------------------------------------------------------------------


def test_the_organizer_sees_the_form_with_its_deadline_first(running, world, client):
    html = _home(client, world.users["organizer"])

    assert _before_the_steps(html, "lead-form")
    assert reverse("submission_detail", args=[running.slug, "kirov"]) in html
    assert "осталось 12 дней" in html  # the days left, in the Russian plural form
    assert "0 %" in html


def test_the_organizer_of_a_returned_form_is_sent_to_each_criterion_to_correct(running, world, client):
    Appointment.objects.filter(user=world.users["deputy"]).update(municipality=world.sibling)

    html = _home(client, world.users["deputy"])

    assert _before_the_steps(html, "lead-corrections")
    assert reverse("submission_mechanism", args=[running.slug, "kumeny", "1.1"]) + "#c-1.1.2" in html
    assert reverse("submission_mechanism", args=[running.slug, "kumeny", "2.3"]) + "#c-2.3.4" in html
    assert "Нет ссылки" in html


def test_the_coordinator_sees_the_laggards_and_what_waits_for_prescoring_first(running, world, client):
    Appointment.objects.filter(user=world.users["coordinator"]).update(region=world.other_region)
    AppointmentFactory(user=world.users["coordinator"], role=Role.COORDINATOR, region=world.region)

    html = _home(client, world.users["coordinator"])

    assert _before_the_steps(html, "lead-laggards")
    assert reverse("submission_detail", args=[running.slug, "kirov"]) in html  # not sent
    assert reverse("scoring_page", args=[running.slug, "elista"]) in html  # sent, to pre-score
    assert reverse("region_remind", args=[running.slug, "43"]) in html
    assert "осталось 12 дней" in html


def test_the_expert_sees_the_queue_with_due_dates_first(running, world, client):
    html = _home(client, world.users["expert"])

    assert _before_the_steps(html, "lead-queue")
    assert reverse("expert_scoring", args=[running.slug, "kumeny"]) in html
    assert "осталось 30 дней" in html


def test_the_operator_sees_what_blocks_the_campaign_first(running, world, client):
    html = _home(client, world.users["operator"])

    assert _before_the_steps(html, "lead-campaign-1")
    # Kalmykia has no coordinator, elista no organizer: both block the campaign.
    assert reverse("region_detail", args=["08"]) in html
    assert reverse("people") in html
    assert "status-bar" in html


def test_the_operator_is_told_when_nothing_blocks_the_campaign(running, world, client):
    AppointmentFactory(user=UserFactory(username="t-coord-08"), role=Role.COORDINATOR, region=world.other_region)
    for m in (world.sibling, world.other_municipality):
        AppointmentFactory(user=UserFactory(username=f"t-org-{m.code}"), role=Role.ORGANIZER, municipality=m)

    html = _home(client, world.users["operator"])

    assert "lead-campaign-1" in html and "list-group-item step" not in html.split('id="next-steps"')[0]


def test_the_ministry_sees_the_latest_published_results_first(followed, world, client):  # noqa: F811
    html = _home(client, world.users["ministry"])

    assert _before_the_steps(html, "lead-results")
    for url in (
        reverse("ranking", args=[followed.slug]),
        reverse("region_ranking", args=[followed.slug]),
        reverse("ministry_dashboard", args=[followed.slug]),
        reverse("scorecard", args=[followed.slug, "kirov"]),  # the top
    ):
        assert url in html, url
    assert "movers-up" in html and "movers-down" in html  # what changed since the previous campaign
    assert "level-bar" in html


def test_the_ministrys_lead_is_made_once_per_results_version(followed, world, client):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessment.models import new_results_version

    def home():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("home")).content.decode()
        return html, len(queries)  # counted now: the next request empties the log

    cache.clear()
    client.force_login(world.users["ministry"])
    before, made = home()
    Municipality.objects.filter(code="kirov").update(name="Город Киров (переименован)")
    cached, kept = home()
    Campaign.objects.filter(pk=followed.pk).update(results_version=new_results_version())  # as a recompute does
    after, _queries = home()

    assert "lead-results" in cached and kept < made - 5, (kept, made)
    assert "переименован" not in cached and cached.count("kirov") == before.count("kirov")
    assert "Город Киров (переименован)" in after


def test_without_published_results_the_ministry_sees_no_results_lead(running, world, client):
    html = _home(client, world.users["ministry"])

    assert "lead-results" not in html


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (1, "остался 1 день"),
        (2, "осталось 2 дня"),
        (5, "осталось 5 дней"),
        (21, "остался 21 день"),
        (22, "осталось 22 дня"),
        (111, "осталось 111 дней"),
    ],
)
def test_days_left_are_said_in_the_russian_plural_forms(days, text):
    today = TODAY()

    with translation.override("ru"):
        assert Due.of(today + timedelta(days=days), today).label == text


def test_a_deadline_passed_or_today_says_so_and_turns_red():
    today = TODAY()

    with translation.override("en"):
        late, now, soon, far = (Due.of(today + timedelta(days=d), today) for d in (-2, 0, 3, 30))
        assert (late.label, late.tone) == ("2 days overdue", "danger")
        assert (now.label, now.tone) == ("due today", "danger")
        assert (soon.tone, far.tone) == ("danger", "success")
        assert Due(None).label == ""


# --- a bounded number of queries -----------------------------------------------------------------------------


ROLES = ["operator", "ministry", "coordinator", "organizer", "expert"]


def _more(world, running, previous, finalized, n):
    """`n` more municipalities in the region: finalized in both published campaigns (with results), taking part in
    the running one (half of them sent, half with an organizer), the sent ones assigned to the expert."""
    _grow(world, [previous, finalized], n, [previous.methodology, finalized.methodology])
    added = list(Municipality.objects.filter(code__startswith="more-"))
    Participation.objects.bulk_create(Participation(campaign=running, municipality=m) for m in added)
    submissions = Submission.objects.bulk_create(
        Submission(campaign=running, municipality=m, status="submitted" if i % 2 else "draft")
        for i, m in enumerate(added)
    )
    ReviewAssignment.objects.bulk_create(
        ReviewAssignment(submission=s, expert=world.users["expert"], assigned_by=world.users["operator"])
        for s in submissions
        if s.status == "submitted"
    )
    people = [UserFactory.build(username=f"t-more-{i}") for i in range(0, n, 2)]
    get_user_model().objects.bulk_create(people)
    Appointment.objects.bulk_create(
        Appointment(user=u, role=Role.ORGANIZER, municipality=m) for u, m in zip(people, added[::2], strict=True)
    )
    return len(added)


def _count(client, user, django_assert_max_num_queries):
    cache.clear()
    client.force_login(user)
    with django_assert_max_num_queries(60) as captured:
        assert client.get(reverse("home")).status_code == 200
    return len(captured.captured_queries)


def test_every_home_takes_as_many_queries_for_sixty_municipalities_as_for_three(
    followed,  # noqa: F811
    running,
    world,
    django_assert_max_num_queries,
    django_assert_num_queries,
):
    clients = {role: Client() for role in ROLES}
    few = {role: _count(clients[role], world.users[role], django_assert_max_num_queries) for role in ROLES}

    added = _more(world, running, followed.previous, followed, 60)
    for role in ROLES:
        cache.clear()
        with django_assert_num_queries(few[role]):
            html = clients[role].get(reverse("home")).content.decode()
        assert "lead-" in html, role

    assert added == 60
    assert max(few.values()) <= 40, few
    print("queries of each home:", few)  # noqa: T201 (the figure, with -s)


def test_every_home_takes_as_many_queries_on_the_national_data_at_two_scales(db):
    """Generated twice, the first rolled back: the homes of the generated roles do not grow with the country."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from tests.test_generate_national import generate

    class Rollback(Exception):
        pass

    def counted():
        found = {}
        organizer = Appointment.objects.filter(role=Role.ORGANIZER, user__username__startswith="nat-").first()
        coordinator = Appointment.objects.filter(role=Role.COORDINATOR, user__username__startswith="nat-").first()
        expert = Appointment.objects.filter(role=Role.EXPERT, user__username__startswith="nat-").first()
        users = {
            "ministry": get_user_model().objects.get(username="nat-ministry"),
            "operator": get_user_model().objects.get(username="nat-operator"),
            "coordinator": coordinator.user,
            "organizer": organizer.user,
            "expert": expert.user,
        }
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("home")).status_code == 200
            found[role] = len(queries)
        return found, Municipality.objects.filter(code__startswith="nat-").count()

    with pytest.raises(Rollback), transaction.atomic():
        generate(scale=0.004)
        small, few = counted()
        raise Rollback
    generate(scale=0.04)
    large, many = counted()

    print("queries of each home on the national data:", small, large)  # noqa: T201 (the figure, with -s)
    assert few <= 10 and many >= 90
    assert small == large, (small, large)
    ministry = Client()
    ministry.force_login(get_user_model().objects.get(username="nat-ministry"))
    assert "lead-results" in ministry.get(reverse("home")).content.decode()


# --- no link to a page the user may not open -------------------------------------------------------------------


def test_the_survey_overview_links_a_region_only_for_those_who_may_open_it(running, world, client):
    region_page = reverse("survey_region", args=[running.slug, "43"])
    overview = reverse("survey_overview", args=[running.slug])
    seen = {}
    for role in ("organizer", "coordinator", "ministry"):
        client.force_login(world.users[role])
        seen[role] = region_page in client.get(overview).content.decode()
        if seen[role]:
            assert client.get(region_page).status_code == 200

    assert seen == {"organizer": False, "coordinator": True, "ministry": True}


def test_the_ranking_links_only_the_scorecards_the_viewer_may_open(finalized, world, client):
    ranking = reverse("ranking", args=[finalized.slug])
    seen = {}
    for role in ("organizer", "coordinator", "ministry", "expert"):
        client.force_login(world.users[role])
        html = client.get(ranking).content.decode()  # the table is cached per scope: never another viewer's links
        seen[role] = {
            code for code in ("kirov", "kumeny", "elista") if reverse("scorecard", args=[finalized.slug, code]) in html
        }
        for code in seen[role]:
            assert client.get(reverse("scorecard", args=[finalized.slug, code])).status_code == 200

    assert seen == {
        "organizer": {"kirov"},
        "coordinator": {"kirov", "kumeny"},
        "ministry": {"kirov", "kumeny", "elista"},
        "expert": set(),
    }
