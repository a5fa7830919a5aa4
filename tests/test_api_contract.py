"""The API's contract (issue 8): schemathesis loads the OpenAPI schema that the running server generates from its
code (/api/v1/schema/) and fuzzes every operation against a live server, anonymously and with a personal token of
each role — in-process, the same run as `schemathesis run <url>`: schema-valid and invalid path and query
parameters and headers, boundary values, unexpected methods.

Every response must be no server error and have a documented status code, content type and headers and a body
that matches the schema; schema-valid input must be accepted and invalid input rejected; and what a token sees
must stay within its role's scope (a check of our own on every generated response, plus a sweep of every card
and every campaign's response rates): the card of a municipality outside it is a 404, the response rates list
only its own region or municipality, an unpublished ranking is the national roles' only.

The data are small but realistic: a finalized campaign with published results and an answered survey, and a
campaign in its survey stage following it (results not published, one submission pre-scored and assigned to the
expert; its cards carry the finalized campaign's figures as `previous`)."""

import gc
import re
import threading
from datetime import timedelta

import pytest
import schemathesis
from django.core.servers.basehttp import WSGIRequestHandler
from django.utils import timezone
from schemathesis.engine import Status, events, from_schema

from assessment.models import (
    Campaign,
    Criterion,
    Measure,
    MeasurePlan,
    MeasureProgress,
    ReviewAssignment,
    Score,
    Stage,
    Submission,
)
from municipalities.api_auth import api_token_create
from surveys.models import Invitation
from surveys.services import invitations_create

FINALIZED = "test-2026"  # conftest's `finalized`: every stage running, results published
SURVEY = "survey-2027"  # in its survey stage, results not published
CAMPAIGNS = (FINALIZED, SURVEY)
REGION_OF = {"kirov": "43", "kumeny": "43", "elista": "08"}  # conftest's `world`
MUNICIPALITIES = tuple(REGION_OF)

SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # the URLs' `slug` converter

ROLES = ("anonymous", "operator", "ministry", "coordinator", "organizer", "expert")

# What each role's token sees: the municipalities of the response rates, the cards that open (every other card
# of a participant is a 404, the same as one that does not exist) and the rankings.
RATES = {
    "operator": set(MUNICIPALITIES),
    "ministry": set(MUNICIPALITIES),
    "coordinator": {"kirov", "kumeny"},
    "organizer": {"kirov"},
    "expert": set(),
}
CARDS = {
    "operator": {(c, m) for c in CAMPAIGNS for m in MUNICIPALITIES},
    "ministry": {(c, m) for c in CAMPAIGNS for m in MUNICIPALITIES},
    "coordinator": {(c, m) for c in CAMPAIGNS for m in ("kirov", "kumeny")},
    "organizer": {(c, "kirov") for c in CAMPAIGNS},
    "expert": {(SURVEY, "kirov")},  # the submission assigned to them
}
RANKINGS = {
    "operator": set(CAMPAIGNS),
    "ministry": set(CAMPAIGNS),
    "coordinator": {FINALIZED},
    "organizer": {FINALIZED},
    "expert": {FINALIZED},
}

# Modest and deterministic: the same inputs on every run, so the file stays fast and a failure reproduces.
MAX_EXAMPLES = 20
SEED = 20260808


# --- the data --------------------------------------------------------------------------------------------


def campaign_in_its_survey_stage(world, methodology):
    """The second campaign: Kirov pre-scored by the coordinator and assigned to the expert."""
    from assessment.services import campaign_save

    today = timezone.localdate()
    past = (today - timedelta(days=90), today - timedelta(days=11))
    now = (today - timedelta(days=10), today + timedelta(days=10))
    future = (today + timedelta(days=60), today + timedelta(days=90))
    surveys = list(Stage).index(Stage.SURVEYS)
    campaign = campaign_save(
        campaign=Campaign(slug=SURVEY, title="Опросы 2027", year=2027, methodology=methodology),
        stages={s: past if i < surveys else now if i == surveys else future for i, s in enumerate(Stage)},
        municipalities=[world.municipality, world.sibling, world.other_municipality],
        by=world.users["operator"],
    )
    submission = campaign.submissions.get(municipality=world.municipality)
    Score.objects.bulk_create(
        Score(submission=submission, criterion=c, round=Score.Round.PRESCORE, points=1, by=world.users["coordinator"])
        for c in methodology.mechanisms.get(code="1.1").criteria.all()[:3]
    )
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.IN_REVIEW)
    ReviewAssignment.objects.create(
        submission=submission, expert=world.users["expert"], assigned_by=world.users["operator"]
    )
    return campaign


def answer_half_the_survey(campaign):
    invitations_create(campaign=campaign)
    answered = Invitation.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True)[::2]
    Invitation.objects.filter(pk__in=list(answered)).update(opened=True, completed=True)


def plan_of_measures(world, campaign):
    """Kirov's plan answering the finalized campaign: one measure done, with a link as evidence."""
    organizer = world.users["organizer"]
    plan = MeasurePlan.objects.create(
        campaign=campaign, municipality=world.municipality, status="approved", created_by=organizer
    )
    measure = Measure.objects.create(
        plan=plan,
        title="Семинар для руководителей школ",
        responsible="Иванова М. П.",
        due_on=timezone.localdate(),
        expected_result="Проведён семинар",
        indicator="Доля школ",
        status=Measure.Status.DONE,
    )
    measure.criteria.set(Criterion.objects.filter(mechanism__methodology=campaign.methodology, code="1.1.1"))
    MeasureProgress.objects.create(measure=measure, status="done", links=["https://example.org/report"], by=organizer)


@pytest.fixture
def tokens(world, finalized, questionnaires, methodology):
    """{role: its personal token}, with the two campaigns in place."""
    survey = campaign_in_its_survey_stage(world, methodology)
    # The survey campaign follows the finalized one: its cards carry the previous campaign's figures (not null).
    Campaign.objects.filter(pk=survey.pk).update(previous=finalized)
    for campaign in (finalized, survey):
        answer_half_the_survey(campaign)
    plan_of_measures(world, finalized)
    return {role: api_token_create(user=world.users[role], name="contract")[1] for role in ROLES if role != "anonymous"}


@pytest.fixture
def server(live_server, monkeypatch):
    """The live server's URL. With Nagle's algorithm on, each keep-alive request waits ~40 ms for a delayed
    ACK (the headers and the body are written separately): off, a request takes a millisecond or two."""
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)
    yield live_server.url
    # Schemathesis leaves its keep-alive sessions to the garbage collector: collected, their sockets close and
    # the server's threads with them, and so their database connections (PostgreSQL drops the test database
    # at the end only when no connection is left).
    gc.collect()


def contract_schema(server, headers):
    """The schema the server generates, with what schemathesis should send: mostly real campaign slugs,
    municipality codes and regions, so the fuzzing reaches past the 404 of an unknown campaign."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "mode": "all"},
            "phases": {"stateful": {"enabled": False}},
            "dictionaries": {
                "campaigns": {"values": list(CAMPAIGNS)},
                "municipalities": {"values": list(MUNICIPALITIES)},
                "regions": {"values": sorted(set(REGION_OF.values()))},
            },
            "parameters": {
                "path.slug": {"dictionary": "campaigns", "probability": 0.8},
                "path.code": {"dictionary": "municipalities", "probability": 0.8},
                "query.region": {"dictionary": "regions", "probability": 0.5},
            },
        }
    )
    return schemathesis.openapi.from_url(f"{server}/api/v1/schema/", config=config, timeout=10)


# --- the scope, a check on every response --------------------------------------------------------------------

# The card and the plan of measures of a municipality: the same scope.
SCOPED_LIKE_THE_CARD = ("campaign_municipality", "campaign_municipality_measures")

# The role of each token in use, and what the check saw (the engine runs the checks in its own thread).
ROLE_OF_TOKEN = {}
SEEN = []
SEEN_LOCK = threading.Lock()


@schemathesis.check
def scope_is_kept(ctx, response, case):
    """What a response shows stays within the scope of the role whose token asked."""
    authorization = response.request.headers.get("Authorization", "")
    role = ROLE_OF_TOKEN.get(authorization.removeprefix("Bearer "), "anonymous" if not authorization else None)
    if role is None or case.method != "GET":  # a made-up token, an unexpected method: the other checks' job
        return None
    status = response.status_code
    path = case.path_parameters or {}
    slug, code = path.get("slug"), path.get("code")
    operation = case.operation.definition.raw["operationId"]
    with SEEN_LOCK:
        SEEN.append((role, operation, slug, code, status))
    if role == "anonymous":
        # Refused, unless the URL is not the API's at all (a malformed slug): that is a 404 before any login.
        expected = 401 if all(SLUG.fullmatch(str(value)) for value in path.values()) else 404
        assert status == expected, f"Anonymous: {status}, not {expected}"
        return True
    assert status != 401, f"{role}: the token was refused"
    body = response.json() if status == 200 else None
    if operation in SCOPED_LIKE_THE_CARD and slug in CAMPAIGNS and code in MUNICIPALITIES:
        expected = 200 if (slug, code) in CARDS[role] else 404
        assert status == expected, f"{role}: the {operation} of {code} in {slug} is {status}, not {expected}"
        if status == 200 and operation == "campaign_municipality_measures":
            assert body["results"] == [] or {"id", "criteria", "effect"} <= set(body["results"][0])
        elif status == 200:
            assert body["municipality"]["code"] == code and body["region"]["code"] == REGION_OF[code]
            # The previous campaign's figures only for whoever may see its results.
            previous = body["previous"]
            assert previous is None or previous["campaign"] in RANKINGS[role], f"{role}: {previous}"
            assert (previous is not None) == (slug == SURVEY), f"{role}: the card of {code} in {slug}: {previous}"
    elif operation == "campaign_response_rates" and status == 200:
        municipalities = {m["code"] for r in body["regions"] for m in r["municipalities"]}
        regions = {r["code"] for r in body["regions"]}
        assert municipalities == RATES[role], f"{role}: response rates of {sorted(municipalities)}"
        assert regions == {REGION_OF[m] for m in RATES[role]}, f"{role}: response rates of regions {sorted(regions)}"
    elif operation == "campaign_response_rates" and slug in CAMPAIGNS:
        raise AssertionError(f"{role}: the response rates of {slug} are {status}")
    elif operation == "campaign_ranking" and slug in CAMPAIGNS and slug not in RANKINGS[role]:
        assert status == 404, f"{role}: the unpublished ranking of {slug} is {status}, not 404"
    elif operation == "campaign_ranking" and status == 200:
        assert body["campaign"] == slug and all(row["municipality"]["code"] in REGION_OF for row in body["results"])
    elif operation == "campaign_list" and status == 200:
        assert {c["slug"] for c in body["results"]} == set(CAMPAIGNS), f"{role}: campaigns {body['results']}"
    return True


@pytest.fixture
def seen(tokens):
    ROLE_OF_TOKEN.update({token: role for role, token in tokens.items()})
    SEEN.clear()
    yield SEEN
    ROLE_OF_TOKEN.clear()
    SEEN.clear()


# --- the run ---------------------------------------------------------------------------------------------------


def failures_of(schema):
    """Run every phase on every operation: the failed checks and the errors, each with a curl command to replay
    it, and the operations tested."""
    found, tested = set(), set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.status != Status.SKIP:
                tested.add(event.label)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        found.add(
                            f"{event.label} — {check.name}: {failure.title}\n{failure.message}\n"
                            f"{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            found.add(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return sorted(found), tested


def sweep(schema, headers):
    """Every card and every campaign's ranking and response rates, through the same checks: the scope is
    asserted for each whatever the fuzzing happened to pick."""
    for operation in SCOPED_LIKE_THE_CARD:
        for slug in CAMPAIGNS:
            for code in MUNICIPALITIES:
                schema.find_operation_by_id(operation).Case(
                    path_parameters={"slug": slug, "code": code}
                ).call_and_validate(headers=headers)
    for slug in CAMPAIGNS:
        for operation in ("campaign_ranking", "campaign_response_rates"):
            schema.find_operation_by_id(operation).Case(path_parameters={"slug": slug}).call_and_validate(
                headers=headers
            )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_keeps_its_contract(role, server, tokens, seen):
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
    schema = contract_schema(server, headers)

    failures, tested = failures_of(schema)

    assert not failures, f"{len(failures)} failure(s) as {role}:\n\n" + "\n\n".join(failures[:10])
    assert tested == {result.ok().label for result in schema.get_all_operations()}
    # The fuzzing got past the login and the unknown campaigns: a real answer from every operation.
    answered = {operation for _, operation, _, _, status in seen if status == (401 if role == "anonymous" else 200)}
    assert answered == {
        "campaign_list",
        "campaign_ranking",
        "campaign_municipality",
        "campaign_municipality_measures",
        "campaign_response_rates",
    }

    seen.clear()
    sweep(schema, headers)

    for scoped in SCOPED_LIKE_THE_CARD:
        cards = {(slug, code): status for _, operation, slug, code, status in seen if operation == scoped}
        assert len(cards) == len(CAMPAIGNS) * len(MUNICIPALITIES)
        assert {card for card, status in cards.items() if status == 200} == CARDS.get(role, set())


def test_a_url_the_api_does_not_have_is_a_json_404(world, client):
    """A malformed slug matches no URL: still the API's JSON 404, the same as an unknown campaign's."""
    key = api_token_create(user=world.users["operator"], name="contract")[1]
    client.defaults.update(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT_LANGUAGE="ru")

    malformed = client.get("/api/v1/campaigns/no such campaign/ranking/")
    unknown = client.get("/api/v1/campaigns/no-such-campaign/ranking/")

    assert malformed.status_code == unknown.status_code == 404
    assert malformed["Content-Type"] == unknown["Content-Type"] == "application/json"
    assert malformed.json() == unknown.json() and unknown.json()["detail"]
