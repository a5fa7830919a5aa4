"""The JSON API, version 1, documented at /api/v1/: read-only, session or token authentication."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from assessment.api import CampaignListView
from assessment.measures_api import MeasuresView
from reports import api as reports_api
from surveys.api import ResponseRatesView

urlpatterns = [
    path("", reports_api.docs, name="api-docs"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
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
