"""A database that does not answer (a restart, a failover, a dropped connection) is a 503 «Сервис временно
недоступен» with Retry-After, as a page or as JSON for the API, never a 500 with a traceback. Django
re-establishes connections by itself once the database is back (CONN_HEALTH_CHECKS), so the app needs no
restart.

Two ways in: process_exception() for errors raised by a view (the usual case, logged as one warning line),
and, for errors raised in a middleware's own work (a session saved after the view), a got_request_exception
receiver that marks the request so that the 500 Django made of it is replaced on the way out."""

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def is_database_outage(exc):
    """The error, or one it was explicitly raised from, says the database could not be reached or used."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc, seen = exc.__cause__, seen + 1
    return False


def wants_json(request):
    return request.path.startswith("/api/") or request.headers.get("Accept", "").startswith("application/json")


def unavailable_response(request):
    """The 503 answer. Rendered without a request context: the context processors read the database."""
    with translation.override(getattr(request, "LANGUAGE_CODE", None) or translation.get_language()):
        if wants_json(request):
            response = JsonResponse({"detail": _("Service temporarily unavailable")}, status=503)
        else:
            response = HttpResponse(loader.get_template("errors/503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _mark_outage(sender, request=None, **kwargs):
    if request is not None and is_database_outage(sys.exc_info()[1]):
        request._database_unavailable = True


got_request_exception.connect(_mark_outage, dispatch_uid="config.middleware_db.mark_outage")


class DatabaseUnavailableMiddleware:
    """Near the top of MIDDLEWARE, so that it sees the final answer of every layer below it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_unavailable", False):
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not is_database_outage(exception):
            return None
        log.warning("database unavailable: %s %s: %s", request.method, request.path, exception, exc_info=settings.DEBUG)
        return unavailable_response(request)
