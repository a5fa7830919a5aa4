"""The API's ground floor, shared by every app's endpoints: the base view, the shapes every answer reuses, the
answers every endpoint documents (401, 405, 406, 503) and the slug path parameter, and the schema's last touch
(`schema_nulls`)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed, NotFound
from rest_framework.views import APIView


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


UNAUTHORIZED = OpenApiResponse(
    DetailSerializer,
    description="Not logged in, or an unknown or revoked token; `WWW-Authenticate` names the Bearer scheme.",
)
NOT_ALLOWED = OpenApiResponse(
    DetailSerializer,
    description="The API is read-only: a method other than GET or HEAD is refused, whoever asks (before the "
    "login is checked); `Allow` lists the methods answered.",
)
NOT_ACCEPTABLE = OpenApiResponse(
    DetailSerializer, description="The `Accept` header admits no JSON: send `application/json` or `*/*`."
)
UNAVAILABLE = OpenApiResponse(
    DetailSerializer,
    description="The database does not answer for a moment (a restart, a failover): retry after `Retry-After` seconds.",
)

# The response headers those answers carry.
COMMON_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        str,
        OpenApiParameter.HEADER,
        required=True,
        response=[401],
        description='The authentication scheme to use: `Bearer realm="api"`.',
    ),
    OpenApiParameter(
        "Allow",
        str,
        OpenApiParameter.HEADER,
        required=True,
        response=[405],
        description="The methods answered: `GET, HEAD`.",
    ),
    OpenApiParameter(
        "Retry-After",
        {"type": "string", "pattern": "^[0-9]+$"},
        OpenApiParameter.HEADER,
        required=True,
        response=[503],
        description="Seconds to wait before retrying.",
    ),
]


def read_only_responses(responses):
    """An operation's own responses (200 and its errors), with those every endpoint of the API may give."""
    every = {**responses, 401: UNAUTHORIZED, 405: NOT_ALLOWED, 406: NOT_ACCEPTABLE, 503: UNAVAILABLE}
    return dict(sorted(every.items()))


# The path parameters, as the URL's `slug` converter accepts them: anything else is no such page.
SLUG = {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"}


def slug_parameter(name, description):
    return OpenApiParameter(name, SLUG, OpenApiParameter.PATH, description=description)


class ApiView(APIView):
    """The API's views: read-only, a 404 says «Not found.» in the request's language, whatever was not found (not
    Django's "No Campaign matches the given query.", in English and naming a model) — the same as a URL the API
    does not have (config.views.page_not_found).

    Only GET and HEAD are answered: any other method (OPTIONS included) is a 405 with `Allow: GET, HEAD`, for
    everyone, before the login is checked, so a client sees the same documented answer whoever it is."""

    http_method_names = ["get", "head"]

    def perform_authentication(self, request):
        # DRF checks the method only after the login (an anonymous POST would be a 401, a session's a CSRF 403).
        if request.method.lower() not in self.http_method_names:
            raise MethodNotAllowed(request.method)
        super().perform_authentication(request)

    def handle_exception(self, exc):
        if isinstance(exc, Http404):
            exc = NotFound()
        return super().handle_exception(exc)


NULL_ENUM = "#/components/schemas/NullEnum"


def schema_nulls(result, generator, request, public):
    """drf-spectacular's last hook: a nullable choice (`level`, `stage`) is `oneOf: [the enum, {"type": "null"}]`
    rather than a reference to a `NullEnum` component, so a generated client gives `LevelEnum | None`, not a
    wrapper type that holds None."""

    def inline(node):
        if isinstance(node, dict):
            if node.get("$ref") == NULL_ENUM:
                return {"type": "null"}
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    result = inline(result)
    result.get("components", {}).get("schemas", {}).pop("NullEnum", None)
    return result
