from django.urls import path

from surveys import staff_views, views

urlpatterns = [
    # Respondents: no login, the token is the key.
    path("s/done/", views.survey_done, name="survey_done"),
    path("s/new-link/", views.survey_lost_link, name="survey_lost_link"),
    path("s/<str:token>/", views.survey, name="survey"),
    path("s/<str:token>/autosave/", views.survey_autosave, name="survey_autosave"),
    # The people who run the survey.
    path("campaigns/<slug:slug>/surveys/", staff_views.survey_overview, name="survey_overview"),
    path(
        "campaigns/<slug:slug>/surveys/questionnaires/<str:role>/",
        staff_views.survey_questionnaire,
        name="survey_questionnaire",
    ),
    path("campaigns/<slug:slug>/surveys/regions/<str:code>/", staff_views.survey_region, name="survey_region"),
    path(
        "campaigns/<slug:slug>/surveys/regions/<str:code>/act/", staff_views.survey_region_act, name="survey_region_act"
    ),
    path(
        "campaigns/<slug:slug>/surveys/regions/<str:code>/links.<str:fmt>",
        staff_views.survey_region_links,
        name="survey_region_links",
    ),
    path(
        "campaigns/<slug:slug>/surveys/regions/<str:code>/evidence.xlsx",
        staff_views.survey_region_evidence_export,
        name="survey_region_evidence_export",
    ),
    path("campaigns/<slug:slug>/surveys/m/<slug:code>/", staff_views.survey_municipality, name="survey_municipality"),
    path(
        "campaigns/<slug:slug>/surveys/m/<slug:code>/act/",
        staff_views.survey_municipality_act,
        name="survey_municipality_act",
    ),
    path(
        "campaigns/<slug:slug>/surveys/m/<slug:code>/links.<str:fmt>",
        staff_views.survey_municipality_links,
        name="survey_municipality_links",
    ),
    path(
        "campaigns/<slug:slug>/surveys/schools/<int:pk>/sheet/",
        staff_views.survey_school_sheet,
        name="survey_school_sheet",
    ),
    path("campaigns/<slug:slug>/surveys/evidence/<slug:code>/", staff_views.survey_evidence, name="survey_evidence"),
    path(
        "campaigns/<slug:slug>/surveys/evidence/<slug:code>/export.xlsx",
        staff_views.survey_evidence_export,
        name="survey_evidence_export",
    ),
]
