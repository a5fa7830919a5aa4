"""A database that does not answer is a 503 «Сервис временно недоступен» (a page, or JSON for the API and for
JSON requests) with Retry-After, never a 500 with a traceback: config/middleware_db.py. The real outage (a
PostgreSQL restart under load) is in tests/test_load.py; here the errors are raised by mocks."""

import json
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import translation

from config.middleware_db import RETRY_AFTER_SECONDS, is_database_outage, unavailable_response

TOKEN = "a" * 32


def _russian(msgid):
    with translation.override("ru"):
        return translation.gettext(msgid)


def _assert_clean_page(response, detail):
    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert "errors/503.html" in [t.name for t in response.templates]
    assert '<html lang="ru">' in html
    assert _russian("Service temporarily unavailable") in html
    assert "Traceback" not in html and detail not in html and "OperationalError" not in html


# --- views of this module's URLconf (pytest.mark.urls): what the product's URLs cannot raise on demand ---------


def session_writer(request):
    """The session is saved by SessionMiddleware after the view: an error there is not the view's."""
    request.session["seen"] = True
    return HttpResponse("ok")


def broken(request):
    raise ValueError("a bug, not an outage")


urlpatterns = [path("session/", session_writer), path("broken/", broken)]
handler500 = "config.views.server_error"


# --- the tests -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("could not connect to server: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_database_error_in_a_view_is_a_clean_503_page_in_russian(client, db, error):
    with mock.patch("surveys.views.invitation_by_token", side_effect=error):
        response = client.get(f"/s/{TOKEN}/")

    _assert_clean_page(response, str(error))


def test_the_api_gets_json_503(client, world):
    client.force_login(world.users["ministry"])
    error = OperationalError("terminating connection due to administrator command")

    with mock.patch("reports.api.results.campaign_results_for", side_effect=error):
        response = client.get("/api/v1/campaigns/any/ranking/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": _russian("Service temporarily unavailable")}


def test_a_json_request_of_a_page_gets_json_503(client, db):
    error = OperationalError("server closed the connection unexpectedly")

    with mock.patch("surveys.views.invitation_by_token", side_effect=error):
        response = client.post(f"/s/{TOKEN}/autosave/", {"page": "1"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    assert json.loads(response.content)["detail"] == _russian("Service temporarily unavailable")


@pytest.mark.urls("tests.test_resilience")
def test_a_database_error_after_the_view_is_a_503_too(db):
    """The session saved on the way out fails: Django has already made a 500 of it; it becomes the 503."""
    client = Client(raise_request_exception=False)
    error = OperationalError("the database system is shutting down")

    with mock.patch("django.contrib.sessions.backends.db.SessionStore.save", side_effect=error):
        response = client.get("/session/")

    _assert_clean_page(response, str(error))


@pytest.mark.urls("tests.test_resilience")
def test_any_other_error_stays_a_500(db, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/broken/")

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "errors/500.html" in [t.name for t in response.templates]


def test_the_503_page_needs_no_database(db, django_assert_num_queries):
    request = RequestFactory().get("/campaigns/")

    with django_assert_num_queries(0), translation.override("ru"):
        response = unavailable_response(request)

    assert response.status_code == 503
    assert _russian("Service temporarily unavailable") in response.content.decode()


def test_an_error_raised_from_a_database_error_counts_as_an_outage():
    try:
        try:
            raise OperationalError("connection refused")
        except OperationalError as exc:
            raise RuntimeError("could not load the page") from exc
    except RuntimeError as wrapped:
        assert is_database_outage(wrapped)
    assert not is_database_outage(ValueError("no"))
    assert not is_database_outage(None)
