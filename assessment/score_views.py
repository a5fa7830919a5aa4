"""The coordinator's pre-scoring page and the operator's moves of the review."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assessment import review, scoring
from assessment.form_views import submission_for, whole_number
from assessment.models import Attachment, Criterion, Score
from assessment.review import ScoreError
from assessment.workflow import TransitionError
from surveys.models import MIN_GROUP
from surveys.stats import evidence_by_mechanism


def _blocks(submission, posted=None, errors=None):
    criteria = (
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )
    answers = {
        a.criterion_id: a
        for a in submission.answers.prefetch_related(
            "links", Prefetch("attachments", queryset=Attachment.objects.filter(is_removed=False))
        )
    }
    scores = {
        s.criterion_id: s
        for s in Score.objects.filter(
            submission=submission, round=Score.Round.PRESCORE, is_current=True
        ).select_related("by")
    }
    mechanisms = {}
    for c in criteria:
        score = scores.get(c.pk)
        data = (posted or {}).get(c.code)
        mechanisms.setdefault(c.mechanism, []).append(
            {
                "criterion": c,
                "answer": answers.get(c.pk),
                "score": score,
                "points": data["points"] if data else (score.points if score else ""),
                "comment": data["comment"] if data else (score.comment if score else ""),
                "error": (errors or {}).get(c.code),
            }
        )
    return mechanisms, scores


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def scoring_page(request, slug, code):
    access, submission = submission_for(request, slug, code)
    access.require(access.is_national or submission.municipality.region_id in access.coordinated_region_ids)
    can_score = review._may_score(access, submission, Score.Round.PRESCORE) and submission.status == "submitted"
    posted, errors = None, {}
    if request.method == "POST":
        access.require(can_score)
        criteria = {
            c.code: c
            for c in Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id).select_related(
                "mechanism"
            )
        }
        posted = {
            key: {
                "points": request.POST.get(f"p-{key}", "").strip(),
                "comment": request.POST.get(f"c-{key}", ""),
                "seen": request.POST.get(f"s-{key}") or None,
            }
            for key in criteria
        }
        try:
            with transaction.atomic():
                for key, data in posted.items():
                    if data["points"] == "" and data["seen"] is None:
                        continue
                    try:
                        seen = whole_number(data["seen"])
                    except ValueError:
                        errors[key] = _("The form was sent damaged: reload the page and try again.")
                        continue
                    try:
                        points = whole_number(data["points"])
                    except ValueError:
                        points = None
                    if points is None:
                        errors[key] = _("Enter a whole number from 0 to %(max)s.") % {"max": criteria[key].max_points}
                        continue
                    try:
                        review.score_set(
                            submission=submission,
                            criterion=criteria[key],
                            round=Score.Round.PRESCORE,
                            points=points,
                            comment=data["comment"],
                            by=request.user,
                            access=access,
                            seen=seen,
                        )
                    except ScoreError as exc:
                        errors[key] = exc.message
                if errors:
                    raise ScoreError(_("Nothing was saved: correct the marked criteria."))
        except ScoreError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The points are saved."))
            return redirect("scoring_page", slug, code)
    mechanisms, scores = _blocks(submission, posted, errors)
    specs = review.specs_for(submission.campaign.methodology_id)
    summary = scoring.summarize(
        {s.criterion.code: s.points for s in scores.values()}, specs, submission.campaign.methodology.bands
    )
    bands = [
        (str(b.min_share), b.code, b.get_code_display()) for b in submission.campaign.methodology.level_bands.all()
    ]
    return render(
        request,
        "submissions/scoring.html",
        {
            "submission": submission,
            "campaign": submission.campaign,
            "mechanisms": mechanisms,
            "summary": summary,
            "scored": len(scores),
            "bands": bands,
            "can_score": can_score,
            "deadline": None,
            "survey": evidence_by_mechanism(submission),
            "min_group": MIN_GROUP,
        },
        status=400 if errors else 200,
    )


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
        review.prescore_complete,
        _("Pre-scoring is complete; the operator will send the materials to the experts."),
    )


@login_required
@require_POST
def review_start(request, slug, code):
    return _move(request, slug, code, review.review_start, _("The materials are sent to expert review."))


@login_required
@require_POST
def submission_finalize(request, slug, code):
    return _move(
        request, slug, code, review.submission_finalize, _("The results are finalized and the ranks recomputed.")
    )
