"""Nothing leaves the user guessing: an empty list says why it is empty and what to do next, and the error
pages are the product's own, in Russian, with a way back.

The empty lists are those of a fresh start: no campaign yet, a campaign nobody has worked on (no submission
to review, no survey response, no results, no material). Every page is fetched in Russian; the text asserted
is the Russian of the catalogue (tests/test_i18n.py makes sure there is one)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone, translation

from tests.factories import AppointmentFactory, RegionFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached fragments (the ranking table) are keyed by campaign and results version: another test's
    campaign with the same primary key must not lend this one its table."""
    from django.core.cache import cache

    cache.clear()


def ru(msgid):
    with translation.override("ru"):
        return translation.gettext(msgid)


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    html = response.content.decode()
    assert '<html lang="ru"' in html
    assert "includes/empty.html" in [t.name for t in response.templates], f"{url}: no empty state"
    return html


def empty_campaign(world, methodology, slug="empty-2026", municipalities=()):
    """A campaign in data collection that nobody has worked on: no answer, no material, no score."""
    from assessment.models import Campaign, Stage
    from assessment.services import campaign_save

    today = timezone.localdate()
    return campaign_save(
        campaign=Campaign(slug=slug, title="Пустая кампания", year=2026, methodology=methodology),
        stages={stage: (today - timedelta(days=30), today + timedelta(days=30)) for stage in Stage},
        municipalities=list(municipalities),
        by=world.users["operator"],
    )


# --- before any campaign ------------------------------------------------------------------------------------


def test_no_campaign_yet_the_operator_is_told_to_create_one(world, as_role):
    client = as_role(world, "operator")

    for url in (reverse("home"), reverse("campaign_list")):
        html = page(client, url)
        assert ru("No campaigns yet") in html
        assert reverse("campaign_create") in html


@pytest.mark.parametrize("role", ["coordinator", "organizer", "expert", "ministry"])
def test_no_campaign_yet_the_others_learn_who_opens_one(role, world, as_role):
    client = as_role(world, role)

    html = page(client, reverse("campaign_list"))

    assert ru("No campaigns yet") in html
    assert reverse("campaign_create") not in html


def test_an_operator_without_regions_is_sent_to_the_register(db, client):
    from municipalities.models import Role

    operator = AppointmentFactory(user=UserFactory(username="t-op", is_staff=True), role=Role.OPERATOR).user
    client.force_login(operator)

    html = page(client, reverse("region_list"))

    assert ru("No regions yet") in html
    assert reverse("admin:municipalities_region_changelist") in html


def test_a_region_without_municipalities_says_where_they_come_from(world, as_role):
    RegionFactory(code="99", name="Пустая область")

    html = page(as_role(world, "operator"), reverse("region_detail", args=["99"]))

    assert ru("No municipalities in this region yet") in html


def test_a_municipality_without_schools_says_the_survey_needs_them(world, as_role):
    html = page(as_role(world, "operator"), reverse("municipality_detail", args=[world.sibling.code]))

    assert ru("No schools in the register") in html


def test_an_expert_with_nothing_assigned_learns_when_work_comes(world, as_role):
    client = as_role(world, "expert")

    assert ru("Nothing is assigned to you yet") in page(client, reverse("expert_queue"))
    assert ru("No open appeals for you") in page(client, reverse("appeal_queue"))


def test_nobody_appointed_yet(world, as_role):
    """The list always holds the operator's own appointment; the template is checked with no row."""
    from django.template.loader import render_to_string

    request = RequestFactory().get(reverse("people"))
    request.user = world.users["operator"]
    with translation.override("ru"):
        html = render_to_string("people/list.html", {"rows": [], "form": None}, request=request)

    assert ru("Nobody is appointed yet") in html


# --- a campaign nobody has worked on ------------------------------------------------------------------------


def test_a_campaign_without_municipalities_asks_the_operator_to_choose_them(world, methodology, as_role):
    campaign = empty_campaign(world, methodology)

    html = page(as_role(world, "operator"), reverse("campaign_detail", args=[campaign.slug]))

    assert ru("No municipality takes part yet") in html
    assert reverse("campaign_edit", args=[campaign.slug]) in html


def test_a_fresh_campaign_has_no_materials_no_review_no_results(world, methodology, as_role):
    campaign = empty_campaign(world, methodology, municipalities=[world.municipality, world.sibling])
    client = as_role(world, "operator")

    assert ru("No materials yet") in page(client, reverse("campaign_materials", args=[campaign.slug]))
    assert ru("No submission is waiting for expert review") in page(
        client, reverse("campaign_experts", args=[campaign.slug])
    )
    assert ru("No results yet") in page(client, reverse("ranking", args=[campaign.slug]))


def test_a_region_outside_the_campaign_shows_no_blank_table(world, methodology, as_role):
    campaign = empty_campaign(world, methodology, municipalities=[world.other_municipality])

    html = page(as_role(world, "operator"), reverse("region_progress", args=[campaign.slug, world.region.code]))

    assert ru("No municipality of this region takes part in the campaign") in html


def test_survey_evidence_without_responses(world, survey_campaign, as_role):
    client = as_role(world, "organizer")

    html = page(client, reverse("survey_evidence", args=[survey_campaign.slug, world.municipality.code]))

    assert ru("No published responses yet") in html


def test_the_ranking_filtered_to_nothing_offers_to_reset(world, finalized, as_role):
    client = as_role(world, "operator")

    html = page(client, reverse("ranking", args=[finalized.slug]) + "?q=нет-такого")

    assert ru("No municipality matches the filters") in html
    assert ru("Reset the filters") in html


# --- error pages ----------------------------------------------------------------------------------------------


def boom(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("bad input")


# The product's URLs, and three that fail on purpose (error pages link to the product's pages).
urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("suspicious/", suspicious),
    path("", include("config.urls")),
]
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"


def error_page(response, status, template, title):
    html = response.content.decode()
    assert response.status_code == status
    assert template in [t.name for t in response.templates]
    assert '<html lang="ru"' in html
    assert ru(title) != title and ru(title) in html, f"{status}: not in Russian"
    assert ru("To the dashboard") in html and 'href="/"' in html, f"{status}: no way back"
    assert "Traceback" not in html
    return html


@override_settings(DEBUG=False)
def test_404_is_the_russian_page(world, as_role):
    response = as_role(world, "organizer").get("/no-such-page/")

    html = error_page(response, 404, "errors/404.html", "Page not found")
    assert "navbar-nav" in html  # the product's frame, with its menu


@override_settings(DEBUG=False)
def test_404_in_english_for_an_english_user(world, as_role):
    from django.conf import settings

    client = as_role(world, "organizer")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert '<html lang="en"' in response.content.decode() and "Page not found" in response.content.decode()


@override_settings(DEBUG=False)
def test_403_for_a_forbidden_page(world, as_role):
    response = as_role(world, "organizer").get(reverse("campaign_create"))

    error_page(response, 403, "errors/403.html", "Access denied")


@override_settings(DEBUG=False)
@pytest.mark.urls("tests.test_states")
def test_400_for_a_bad_request(db):
    response = Client().get("/suspicious/")

    error_page(response, 400, "errors/400.html", "Bad request")


@override_settings(DEBUG=False)
@pytest.mark.urls("tests.test_states")
def test_500_is_standalone_and_russian(db):
    client = Client(raise_request_exception=False)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/boom/")

    html = error_page(response, 500, "errors/500.html", "Something went wrong on our side")
    assert "a bug" not in html and "RuntimeError" not in html
    assert "navbar-nav" not in html and "logout" not in html  # no menu: nothing that needs the database
    assert "css/app.css" in html  # but the product's look
    assert not queries.captured_queries


def test_500_renders_without_a_request_or_a_database(db):
    from unittest import mock

    from config.views import server_error

    no_database = mock.patch.object(connection, "cursor", side_effect=AssertionError("the 500 page used the database"))
    with no_database, translation.override("ru"):
        response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert ru("Something went wrong on our side") in response.content.decode()


@override_settings(DEBUG=False)
def test_csrf_failure_is_explained(world):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("login"), {"username": "x", "password": "y"})

    error_page(response, 403, "errors/csrf.html", "The form has expired")
