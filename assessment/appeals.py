"""Appeals: the organizer appeals the final points of some criteria in the appeal window; an expert who did
not review the submission (or the operator) decides each, and an upheld appeal becomes the final points."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import workflow
from assessment.collection import organizers, plain_text
from assessment.experts import expert_refusal
from assessment.models import Appeal, Score, Stage, Submission
from assessment.results import results_compute
from assessment.scores import COMMENT_MAX, ScoreError, points_check
from municipalities.models import Notification
from municipalities.notifications import notify


def _items_refusal(items, taken):
    """Why these (criterion, argument) pairs may not be appealed (None when they may)."""
    if not items:
        return _("Choose at least one criterion to appeal.")
    for criterion, argument in items:
        if not argument:
            return _("%(code)s: write the argument of the appeal.") % {"code": criterion.code}
        if len(argument) > COMMENT_MAX:
            return _("The text is longer than %(max)s characters.") % {"max": COMMENT_MAX}
    again = [c.code for c, _a in items if c.code in taken]
    if again:
        return _("These criteria have already been appealed: %(codes)s.") % {"codes": ", ".join(again)}
    return None


@transaction.atomic
def appeal_file(*, submission, items, by, access, today=None):
    """The organizer appeals the final points of some criteria, each with an argument, in the appeal window."""
    today = today or timezone.localdate()
    window = submission.campaign.stage_dates.get(Stage.APPEALS)
    if window is None or not window.starts_on <= today <= window.ends_on:
        raise ScoreError(_("Appeals are accepted only during the appeal stage of the campaign."))
    # Locked before "already appealed" is checked: two appeals sent at once queue instead of one failing the
    # unique constraint.
    submission = Submission.objects.select_related("campaign", "municipality").locked(submission.pk)
    items = [(criterion, plain_text(argument)) for criterion, argument in items]
    taken = set(Appeal.objects.filter(submission=submission).values_list("criterion__code", flat=True))
    refusal = _items_refusal(items, taken)
    if refusal:
        raise ScoreError(refusal)
    if submission.status == Submission.Status.FINALIZED:
        workflow.apply(
            submission=submission,
            name="appeal",
            by=by,
            access=access,
            reason="; ".join(f"{c.code}: {a}" for c, a in items),
        )
    elif submission.status != Submission.Status.APPEALED:
        raise ScoreError(_("Only a finalized result can be appealed."))
    Appeal.objects.bulk_create(Appeal(submission=submission, criterion=c, argument=a, by=by) for c, a in items)


def appeal_refusal(expert, submission):
    """Why this expert may not decide the submission's appeal (None when they may): a different expert, not
    one who reviewed it, and eligible as for a review (`expert_conflicts`)."""
    if submission.assignments.filter(expert=expert).exists():
        return _("The appeal must be decided by an expert who did not review this submission.")
    return expert_refusal(expert, submission)


def may_decide(expert, submission):
    return appeal_refusal(expert, submission) is None


def _upheld_scores(appeal, final, points, reason, by, now):
    """An upheld appeal's points: an APPEAL row after the final one, then the FINAL row that follows it (the
    score that stands for the criterion from now on, see scores.standing)."""
    decision = Score.objects.create(
        submission=appeal.submission,
        criterion=appeal.criterion,
        round=Score.Round.APPEAL,
        points=points,
        comment=reason,
        by=by,
        at=now,
        previous=final,
    )
    Score.objects.filter(pk=final.pk).update(is_current=False)
    Score.objects.create(
        submission=appeal.submission,
        criterion=appeal.criterion,
        round=Score.Round.FINAL,
        points=points,
        comment=reason,
        by=by,
        at=now,
        previous=decision,
    )


def _close(submission, by, access):
    """Once every appeal of the submission is decided: back to finalized, results recomputed, organizers told."""
    decided = Appeal.objects.filter(submission=submission).select_related("criterion")
    summary = "; ".join(
        f"{a.criterion.code}: {a.get_outcome_display()}" + (f" ({a.points})" if a.outcome == "upheld" else "")
        for a in decided
    )
    workflow.apply(submission=submission, name="decide_appeal", by=by, access=access, reason=summary)
    results_compute(campaign=submission.campaign)
    notify(
        organizers(submission),
        Notification.Kind.APPEAL,
        _("Your appeal is decided"),
        summary,
        reverse("submission_detail", args=[submission.campaign.slug, submission.municipality.code]),
    )


@transaction.atomic
def appeal_decide(*, appeal, upheld, points, reason, by, access):
    reason = plain_text(reason)
    # The submission first (the one order of locks): two last appeals decided at once then queue, and the second
    # sees the first decided and moves the submission on.
    Submission.objects.locked(Appeal.objects.values_list("submission_id", flat=True).get(pk=appeal.pk))
    appeal = (
        Appeal.objects.select_for_update()
        .select_related("submission__campaign", "submission__municipality", "criterion")
        .get(pk=appeal.pk)
    )
    submission = appeal.submission
    if appeal.outcome:
        raise ScoreError(_("This appeal has already been decided."))
    if not access.is_operator:
        refusal = appeal_refusal(by, submission)
        if refusal:
            raise ScoreError(refusal)
    if not reason:
        raise ScoreError(_("Please give the reason."))
    final = Score.objects.get(
        submission=submission, criterion=appeal.criterion, round=Score.Round.FINAL, is_current=True
    )
    new_points = final.points
    if upheld:
        points_check(appeal.criterion, points)
        new_points = points
    now = timezone.now()
    Appeal.objects.filter(pk=appeal.pk).update(
        outcome=Appeal.Outcome.UPHELD if upheld else Appeal.Outcome.REJECTED,
        points=new_points,
        reason=reason,
        decided_by=by,
        decided_at=now,
    )
    if upheld and new_points != final.points:
        _upheld_scores(appeal, final, new_points, reason, by, now)
    if not Appeal.objects.filter(submission=submission, outcome="").exists():
        _close(submission, by, access)
