"""The JSON API, version 1 (DESIGN.md §4). Read-only; session or token authentication."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from surveys.api import ResponseRatesView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("campaigns/<slug:slug>/response-rates/", ResponseRatesView.as_view(), name="api-response-rates"),
]
