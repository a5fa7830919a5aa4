"""The API's ground floor, shared by every app's endpoints: the base view, the shapes every answer reuses, the
401 every endpoint documents and the slug path parameter."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


UNAUTHORIZED = OpenApiResponse(DetailSerializer, description="Not logged in, or an unknown or revoked token.")

# The path parameters, as the URL's `slug` converter accepts them: anything else is no such page.
SLUG = {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"}


def slug_parameter(name, description):
    return OpenApiParameter(name, SLUG, OpenApiParameter.PATH, description=description)


class ApiView(APIView):
    """The API's views: a 404 says «Not found.» in the request's language, whatever was not found (not Django's
    "No Campaign matches the given query.", in English and naming a model) — the same as a URL the API does
    not have (config.views.page_not_found)."""

    def handle_exception(self, exc):
        if isinstance(exc, Http404):
            exc = NotFound()
        return super().handle_exception(exc)
