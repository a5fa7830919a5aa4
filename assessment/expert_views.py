"""Expert review: the operator assigns experts (by hand or automatically, never across a conflict of
interest), experts re-score in their queue, disagreements are reconciled."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from assessment import appeals, experts, scoring
from assessment.campaign_views import campaign_for
from assessment.form_views import posted_code, posted_id, submission_for
from assessment.models import Appeal, Criterion, ReviewAssignment, Score, Submission
from assessment.score_sheet import sheet_criteria, sheet_rows
from assessment.score_views import sheet_post
from assessment.scores import ScoreError
from assessment.workflow import TransitionError
from municipalities.access import access_for


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
    assignments = list(assignments)
    # "of N" criteria: the methodology's count (data, not a constant), one query for every campaign listed.
    counts = dict(
        Criterion.objects.filter(mechanism__methodology__in={a.submission.campaign.methodology_id for a in assignments})
        .values("mechanism__methodology")
        .annotate(n=Count("pk"))
        .values_list("mechanism__methodology", "n")
    )
    for a in assignments:
        a.criteria_count = counts.get(a.submission.campaign.methodology_id, 0)
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
    criteria, posted, errors = sheet_criteria(submission), None, {}
    if request.method == "POST":
        access.require(can_score)
        posted, errors = sheet_post(request, submission, Score.Round.EXPERT, criteria, access)
        if not errors:
            return redirect("expert_scoring", slug, code)
    sheet = sheet_rows(
        submission, round=Score.Round.EXPERT, user=request.user, criteria=criteria, posted=posted, errors=errors
    )
    context = {"submission": submission, "campaign": submission.campaign, "assignment": assignment, "sheet": sheet}
    context |= {"can_score": can_score, "blind": submission.campaign.blind_review, "deadline": None}
    return render(request, "experts/scoring.html", context, status=400 if errors else 200)


@login_required
@require_POST
def expert_complete(request, slug, code):
    _access, _submission, assignment = _assignment(request, slug, code)
    try:
        experts.expert_complete(assignment=assignment)
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
        submission.eligible = experts.eligible_experts(submission)
        submission.disagreements = experts.discrepancies(submission) if submission.status == "in_review" else []
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
        experts.assign(submission=submission, expert=expert, by=request.user)
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
    made = experts.assign_automatically(campaign=campaign, by=request.user)
    messages.success(request, _("Assignments made: %(n)s.") % {"n": made})
    return redirect("campaign_experts", slug)


def _whole_points_error(request, criterion):
    messages.error(request, _("Enter a whole number from 0 to %(max)s.") % {"max": criterion.max_points})


@login_required
@require_POST
def reconcile(request, slug):
    access, campaign = campaign_for(request, slug)
    access.require(access.is_operator)
    submission = get_object_or_404(campaign.submissions.select_related("campaign"), pk=posted_id(request, "submission"))
    criterion = get_object_or_404(
        Criterion, mechanism__methodology=campaign.methodology_id, code=posted_code(request, "criterion")
    )
    points = scoring.points_from_text(request.POST.get("points"), criterion.max_points)
    if points is None:
        _whole_points_error(request, criterion)
        return redirect("campaign_experts", slug)
    try:
        experts.reconcile(
            submission=submission,
            criterion=criterion,
            points=points,
            reason=request.POST.get("reason", ""),
            by=request.user,
            access=access,
        )
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
    return render(request, "experts/agreement.html", {"campaign": campaign, "stats": experts.agreement_stats(campaign)})


def _appeal_rows(submission, criteria, data):
    """Each criterion with its final score, its appeal if any, and the argument typed."""
    finals = {
        s.criterion_id: s
        for s in Score.objects.filter(submission=submission, round="final", is_current=True).select_related("criterion")
    }
    appealed = {a.criterion_id: a for a in submission.appeals.select_related("decided_by")}
    return [
        {"criterion": c, "final": finals.get(c.pk), "appeal": appealed.get(c.pk), "text": data.get(f"a-{c.code}", "")}
        for c in criteria
    ]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appeal_form(request, slug, code):
    """The organizer's appeal: an argument against the final points of the criteria they choose."""
    access, submission = submission_for(request, slug, code)
    access.require(access.can_fill_forms(submission.municipality_id))
    criteria = sheet_criteria(submission)
    if request.method == "POST":
        items = [
            (c, request.POST.get(f"a-{c.code}", "")) for c in criteria if request.POST.get(f"a-{c.code}", "").strip()
        ]
        try:
            appeals.appeal_file(submission=submission, items=items, by=request.user, access=access)
        except (ScoreError, TransitionError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(
                request, _("The appeal is filed; an expert who did not review your materials will decide it.")
            )
            return redirect("submission_detail", slug, code)
    rows = _appeal_rows(submission, criteria, request.POST)
    return render(
        request,
        "experts/appeal_form.html",
        {"submission": submission, "campaign": submission.campaign, "rows": rows, "deadline": None},
    )


def _open_appeals(access, user):
    """The undecided appeals this user may decide: every one for the operator (appeals.may_decide otherwise)."""
    return [
        a
        for a in Appeal.objects.filter(outcome="")
        .select_related("submission__campaign", "submission__municipality__region", "criterion__component", "by")
        .order_by("filed_at")
        if access.is_operator or appeals.may_decide(user, a.submission)
    ]


def _appeal_decide(request, appeal, access):
    """Decide the appeal the request sends, with a message either way."""
    upheld = request.POST.get("outcome") == "upheld"
    points = scoring.points_from_text(request.POST.get("points"), appeal.criterion.max_points) if upheld else None
    if upheld and points is None:
        _whole_points_error(request, appeal.criterion)
        return
    try:
        appeals.appeal_decide(
            appeal=appeal,
            upheld=upheld,
            points=points,
            reason=request.POST.get("reason", ""),
            by=request.user,
            access=access,
        )
    except (ScoreError, TransitionError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, _("The appeal on %(code)s is decided.") % {"code": appeal.criterion.code})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appeal_queue(request):
    access = access_for(request.user)
    access.require(access.is_expert or access.is_operator)
    open_appeals = _open_appeals(access, request.user)
    if request.method == "POST":
        appeal = next((a for a in open_appeals if str(a.pk) == request.POST.get("appeal")), None)
        if appeal is None:
            messages.error(request, _("This appeal is not yours to decide, or it has already been decided."))
        else:
            _appeal_decide(request, appeal, access)
        return redirect("appeal_queue")
    for appeal in open_appeals:
        appeal.final = Score.objects.filter(
            submission=appeal.submission, criterion=appeal.criterion, round="final", is_current=True
        ).first()
        appeal.answer = appeal.submission.answers.filter(criterion=appeal.criterion).prefetch_related("links").first()
    return render(request, "experts/appeal_queue.html", {"appeals": open_appeals})
