from django.urls import path

from assessment import (
    calendar_views,
    campaign_views,
    expert_views,
    form_views,
    measure_views,
    region_views,
    score_views,
    views,
)

urlpatterns = [
    path("methodology/", views.methodology, name="methodology"),
    path("methodology/<slug:code>/", views.methodology, name="methodology_version"),
    path("campaigns/", campaign_views.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_views.campaign_create, name="campaign_create"),
    path("campaigns/<slug:slug>/", campaign_views.campaign_detail, name="campaign_detail"),
    path("campaigns/<slug:slug>/edit/", campaign_views.campaign_edit, name="campaign_edit"),
    path("campaigns/<slug:slug>/calendar.ics", campaign_views.campaign_calendar, name="campaign_calendar"),
    # A person's own deadlines at a secret address, for calendar apps, which cannot log in.
    path("calendar/<str:key>.ics", calendar_views.calendar_feed, name="calendar_feed"),
    path("campaigns/<slug:slug>/materials/", campaign_views.campaign_materials, name="campaign_materials"),
    path("campaigns/<slug:slug>/materials/<int:pk>/remove/", campaign_views.material_remove, name="material_remove"),
    path("campaigns/<slug:slug>/materials/<int:pk>/file/", campaign_views.material_file, name="material_file"),
    path("campaigns/<slug:slug>/basis/", campaign_views.campaign_basis, name="campaign_basis"),
    path(
        "campaigns/<slug:slug>/basis/<int:pk>/remove/",
        campaign_views.campaign_basis_remove,
        name="campaign_basis_remove",
    ),
    path("campaigns/<slug:slug>/basis/<int:pk>/file/", campaign_views.campaign_basis_file, name="campaign_basis_file"),
    path("campaigns/<slug:slug>/regions/<str:code>/", region_views.region_progress, name="region_progress"),
    path("campaigns/<slug:slug>/regions/<str:code>/remind/", region_views.region_remind, name="region_remind"),
    path("campaigns/<slug:slug>/regions/<str:code>/export.xlsx", region_views.region_export, name="region_export"),
    path("campaigns/<slug:slug>/regions/<str:code>/import/", region_views.region_import, name="region_import"),
    path("campaigns/<slug:slug>/m/<slug:code>/", form_views.submission_detail, name="submission_detail"),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/mechanisms/<str:mechanism>/",
        form_views.submission_mechanism,
        name="submission_mechanism",
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/criteria/<str:criterion>/save/",
        form_views.answer_save,
        name="answer_save",
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/criteria/<str:criterion>/files/",
        form_views.attachment_upload,
        name="attachment_upload",
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/analysis/<str:mechanism>/save/",
        form_views.analysis_save,
        name="analysis_save",
    ),
    path("campaigns/<slug:slug>/m/<slug:code>/submit/", form_views.submission_submit, name="submission_submit"),
    path("campaigns/<slug:slug>/m/<slug:code>/return/", form_views.submission_return, name="submission_return"),
    path("campaigns/<slug:slug>/m/<slug:code>/extend/", form_views.submission_extend, name="submission_extend"),
    path("campaigns/<slug:slug>/m/<slug:code>/scoring/", score_views.scoring_page, name="scoring_page"),
    path("campaigns/<slug:slug>/m/<slug:code>/prescored/", score_views.prescore_complete, name="prescore_complete"),
    path("campaigns/<slug:slug>/m/<slug:code>/review/", score_views.review_start, name="review_start"),
    path("campaigns/<slug:slug>/m/<slug:code>/finalize/", score_views.submission_finalize, name="submission_finalize"),
    path("campaigns/<slug:slug>/m/<slug:code>/expert/", expert_views.expert_scoring, name="expert_scoring"),
    path("campaigns/<slug:slug>/m/<slug:code>/expert/done/", expert_views.expert_complete, name="expert_complete"),
    path("campaigns/<slug:slug>/experts/", expert_views.campaign_experts, name="campaign_experts"),
    path("campaigns/<slug:slug>/experts/assign/", expert_views.experts_assign, name="experts_assign"),
    path("campaigns/<slug:slug>/experts/auto/", expert_views.experts_auto, name="experts_auto"),
    path("campaigns/<slug:slug>/experts/reconcile/", expert_views.reconcile, name="reconcile"),
    path("campaigns/<slug:slug>/agreement/", expert_views.campaign_agreement, name="campaign_agreement"),
    path("experts/queue/", expert_views.expert_queue, name="expert_queue"),
    path("experts/appeals/", expert_views.appeal_queue, name="appeal_queue"),
    path("campaigns/<slug:slug>/m/<slug:code>/appeal/", expert_views.appeal_form, name="appeal_form"),
    # Plans of measures answering a campaign's results (assessment/measure_views.py).
    path("campaigns/<slug:slug>/m/<slug:code>/plan/", measure_views.measure_plan, name="measure_plan"),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/plan/start/", measure_views.measure_plan_start, name="measure_plan_start"
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/plan/submit/",
        measure_views.measure_plan_submit,
        name="measure_plan_submit",
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/plan/approve/",
        measure_views.measure_plan_approve,
        name="measure_plan_approve",
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/plan/return/",
        measure_views.measure_plan_return,
        name="measure_plan_return",
    ),
    path("campaigns/<slug:slug>/m/<slug:code>/plan/measures/new/", measure_views.measure_add, name="measure_add"),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/plan/measures/<int:pk>/", measure_views.measure_edit, name="measure_edit"
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/plan/measures/<int:pk>/remove/",
        measure_views.measure_remove,
        name="measure_remove",
    ),
    path(
        "campaigns/<slug:slug>/m/<slug:code>/plan/measures/<int:pk>/progress/",
        measure_views.measure_progress,
        name="measure_progress",
    ),
    path("measure-files/<int:pk>/", measure_views.measure_file, name="measure_file"),
    path("campaigns/<slug:slug>/regions/<str:code>/plans/", measure_views.region_plans, name="region_plans"),
    path("campaigns/<slug:slug>/plans/", measure_views.national_plans, name="national_plans"),
    path("attachments/<int:pk>/", form_views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/remove/", form_views.attachment_remove, name="attachment_remove"),
]
