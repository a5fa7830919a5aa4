"""Expert review: who may review a submission (conflicts of interest), assignment by hand and automatic, the
completion of a review, where two experts disagree and its reconciliation, finalization from the experts'
points, the agreement of pre-scores with the experts' and the reminders of reviews due."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from assessment import scoring, workflow
from assessment.collection import organizers, plain_text
from assessment.models import Criterion, ExpertConflict, Result, ReviewAssignment, Score, Submission
from assessment.results import results_compute, specs_for
from assessment.scores import ScoreError, points_check
from municipalities.models import MUNICIPAL_ROLES, Appointment, Invitation, Notification, Role
from municipalities.notifications import already_today, notify

# --- who may review --------------------------------------------------------------------------------------------


def expert_appointments():
    return Appointment.objects.active().filter(role=Role.EXPERT).select_related("user", "region")


def expert_conflicts(submission):
    """{user id: why that person may not review this submission}: the one rule behind the manual and the
    automatic assignment and the appeal's second expert.

    Besides the home region and declared conflicts, any appointment as organizer or deputy of the municipality,
    or as coordinator of its region, is a conflict: such a person would check their own work (or their own
    region's). Active appointments and ended ones count (an appointment keeps no end date, so an ended one may
    have overlapped the campaign); an invitation never accepted does not, or a coordinator could strike an
    expert off their municipalities by inviting them."""
    municipality = submission.municipality
    region = municipality.region
    reasons = {}
    invited = Invitation.objects.filter(appointment=OuterRef("pk"))
    held = (
        Appointment.objects.filter(
            Q(role__in=list(MUNICIPAL_ROLES), municipality=municipality) | Q(role=Role.COORDINATOR, region=region)
        )
        .filter(Q(is_active=True) | Exists(invited.filter(accepted_at__isnull=False)) | ~Exists(invited))
        .order_by("pk")
    )
    for user_id, role in held.values_list("user_id", "role"):
        where = municipality if role in MUNICIPAL_ROLES else region
        reasons.setdefault(
            user_id,
            _("appointed %(role)s of %(where)s (a conflict of interest)") % {"role": Role(role).label, "where": where},
        )
    for user_id in ExpertConflict.objects.filter(municipality=municipality).values_list("expert_id", flat=True):
        reasons.setdefault(user_id, _("declared a conflict of interest with %(where)s") % {"where": municipality})
    for user_id in expert_appointments().filter(region=region).values_list("user_id", flat=True):
        reasons.setdefault(user_id, _("an expert of the same region, %(where)s") % {"where": region})
    for user_id in submission.assignments.filter(is_active=True).values_list("expert_id", flat=True):
        reasons.setdefault(user_id, _("already assigned to it"))
    return reasons


def eligible_experts(submission):
    """Experts who may review this submission: those without a reason in `expert_conflicts`."""
    conflicts = expert_conflicts(submission)
    experts = {}
    for appointment in expert_appointments():
        if appointment.user_id not in conflicts:
            experts[appointment.user_id] = appointment.user
    return list(experts.values())


def expert_refusal(expert, submission):
    """Why this person may not review the submission (None when they may), said for the operator."""
    reason = expert_conflicts(submission).get(expert.pk)
    if reason is None and not expert_appointments().filter(user=expert).exists():
        reason = _("not an expert")
    if reason is None:
        return None
    return _("%(expert)s cannot review %(municipality)s: %(reason)s.") % {
        "expert": expert.get_full_name() or expert.username,
        "municipality": submission.municipality,
        "reason": reason,
    }


# --- assignment and completion ---------------------------------------------------------------------------------


@transaction.atomic
def assign(*, submission, expert, by, due_on=None):
    refusal = expert_refusal(expert, submission)
    if refusal:
        raise ScoreError(refusal)
    if submission.assignments.filter(is_active=True).count() >= submission.campaign.experts_per_submission:
        raise ScoreError(_("This submission already has its experts."))
    assignment = ReviewAssignment.objects.create(submission=submission, expert=expert, assigned_by=by, due_on=due_on)
    notify(
        [expert],
        Notification.Kind.ASSIGNMENT,
        _("A submission to review: %(municipality)s") % {"municipality": submission.municipality},
        _("You are assigned to review %(municipality)s in «%(campaign)s».")
        % {"municipality": submission.municipality, "campaign": submission.campaign},
        reverse("expert_queue"),
    )
    return assignment


@transaction.atomic
def assign_automatically(*, campaign, by, due_on=None):
    """Give every submission waiting for review its experts, the least loaded eligible expert first."""
    load = {}
    for expert_id in ReviewAssignment.objects.filter(submission__campaign=campaign, is_active=True).values_list(
        "expert_id", flat=True
    ):
        load[expert_id] = load.get(expert_id, 0) + 1
    made = 0
    waiting = campaign.submissions.filter(
        status__in=[Submission.Status.PRESCORED, Submission.Status.IN_REVIEW]
    ).select_related("municipality", "campaign")
    for submission in waiting.order_by("municipality__name"):
        needed = campaign.experts_per_submission - submission.assignments.filter(is_active=True).count()
        for _slot in range(max(0, needed)):
            candidates = sorted(eligible_experts(submission), key=lambda e: (load.get(e.pk, 0), e.username))
            if not candidates:
                break
            expert = candidates[0]
            assign(submission=submission, expert=expert, by=by, due_on=due_on)
            load[expert.pk] = load.get(expert.pk, 0) + 1
            made += 1
    return made


@transaction.atomic
def review_start(*, submission, by, access):
    return workflow.apply(submission=submission, name="start_review", by=by, access=access)


@transaction.atomic
def expert_complete(*, assignment):
    specs = specs_for(assignment.submission.campaign.methodology_id)
    have = set(
        Score.objects.filter(
            submission=assignment.submission, round=Score.Round.EXPERT, is_current=True, by=assignment.expert
        ).values_list("criterion__code", flat=True)
    )
    missing = [s.code for s in specs if s.code not in have]
    if missing:
        raise ScoreError(_("Not every criterion has points yet: %(codes)s.") % {"codes": ", ".join(missing[:12])})
    ReviewAssignment.objects.filter(pk=assignment.pk).update(completed_at=timezone.now())


# --- disagreement, reconciliation and finalization -------------------------------------------------------------


def discrepancies(submission):
    """Criteria where two experts differ by the campaign's threshold or more (scoring.needs_reconciliation)."""
    campaign = submission.campaign
    by_code = {}
    for s in Score.objects.filter(submission=submission, round=Score.Round.EXPERT, is_current=True).select_related(
        "criterion", "by"
    ):
        by_code.setdefault(s.criterion.code, []).append(s)
    found = []
    for code, scores in by_code.items():
        if len(scores) < 2:
            continue
        a, b = scores[0], scores[1]
        if scoring.needs_reconciliation(
            a.points, b.points, a.criterion.max_points, campaign.reconcile_points, campaign.reconcile_share
        ):
            found.append({"code": code, "criterion": a.criterion, "scores": scores, "gap": abs(a.points - b.points)})
    return found


@transaction.atomic
def reconcile(*, submission, criterion, points, reason, by, access):
    reason = plain_text(reason)
    if not access.is_operator:
        raise ScoreError(_("Only the operator or a lead expert sets reconciled points."))
    submission = Submission.objects.locked(submission.pk)
    if submission.status != Submission.Status.IN_REVIEW:
        raise ScoreError(_("The submission is not in expert review."))
    points_check(criterion, points)
    if not reason:
        raise ScoreError(_("Please give the reason."))
    current = Score.objects.filter(
        submission=submission, criterion=criterion, round=Score.Round.FINAL, is_current=True
    ).first()
    if current:
        Score.objects.filter(pk=current.pk).update(is_current=False)
    return Score.objects.create(
        submission=submission,
        criterion=criterion,
        round=Score.Round.FINAL,
        points=points,
        comment=reason,
        by=by,
        previous=current,
    )


def _current(submission, round):
    """{criterion code: [current scores of the round]}."""
    found = {}
    for s in Score.objects.filter(submission=submission, round=round, is_current=True).select_related("criterion"):
        found.setdefault(s.criterion.code, []).append(s)
    return found


def _final_scores(submission, reconciled, by):
    """The FINAL rows of the criteria not reconciled by hand: the experts' mean where they re-scored
    (scoring.experts_mean), the pre-score otherwise; the first source's row is the link back."""
    prescores = _current(submission, Score.Round.PRESCORE)
    experts = _current(submission, Score.Round.EXPERT)
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)}
    now = timezone.now()
    finals = []
    for spec in specs_for(submission.campaign.methodology_id):
        if spec.code in reconciled:
            continue  # set with a reason in the reconciliation queue
        sources = experts.get(spec.code) or prescores.get(spec.code, [])[-1:]
        if not sources:
            continue
        finals.append(
            Score(
                submission=submission,
                criterion=criteria[spec.code],
                round=Score.Round.FINAL,
                points=scoring.experts_mean([x.points for x in sources]),
                comment=" / ".join(x.comment for x in sources if x.comment),
                by=by,
                at=now,
                previous=sources[0],
            )
        )
    return finals


@transaction.atomic
def submission_finalize(*, submission, by, access):
    """Lock the scores: the final points are the experts' where they re-scored, the pre-score otherwise."""
    workflow.apply(submission=submission, name="finalize", by=by, access=access)
    if submission.assignments.filter(is_active=True, completed_at__isnull=True).exists():
        raise ScoreError(_("Not every assigned expert has completed the review."))
    reconciled = _current(submission, Score.Round.FINAL)
    unresolved = [d["code"] for d in discrepancies(submission) if d["code"] not in reconciled]
    if unresolved:
        raise ScoreError(
            _("The experts disagree on %(codes)s: set the final points in the reconciliation queue first.")
            % {"codes": ", ".join(unresolved)}
        )
    Score.objects.bulk_create(_final_scores(submission, reconciled, by))
    results_compute(campaign=submission.campaign)
    result = Result.objects.get(submission=submission)
    notify(
        organizers(submission),
        Notification.Kind.RESULT,
        _("The result of %(municipality)s") % {"municipality": submission.municipality},
        _("The result is final: %(total)s of %(max)s points. The explanation of every point is on the page.")
        % {"total": result.total, "max": result.max_total},
        reverse("submission_detail", args=[submission.campaign.slug, submission.municipality.code]),
    )
    return submission


# --- agreement and reminders -----------------------------------------------------------------------------------


def agreement_stats(campaign):
    """Pre-score against expert score, per region and per expert (scoring.agreement on each group)."""
    prescores = {
        (sid, cid): points
        for sid, cid, points in Score.objects.filter(
            submission__campaign=campaign, round=Score.Round.PRESCORE, is_current=True
        ).values_list("submission_id", "criterion_id", "points")
    }
    by_region, by_expert, names = {}, {}, {}
    for sid, cid, points, maximum, region, expert_id, first, last in Score.objects.filter(
        submission__campaign=campaign, round=Score.Round.EXPERT, is_current=True
    ).values_list(
        "submission_id",
        "criterion_id",
        "points",
        "criterion__max_points",
        "submission__municipality__region__name",
        "by_id",
        "by__first_name",
        "by__last_name",
    ):
        if (sid, cid) not in prescores:
            continue
        pair = (prescores[(sid, cid)], points, maximum)
        by_region.setdefault(region, []).append(pair)
        by_expert.setdefault(expert_id, []).append(pair)
        names[expert_id] = f"{last} {first}".strip()
    return {
        "regions": sorted(((name, scoring.agreement(p)) for name, p in by_region.items()), key=lambda x: x[0]),
        "experts": sorted(((names[e], scoring.agreement(p)) for e, p in by_expert.items()), key=lambda x: x[0]),
    }


def expert_reminders_send(*, today=None, days=2):
    """Remind experts of reviews due within `days` (or overdue) and not completed, once a day at most per
    assignment. Returns how many reminders were sent."""
    today = today or timezone.localdate()
    due = list(
        ReviewAssignment.objects.filter(
            is_active=True, completed_at__isnull=True, due_on__isnull=False, due_on__lte=today + timedelta(days=days)
        )
        .exclude(submission__status__in=[Submission.Status.FINALIZED, Submission.Status.APPEALED])
        .select_related("expert", "submission__municipality", "submission__campaign")
    )
    sent = 0
    paths = {
        a.pk: reverse("expert_scoring", args=[a.submission.campaign.slug, a.submission.municipality.code]) for a in due
    }
    done_today = already_today([a.expert_id for a in due], Notification.Kind.DEADLINE, set(paths.values()))
    for a in due:
        if (a.expert_id, paths[a.pk]) in done_today:
            continue
        late = a.due_on < today
        notify(
            [a.expert],
            Notification.Kind.DEADLINE,
            (_("Review overdue: %(municipality)s") if late else _("Review due soon: %(municipality)s"))
            % {"municipality": a.submission.municipality},
            _("The review of %(municipality)s in «%(campaign)s» is due on %(date)s.")
            % {
                "municipality": a.submission.municipality,
                "campaign": a.submission.campaign,
                "date": formats.date_format(a.due_on, "j E Y"),
            },
            paths[a.pk],
        )
        sent += 1
    return sent
