"""The JSON API, version 1, documented at /api/v1/: read-only, session or token authentication."""

from django.urls import path
from django.utils.http import content_disposition_header
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView

from assessment.api import CampaignListView
from assessment.measures_api import MeasuresView
from reports import api as reports_api
from surveys.api import ResponseRatesView


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema (YAML; JSON with ?format=json or Accept: application/json), saved as muko-api.yaml or
    muko-api.json: a plain ASCII `filename="…"`, which `curl -OJ` and `wget --content-disposition` read (the
    title in it would be MIME-encoded as a whole once it is not Latin-1)."""

    @extend_schema(exclude=True)  # the schema does not describe itself (SERVE_INCLUDE_SCHEMA)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Disposition"] = content_disposition_header(
            False, f"muko-api.{request.accepted_renderer.format}"
        )
        return response


urlpatterns = [
    path("", reports_api.docs, name="api-docs"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("campaigns/", CampaignListView.as_view(), name="api-campaigns"),
    path("campaigns/<slug:slug>/ranking/", reports_api.RankingView.as_view(), name="api-ranking"),
    path(
        "campaigns/<slug:slug>/municipalities/<slug:code>/",
        reports_api.MunicipalityCardView.as_view(),
        name="api-municipality",
    ),
    path("campaigns/<slug:slug>/municipalities/<slug:code>/measures/", MeasuresView.as_view(), name="api-measures"),
    path("campaigns/<slug:slug>/response-rates/", ResponseRatesView.as_view(), name="api-response-rates"),
]
