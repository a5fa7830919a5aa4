"""Plans of measures on screen: a municipality's plan answering a campaign's results (drafting, review, progress,
effect), its files, and the plans of a region and of the country. Thin views over assessment/measures.py (the writes)
and assessment/measure_selectors.py (the reads); scoped like the municipality's form: "not yours" is a 404."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from assessment import measure_selectors, measures
from assessment.campaign_views import campaign_for
from assessment.measures import MeasureError, MeasureInput
from assessment.models import Measure, MeasurePlan, MeasureProgress
from assessment.region_views import region_for
from assessment.scope import submissions_for
from municipalities.access import access_for
from municipalities.models import Region

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _submission(request, slug, code):
    """(access, the submission of the municipality in the campaign): the plan is seen by whoever sees the form."""
    access = access_for(request.user)
    submissions = submissions_for(access).select_related("campaign__methodology", "municipality__region")
    return access, get_object_or_404(submissions, campaign__slug=slug, municipality__code=code)


def _plan(submission):
    plans = MeasurePlan.objects.select_related("campaign__methodology", "municipality__region")
    return get_object_or_404(plans, campaign=submission.campaign, municipality=submission.municipality)


def _measure(plan, pk):
    measure = get_object_or_404(Measure, plan=plan, pk=pk, is_removed=False)
    measure.plan = plan
    return measure


def _page(request, access, submission, failed=None):
    context = measure_selectors.plan_page(access, submission, failed=failed)
    return render(request, "measures/plan.html", context, status=400 if failed else 200)


def _back(slug, code, anchor=""):
    return redirect(reverse("measure_plan", args=[slug, code]) + anchor)


def _posted_measure(request):
    post = request.POST
    return MeasureInput(
        title=post.get("title", ""),
        criteria=post.getlist("criteria"),
        responsible=post.get("responsible", ""),
        due=post.get("due", ""),
        expected_result=post.get("expected_result", ""),
        indicator=post.get("indicator", ""),
    )


@login_required
@require_safe
def measure_plan(request, slug, code):
    access, submission = _submission(request, slug, code)
    return _page(request, access, submission)


@login_required
@require_POST
def measure_plan_start(request, slug, code):
    access, submission = _submission(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    try:
        measures.plan_start(
            campaign=submission.campaign,
            municipality=submission.municipality,
            by=request.user,
            access=access,
            proposal=request.POST.get("proposal") != "0",
        )
    except MeasureError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The draft plan is ready: edit the measures, add or remove some, then submit it."))
    return _back(slug, code)


@login_required
@require_POST
def measure_add(request, slug, code):
    access, submission = _submission(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    plan, data = _plan(submission), _posted_measure(request)
    try:
        measure = measures.measure_add(plan=plan, data=data, by=request.user, access=access)
    except MeasureError as exc:
        messages.error(request, exc.message)
        return _page(request, access, submission, {"key": "new", "data": data, "errors": exc.errors})
    messages.success(request, _("The measure is added to the plan."))
    return _back(slug, code, f"#measure-{measure.pk}")


@login_required
@require_POST
def measure_edit(request, slug, code, pk):
    access, submission = _submission(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    measure, data = _measure(_plan(submission), pk), _posted_measure(request)
    try:
        measures.measure_edit(measure=measure, data=data, by=request.user, access=access)
    except MeasureError as exc:
        messages.error(request, exc.message)
        return _page(request, access, submission, {"key": measure.pk, "data": data, "errors": exc.errors})
    messages.success(request, _("The measure is saved."))
    return _back(slug, code, f"#measure-{measure.pk}")


@login_required
@require_POST
def measure_remove(request, slug, code, pk):
    access, submission = _submission(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    measure = _measure(_plan(submission), pk)
    try:
        measures.measure_remove(measure=measure, by=request.user, access=access)
    except MeasureError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("«%(title)s» is removed from the plan.") % {"title": measure.title[:80]})
    return _back(slug, code, "#measures")


def _plan_move(request, slug, code, *, allowed, move, done):
    """A move of the whole plan (submitted, approved): who may make it, the service, the message when it is made."""
    access, submission = _submission(request, slug, code)
    access.require(allowed(access, submission))
    try:
        move(plan=_plan(submission), by=request.user, access=access)
    except MeasureError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _back(slug, code)


@login_required
@require_POST
def measure_plan_submit(request, slug, code):
    return _plan_move(
        request,
        slug,
        code,
        allowed=lambda access, submission: access.can_fill_forms(submission.municipality_id),
        move=measures.plan_submit,
        done=_("The plan is submitted. Your regional coordinator has been notified."),
    )


@login_required
@require_POST
def measure_plan_approve(request, slug, code):
    return _plan_move(
        request,
        slug,
        code,
        allowed=lambda access, submission: access.can_manage_region(submission.municipality.region_id),
        move=measures.plan_approve,
        done=_("The plan is approved; the organizer has been notified."),
    )


@login_required
@require_POST
def measure_plan_return(request, slug, code):
    access, submission = _submission(request, slug, code)
    access.require(access.can_manage_region(submission.municipality.region_id))
    try:
        measures.plan_return(
            plan=_plan(submission), by=request.user, access=access, reason=request.POST.get("reason", "")
        )
    except MeasureError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The plan is returned to the organizer for revision."))
    return _back(slug, code)


@login_required
@require_POST
def measure_progress(request, slug, code, pk):
    access, submission = _submission(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    measure = _measure(_plan(submission), pk)
    try:
        measures.progress_report(
            measure=measure,
            by=request.user,
            access=access,
            status=request.POST.get("status", ""),
            comment=request.POST.get("comment", ""),
            links_text=request.POST.get("links", ""),
            upload=request.FILES.get("file"),
        )
    except MeasureError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The progress of the measure is recorded."))
    return _back(slug, code, f"#measure-{measure.pk}")


@login_required
@require_safe
def measure_file(request, pk):
    """A file given as evidence of a measure's progress: for whoever sees the plan."""
    access = access_for(request.user)
    report = get_object_or_404(MeasureProgress.objects.select_related("measure__plan").exclude(file=""), pk=pk)
    plan = report.measure.plan
    visible = submissions_for(access).filter(campaign_id=plan.campaign_id, municipality_id=plan.municipality_id)
    if not visible.exists():
        raise Http404
    response = FileResponse(
        report.file.open("rb"), as_attachment=True, filename=report.original_name, content_type=report.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def region_plans(request, slug, code):
    """The region's plans answering the campaign: each municipality's plan, its progress and its effect."""
    access, campaign, region = region_for(request, slug, code)
    found = measure_selectors.plans_by_region(campaign, access, regions=[region])
    entry = found.get(region) or measure_selectors.RegionPlans(region)
    return render(
        request,
        "measures/region.html",
        {"campaign": campaign, "region": region, "entry": entry, "caveat": measure_selectors.CAVEAT},
    )


@login_required
@require_safe
def national_plans(request, slug):
    """Every region's plans answering the campaign, and one region's in full (?region=CODE)."""
    access = access_for(request.user)
    access.require(access.is_national)
    access, campaign = campaign_for(request, slug)
    code = request.GET.get("region", "").strip()
    if CONTROL_CHARACTERS.search(code):
        raise Http404
    region = get_object_or_404(Region, code=code) if code else None
    found = measure_selectors.plans_by_region(campaign, access)
    return render(
        request,
        "measures/national.html",
        {
            "campaign": campaign,
            "regions": sorted(found.values(), key=lambda entry: entry.region.code),
            "region": region,
            "entry": found.get(region) if region else None,
            "caveat": measure_selectors.CAVEAT,
        },
    )
