"""Every answer of the API checked strictly against the OpenAPI schema the server publishes (issue 17), with
openapi-core: the status must be documented for the operation, the documented headers present, the content type
and the body valid. The schema is OpenAPI 3.1, plain JSON Schema, so a null the schema does not allow fails here
exactly as it fails a generated client; the test also closes every object (`additionalProperties: false`), so a
field the schema does not list fails too.

On the demo data (load_demo: 2020 finalized and published, 2023 finalized, 2026 open for data collection, its
cards without a single score yet), for each role of conftest.ROLES played by a demo account and its personal
token: the campaigns, every campaign's ranking (filtered, paged, revalidated to a 304, a malformed filter's 400,
an unknown region's 404), the response rates, the card and the plan of measures of every municipality (200 or 404
as the scope says); and the answers every endpoint may give whoever asks: 401, the 404 of a URL the API does not
have, 405 for any other method, 406, and the 503 of a database that does not answer."""

import copy

import pytest
import yaml
from django.db import OperationalError
from django.urls import reverse
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from municipalities.api_auth import api_token_create
from tests.conftest import ROLES

# conftest's roles, played on the demo data; `nobody` is a user with no appointment, made by the test.
DEMO_USER = {
    "operator": "operator",
    "ministry": "ministry",
    "coordinator": "coordinator-43",
    "organizer": "organizer-kirov",
    "deputy": "deputy-kirov",
    "expert": "expert-1",
}
DEMO_CAMPAIGNS = ("2020-approbation", "2023", "2026")
NATIONAL = ("operator", "ministry")  # they see every card: each is checked
# The other roles: their own municipality, a neighbour, and some of the other region (lagan: its forms returned;
# yashalta: expert-1's review in 2026).
KIROV = ("kirov", "kumeny")
SAMPLE = (*KIROV, "elista", "lagan", "yashalta")


def closed(schema):
    """The schema with every object that lists its properties closed to any other."""
    schema = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema["components"])
    return schema


class AsGet(DjangoOpenAPIRequest):
    """A request of another method, checked against the GET operation of its path: the schema documents the 405
    (and the 401 it used to be) there, as the only operation of each path."""

    method = "get"


class Contract:
    """The published schema, and the record of what was checked."""

    def __init__(self, client):
        response = client.get(reverse("api-schema"))
        assert response.status_code == 200
        published = yaml.safe_load(response.content)
        assert published["openapi"].startswith("3.1")
        self.openapi = OpenAPI.from_dict(closed(published))
        self.checked = {}  # {(operation path, status): responses checked}

    def check(self, response, request_class=DjangoOpenAPIRequest):
        request = request_class(response.wsgi_request)
        try:
            self.openapi.validate_response(request, DjangoOpenAPIResponse(response))
        except Exception as error:  # one readable line per failure: where, what status, why
            cause = error.__cause__ or error
            details = [
                f"{list(e.absolute_path)}: {e.message}"
                for e in getattr(cause, "schema_errors", [])
                for e in ([*e.context] or [e])
            ]
            raise AssertionError(
                f"{request.method.upper()} {response.wsgi_request.get_full_path()} → {response.status_code}: "
                f"{type(cause).__name__} {cause} {details[:5]}"
            ) from None
        key = (request.path_pattern or request.path, response.status_code)
        self.checked[key] = self.checked.get(key, 0) + 1
        return response


@pytest.fixture
def contract(client):
    return Contract(client)


def bearer(client, user):
    key = api_token_create(user=user, name="strict")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def api(name, *args):
    return reverse(name, args=args)


# --- the demo data, every role, every endpoint -------------------------------------------------------------------


def every_answer(client, contract, municipalities):
    """Every endpoint of the API for every demo campaign and municipality, each answer checked; what was seen."""
    seen = {"cards": {}, "rankings": {}}
    campaigns = contract.check(client.get(api("api-campaigns")))
    seen["campaigns"] = {c["slug"] for c in campaigns.json()["results"]} if campaigns.status_code == 200 else None
    for slug in DEMO_CAMPAIGNS:
        ranking = contract.check(client.get(api("api-ranking", slug)))
        seen["rankings"][slug] = ranking.status_code
        if ranking.status_code == 200:
            etag = ranking["ETag"]
            assert contract.check(client.get(api("api-ranking", slug), HTTP_IF_NONE_MATCH=etag)).status_code == 304
            for query in ({"region": "43"}, {"region": "08", "sort": "-rank"}, {"limit": 3, "offset": 2}):
                assert contract.check(client.get(api("api-ranking", slug), query)).status_code == 200
            for query in ({"change": "improved"}, {"level": "formed", "kind": "city_district", "q": "район"}):
                assert contract.check(client.get(api("api-ranking", slug), query)).status_code == 200
            assert contract.check(client.get(api("api-ranking", slug), {"limit": "x"})).status_code == 400
            assert contract.check(client.get(api("api-ranking", slug), {"region": "99"})).status_code == 404
        contract.check(client.get(api("api-response-rates", slug)))
        for code in municipalities:
            card = contract.check(client.get(api("api-municipality", slug, code)))
            seen["cards"][slug, code] = card.json() if card.status_code == 200 else card.status_code
            measures = contract.check(client.get(api("api-measures", slug, code)))
            assert measures.status_code == card.status_code, (slug, code)
    return seen


@pytest.mark.django_db(transaction=True)
def test_every_answer_of_every_role_on_the_demo_data_keeps_the_schema(demo, client, contract):
    from django.contrib.auth import get_user_model

    from assessment.models import Submission
    from municipalities.models import Municipality

    users = {role: get_user_model().objects.get(username=name) for role, name in DEMO_USER.items()}
    users["nobody"] = get_user_model().objects.create_user("strict-nobody")
    every = list(Municipality.objects.order_by("code").values_list("code", flat=True))
    seen = {}

    for role in ROLES:
        client.defaults.pop("HTTP_AUTHORIZATION", None)
        if role != "anonymous":
            bearer(client, users[role])
        seen[role] = every_answer(client, contract, every if role in NATIONAL else SAMPLE)

    assert set(seen) == {"anonymous", "operator", "ministry", "coordinator", "organizer", "deputy", "expert", "nobody"}
    # The answers that made the schema fail strict validators are among those checked: the 2026 card of a
    # municipality with no score yet (every explanation null, no total, level or rank) and the 2020 one.
    empty = seen["operator"]["cards"]["2026", "kirov"]
    assert empty["total"] is None and empty["level"] is None and empty["rank"] is None
    assert [c["explanation"] for c in empty["criteria"]] == [None] * 81
    final = seen["operator"]["cards"]["2020-approbation", "kirov"]
    assert final["previous"] is None and None not in [c["explanation"] for c in final["criteria"]]
    # Each role reached what its scope holds: every participant's card for the national roles, its own for the
    # organizer and the deputy, none without an appointment.
    participants = set(Submission.objects.values_list("campaign__slug", "municipality__code"))
    cards = {role: {key for key, card in s["cards"].items() if isinstance(card, dict)} for role, s in seen.items()}
    assert cards["operator"] == cards["ministry"] == participants
    assert cards["organizer"] == cards["deputy"] == {key for key in participants if key[1] == "kirov"}
    assert len(participants) > 50
    assert cards["nobody"] == cards["anonymous"] == set()
    assert set(seen["anonymous"]["cards"].values()) == {401}
    assert cards["coordinator"] == {key for key in participants if key[1] in SAMPLE and key[1] in KIROV}
    assert ("2026", "yashalta") in cards["expert"]
    # A ranking once the results are final: before, the national roles only.
    assert seen["operator"]["rankings"] == dict.fromkeys(DEMO_CAMPAIGNS, 200)
    assert seen["coordinator"]["rankings"] == {"2020-approbation": 200, "2023": 200, "2026": 404}
    assert set(seen["anonymous"]["rankings"].values()) == {401}
    statuses = {status for _, status in contract.checked}
    assert statuses == {200, 304, 400, 401, 404}


# --- what every endpoint may answer ------------------------------------------------------------------------------


def every_path(campaign, code):
    return [
        api("api-campaigns"),
        api("api-ranking", campaign),
        api("api-municipality", campaign, code),
        api("api-measures", campaign, code),
        api("api-response-rates", campaign),
    ]


@pytest.mark.parametrize("role", ["anonymous", "operator", "organizer"])
def test_any_other_method_is_a_documented_405_whoever_asks(
    role, finalized, world, client, contract, django_assert_num_queries
):
    if role != "anonymous":
        bearer(client, world.users[role])

    for path in every_path(finalized.slug, "kirov"):
        for method in ("post", "put", "patch", "delete", "options"):
            with django_assert_num_queries(0):  # refused before the token is even looked up
                response = getattr(client, method)(path)

            assert response.status_code == 405, (method, path)
            assert response["Allow"] == "GET, HEAD"
            contract.check(response, AsGet)


def test_a_session_without_its_csrf_token_gets_the_405_too(finalized, world, contract):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["operator"])

    response = client.post(api("api-ranking", finalized.slug))

    assert response.status_code == 405
    contract.check(response, AsGet)


def test_head_answers_like_get_without_a_body(finalized, world, client):
    bearer(client, world.users["operator"])

    for path in every_path(finalized.slug, "kirov"):
        head, get = client.head(path), client.get(path)

        assert (head.status_code, head.content) == (200, b"")
        assert head["Content-Type"] == get["Content-Type"] == "application/json"


def test_an_accept_header_without_json_is_a_documented_406(finalized, world, client, contract):
    bearer(client, world.users["operator"])

    for path in every_path(finalized.slug, "kirov"):
        response = client.get(path, HTTP_ACCEPT="text/html")

        assert response.status_code == 406
        contract.check(response)


def test_a_url_the_api_does_not_have_is_a_documented_404(finalized, world, client, contract):
    bearer(client, world.users["operator"])

    malformed = [path.replace(finalized.slug, "no such campaign") for path in every_path(finalized.slug, "kirov")[1:]]
    unknown = every_path("no-such-campaign", "kirov")[1:] + every_path(finalized.slug, "no-such-place")[2:4]

    for path in malformed + unknown:
        contract.check(client.get(path))

    assert {status for _, status in contract.checked} == {404}


def test_an_unknown_token_is_a_documented_401_with_its_challenge(finalized, client, contract):
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer not-a-token"

    for path in every_path(finalized.slug, "kirov"):
        response = contract.check(client.get(path))

        assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_database_that_does_not_answer_is_a_documented_503(finalized, world, client, contract, monkeypatch):
    from assessment import api as assessment_api
    from assessment import measures_api
    from reports import api as reports_api
    from surveys import api as surveys_api

    def down(user):
        raise OperationalError("connection refused")

    for module in (assessment_api, measures_api, reports_api, surveys_api):
        monkeypatch.setattr(module, "access_for", down)
    bearer(client, world.users["operator"])

    for path in every_path(finalized.slug, "kirov"):
        response = contract.check(client.get(path))

        assert response.status_code == 503 and int(response["Retry-After"]) > 0


def test_every_operation_documents_what_every_endpoint_may_answer(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)

    for path, item in schema["paths"].items():
        assert set(item) == {"get"}, path
        responses = item["get"]["responses"]
        assert {"200", "401", "405", "406", "503"} <= set(responses), path
        assert "{slug}" not in path or "404" in responses, path
        assert responses["405"]["headers"]["Allow"]["required"] is True
        assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
    ranking = schema["paths"]["/api/v1/campaigns/{slug}/ranking/"]["get"]["responses"]
    assert {"304", "400"} <= set(ranking) and "ETag" in ranking["304"]["headers"]


def test_no_nullable_field_is_a_bare_reference_or_a_wrapper_type(client):
    """What strict validators and generators stumbled on: OpenAPI 3.0's `nullable` beside an `allOf` reference
    (meaningless there: the referenced object refuses null) and a `NullEnum` component of its own."""
    text = client.get(reverse("api-schema") + "?format=json").content.decode()
    schema = yaml.safe_load(text)

    assert "nullable" not in text and "NullEnum" not in text
    card = schema["components"]["schemas"]["CriterionPoints"]["properties"]["explanation"]
    assert card["oneOf"] == [{"$ref": "#/components/schemas/Explanation"}, {"type": "null"}]


@pytest.mark.parametrize("query", ["limit=", "offset=", "limit=%205", "offset=1%20", "limit=+1"])
def test_limit_and_offset_are_whole_numbers_as_the_schema_says(query, finalized, world, client, contract):
    """The schema types them as integers: anything else, an empty value included, is refused, not read as «all»."""
    bearer(client, world.users["operator"])

    response = contract.check(client.get(f"{api('api-ranking', finalized.slug)}?{query}"))

    assert response.status_code == 400 and response.json()["errors"]


def test_the_schema_generates_without_a_warning_and_is_valid_openapi(db, tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.1.0\ninfo:\n  title: MUKO API\n")
