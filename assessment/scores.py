"""Scores: setting one criterion's points in a round, which current score stands for a criterion, the walk back
through a score's history, the explanation of every point, and the end of pre-scoring.

Every score is a new row; the row it replaces stays (is_current=False) and is linked as `previous`, so each
point keeps who gave it, when, why and what it replaced."""

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import scoring, workflow
from assessment.collection import plain_text
from assessment.models import Criterion, EvidenceLink, Score, Submission
from assessment.results import current_points, specs_for
from municipalities.models import Appointment, Notification, Role
from municipalities.notifications import notify

ROUND_STATUS = {
    Score.Round.PRESCORE: {Submission.Status.SUBMITTED},
    Score.Round.EXPERT: {Submission.Status.IN_REVIEW},
}
# Which current score stands for a criterion: the final one (after an upheld appeal, the FINAL row that follows
# the APPEAL row), then an appeal decision, an expert's, the pre-score; the latest within a round. The page, the
# API and the scorecard all ask `standing`.
ROUND_PRECEDENCE = {Score.Round.FINAL: 0, Score.Round.APPEAL: 1, Score.Round.EXPERT: 2, Score.Round.PRESCORE: 3}
COMMENT_MAX = 5000


class ScoreError(Exception):
    def __init__(self, message, conflict=None):
        super().__init__(message)
        self.message = message
        self.conflict = conflict


def points_refusal(criterion, points):
    """Why `points` may not be given to the criterion (None when they may): the one rule, scoring.points_valid."""
    if scoring.points_valid(points, criterion.max_points):
        return None
    return _("%(code)s: points must be a whole number from 0 to %(max)s.") % {
        "code": criterion.code,
        "max": criterion.max_points,
    }


def points_check(criterion, points):
    """ScoreError unless `points` may be given to the criterion (see points_refusal)."""
    refusal = points_refusal(criterion, points)
    if refusal:
        raise ScoreError(refusal)


# --- which score stands, and its history ---------------------------------------------------------------------


def _precedence(score):
    return (ROUND_PRECEDENCE[score.round], -score.at.timestamp(), -score.pk)


def standing(scores):
    """{criterion id: the score standing for it} among `scores` (the current ones count, others are history)."""
    best = {}
    for score in scores:
        if not score.is_current:
            continue
        held = best.get(score.criterion_id)
        if held is None or _precedence(score) < _precedence(held):
            best[score.criterion_id] = score
    return best


def score_chain(score, scores):
    """The scores `score` replaced, newest first: the walk back through `previous` over `scores` ({pk: score},
    loaded once), safe against a loop."""
    chain, seen, step = [], {score.pk}, scores.get(score.previous_id)
    while step is not None and step.pk not in seen:
        seen.add(step.pk)
        chain.append(step)
        step = scores.get(step.previous_id)
    return chain


def explain(submission):
    """For every criterion: the score standing for it, who gave it, in which round, why, and the chain of
    earlier values (the score itself first), from the submission's scores loaded once."""
    scores = {s.pk: s for s in Score.objects.filter(submission=submission).select_related("by", "criterion")}
    links = {}
    for link in EvidenceLink.objects.filter(answer__submission=submission).select_related("answer"):
        links.setdefault(link.answer.criterion_id, []).append(link)
    best = standing(scores.values())
    rows = []
    for criterion in (
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    ):
        score = best.get(criterion.pk)
        history = [score, *score_chain(score, scores)] if score else []
        rows.append({"criterion": criterion, "score": score, "history": history, "links": links.get(criterion.pk, [])})
    return rows


# --- setting a score -----------------------------------------------------------------------------------------


def _refusal(*, submission, criterion, round, points, comment, access):
    """Why this score may not be set (None when it may); the submission is locked."""
    if not access.may_score(submission, round):
        return _("Your role does not allow scoring this submission.")
    if submission.status not in ROUND_STATUS[round]:
        return _("The submission is %(status)s: its scores cannot be changed now.") % {
            "status": submission.get_status_display()
        }
    if criterion.mechanism.methodology_id != submission.campaign.methodology_id:
        return _("This criterion belongs to another methodology.")
    if refusal := points_refusal(criterion, points):
        return refusal
    if len(comment) > COMMENT_MAX:
        return _("The comment is longer than 5000 characters.")
    if round == Score.Round.EXPERT and not comment:
        prescore = Score.objects.filter(
            submission=submission, criterion=criterion, round=Score.Round.PRESCORE, is_current=True
        ).first()
        if prescore is None or prescore.points != points:
            return _("%(code)s: your points differ from the coordinator's pre-score; write the reason.") % {
                "code": criterion.code
            }
    return None


def evidence_remember(scored):
    """The evidence as it was when scored, for each (submission id, criterion id) just scored: a later change of
    the page shows as "changed since scoring". One UPDATE per submission."""
    by_submission = {}
    for submission_id, criterion_id in scored:
        by_submission.setdefault(submission_id, []).append(criterion_id)
    for submission_id, criterion_ids in by_submission.items():
        EvidenceLink.objects.filter(
            answer__submission_id=submission_id, answer__criterion_id__in=criterion_ids
        ).exclude(sha256="").update(sha256_at_scoring=F("sha256"))


@transaction.atomic
def score_set(*, submission, criterion, round, points, comment, by, access, seen=None):
    """Set one criterion's points in a round. `seen` is the id of the current score the user was shown
    (None for none): if someone saved in between, ScoreError(conflict=the current score) and no write."""
    comment = plain_text(comment)
    submission = Submission.objects.select_related("municipality", "campaign").locked(submission.pk)
    refusal = _refusal(
        submission=submission, criterion=criterion, round=round, points=points, comment=comment, access=access
    )
    if refusal:
        raise ScoreError(refusal)
    current_scores = Score.objects.select_for_update().filter(
        submission=submission, criterion=criterion, round=round, is_current=True
    )
    if round == Score.Round.EXPERT:
        current_scores = current_scores.filter(by=by)  # each expert has their own score
    current = current_scores.first()
    if (current.pk if current else None) != (int(seen) if seen not in (None, "") else None):
        raise ScoreError(
            _("%(code)s was scored by someone else a moment ago (%(points)s). Check it and save again.")
            % {"code": criterion.code, "points": current.points if current else "—"},
            conflict=current,
        )
    if current and current.points == points and current.comment == comment:
        return current
    now = timezone.now()
    if current:
        Score.objects.filter(pk=current.pk).update(is_current=False)
    previous = current
    if previous is None and round == Score.Round.EXPERT:
        # An expert's first score follows the pre-score, so the chain of a point reads back to the coordinator.
        previous = Score.objects.filter(
            submission=submission, criterion=criterion, round=Score.Round.PRESCORE, is_current=True
        ).first()
    score = Score.objects.create(
        submission=submission,
        criterion=criterion,
        round=round,
        points=points,
        comment=comment,
        by=by,
        at=now,
        previous=previous,
    )
    evidence_remember([(submission.pk, criterion.pk)])
    Submission.objects.filter(pk=submission.pk).update(last_activity_at=now)
    return score


# --- the end of pre-scoring ----------------------------------------------------------------------------------


def _operators():
    return [a.user for a in Appointment.objects.active().filter(role=Role.OPERATOR).select_related("user")]


@transaction.atomic
def prescore_complete(*, submission, by, access):
    specs = specs_for(submission.campaign.methodology_id)
    have = current_points([submission.pk], Score.Round.PRESCORE)[submission.pk]
    missing = [s.code for s in specs if s.code not in have]
    if missing:
        raise ScoreError(
            _("Not every criterion has points yet: %(codes)s.") % {"codes": ", ".join(missing[:12])}
            + ("…" if len(missing) > 12 else "")
        )
    workflow.apply(submission=submission, name="prescore", by=by, access=access)
    notify(
        _operators(),
        Notification.Kind.REVIEW,
        _("Pre-scored: %(municipality)s") % {"municipality": submission.municipality},
        _("The coordinator has pre-scored %(municipality)s; assign the experts.")
        % {"municipality": submission.municipality},
        reverse("campaign_experts", args=[submission.campaign.slug]),
    )
    return submission
