"""The primary-data form of one municipality in one campaign: overview, mechanism pages, autosave
endpoints, attachments, submit, return and extensions. Every page works without JavaScript."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from assessment import collection, form_selectors, measure_selectors
from assessment.collection import CollectionError, ConflictError, form_version, whole_number
from assessment.forms import ExtensionForm, ReasonForm
from assessment.models import Attachment, Criterion, Stage
from assessment.scope import submissions_for
from assessment.sites import on_authority_site
from assessment.workflow import TransitionError
from municipalities.access import access_for

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def posted_id(request, name):
    """The primary key a form posts in `name`: an int, or 404 when it is missing or no number at all."""
    try:
        pk = whole_number(request.POST.get(name))
    except ValueError:
        pk = None
    if pk is None:
        raise Http404
    return pk


def posted_code(request, name):
    """A code a form posts in `name` to look a row up by (a criterion's "1.1.1"): 404 for one with a control
    character, which no code has and PostgreSQL refuses in a query (a NUL is an error there, not a miss)."""
    value = request.POST.get(name, "")
    if CONTROL_CHARACTERS.search(value):
        raise Http404
    return value


def submission_for(request, slug, code):
    access = access_for(request.user)
    submissions = submissions_for(access).select_related("campaign__methodology", "municipality__region")
    submission = get_object_or_404(submissions, campaign__slug=slug, municipality__code=code)
    return access, submission


def _can_fill(access, submission):
    return access.can_fill_forms(submission.municipality_id) and submission.is_editable


def _wants_json(request):
    return request.headers.get("Accept", "").startswith("application/json")


def _overview_permissions(access, submission, result):
    """The overview's buttons, shown to whoever may press them (each view behind them asks Access again)."""
    campaign = submission.campaign
    region_id = submission.municipality.region_id
    return {
        "can_fill": _can_fill(access, submission),
        "can_submit": access.can_fill_forms(submission.municipality_id) and submission.is_editable,
        "can_return": submission.status in ("submitted", "prescored", "in_review")
        and access.can_manage_region(region_id),
        "can_extend": access.can_manage_region(region_id) and submission.is_editable,
        "can_view_scores": access.sees_all_points(region_id),
        "can_prescore": submission.status == "submitted" and access.can_manage_region(region_id),
        "can_start_review": submission.status == "prescored" and access.is_operator,
        "can_finalize": submission.status == "in_review" and access.is_operator,
        # Ranks compare with every other participant: they are results, hidden until publication.
        "ranks_visible": access.may_see_results(campaign),
        "can_appeal": bool(result)
        and submission.status in ("finalized", "appealed")
        and access.can_fill_forms(submission.municipality_id)
        and (window := campaign.stage_dates.get(Stage.APPEALS)) is not None
        and window.starts_on <= timezone.localdate() <= window.ends_on,
    }


@login_required
@require_safe
def submission_detail(request, slug, code):
    access, submission = submission_for(request, slug, code)
    context = form_selectors.submission_overview(submission)
    context.update(_overview_permissions(access, submission, context["result"]))
    context.update(return_form=ReasonForm(), extension_form=ExtensionForm())
    return render(request, "submissions/detail.html", context)


def _mechanism_page(request, access, submission, mechanism, refused=None, posted=None):
    """The page as stored, or as posted when `refused` (a CollectionError) kept anything from being saved."""
    context = form_selectors.mechanism_page(submission, mechanism, refused and refused.errors, posted)
    context["can_fill"] = _can_fill(access, submission)
    # The measures planned after the campaign this one follows, beside the criteria they addressed.
    earlier = measure_selectors.measures_for_form(submission, mechanism)
    for block in context["blocks"]:
        block["measures"] = earlier.get(block["criterion"].code, [])
    return render(request, "submissions/mechanism.html", context, status=400 if refused else 200)


def _posted_blocks(request, criteria):
    return {
        c.code: {
            "description": request.POST.get(f"c-{c.code}-description", ""),
            "links": request.POST.get(f"c-{c.code}-links", ""),
            "complete": request.POST.get(f"c-{c.code}-complete") == "on",
            "version": request.POST.get(f"c-{c.code}-version"),
        }
        for c in criteria
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def submission_mechanism(request, slug, code, mechanism):
    access, submission = submission_for(request, slug, code)
    mechanism = get_object_or_404(submission.campaign.methodology.mechanisms, code=mechanism)
    if request.method != "POST":
        return _mechanism_page(request, access, submission, mechanism)
    # Without JavaScript the whole page is one form: all of it is saved, or none of it.
    access.require(access.can_fill_forms(submission.municipality_id))
    criteria = list(Criterion.objects.filter(mechanism=mechanism).select_related("mechanism", "component"))
    posted = _posted_blocks(request, criteria)
    analysis = {name: request.POST.get(f"analysis-{name}", "") for name in ("conclusions", "problems", "measures")}
    try:
        collection.mechanism_save(
            submission=submission,
            mechanism=mechanism,
            by=request.user,
            blocks={criterion: posted[criterion.code] for criterion in criteria},
            analysis={**analysis, "version": request.POST.get("analysis-version")},
        )
    except CollectionError as exc:
        messages.error(request, exc.message)
        return _mechanism_page(request, access, submission, mechanism, exc, posted)
    messages.success(request, _("Mechanism %(code)s is saved.") % {"code": mechanism.code})
    return redirect("submission_mechanism", slug, code, mechanism.code)


def _criterion_anchor(slug, code, criterion):
    """The criterion's block on its mechanism page: where a form sent without JavaScript comes back to."""
    return reverse("submission_mechanism", args=[slug, code, criterion.mechanism.code]) + f"#c-{criterion.code}"


def _conflict(exc, **stored):
    """409 with what is stored now: the page shows it beside what was typed, nothing typed is lost."""
    return JsonResponse(
        {"ok": False, "conflict": True, "error": exc.message, "version": exc.current.version, **stored}, status=409
    )


def _refused(exc):
    return JsonResponse({"ok": False, "error": exc.message, "fields": list(exc.errors)}, status=400)


def _link_json(link, website):
    """A saved link as the form's script shows it: its check and, off the authority's site, the warning the page
    shows under it too (templates/includes/off_site.html)."""
    off_site = not on_authority_site(link.url, website)
    return {
        "url": link.url,
        "state": link.state,
        "label": link.get_state_display(),
        "off_site": off_site,
        "warning": _("link not on the authority's website: the expert may not count it") if off_site else "",
    }


def _answer_json(answer, submission, criterion):
    state = collection.progress([submission.pk], submission.campaign.methodology_id)[submission.pk]
    website = submission.municipality.website
    return {
        "ok": True,
        "version": answer.version,
        "complete": answer.is_complete,
        "saved_at": timezone.localtime(answer.updated_at).strftime("%H:%M:%S") if answer.updated_at else "",
        "links": [_link_json(link, website) for link in answer.links.all()],
        "progress": {"done": state["done"], "total": state["total"], "percent": state["percent"]},
        "mechanism": state["mechanisms"][criterion.mechanism.code],
    }


@login_required
@require_POST
def answer_save(request, slug, code, criterion):
    access, submission = submission_for(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    criterion = get_object_or_404(
        Criterion.objects.select_related("mechanism", "component"),
        mechanism__methodology=submission.campaign.methodology_id,
        code=criterion,
    )
    try:
        answer = collection.answer_save(
            submission=submission,
            criterion=criterion,
            by=request.user,
            description=request.POST.get("description", ""),
            links_text=request.POST.get("links", ""),
            complete=request.POST.get("complete") in ("on", "true", "1"),
            version=form_version(request.POST.get("version")),
        )
    except ConflictError as exc:
        current = exc.current
        links = "\n".join(link.url for link in current.links.all())
        return _conflict(exc, description=current.description, links=links, complete=current.is_complete)
    except CollectionError as exc:
        if _wants_json(request):
            return _refused(exc)
        messages.error(request, exc.message)
        return redirect(_criterion_anchor(slug, code, criterion))
    if not _wants_json(request):
        return redirect(_criterion_anchor(slug, code, criterion))
    return JsonResponse(_answer_json(answer, submission, criterion))


@login_required
@require_POST
def analysis_save(request, slug, code, mechanism):
    access, submission = submission_for(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    mechanism = get_object_or_404(submission.campaign.methodology.mechanisms, code=mechanism)
    try:
        analysis = collection.analysis_save(
            submission=submission,
            mechanism=mechanism,
            by=request.user,
            conclusions=request.POST.get("conclusions", ""),
            problems=request.POST.get("problems", ""),
            measures=request.POST.get("measures", ""),
            version=form_version(request.POST.get("version")),
        )
    except ConflictError as exc:
        current = exc.current
        return _conflict(exc, conclusions=current.conclusions, problems=current.problems, measures=current.measures)
    except CollectionError as exc:
        return _refused(exc)
    return JsonResponse(
        {
            "ok": True,
            "version": analysis.version,
            "complete": analysis.is_complete,
            "saved_at": timezone.localtime(analysis.updated_at).strftime("%H:%M:%S"),
        }
    )


@login_required
@require_POST
def attachment_upload(request, slug, code, criterion):
    access, submission = submission_for(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    criterion = get_object_or_404(
        Criterion.objects.select_related("mechanism"),
        mechanism__methodology=submission.campaign.methodology_id,
        code=criterion,
    )
    target = _criterion_anchor(slug, code, criterion)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
        return redirect(target)
    try:
        attachment = collection.attachment_add(
            submission=submission, criterion=criterion, upload=upload, by=request.user
        )
    except CollectionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("«%(name)s» is attached to %(code)s.") % {"name": attachment.original_name, "code": criterion.code},
        )
    return redirect(target)


def _attachment_for(request, pk):
    access = access_for(request.user)
    visible = Attachment.objects.filter(answer__submission__in=submissions_for(access))
    return access, get_object_or_404(
        visible.select_related(
            "answer__submission__campaign", "answer__submission__municipality", "answer__criterion__mechanism"
        ),
        pk=pk,
    )


@login_required
@require_safe
def attachment_download(request, pk):
    _access, attachment = _attachment_for(request, pk)
    if attachment.purged_at:  # removed long ago, its file deleted by purge_removed_files
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def attachment_remove(request, pk):
    access, attachment = _attachment_for(request, pk)
    submission = attachment.answer.submission
    access.require(access.can_fill_forms(submission.municipality_id))
    try:
        collection.attachment_remove(attachment=attachment, by=request.user)
    except CollectionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("«%(name)s» is removed from the form.") % {"name": attachment.original_name})
    return redirect(
        _criterion_anchor(submission.campaign.slug, submission.municipality.code, attachment.answer.criterion)
    )


@login_required
@require_POST
def submission_submit(request, slug, code):
    access, submission = submission_for(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    try:
        collection.submission_submit(submission=submission, by=request.user, access=access)
    except (CollectionError, TransitionError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, _("The forms are submitted. Your regional coordinator has been notified."))
    return redirect("submission_detail", slug, code)


def _form_error(form, field, default):
    """The form's own words when `field` was filled in and refused (too long, a NUL character), else `default`."""
    if form.data.get(field, "").strip() and field in form.errors:
        return form.errors[field][0]
    return default


@login_required
@require_POST
def submission_return(request, slug, code):
    access, submission = submission_for(request, slug, code)
    is_reviewer = submission.is_assigned_to(access.user_id)
    access.require(access.can_manage_region(submission.municipality.region_id) or is_reviewer)
    back = redirect("expert_scoring", slug, code) if is_reviewer else redirect("submission_detail", slug, code)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form, "reason", _("Please give the reason: the organizer will see it.")))
        return back
    try:
        collection.submission_return(
            submission=submission,
            by=request.user,
            access=access,
            reason=form.cleaned_data["reason"],
            criteria=request.POST.getlist("criteria"),
        )
    except (TransitionError, CollectionError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return back
    messages.success(request, _("The forms are returned to the organizer."))
    return redirect("expert_queue") if is_reviewer else redirect("submission_detail", slug, code)


@login_required
@require_POST
def submission_extend(request, slug, code):
    access, submission = submission_for(request, slug, code)
    access.require(access.can_manage_region(submission.municipality.region_id))
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form, "reason", _("Give a valid new deadline and the reason.")))
        return redirect("submission_detail", slug, code)
    try:
        collection.extension_grant(
            submission=submission,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
            by=request.user,
            access=access,
        )
    except CollectionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The deadline is extended."))
    return redirect("submission_detail", slug, code)
