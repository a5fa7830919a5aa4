"""The primary-data form of one municipality in one campaign: overview, mechanism pages, autosave
endpoints, attachments, submit, return and extensions. Every page works without JavaScript."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from assessment import collection, review
from assessment.collection import CollectionError, ConflictError
from assessment.forms import ExtensionForm, ReasonForm
from assessment.models import Attachment, Criterion, EvidenceLink, MechanismAnalysis, Result, Stage
from assessment.scope import submissions_for
from assessment.workflow import TransitionError
from municipalities.access import access_for

# ASCII digits only, and no more of them than a database integer holds: int() would take "５", "1_000" or
# twenty nines, and the database would then fail on them (a 500) instead of the view answering with a message.
WHOLE = re.compile(r"-?[0-9]{1,9}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def whole_number(value):
    """A number read from a form field (a hidden version or id, points typed in): the int, None when blank,
    ValueError for anything else, so that the view answers 400 with a message (or 404 for an id)."""
    value = (value or "").strip()
    if not value:
        return None
    if not WHOLE.fullmatch(value):
        raise ValueError(value)
    return int(value)


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


def _version(value):
    """The version a block was loaded at (hidden in the form): a tampered or damaged one is refused with
    a message like any other field, never a 500 when it is compared with the stored one."""
    try:
        return whole_number(value)
    except ValueError:
        message = _("The form was sent damaged: reload the page and try again.")
        raise CollectionError(message, errors={"version": message}) from None


def submission_for(request, slug, code):
    access = access_for(request.user)
    submissions = submissions_for(access).select_related("campaign__methodology", "municipality__region")
    submission = get_object_or_404(submissions, campaign__slug=slug, municipality__code=code)
    return access, submission


def _can_fill(access, submission):
    return access.can_fill_forms(submission.municipality_id) and submission.is_editable


def _wants_json(request):
    return request.headers.get("Accept", "").startswith("application/json")


@login_required
@require_safe
def submission_detail(request, slug, code):
    access, submission = submission_for(request, slug, code)
    campaign = submission.campaign
    mechanisms = list(campaign.methodology.mechanisms.order_by("order"))
    state = collection.progress([submission.pk], campaign.methodology_id)[submission.pk]
    for mechanism in mechanisms:
        mechanism.progress = state["mechanisms"][mechanism.code]
    missing = collection.submission_missing(submission) if submission.is_editable else []
    links = EvidenceLink.objects.filter(answer__submission=submission).select_related("answer__criterion")
    problem_links = [link for link in links if link.is_problem]
    region_id = submission.municipality.region_id
    return render(
        request,
        "submissions/detail.html",
        {
            "submission": submission,
            "campaign": campaign,
            "mechanisms": mechanisms,
            "progress": state,
            "missing": missing,
            "link_count": len(links),
            "file_count": Attachment.objects.filter(answer__submission=submission, is_removed=False).count(),
            "problem_links": problem_links,
            "history": submission.status_changes.select_related("by").order_by("-at"),
            "extensions": submission.extensions.select_related("granted_by"),
            "can_fill": _can_fill(access, submission),
            "can_submit": access.can_fill_forms(submission.municipality_id) and submission.is_editable,
            "can_return": submission.status in ("submitted", "prescored", "in_review")
            and (access.is_operator or region_id in access.coordinated_region_ids),
            "can_extend": access.can_manage_region(region_id) and submission.is_editable,
            "can_view_scores": access.is_national or region_id in access.coordinated_region_ids,
            "can_prescore": submission.status == "submitted" and access.can_manage_region(region_id),
            "can_start_review": submission.status == "prescored" and access.is_operator,
            "can_finalize": submission.status == "in_review" and access.is_operator,
            "result": (result := Result.objects.filter(submission=submission).first()),
            "explanation": review.explain(submission) if result else None,
            # Ranks compare with every other participant: they are results, hidden until publication.
            "ranks_visible": access.may_see_results(campaign),
            "can_appeal": bool(result)
            and submission.status in ("finalized", "appealed")
            and access.can_fill_forms(submission.municipality_id)
            and (window := campaign.stage_dates.get(Stage.APPEALS)) is not None
            and window.starts_on <= timezone.localdate() <= window.ends_on,
            "mechanism_titles": {m.code: m.short_title for m in mechanisms},
            "days_left": submission.days_left(),
            "deadline": submission.deadline(),
            "return_form": ReasonForm(),
            "criteria_choices": Criterion.objects.filter(mechanism__methodology=campaign.methodology_id)
            .select_related("component")
            .order_by("mechanism__order", "component__order"),
            "last_return": submission.status_changes.filter(new="returned").order_by("-at").first()
            if submission.status == "returned"
            else None,
            "extension_form": ExtensionForm(),
        },
    )


def _mechanism_context(access, submission, mechanism, errors=None, posted=None):
    criteria = list(
        Criterion.objects.filter(mechanism=mechanism).select_related("component").order_by("component__order")
    )
    answers = {
        a.criterion_id: a
        for a in submission.answers.filter(criterion__mechanism=mechanism).prefetch_related(
            "links", Prefetch("attachments", queryset=Attachment.objects.filter(is_removed=False))
        )
    }
    blocks = []
    for criterion in criteria:
        answer = answers.get(criterion.pk)
        links = list(answer.links.all()) if answer else []
        files = list(answer.attachments.all()) if answer else []
        data = (posted or {}).get(criterion.code)
        blocks.append(
            {
                "criterion": criterion,
                "answer": answer,
                "description": data["description"] if data else (answer.description if answer else ""),
                "links_text": data["links"] if data else "\n".join(link.url for link in links),
                "complete": data["complete"] if data else bool(answer and answer.is_complete),
                "links": links,
                "files": files,
                "version": answer.version if answer else 0,
                "error": (errors or {}).get(criterion.code),
            }
        )
    last_return = submission.status_changes.filter(new="returned").order_by("-at").first()
    to_fix = set(last_return.criteria) if last_return and submission.status == "returned" else set()
    for block in blocks:
        block["to_fix"] = block["criterion"].code in to_fix
    analysis = MechanismAnalysis.objects.filter(submission=submission, mechanism=mechanism).first()
    mechanisms = list(submission.campaign.methodology.mechanisms.order_by("order"))
    state = collection.progress([submission.pk], submission.campaign.methodology_id)[submission.pk]
    for m in mechanisms:
        m.progress = state["mechanisms"][m.code]
    return {
        "submission": submission,
        "campaign": submission.campaign,
        "mechanism": mechanism,
        "mechanisms": mechanisms,
        "blocks": blocks,
        "analysis": analysis,
        "analysis_error": (errors or {}).get("analysis"),
        "progress": state,
        "can_fill": _can_fill(access, submission),
        "deadline": submission.deadline(),
        "days_left": submission.days_left(),
    }


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
    if request.method == "POST":
        # Without JavaScript the whole page is one form: all of it is saved, or none of it.
        access.require(access.can_fill_forms(submission.municipality_id))
        criteria = list(Criterion.objects.filter(mechanism=mechanism).select_related("mechanism", "component"))
        posted = _posted_blocks(request, criteria)
        errors = {}
        try:
            with transaction.atomic():
                for criterion in criteria:
                    data = posted[criterion.code]
                    try:
                        collection.answer_save(
                            submission=submission,
                            criterion=criterion,
                            by=request.user,
                            description=data["description"],
                            links_text=data["links"],
                            complete=data["complete"],
                            version=_version(data["version"]),
                        )
                    except CollectionError as exc:
                        errors[criterion.code] = exc.message
                try:
                    collection.analysis_save(
                        submission=submission,
                        mechanism=mechanism,
                        by=request.user,
                        conclusions=request.POST.get("analysis-conclusions", ""),
                        problems=request.POST.get("analysis-problems", ""),
                        measures=request.POST.get("analysis-measures", ""),
                        version=_version(request.POST.get("analysis-version")),
                    )
                except CollectionError as exc:
                    errors["analysis"] = exc.message
                if errors:
                    raise CollectionError(_("Nothing was saved: correct the marked blocks."))
        except CollectionError as exc:
            messages.error(request, exc.message)
            context = _mechanism_context(access, submission, mechanism, errors, posted)
            return render(request, "submissions/mechanism.html", context, status=400)
        messages.success(request, _("Mechanism %(code)s is saved.") % {"code": mechanism.code})
        return redirect("submission_mechanism", slug, code, mechanism.code)
    return render(request, "submissions/mechanism.html", _mechanism_context(access, submission, mechanism))


def _answer_json(answer, submission):
    state = collection.progress([submission.pk], submission.campaign.methodology_id)[submission.pk]
    return {
        "ok": True,
        "version": answer.version,
        "complete": answer.is_complete,
        "saved_at": timezone.localtime(answer.updated_at).strftime("%H:%M:%S") if answer.updated_at else "",
        "links": [
            {"url": link.url, "state": link.state, "label": link.get_state_display()} for link in answer.links.all()
        ],
        "progress": {"done": state["done"], "total": state["total"], "percent": state["percent"]},
        "mechanism": state["mechanisms"][answer.criterion.mechanism.code],
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
            version=_version(request.POST.get("version")),
        )
    except ConflictError as exc:
        current = exc.current
        return JsonResponse(
            {
                "ok": False,
                "conflict": True,
                "error": exc.message,
                "version": current.version,
                "description": current.description,
                "links": "\n".join(link.url for link in current.links.all()),
                "complete": current.is_complete,
            },
            status=409,
        )
    except CollectionError as exc:
        if not _wants_json(request):
            messages.error(request, exc.message)
            return redirect(
                reverse("submission_mechanism", args=[slug, code, criterion.mechanism.code]) + f"#c-{criterion.code}"
            )
        return JsonResponse({"ok": False, "error": exc.message, "fields": list(exc.errors)}, status=400)
    if not _wants_json(request):
        return redirect(
            reverse("submission_mechanism", args=[slug, code, criterion.mechanism.code]) + f"#c-{criterion.code}"
        )
    return JsonResponse(_answer_json(answer, submission))


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
            version=_version(request.POST.get("version")),
        )
    except ConflictError as exc:
        current = exc.current
        return JsonResponse(
            {
                "ok": False,
                "conflict": True,
                "error": exc.message,
                "version": current.version,
                "conclusions": current.conclusions,
                "problems": current.problems,
                "measures": current.measures,
            },
            status=409,
        )
    except CollectionError as exc:
        return JsonResponse({"ok": False, "error": exc.message, "fields": list(exc.errors)}, status=400)
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
    target = reverse("submission_mechanism", args=[slug, code, criterion.mechanism.code]) + f"#c-{criterion.code}"
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
    criterion = attachment.answer.criterion
    return redirect(
        reverse(
            "submission_mechanism",
            args=[submission.campaign.slug, submission.municipality.code, criterion.mechanism.code],
        )
        + f"#c-{criterion.code}"
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
    is_reviewer = submission.assignments.filter(expert_id=access.user_id, is_active=True).exists()
    access.require(
        access.is_operator or submission.municipality.region_id in access.coordinated_region_ids or is_reviewer
    )
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
