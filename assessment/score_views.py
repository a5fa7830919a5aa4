"""The coordinator's pre-scoring page and the operator's moves of the review."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assessment import experts, scores, scoring
from assessment.form_views import submission_for
from assessment.models import Score
from assessment.results import specs_for
from assessment.score_sheet import SheetError, sheet_criteria, sheet_read, sheet_rows, sheet_save
from assessment.scores import ScoreError
from assessment.workflow import TransitionError

PRESCORE = Score.Round.PRESCORE


def sheet_post(request, submission, round, criteria, access):
    """Save the score sheet the request sends, all or nothing, with a message either way: (what was sent,
    {criterion code: error})."""
    posted = sheet_read(request.POST, criteria)
    try:
        sheet_save(submission=submission, round=round, posted=posted, criteria=criteria, by=request.user, access=access)
    except SheetError as exc:
        messages.error(request, exc.message)
        return posted, exc.errors
    messages.success(request, _("The points are saved."))
    return posted, {}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def scoring_page(request, slug, code):
    access, submission = submission_for(request, slug, code)
    access.require(access.sees_all_points(submission.municipality.region_id))
    can_score = access.may_score(submission, PRESCORE) and submission.status == "submitted"
    criteria, posted, errors = sheet_criteria(submission), None, {}
    if request.method == "POST":
        access.require(can_score)
        posted, errors = sheet_post(request, submission, PRESCORE, criteria, access)
        if not errors:
            return redirect("scoring_page", slug, code)
    sheet = sheet_rows(submission, round=PRESCORE, user=request.user, criteria=criteria, posted=posted, errors=errors)
    methodology = submission.campaign.methodology
    summary = scoring.summarize(sheet.points, specs_for(methodology.pk), methodology.bands)
    labels = {code: label for _share, code, label in methodology.band_rows()}
    context = {"submission": submission, "campaign": submission.campaign, "sheet": sheet, "can_score": can_score}
    context |= {"summary": summary, "level_label": labels.get(summary.level), "deadline": None}
    return render(request, "submissions/scoring.html", context, status=400 if errors else 200)


def _move(request, slug, code, action, success):
    access, submission = submission_for(request, slug, code)
    try:
        action(submission=submission, by=request.user, access=access)
    except (ScoreError, TransitionError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, success)
    return redirect("submission_detail", slug, code)


@login_required
@require_POST
def prescore_complete(request, slug, code):
    # The role first: the service's "not every criterion has points" names the criteria still unscored,
    # which is none of the organizer's (or the ministry's, or an expert's) business.
    access, submission = submission_for(request, slug, code)
    access.require(access.can_manage_region(submission.municipality.region_id))
    return _move(
        request,
        slug,
        code,
        scores.prescore_complete,
        _("Pre-scoring is complete; the operator will send the materials to the experts."),
    )


@login_required
@require_POST
def review_start(request, slug, code):
    return _move(request, slug, code, experts.review_start, _("The materials are sent to expert review."))


@login_required
@require_POST
def submission_finalize(request, slug, code):
    return _move(
        request, slug, code, experts.submission_finalize, _("The results are finalized and the ranks recomputed.")
    )
