"""Trust in the survey (issue 13, findings 1–3): each attack the security review performed, performed again.

1. Differencing: snapshot every view of survey figures before and after one person answers, subtract.
2. Custody: the organizer of the municipality being assessed tries every way to a working link, and to a
   respondent's half-filled draft.
3. A stored response does not lead back to a person."""

import io
import random
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fixtures.demo_surveys import _answer_set
from municipalities.models import Appointment, Role
from surveys import services, stats
from surveys.models import PUBLICATION_STEP, Draft, Invitation, Response
from tests.factories import SchoolFactory

ROLE = "teacher"
VICTIM_TEXT = "Наш директор скрывает результаты ВПР — Мария Ивановна, школа №5"


def _fields(answers):
    return {
        f"q-{code}": [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for code, value in answers.items()
    }


def _answers(campaign, seed, *, text=None):
    questions = services.questions_of(campaign, ROLE)
    answers = _answer_set(questions, random.Random(seed), 0.5)
    if text:
        for q in questions:
            if q.kind == "text" and q.mechanism_id:
                answers[q.code] = text
    return answers


def _answer(campaign, school, seed, *, text=None):
    """One teacher answers through the real page, as a respondent would."""
    invitation = Invitation.objects.get(campaign=campaign, school=school, role=ROLE)
    response = Client().post(
        reverse("survey", args=[invitation.token]),
        {"page": "1", "action": "submit", **_fields(_answers(campaign, seed, text=text))},
    )
    assert response.status_code == 302, response.content.decode()[:500]


def _strip(html):
    """The parts of a page that can change for reasons other than the figures (CSRF tokens, the count of
    questionnaires waiting, which any response rate shows anyway)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r"(?s)<p class=\"small text-body-secondary mb-1\">.*?</p>", "", html)


def _sheets(content):
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def _snapshot(clients, campaign, world):
    """Everything with survey figures the organizer, the coordinator and the ministry can see."""
    slug, code = campaign.slug, world.municipality.code
    views = {}
    for role, client in clients.items():
        views[(role, "page")] = _strip(client.get(reverse("survey_evidence", args=[slug, code])).content.decode())
        views[(role, "xlsx")] = _sheets(client.get(reverse("survey_evidence_export", args=[slug, code])).content)
        if role != "organizer":
            region = client.get(reverse("survey_region_evidence_export", args=[slug, world.region.code]))
            views[(role, "region xlsx")] = _sheets(region.content)
    scoring = clients["coordinator"].get(reverse("scoring_page", args=[slug, code])).content.decode()
    views[("coordinator", "scoring")] = re.findall(r'(?s)<div class="[^"]*survey-evidence.*?</div>', scoring)
    return views


def _answered_counts(snapshot):
    """{question code: respondents counted} from the coordinator's export, the figure an attacker subtracts."""
    rows = snapshot[("coordinator", "xlsx")]["По вопросам"][1:]
    return {(r[2], r[3]): r[5] or 0 for r in rows}


@pytest.fixture
def seven_schools(survey_campaign, world):
    schools = [world.school] + [SchoolFactory(municipality=world.municipality) for _ in range(6)]
    services.invitations_create(campaign=survey_campaign)
    return schools


@pytest.fixture
def watchers(world):
    clients = {}
    for role in ("organizer", "coordinator", "ministry"):
        clients[role] = Client()
        clients[role].force_login(world.users[role])
    return clients


# --- 1. differencing ------------------------------------------------------------------------------------------


def test_one_response_changes_no_figure_anywhere(survey_campaign, world, seven_schools, watchers):
    """The review's attack: snapshot, one teacher answers, snapshot, subtract. Before the fix the difference
    was that teacher's answers, free text included; now the two snapshots are equal."""
    for i, school in enumerate(seven_schools[:3]):
        _answer(survey_campaign, school, seed=i)
    before = _snapshot(watchers, survey_campaign, world)

    _answer(survey_campaign, seven_schools[3], seed=99, text=VICTIM_TEXT)  # the victim
    after = _snapshot(watchers, survey_campaign, world)

    changed = [key for key in before if before[key] != after[key]]
    assert changed == []
    assert not any(VICTIM_TEXT in str(view) for view in after.values())


def test_figures_move_only_in_steps_of_at_least_three_answers(survey_campaign, world, seven_schools, watchers):
    """Whatever two moments are compared, every question's count moves by 0 or by ≥ PUBLICATION_STEP."""
    snapshots = [_snapshot(watchers, survey_campaign, world)]
    for i, school in enumerate(seven_schools):
        _answer(survey_campaign, school, seed=i, text=VICTIM_TEXT if i == 4 else None)
        snapshots.append(_snapshot(watchers, survey_campaign, world))

    counts = [_answered_counts(s) for s in snapshots]
    moves = {
        (code, later[code] - earlier.get(code, 0))
        for i, later in enumerate(counts)
        for earlier in counts[:i]
        for code in later
        if later[code] != earlier.get(code, 0)
    }
    assert moves, "some figures must be published after seven responses"
    assert all(delta >= PUBLICATION_STEP for _code, delta in moves)
    # The victim's free text never stands alone: where it shows, at least PUBLICATION_STEP texts show with it.
    for snapshot in snapshots:
        page = snapshot[("coordinator", "page")]
        if VICTIM_TEXT in page:
            block = page[page.rindex("<details", 0, page.index(VICTIM_TEXT)) : page.index(VICTIM_TEXT)]
            assert len(re.findall(r"<li>", block)) + 1 >= PUBLICATION_STEP


def test_filters_cannot_be_subtracted_either(survey_campaign, world, seven_schools):
    """Across breakdowns: a mechanism's share over the roles is the sum of the published role figures only, so
    the total minus the shown roles reveals nothing that is hidden."""
    for i, school in enumerate(seven_schools[:4]):
        _answer(survey_campaign, school, seed=i)
    evidence = stats.survey_evidence(survey_campaign, [world.municipality])[world.municipality.pk]

    for mechanism in evidence.mechanisms:
        shown = [s for s in mechanism.questions if s.shown and s.question.counts_positive]
        assert mechanism.answered == sum(s.answered for s in shown)
        assert all(s.answered >= PUBLICATION_STEP for s in mechanism.questions if s.answered)


def test_the_municipality_page_shows_no_day_of_an_answer(survey_campaign, world, seven_schools, watchers):
    _answer(survey_campaign, seven_schools[0], seed=1)

    for role in ("organizer", "coordinator"):
        page = watchers[role].get(reverse("survey_municipality", args=[survey_campaign.slug, "kirov"]))
        body = page.content.decode()
        assert not re.search(r"\d\d\.\d\d\.\d{4}", body.split("<main", 1)[1]), role
        assert "ответили" in body or "ответил" in body


def test_the_survey_pages_say_how_anonymity_is_kept(survey_campaign, world, watchers):
    invitation = Invitation.objects.filter(campaign=survey_campaign, role=ROLE).first()

    respondent = Client().get(reverse("survey", args=[invitation.token])).content.decode()
    staff = watchers["organizer"].get(reverse("survey_evidence", args=[survey_campaign.slug, "kirov"]))

    assert "Ваши ответы анонимны" in respondent
    assert "не меньше трёх" in respondent or "не менее трёх" in respondent
    assert "Как сохраняется анонимность" in staff.content.decode()


# --- 2. custody of the links ----------------------------------------------------------------------------------


def _tokens(campaign, municipality):
    return set(
        Invitation.objects.filter(campaign=campaign, school__municipality=municipality).values_list("token", flat=True)
    )


@pytest.mark.parametrize("role", ["organizer", "deputy"])
def test_the_assessed_obtain_no_working_link(role, survey_campaign, world, client):
    """The organizer (or deputy) tries every page, export, printable sheet, the API and notifications."""
    client.force_login(world.users[role])
    slug = survey_campaign.slug
    tokens = _tokens(survey_campaign, world.municipality)
    reachable = [
        reverse("home"),
        reverse("survey_overview", args=[slug]),
        reverse("survey_municipality", args=[slug, "kirov"]),
        reverse("survey_evidence", args=[slug, "kirov"]),
        reverse("survey_evidence_export", args=[slug, "kirov"]),
        reverse("api-response-rates", args=[slug]),
        reverse("notifications"),
    ]
    refused = [
        reverse("survey_municipality_links", args=[slug, "kirov", "xlsx"]),
        reverse("survey_municipality_links", args=[slug, "kirov", "csv"]),
        reverse("survey_school_sheet", args=[slug, world.school.pk]),
        reverse("survey_region_links", args=[slug, "43", "csv"]),
    ]

    for url in reachable:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode("utf-8", "replace")
        assert not any(t in body for t in tokens), url
    for url in refused:
        assert client.get(url).status_code in (403, 404), url
    for action in ("send", "reissue", "remind", "invite"):
        response = client.post(
            reverse("survey_municipality_act", args=[slug, "kirov"]), {"action": action, "school": world.school.pk}
        )
        assert response.status_code == 403, action
    assert all(not any(t in m.body for t in tokens) for m in mail.outbox)


def test_a_coordinator_who_also_organizes_a_municipality_holds_none_of_its_links(survey_campaign, world, client):
    coordinator = world.users["coordinator"]
    Appointment.objects.create(user=coordinator, role=Role.ORGANIZER, municipality=world.municipality)
    client.force_login(coordinator)
    slug = survey_campaign.slug
    own = _tokens(survey_campaign, world.municipality)
    sibling = _tokens(survey_campaign, world.sibling)

    export = client.get(reverse("survey_region_links", args=[slug, "43", "csv"])).content.decode("utf-8-sig")
    page = client.get(reverse("survey_municipality", args=[slug, "kirov"])).content.decode()

    assert not any(t in export for t in own) and all(t in export for t in sibling)
    assert not any(t in page for t in own)
    assert client.get(reverse("survey_school_sheet", args=[slug, world.school.pk])).status_code == 403


def test_the_region_sees_the_links_and_sends_them_to_the_schools_own_address(
    survey_campaign, world, client, django_capture_on_commit_callbacks
):
    world.school.email = "school@example.org"
    world.school.save()
    client.force_login(world.users["coordinator"])
    slug = survey_campaign.slug

    page = client.get(reverse("survey_municipality", args=[slug, "kirov"])).content.decode()
    sheet = client.get(reverse("survey_school_sheet", args=[slug, world.school.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("survey_region_act", args=[slug, "43"]), {"action": "send"})

    assert all(t in page for t in _tokens(survey_campaign, world.municipality))
    assert sheet.status_code == 200
    assert {tuple(m.to) for m in mail.outbox} == {("school@example.org",)}


def test_a_draft_is_read_only_by_the_browser_that_wrote_it(survey_campaign, world):
    invitation = Invitation.objects.get(campaign=survey_campaign, school=world.school, role=ROLE)
    url = reverse("survey", args=[invitation.token])
    questions = services.questions_of(survey_campaign, ROLE)
    text = next(q for q in questions if q.kind == "text")
    page = next(p for p in services.A.pages(questions) if text in p.questions)
    respondent, holder = Client(), Client()
    respondent.post(url, {"page": str(page.number), "action": "save", f"q-{text.code}": VICTIM_TEXT})
    saved = Draft.objects.get(invitation=invitation).answers

    seen = holder.get(f"{url}?p={page.number}")
    autosave = holder.post(
        reverse("survey_autosave", args=[invitation.token]), {"page": page.number, f"q-{text.code}": "подмена"}
    )
    overwrite = holder.post(url, {"page": str(page.number), "action": "save", f"q-{text.code}": "подмена"})
    submit = holder.post(url, {"page": str(page.number), "action": "submit", f"q-{text.code}": "подмена"})

    assert VICTIM_TEXT not in seen.content.decode()
    assert "начали заполнять в другом браузере" in seen.content.decode()
    assert (autosave.status_code, overwrite.status_code, submit.status_code) == (409, 409, 409)
    assert Draft.objects.get(invitation=invitation).answers == saved
    assert not Invitation.objects.get(pk=invitation.pk).completed
    # The respondent's own browser resumes as before.
    assert VICTIM_TEXT in respondent.get(f"{url}?p={page.number}").content.decode()


def test_starting_again_elsewhere_deletes_the_draft_unread(survey_campaign, world):
    invitation = Invitation.objects.get(campaign=survey_campaign, school=world.school, role=ROLE)
    url = reverse("survey", args=[invitation.token])
    first, second = Client(), Client()
    q = services.A.pages(services.questions_of(survey_campaign, ROLE))[0].questions[0]
    first.post(url, {"page": "1", "action": "next", f"q-{q.code}": services.A.allowed_values(q)[0]})

    restarted = second.post(url, {"page": "0", "action": "restart"})
    gone = not Draft.objects.filter(invitation=invitation).exists()
    page_one = second.get(restarted["Location"])
    late = first.post(
        reverse("survey_autosave", args=[invitation.token]),
        {"page": "1", f"q-{q.code}": services.A.allowed_values(q)[0]},
    )

    assert restarted.status_code == 302 and gone
    assert page_one.status_code == 200 and page_one.context["answered"] == 0
    assert late.status_code == 200  # the first browser starts a draft of its own again: nothing was read


def test_a_school_that_lost_its_link_gets_a_new_one_and_the_old_one_stops(
    survey_campaign, world, django_capture_on_commit_callbacks
):
    world.school.email = "School@Example.org"
    world.school.save()
    old = Invitation.objects.get(campaign=survey_campaign, school=world.school, role="deputy")
    others = dict(Invitation.objects.filter(school=world.school).exclude(pk=old.pk).values_list("pk", "token"))
    anonymous = Client()

    with django_capture_on_commit_callbacks(execute=True):
        answer = anonymous.post(reverse("survey_lost_link"), {"email": "school@example.org ", "role": "deputy"})
        again = anonymous.post(reverse("survey_lost_link"), {"email": "school@example.org", "role": "deputy"})
    unknown = anonymous.post(reverse("survey_lost_link"), {"email": "nobody@example.org", "role": "deputy"})

    new = Invitation.objects.get(pk=old.pk)
    assert new.token != old.token
    assert anonymous.get(reverse("survey", args=[old.token])).status_code == 404
    assert anonymous.get(reverse("survey", args=[new.token])).status_code == 200
    assert dict(Invitation.objects.filter(school=world.school).exclude(pk=old.pk).values_list("pk", "token")) == others
    assert [m.to for m in mail.outbox] == [["School@Example.org"]]  # once a day per school: the second asks in vain
    assert new.token in mail.outbox[0].body
    # The same answer for a known, a repeated and an unknown address: the form reveals nothing.
    assert answer.status_code == again.status_code == unknown.status_code == 200
    sent = "surveys/lost_link_sent.html"
    assert sent in [t.name for t in answer.templates] and sent in [t.name for t in unknown.templates]


def test_the_lost_link_form_is_limited_per_client(survey_campaign, world, settings):
    from django.core.cache import cache

    cache.clear()
    world.school.email = "school@example.org"
    world.school.save()
    before = Invitation.objects.get(campaign=survey_campaign, school=world.school, role="director").token
    client = Client()
    for i in range(10):
        client.post(reverse("survey_lost_link"), {"email": f"x{i}@example.org", "role": "director"})

    client.post(reverse("survey_lost_link"), {"email": "school@example.org", "role": "director"})

    assert Invitation.objects.get(campaign=survey_campaign, school=world.school, role="director").token == before
    cache.clear()


def test_the_coordinator_replaces_a_schools_links_once_a_day(
    survey_campaign, world, client, django_capture_on_commit_callbacks
):
    world.school.email = "school@example.org"
    world.school.save()
    client.force_login(world.users["coordinator"])
    url = reverse("survey_municipality_act", args=[survey_campaign.slug, "kirov"])
    before = set(Invitation.objects.filter(school=world.school).values_list("token", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "reissue", "school": world.school.pk})
    after = set(Invitation.objects.filter(school=world.school).values_list("token", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "reissue", "school": world.school.pk})
    bad = client.post(url, {"action": "reissue", "school": "x"}, follow=True)

    assert not before & after and len(after) == 3
    assert set(Invitation.objects.filter(school=world.school).values_list("token", flat=True)) == after
    assert len(mail.outbox) == 1
    assert bad.status_code == 200


# --- 3. a stored response does not lead back to a person ------------------------------------------------------


def test_a_published_step_is_written_anew_in_a_random_order(survey_campaign, world, seven_schools):
    for i, school in enumerate(seven_schools[:2]):
        _answer(survey_campaign, school, seed=i)
    waiting = {r.pk: sorted(map(tuple, r.pending)) for r in Response.objects.all()}
    assert Response.objects.waiting().count() == 2

    _answer(survey_campaign, seven_schools[2], seed=2)

    published = list(Response.objects.filter(municipality=world.municipality, role=ROLE))
    assert {r.release for r in published} == {1}
    assert not {r.pk for r in published} & set(waiting)  # new keys: the old ones were the order of arrival
    stored = [sorted(r.answers.values_list("question_id", "value", "number", "text")) for r in published]
    assert all(answers in stored for answers in waiting.values())
    assert all(r.pending is None for r in published)


def test_a_release_plans_its_checks_for_the_tables_as_they_are(survey_campaign, world, seven_schools):
    """The foreign-key check of the deleted waiting responses runs at commit with a plan kept per connection; kept
    from when the answer table was small it scanned the whole table (5 ms of the database per submission in make
    bench). A release plans it anew; a submission that releases nothing changes nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as waiting:
        for i, school in enumerate(seven_schools[:2]):
            _answer(survey_campaign, school, seed=i)
    with CaptureQueriesContext(connection) as release:
        _answer(survey_campaign, seven_schools[2], seed=2)

    planned = "SET LOCAL plan_cache_mode = force_custom_plan; SET CONSTRAINTS ALL IMMEDIATE"
    assert Response.objects.filter(release=1).count() == 3
    assert not any(planned in q["sql"] for q in waiting.captured_queries)
    assert any(planned in q["sql"] for q in release.captured_queries) == (connection.vendor == "postgresql")


def test_nothing_stored_names_the_school_or_the_moment(survey_campaign, world, seven_schools):
    for i, school in enumerate(seven_schools[:3]):
        _answer(survey_campaign, school, seed=i)

    for response in Response.objects.all():
        row = {f.name: getattr(response, f.attname) for f in Response._meta.concrete_fields}
        assert set(row) == {"id", "campaign", "questionnaire", "municipality", "role", "release", "pending"}
        assert all(len(answer) == 4 for answer in row["pending"] or ())  # question, value, number, text
    invitation_fields = {f.name for f in Invitation._meta.concrete_fields}
    assert not invitation_fields & {"completed_at", "opened_at", "submitted_on"}
    assert Invitation.objects.filter(completed=True).count() == 3


def test_the_region_replaces_every_unanswered_link_at_once(survey_campaign, world, client, seven_schools):
    _answer(survey_campaign, seven_schools[0], seed=1)
    answered = Invitation.objects.get(campaign=survey_campaign, school=seven_schools[0], role=ROLE)
    before = dict(Invitation.objects.filter(campaign=survey_campaign).values_list("pk", "token"))
    client.force_login(world.users["coordinator"])

    client.post(reverse("survey_region_act", args=[survey_campaign.slug, "43"]), {"action": "reissue_all"})

    after = dict(Invitation.objects.filter(campaign=survey_campaign).values_list("pk", "token"))
    region = set(Invitation.objects.filter(school__municipality__region=world.region).values_list("pk", flat=True))
    assert after[answered.pk] == before[answered.pk]  # an answered link has nothing left to open
    assert all(after[pk] != before[pk] for pk in region - {answered.pk})
    assert all(after[pk] == before[pk] for pk in set(before) - region)  # another region's links stay
