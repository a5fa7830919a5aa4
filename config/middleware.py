import re

from django.conf import settings
from django.http import Http404, HttpResponse


class HealthCheckMiddleware:
    """Answers /healthz before sessions, auth or the database are touched: the load baseline."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return HttpResponse("ok", content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Django 5.2 has no CSP of its own; one strict policy for every page, no inline script."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


# C0 control characters and DEL: no URL of the product has them, and PostgreSQL refuses a NUL in a query
# parameter with an error (a 500) instead of finding nothing.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class ControlCharacterPathMiddleware:
    """A path with a control character (`/territory/%00/`) is a 404 before any view runs.

    A middleware rather than path converters registered over `str` and `slug`: it covers every URL, the
    admin's `<path:…>` and regex patterns, the API and views added later included, without overriding
    Django's own converters (deprecated since Django 5.1). It sits after the session, auth and message
    middleware so that the 404 is the product's usual page (JSON under /api/); none of the middleware
    before it reads the database with the path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if CONTROL_CHARACTERS.search(request.path_info):
            raise Http404
        return self.get_response(request)
