"""Expert review: the operator assigns experts (by hand or automatically, never across a conflict of
interest), experts re-score in their queue, disagreements are reconciled."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from assessment import review
from assessment.campaign_views import campaign_for
from assessment.form_views import posted_code, posted_id, submission_for, whole_number
from assessment.models import Attachment, Criterion, ReviewAssignment, Score, Submission
from assessment.review import ScoreError
from municipalities.access import access_for
from surveys.models import MIN_GROUP
from surveys.stats import evidence_by_mechanism


@login_required
@require_safe
def expert_queue(request):
    access = access_for(request.user)
    access.require(access.is_expert)
    assignments = (
        ReviewAssignment.objects.filter(expert=request.user, is_active=True)
        .select_related("submission__campaign", "submission__municipality__region")
        .annotate(
            scored=Count(
                "submission__scores",
                filter=Q(
                    submission__scores__round="expert",
                    submission__scores__is_current=True,
                    submission__scores__by=request.user,
                ),
            )
        )
        .order_by(F("completed_at").asc(nulls_first=True), "due_on")
    )
    return render(request, "experts/queue.html", {"assignments": assignments})


def _assignment(request, slug, code):
    access, submission = submission_for(request, slug, code)
    assignment = get_object_or_404(ReviewAssignment, submission=submission, expert=request.user, is_active=True)
    return access, submission, assignment


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def expert_scoring(request, slug, code):
    access, submission, assignment = _assignment(request, slug, code)
    can_score = assignment.completed_at is None and submission.status == Submission.Status.IN_REVIEW
    criteria = list(
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )
    errors = {}
    posted = None
    if request.method == "POST":
        access.require(can_score)
        posted = {
            c.code: {
                "points": request.POST.get(f"p-{c.code}", "").strip(),
                "comment": request.POST.get(f"c-{c.code}", ""),
                "seen": request.POST.get(f"s-{c.code}") or None,
            }
            for c in criteria
        }
        try:
            with transaction.atomic():
                for criterion in criteria:
                    data = posted[criterion.code]
                    if data["points"] == "" and data["seen"] is None:
                        continue
                    try:
                        seen = whole_number(data["seen"])
                    except ValueError:
                        errors[criterion.code] = _("The form was sent damaged: reload the page and try again.")
                        continue
                    try:
                        points = _points(data["points"])
                        review.score_set(
                            submission=submission,
                            criterion=criterion,
                            round=Score.Round.EXPERT,
                            points=points,
                            comment=data["comment"],
                            by=request.user,
                            access=access,
                            seen=seen,
                        )
                    except ValueError:
                        errors[criterion.code] = _("Enter a whole number from 0 to %(max)s.") % {
                            "max": criterion.max_points
                        }
                    except ScoreError as exc:
                        errors[criterion.code] = exc.message
                if errors:
                    raise ScoreError(_("Nothing was saved: correct the marked criteria."))
        except ScoreError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The points are saved."))
            return redirect("expert_scoring", slug, code)
    answers = {
        a.criterion_id: a
        for a in submission.answers.prefetch_related(
            "links", Prefetch("attachments", queryset=Attachment.objects.filter(is_removed=False))
        )
    }
    prescores = {
        s.criterion_id: s for s in Score.objects.filter(submission=submission, round="prescore", is_current=True)
    }
    mine = {
        s.criterion_id: s
        for s in Score.objects.filter(submission=submission, round="expert", is_current=True, by=request.user)
    }
    blind = submission.campaign.blind_review
    mechanisms = {}
    for c in criteria:
        score = mine.get(c.pk)
        data = (posted or {}).get(c.code)
        mechanisms.setdefault(c.mechanism, []).append(
            {
                "criterion": c,
                "answer": answers.get(c.pk),
                "prescore": None if blind else prescores.get(c.pk),
                "score": score,
                # Without a blind review the pre-score is offered: saving it unchanged confirms it.
                "points": data["points"]
                if data
                else (score.points if score else ("" if blind or c.pk not in prescores else prescores[c.pk].points)),
                "comment": data["comment"] if data else (score.comment if score else ""),
                "error": errors.get(c.code),
            }
        )
    return render(
        request,
        "experts/scoring.html",
        {
            "submission": submission,
            "campaign": submission.campaign,
            "assignment": assignment,
            "mechanisms": mechanisms,
            "can_score": can_score,
            "blind": blind,
            "survey": evidence_by_mechanism(submission),
            "min_group": MIN_GROUP,
            "scored": len(mine),
            "deadline": None,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def expert_complete(request, slug, code):
    _access, _submission, assignment = _assignment(request, slug, code)
    try:
        review.expert_complete(assignment=assignment)
    except ScoreError as exc:
        messages.error(request, exc.message)
        return redirect("expert_scoring", slug, code)
    messages.success(request, _("Your review is complete. Thank you!"))
    return redirect("expert_queue")


@login_required
@require_safe
def campaign_experts(request, slug):
    access, campaign = campaign_for(request, slug)
    access.require(access.is_operator)
    submissions = list(
        campaign.submissions.filter(status__in=["prescored", "in_review"])
        .select_related("municipality__region", "campaign")
        .prefetch_related(
            Prefetch("assignments", queryset=ReviewAssignment.objects.filter(is_active=True).select_related("expert"))
        )
        .order_by("municipality__region__code", "municipality__name")
    )
    for submission in submissions:
        submission.eligible = review.eligible_experts(submission)
        submission.disagreements = review.discrepancies(submission) if submission.status == "in_review" else []
    return render(request, "experts/campaign.html", {"campaign": campaign, "submissions": submissions})


@login_required
@require_POST
def experts_assign(request, slug):
    access, campaign = campaign_for(request, slug)
    access.require(access.is_operator)
    submission = get_object_or_404(
        campaign.submissions.select_related("municipality", "campaign"), pk=posted_id(request, "submission")
    )
    expert = get_object_or_404(get_user_model(), pk=posted_id(request, "expert"))
    try:
        review.assign(submission=submission, expert=expert, by=request.user)
    except ScoreError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(expert)s is assigned to %(municipality)s.")
            % {"expert": expert.get_full_name(), "municipality": submission.municipality},
        )
    return redirect("campaign_experts", slug)


@login_required
@require_POST
def experts_auto(request, slug):
    access, campaign = campaign_for(request, slug)
    access.require(access.is_operator)
    made = review.assign_automatically(campaign=campaign, by=request.user)
    messages.success(request, _("Assignments made: %(n)s.") % {"n": made})
    return redirect("campaign_experts", slug)


def _points(value):
    """Points typed in: a whole number, ValueError when blank or anything else (the view says which range)."""
    points = whole_number(value)
    if points is None:
        raise ValueError(value)
    return points


@login_required
@require_POST
def reconcile(request, slug):
    access, campaign = campaign_for(request, slug)
    access.require(access.is_operator)
    submission = get_object_or_404(campaign.submissions.select_related("campaign"), pk=posted_id(request, "submission"))
    criterion = get_object_or_404(
        Criterion, mechanism__methodology=campaign.methodology_id, code=posted_code(request, "criterion")
    )
    try:
        review.reconcile(
            submission=submission,
            criterion=criterion,
            points=_points(request.POST.get("points")),
            reason=request.POST.get("reason", ""),
            by=request.user,
            access=access,
        )
    except ValueError:
        messages.error(request, _("Enter a whole number from 0 to %(max)s.") % {"max": criterion.max_points})
    except ScoreError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The final points of %(code)s are set.") % {"code": criterion.code})
    return redirect("campaign_experts", slug)


@login_required
@require_safe
def campaign_agreement(request, slug):
    access, campaign = campaign_for(request, slug)
    access.require(access.is_operator)
    return render(request, "experts/agreement.html", {"campaign": campaign, "stats": review.agreement_stats(campaign)})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appeal_form(request, slug, code):
    """The organizer's appeal: an argument against the final points of the criteria they choose."""
    access, submission = submission_for(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    finals = {
        s.criterion_id: s
        for s in Score.objects.filter(submission=submission, round="final", is_current=True).select_related("criterion")
    }
    criteria = list(
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )
    appealed = {a.criterion_id: a for a in submission.appeals.select_related("decided_by")}
    if request.method == "POST":
        items = [
            (c, request.POST.get(f"a-{c.code}", "")) for c in criteria if request.POST.get(f"a-{c.code}", "").strip()
        ]
        try:
            review.appeal_file(submission=submission, items=items, by=request.user, access=access)
        except (ScoreError, review.workflow.TransitionError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(
                request, _("The appeal is filed; an expert who did not review your materials will decide it.")
            )
            return redirect("submission_detail", slug, code)
    rows = [
        {
            "criterion": c,
            "final": finals.get(c.pk),
            "appeal": appealed.get(c.pk),
            "text": request.POST.get(f"a-{c.code}", ""),
        }
        for c in criteria
    ]
    return render(
        request,
        "experts/appeal_form.html",
        {"submission": submission, "campaign": submission.campaign, "rows": rows, "deadline": None},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appeal_queue(request):
    access = access_for(request.user)
    access.require(access.is_expert or access.is_operator)
    from assessment.models import Appeal

    open_appeals = [
        a
        for a in Appeal.objects.filter(outcome="")
        .select_related("submission__campaign", "submission__municipality__region", "criterion__component", "by")
        .order_by("filed_at")
        if access.is_operator or review.may_decide(request.user, a.submission)
    ]
    if request.method == "POST":
        appeal = next((a for a in open_appeals if str(a.pk) == request.POST.get("appeal")), None)
        if appeal is None:
            messages.error(request, _("This appeal is not yours to decide, or it has already been decided."))
            return redirect("appeal_queue")
        upheld = request.POST.get("outcome") == "upheld"
        try:
            points = _points(request.POST.get("points")) if upheld else None
        except ValueError:
            messages.error(request, _("Enter a whole number from 0 to %(max)s.") % {"max": appeal.criterion.max_points})
            return redirect("appeal_queue")
        try:
            review.appeal_decide(
                appeal=appeal,
                upheld=upheld,
                points=points,
                reason=request.POST.get("reason", ""),
                by=request.user,
                access=access,
            )
        except (ScoreError, review.workflow.TransitionError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("The appeal on %(code)s is decided.") % {"code": appeal.criterion.code})
        return redirect("appeal_queue")
    for appeal in open_appeals:
        appeal.final = Score.objects.filter(
            submission=appeal.submission, criterion=appeal.criterion, round="final", is_current=True
        ).first()
        appeal.answer = appeal.submission.answers.filter(criterion=appeal.criterion).prefetch_related("links").first()
    return render(request, "experts/appeal_queue.html", {"appeals": open_appeals})
