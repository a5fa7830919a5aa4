"""The JSON API (a public interface, documented at /api/v1/): personal tokens, the campaigns, the ranking with
its ETag, the municipality's card
with points per role and stage, the documentation page and the schema."""

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from assessment.api import CampaignListSerializer
from assessment.models import CampaignStage, Criterion, ReviewAssignment, Score, Stage, Submission
from assessment.results import results_compute
from municipalities.api_auth import api_token_create
from municipalities.models import ApiToken
from reports.api import MunicipalityCardSerializer, RankingSerializer

ROW_KEYS = {
    "rank",
    "municipality",
    "region",
    "total",
    "max_total",
    "share",
    "level",
    "level_label",
    "mechanisms",
    "previous_total",
    "change",
}
CARD_KEYS = {
    "municipality",
    "region",
    "status",
    "total",
    "max_total",
    "share",
    "level",
    "rank",
    "mechanisms",
    "criteria",
    "previous",
}


def api(name, *args):
    return reverse(name, args=args)


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def valid(serializer_class, body):
    serializer = serializer_class(data=body)
    assert serializer.is_valid(), serializer.errors
    return True


def criteria(campaign):
    return list(Criterion.objects.filter(mechanism__methodology=campaign.methodology).order_by("code"))


def prescore(campaign, municipality, points, by, status="submitted"):
    """Every criterion pre-scored `points` (at most its maximum), without the finalization."""
    submission = campaign.submissions.get(municipality=municipality)
    scores = Score.objects.bulk_create(
        Score(submission=submission, criterion=c, round="prescore", points=min(points, c.max_points), by=by)
        for c in criteria(campaign)
    )
    Submission.objects.filter(pk=submission.pk).update(status=status)
    return submission, scores


def finalize(campaign, municipality, points, world):
    """A finalized submission: the coordinator's pre-score confirmed as final on every criterion."""
    submission, prescores = prescore(campaign, municipality, points, world.users["coordinator"], status="finalized")
    Score.objects.bulk_create(
        Score(
            submission=submission,
            criterion=p.criterion,
            round="final",
            points=p.points,
            comment="Подтверждено",
            by=world.users["operator"],
            previous=p,
        )
        for p in prescores
    )
    return submission


@pytest.fixture
def results(campaign, world):
    """Kirov and Kumeny (region 43) tie with 2 points per criterion; Elista (08) has 1 per criterion."""
    for municipality, points in ((world.municipality, 2), (world.sibling, 2), (world.other_municipality, 1)):
        finalize(campaign, municipality, points, world)
    results_compute(campaign=campaign)
    return campaign


# --- tokens ---------------------------------------------------------------------------------------------------


def test_a_token_is_created_on_the_profile_and_shown_once(world, as_role):
    client = as_role(world, "organizer")

    response = client.post(reverse("api_token_new"), {"name": "Выгрузка рейтинга"})
    first = client.get(reverse("profile")).content.decode()
    second = client.get(reverse("profile")).content.decode()

    assert response.status_code == 302 and response["Location"].startswith(reverse("profile"))
    token = ApiToken.objects.get(user=world.users["organizer"])
    key = first.split('id="new-token" type="text" value="')[1].split('"')[0]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest() and token.prefix == key[:8]
    assert key not in (token.key_hash, token.prefix, token.name) and len(key) >= 40
    assert key not in second and f"{token.prefix}…" in second and "Выгрузка рейтинга" in second


def test_a_token_needs_a_name(world, as_role):
    client = as_role(world, "organizer")

    response = client.post(reverse("api_token_new"), {"name": "  "})

    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_a_token_is_revoked_softly_and_only_by_its_owner(world, as_role):
    own, _ = api_token_create(user=world.users["organizer"], name="Мой")
    foreign, _ = api_token_create(user=world.users["coordinator"], name="Чужой")
    client = as_role(world, "organizer")

    refused = client.post(reverse("api_token_revoke", args=[foreign.pk]))
    by_get = client.get(reverse("api_token_revoke", args=[own.pk]))
    revoked = client.post(reverse("api_token_revoke", args=[own.pk]))

    assert refused.status_code == 404 and by_get.status_code == 405 and revoked.status_code == 302
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert own.revoked_at is not None and foreign.revoked_at is None
    assert ApiToken.objects.count() == 2  # the row stays, for the record


def test_token_pages_need_a_login(db, client):
    response = client.post(reverse("api_token_new"), {"name": "x"})

    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not ApiToken.objects.exists()


def test_a_bearer_token_opens_the_api_and_records_its_use(campaign, world, client):
    token, key = api_token_create(user=world.users["organizer"], name="Скрипт")

    response = client.get(api("api-campaigns"), **bearer(key))

    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["results"]] == ["test-2026"]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_use_of_a_token_is_written_at_most_once_a_minute(campaign, world, client):
    token, key = api_token_create(user=world.users["organizer"], name="Скрипт")
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)

    client.get(api("api-campaigns"), **bearer(key))
    token.refresh_from_db()
    kept = token.last_used_at
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent - timedelta(minutes=1))
    client.get(api("api-campaigns"), **bearer(key))
    token.refresh_from_db()

    assert kept == recent and token.last_used_at > recent


@pytest.mark.parametrize("header", ["Bearer revoked", "Bearer unknown-token", "Bearer", "Bearer a b"])
def test_a_revoked_unknown_or_malformed_token_is_401(campaign, world, client, header):
    token, key = api_token_create(user=world.users["operator"], name="Старый")
    token.revoked_at = timezone.now()
    token.save()
    client.force_login(world.users["operator"])  # a bad token is refused even beside a valid session

    response = client.get(api("api-campaigns"), HTTP_AUTHORIZATION=header.replace("revoked", key))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer") and response.json()["detail"]


def test_without_a_login_the_api_is_401(campaign, client):
    response = client.get(api("api-campaigns"))

    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_of_an_inactive_user_is_401(campaign, world, client):
    _token, key = api_token_create(user=world.users["organizer"], name="Скрипт")
    world.users["organizer"].is_active = False
    world.users["organizer"].save()

    response = client.get(api("api-campaigns"), **bearer(key))

    assert response.status_code == 401


def test_issue_token_prints_a_working_token(campaign, world, client):
    out, err = io.StringIO(), io.StringIO()

    call_command("issue_token", "t-coordinator", "--name", "CI", stdout=out, stderr=err)

    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=world.users["coordinator"])
    assert token.name == "CI" and token.prefix == key[:8] and token.prefix in err.getvalue()
    assert client.get(api("api-campaigns"), **bearer(key)).status_code == 200


def test_issue_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError):
        call_command("issue_token", "no-such-user", stdout=io.StringIO(), stderr=io.StringIO())

    assert not ApiToken.objects.exists()


# --- campaigns ------------------------------------------------------------------------------------------------


def test_campaigns_give_the_viewers_campaigns_with_the_current_stage(campaign, world, as_role):
    body = as_role(world, "organizer").get(api("api-campaigns")).json()
    nobody = as_role(world, "nobody").get(api("api-campaigns")).json()

    [row] = body["results"]
    assert {k: v for k, v in row.items() if k not in ("basis", "stages")} == {
        "slug": "test-2026",
        "title": "Тестовая кампания",
        "year": 2026,
        "max_total": 555,
        "stage": "results",
        "previous": None,
    }
    assert row["basis"] == [] and [s["code"] for s in row["stages"]] == [s.value for s in Stage]
    assert valid(CampaignListSerializer, body) and nobody == {"results": []}


def test_a_campaign_between_stages_has_no_stage(campaign, world, as_role):
    future = timezone.localdate() + timedelta(days=100)
    CampaignStage.objects.filter(campaign=campaign).update(starts_on=future, ends_on=future)

    body = as_role(world, "operator").get(api("api-campaigns")).json()

    assert body["results"][0]["stage"] is None


# --- the ranking ----------------------------------------------------------------------------------------------


def test_the_ranking_gives_every_row_and_ties_share_a_rank(results, world, as_role):
    response = as_role(world, "ministry").get(api("api-ranking", "test-2026"))

    body = response.json()
    assert response.status_code == 200 and valid(RankingSerializer, body)
    assert (body["campaign"], body["max_total"], body["count"]) == ("test-2026", 555, 3)
    ranks = {r["municipality"]["code"]: r["rank"] for r in body["results"]}
    assert [r["rank"] for r in body["results"]] == [1, 1, 3] and ranks == {"kirov": 1, "kumeny": 1, "elista": 3}
    first = body["results"][0]
    assert set(first) == ROW_KEYS and set(first["mechanisms"]) == {
        f"{b}.{m}" for b, n in ((1, 4), (2, 5)) for m in range(1, n + 1)
    }
    assert first["region"] == {"code": "43", "name": "Кировская область"} and first["total"] == 162
    assert first["share"] == round(162 / 555, 4) and first["level_label"]


def test_the_ranking_of_a_region_gives_the_rank_in_the_region(results, world, as_role):
    body = as_role(world, "coordinator").get(api("api-ranking", "test-2026") + "?region=08").json()

    assert [(r["municipality"]["code"], r["rank"]) for r in body["results"]] == [("elista", 1)]
    assert body["count"] == 1


def test_the_ranking_filters_and_pages(results, world, as_role):
    client = as_role(world, "operator")

    page = client.get(api("api-ranking", "test-2026") + "?limit=1&offset=1&sort=name").json()
    by_level = client.get(api("api-ranking", "test-2026") + "?level=separate_elements&q=elista").json()
    empty = client.get(api("api-ranking", "test-2026") + "?limit=0").json()

    assert page["count"] == 3 and [r["municipality"]["code"] for r in page["results"]] == ["kirov"]
    assert [r["municipality"]["code"] for r in by_level["results"]] == ["elista"]
    assert empty["count"] == 3 and empty["results"] == []


@pytest.mark.parametrize(
    "query", ["limit=-1", "limit=abc", "limit=5001", "limit=1.5", "offset=-3", "offset=x", "level=best", "sort=random"]
)
def test_malformed_ranking_parameters_are_400(results, world, as_role, query):
    response = as_role(world, "operator").get(api("api-ranking", "test-2026") + "?" + query)

    assert response.status_code == 400
    assert list(response.json()) == ["errors"] and len(response.json()["errors"]) == 1


def test_an_unknown_campaign_or_region_is_404(results, world, as_role):
    client = as_role(world, "operator")

    assert client.get(api("api-ranking", "no-such-campaign")).status_code == 404
    assert client.get(api("api-ranking", "test-2026") + "?region=99").status_code == 404


def test_before_publication_only_the_operator_and_the_ministry_see_the_ranking(results, world, as_role):
    future = timezone.localdate() + timedelta(days=10)
    CampaignStage.objects.filter(campaign=results, stage=Stage.RESULTS).update(starts_on=future, ends_on=future)

    seen = {
        role: as_role(world, role).get(api("api-ranking", "test-2026")).status_code
        for role in ("operator", "ministry", "coordinator", "organizer", "expert")
    }

    assert seen == {"operator": 200, "ministry": 200, "coordinator": 404, "organizer": 404, "expert": 404}


def test_the_ranking_answers_304_until_the_results_change(results, world, as_role):
    client = as_role(world, "organizer")
    url = api("api-ranking", "test-2026")
    first = client.get(url)
    etag = first["ETag"]

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    other_query = client.get(url + "?sort=name", HTTP_IF_NONE_MATCH=etag)
    results_compute(campaign=results)
    unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag)  # recomputed, same results: still valid
    score = Score.objects.filter(
        submission__campaign=results, round=Score.Round.FINAL, is_current=True, points__gt=0
    ).first()
    Score.objects.filter(pk=score.pk).update(points=score.points - 1)
    results_compute(campaign=results)
    recomputed = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert etag.startswith('"') and "private" in first["Cache-Control"]
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert other_query.status_code == 200 and other_query["ETag"] != etag
    assert unchanged.status_code == 304
    assert recomputed.status_code == 200 and recomputed["ETag"] != etag


def test_a_stale_etag_does_not_bypass_the_scope(results, world, as_role):
    etag = as_role(world, "operator").get(api("api-ranking", "test-2026"))["ETag"]
    future = timezone.localdate() + timedelta(days=10)
    CampaignStage.objects.filter(campaign=results, stage=Stage.RESULTS).update(starts_on=future, ends_on=future)

    response = as_role(world, "organizer").get(api("api-ranking", "test-2026"), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 404


def test_the_ranking_takes_a_fixed_number_of_queries(results, world, as_role, django_assert_max_num_queries):
    from tests.factories import MunicipalityFactory

    client = as_role(world, "ministry")
    url = api("api-ranking", "test-2026")
    client.get(url)
    cache.clear()  # measure the building of the body, not the copy kept per results version
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for i in range(8):
        municipality = MunicipalityFactory(region=world.other_region, code=f"extra-{i}")
        results.participations.create(municipality=municipality)
        Submission.objects.create(campaign=results, municipality=municipality)
        finalize(results, municipality, i % 3, world)
    results_compute(campaign=results)
    cache.clear()

    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url).json()

    assert body["count"] == 11


# --- the municipality's card ----------------------------------------------------------------------------------


def test_the_card_after_finalization_explains_every_final_point(results, world, as_role):
    response = as_role(world, "organizer").get(api("api-municipality", "test-2026", "kirov"))

    card = response.json()
    assert response.status_code == 200 and valid(MunicipalityCardSerializer, card)
    assert set(card) == CARD_KEYS
    assert card["municipality"] == {"code": "kirov", "name": "город Киров"} and card["region"]["code"] == "43"
    assert (card["status"], card["total"], card["max_total"], card["rank"]) == ("finalized", 162, 555, 1)
    assert card["level"] == "separate_elements" and card["share"] == round(162 / 555, 4)
    assert len(card["mechanisms"]) == 9 and sum(m["max_points"] for m in card["mechanisms"]) == 555
    assert card["mechanisms"][0] == {
        "code": "1.1",
        "points": 18,
        "max_points": 65,
        "level": "separate_elements",
        "previous_points": None,
    }
    assert card["previous"] is None  # the campaign follows none
    assert len(card["criteria"]) == 81 and sum(c["points"] for c in card["criteria"]) == 162
    first = card["criteria"][0]
    assert (first["code"], first["points"], first["max_points"]) == ("1.1.1", 2, 5)
    explanation = first["explanation"]
    assert (explanation["round"], explanation["reason"]) == ("final", "Подтверждено")
    assert explanation["by"] == world.users["operator"].get_full_name()
    assert [(h["round"], h["points"], h["by"]) for h in explanation["history"]] == [
        ("prescore", 2, world.users["coordinator"].get_full_name())
    ]


def test_before_finalization_the_municipality_sees_no_points(campaign, world, as_role):
    prescore(campaign, world.municipality, 3, world.users["coordinator"])

    own = as_role(world, "organizer").get(api("api-municipality", "test-2026", "kirov")).json()
    deputy = as_role(world, "deputy").get(api("api-municipality", "test-2026", "kirov")).json()
    coordinator = as_role(world, "coordinator").get(api("api-municipality", "test-2026", "kirov")).json()

    assert valid(MunicipalityCardSerializer, own) and own["status"] == "submitted"
    assert (own["total"], own["share"], own["level"], own["rank"]) == (None, None, None, None)
    assert {c["points"] for c in own["criteria"]} == {None} and {c["explanation"] for c in own["criteria"]} == {None}
    assert {m["points"] for m in own["mechanisms"]} == {None} and deputy == own
    assert coordinator["total"] == sum(min(3, c.max_points) for c in criteria(campaign))
    assert coordinator["rank"] is None and coordinator["criteria"][0]["explanation"]["round"] == "prescore"


def test_the_assigned_expert_sees_the_current_points_but_not_a_blind_pre_score(campaign, world, as_role):
    submission, _ = prescore(campaign, world.municipality, 3, world.users["coordinator"], status="in_review")
    ReviewAssignment.objects.create(
        submission=submission, expert=world.users["expert"], assigned_by=world.users["operator"]
    )
    client = as_role(world, "expert")
    url = api("api-municipality", "test-2026", "kirov")

    open_review = client.get(url).json()
    campaign.blind_review = True
    campaign.save()
    blind = client.get(url).json()

    assert open_review["criteria"][0]["points"] == 3 and open_review["total"] is not None
    assert blind["total"] is None and {c["points"] for c in blind["criteria"]} == {None}


def test_the_card_is_scoped_like_the_pages(results, world, as_role):
    ReviewAssignment.objects.create(
        submission=results.submissions.get(municipality=world.municipality),
        expert=world.users["expert"],
        assigned_by=world.users["operator"],
    )
    codes = ("kirov", "kumeny", "elista")

    seen = {
        role: [as_role(world, role).get(api("api-municipality", "test-2026", code)).status_code for code in codes]
        for role in ("operator", "ministry", "coordinator", "organizer", "deputy", "expert", "nobody")
    }

    assert seen == {
        "operator": [200, 200, 200],
        "ministry": [200, 200, 200],
        "coordinator": [200, 200, 404],
        "organizer": [200, 404, 404],
        "deputy": [200, 404, 404],
        "expert": [200, 404, 404],
        "nobody": [404, 404, 404],
    }
    assert as_role(world, "operator").get(api("api-municipality", "no-such", "kirov")).status_code == 404


def test_the_card_is_read_only(results, world, as_role):
    response = as_role(world, "operator").post(api("api-municipality", "test-2026", "kirov"))

    assert response.status_code == 405


# --- documentation and schema ---------------------------------------------------------------------------------


def test_the_documentation_page_needs_no_login_and_has_no_inline_script(db, client):
    response = client.get(reverse("api-docs"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Authorization: Bearer" in page and "curl" in page and reverse("api-schema") in page
    for path in ("campaigns/", "ranking/", "municipalities/", "response-rates/"):
        assert path in page
    assert "<script>" not in page and " style=" not in page
    assert client.post(reverse("api-docs")).status_code == 405


def test_the_schema_documents_every_endpoint_and_the_bearer_scheme(db, client):
    schema = json.loads(client.get(reverse("api-schema") + "?format=json").content)

    assert {
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{slug}/ranking/",
        "/api/v1/campaigns/{slug}/municipalities/{code}/",
        "/api/v1/campaigns/{slug}/response-rates/",
    } <= set(schema["paths"])
    scheme = schema["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    ranking = schema["paths"]["/api/v1/campaigns/{slug}/ranking/"]["get"]
    assert {p["name"] for p in ranking["parameters"]} >= {"region", "level", "kind", "q", "sort", "limit", "offset"}
    assert {"200", "304", "400", "404"} <= set(ranking["responses"])
    assert {"bearerAuth": []} in ranking["security"]
