from django.urls import path

from reports import views

urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/<slug:slug>/results/", views.ranking, name="ranking"),
    path("campaigns/<slug:slug>/results/export.<str:fmt>", views.ranking_export, name="ranking_export"),
    path("campaigns/<slug:slug>/results/regions/", views.region_ranking, name="region_ranking"),
    path("campaigns/<slug:slug>/results/regions/<str:code>/report/", views.region_report, name="region_report"),
    path("campaigns/<slug:slug>/results/overview/", views.ministry_dashboard, name="ministry_dashboard"),
    path("campaigns/<slug:slug>/results/m/<slug:code>/", views.scorecard_page, name="scorecard"),
    path("campaigns/<slug:slug>/results/m/<slug:code>/what-if/", views.what_if, name="what_if"),
    path("campaigns/<slug:slug>/results/m/<slug:code>/feedback/", views.feedback_report, name="feedback_report"),
    path("reports/<uuid:pk>/", views.report_status, name="report_status"),
    path("reports/<uuid:pk>/download/", views.report_download, name="report_download"),
]
