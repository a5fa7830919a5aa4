"""Scoring: points per criterion and round with their history, the moves of the review, and the Result.

Every score is a new row; the row it replaces stays (is_current=False) and is linked as `previous`, so
each point keeps who gave it, when, why and what it replaced."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from assessment import scoring, workflow
from assessment.collection import organizers, plain_text
from assessment.models import Criterion, EvidenceLink, ExpertConflict, Result, ReviewAssignment, Score, Submission
from municipalities.models import Notification
from municipalities.notifications import notify

ROUND_STATUS = {
    Score.Round.PRESCORE: {Submission.Status.SUBMITTED},
    Score.Round.EXPERT: {Submission.Status.IN_REVIEW},
}


class ScoreError(Exception):
    def __init__(self, message, conflict=None):
        super().__init__(message)
        self.message = message
        self.conflict = conflict


def _operators():
    from municipalities.models import Appointment, Role

    return [a.user for a in Appointment.objects.active().filter(role=Role.OPERATOR).select_related("user")]


def specs_for(methodology_id):
    return [
        scoring.CriterionSpec(code, mechanism, max_points)
        for code, mechanism, max_points in Criterion.objects.filter(mechanism__methodology=methodology_id)
        .order_by("mechanism__order", "component__order")
        .values_list("code", "mechanism__code", "max_points")
    ]


def current_points(submission_ids, round):
    """{submission_id: {criterion code: points}} of the current scores of a round."""
    points = {sid: {} for sid in submission_ids}
    for sid, code, value in Score.objects.filter(
        submission_id__in=submission_ids, round=round, is_current=True
    ).values_list("submission_id", "criterion__code", "points"):
        points[sid][code] = value
    return points


def _may_score(access, submission, round):
    if round == Score.Round.PRESCORE:
        return access.is_operator or submission.municipality.region_id in access.coordinated_region_ids
    if round == Score.Round.EXPERT:
        return ReviewAssignment.objects.filter(
            submission=submission, expert_id=access.user_id, is_active=True, completed_at__isnull=True
        ).exists()
    return False


@transaction.atomic
def score_set(*, submission, criterion, round, points, comment, by, access, seen=None):
    """Set one criterion's points in a round. `seen` is the id of the current score the user was shown
    (None for none): if someone saved in between, ScoreError(conflict=the current score) and no write."""
    comment = plain_text(comment)
    submission = Submission.objects.select_related("municipality").locked(submission.pk)
    if not _may_score(access, submission, round):
        raise ScoreError(_("Your role does not allow scoring this submission."))
    if submission.status not in ROUND_STATUS[round]:
        raise ScoreError(
            _("The submission is %(status)s: its scores cannot be changed now.")
            % {"status": submission.get_status_display()}
        )
    if criterion.mechanism.methodology_id != submission.campaign.methodology_id:
        raise ScoreError(_("This criterion belongs to another methodology."))
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= criterion.max_points:
        raise ScoreError(
            _("%(code)s: points must be a whole number from 0 to %(max)s.")
            % {"code": criterion.code, "max": criterion.max_points}
        )
    if len(comment or "") > 5000:
        raise ScoreError(_("The comment is longer than 5000 characters."))
    if round == Score.Round.EXPERT and not (comment or "").strip():
        prescore = Score.objects.filter(
            submission=submission, criterion=criterion, round=Score.Round.PRESCORE, is_current=True
        ).first()
        if prescore is None or prescore.points != points:
            raise ScoreError(
                _("%(code)s: your points differ from the coordinator's pre-score; write the reason.")
                % {"code": criterion.code}
            )
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
    if current and current.points == points and current.comment == (comment or "").strip():
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
        comment=(comment or "").strip(),
        by=by,
        at=now,
        previous=previous,
    )
    # The evidence as it was when scored: a later change of the page shows as "changed since scoring".
    for link in EvidenceLink.objects.filter(answer__submission=submission, answer__criterion=criterion).exclude(
        sha256=""
    ):
        EvidenceLink.objects.filter(pk=link.pk).update(sha256_at_scoring=link.sha256)
    Submission.objects.filter(pk=submission.pk).update(last_activity_at=now)
    return score


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


@transaction.atomic
def review_start(*, submission, by, access):
    return workflow.apply(submission=submission, name="start_review", by=by, access=access)


@transaction.atomic
def submission_finalize(*, submission, by, access):
    """Lock the scores: the final points are the experts' where they re-scored, the pre-score otherwise."""
    specs = specs_for(submission.campaign.methodology_id)
    workflow.apply(submission=submission, name="finalize", by=by, access=access)
    prescores = {
        s.criterion.code: s
        for s in Score.objects.filter(
            submission=submission, round=Score.Round.PRESCORE, is_current=True
        ).select_related("criterion")
    }
    if submission.assignments.filter(is_active=True, completed_at__isnull=True).exists():
        raise ScoreError(_("Not every assigned expert has completed the review."))
    open_items = discrepancies(submission)
    reconciled = {
        s.criterion.code: s
        for s in Score.objects.filter(submission=submission, round=Score.Round.FINAL, is_current=True).select_related(
            "criterion"
        )
    }
    unresolved = [d["code"] for d in open_items if d["code"] not in reconciled]
    if unresolved:
        raise ScoreError(
            _("The experts disagree on %(codes)s: set the final points in the reconciliation queue first.")
            % {"codes": ", ".join(unresolved)}
        )
    experts = {}
    for s in Score.objects.filter(submission=submission, round=Score.Round.EXPERT, is_current=True).select_related(
        "criterion"
    ):
        experts.setdefault(s.criterion.code, []).append(s)
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)}
    now = timezone.now()
    finals = []
    for spec in specs:
        if spec.code in reconciled:
            continue  # set with a reason in the reconciliation queue
        sources = experts.get(spec.code) or ([prescores[spec.code]] if spec.code in prescores else [])
        if not sources:
            continue
        # Two experts within the threshold: their mean, rounded half up; the first expert's row is the link.
        points = int(Decimal(sum(x.points for x in sources)) / len(sources) + Decimal("0.5"))
        finals.append(
            Score(
                submission=submission,
                criterion=criteria[spec.code],
                round=Score.Round.FINAL,
                points=points,
                comment=" / ".join(x.comment for x in sources if x.comment),
                by=by,
                at=now,
                previous=sources[0],
            )
        )
    Score.objects.bulk_create(finals)
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


def results_compute(*, campaign):
    """(Re)compute the Result of every finalized submission of the campaign, and all ranks.

    Points are summed per mechanism in the database (one GROUP BY), levels and ranks in scoring.py, and the
    results are replaced in bulk: a national campaign is recomputed in a few statements."""
    done = [Submission.Status.FINALIZED, Submission.Status.APPEALED]
    finalized, regions = {}, {}
    for pk, municipality_id, region_id in campaign.submissions.filter(status__in=done).values_list(
        "pk", "municipality_id", "municipality__region_id"
    ):
        finalized[pk], regions[pk] = municipality_id, region_id
    maxima = {}
    for spec in specs_for(campaign.methodology_id):
        maxima[spec.mechanism] = maxima.get(spec.mechanism, 0) + spec.max_points
    sums = {pk: {} for pk in finalized}
    for sid, mechanism, points in (
        Score.objects.filter(
            submission__campaign=campaign, submission__status__in=done, round=Score.Round.FINAL, is_current=True
        )
        .values_list("submission_id", "criterion__mechanism__code")
        .annotate(points=Sum("points"))
        .values_list("submission_id", "criterion__mechanism__code", "points")
    ):
        sums[sid][mechanism] = points
    bands = campaign.methodology.bands
    summaries = {pk: scoring.summarize_mechanisms(sums[pk], maxima, bands) for pk in finalized}
    ids = list(summaries)
    country = dict(zip(ids, scoring.competition_ranks([summaries[pk].total for pk in ids]), strict=True))
    by_region = {}
    for pk in ids:
        by_region.setdefault(regions[pk], []).append(pk)
    region_rank = {}
    for members in by_region.values():
        region_rank.update(
            zip(members, scoring.competition_ranks([summaries[pk].total for pk in members]), strict=True)
        )
    # A Result is a materialized view of the final scores. Only rows whose values changed are written (with
    # their version counting the changes), so recomputing unchanged results writes nothing and keeps every
    # cache keyed by the results version valid.
    fields = ("municipality_id", "total", "max_total", "share", "level", "mechanisms", "rank_region", "rank_country")
    existing = {
        row[0]: (row[1], row[2], row[3:])
        for row in Result.objects.filter(campaign=campaign).values_list("submission_id", "pk", "version", *fields)
    }
    now = timezone.now()
    created, changed = [], []
    for pk in ids:
        summary = summaries[pk]
        values = (
            finalized[pk],
            summary.total,
            summary.max_total,
            round(summary.share, 4),
            summary.level,
            summary.mechanisms,
            region_rank[pk],
            country[pk],
        )
        old = existing.get(pk)
        if old is not None and old[2] == values:
            continue
        row = Result(
            submission_id=pk,
            campaign=campaign,
            computed_at=now,
            version=old[1] + 1 if old else 1,
            **dict(zip(fields, values, strict=True)),
        )
        if old is None:
            created.append(row)
        else:
            row.pk = old[0]
            changed.append(row)
    gone = [old[0] for sid, old in existing.items() if sid not in summaries]
    with transaction.atomic():
        if gone:
            Result.objects.filter(pk__in=gone).delete()
        Result.objects.bulk_create(created, batch_size=1000)
        Result.objects.bulk_update(changed, [*fields, "computed_at", "version"], batch_size=1000)
    return len(ids)


# --- experts ------------------------------------------------------------------------------------------------


def expert_appointments():
    from municipalities.models import Appointment, Role

    return Appointment.objects.active().filter(role=Role.EXPERT).select_related("user", "region")


def expert_conflicts(submission):
    """{user id: why that person may not review this submission}: the one rule behind the manual and the
    automatic assignment and the appeal's second expert.

    Besides the home region and declared conflicts, any appointment as organizer or deputy of the municipality,
    or as coordinator of its region, is a conflict: such a person would check their own work (or their own
    region's). Active appointments and ended ones count (an appointment keeps no end date, so an ended one may
    have overlapped the campaign); an invitation never accepted does not, or a coordinator could strike an
    expert off their municipalities by inviting them."""
    from django.db.models import Exists, OuterRef, Q

    from municipalities.models import MUNICIPAL_ROLES, Appointment, Invitation, Role

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


def discrepancies(submission):
    """Criteria where two experts differ by the campaign's threshold or more."""
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
        gap = abs(a.points - b.points)
        if gap >= campaign.reconcile_points or gap >= campaign.reconcile_share * a.criterion.max_points:
            found.append({"code": code, "criterion": a.criterion, "scores": scores, "gap": gap})
    return found


@transaction.atomic
def reconcile(*, submission, criterion, points, reason, by, access):
    reason = plain_text(reason)
    if not access.is_operator:
        raise ScoreError(_("Only the operator or a lead expert sets reconciled points."))
    submission = Submission.objects.locked(submission.pk)
    if submission.status != Submission.Status.IN_REVIEW:
        raise ScoreError(_("The submission is not in expert review."))
    if not 0 <= points <= criterion.max_points:
        raise ScoreError(
            _("%(code)s: points must be a whole number from 0 to %(max)s.")
            % {"code": criterion.code, "max": criterion.max_points}
        )
    if not (reason or "").strip():
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
        comment=reason.strip(),
        by=by,
        previous=current,
    )


# --- explanation and agreement ------------------------------------------------------------------------------


def explain(submission):
    """For every criterion: the current final (or latest) score, who gave it, in which round, why, and the
    chain of earlier values, from the submission's scores loaded once."""
    scores = {s.pk: s for s in Score.objects.filter(submission=submission).select_related("by", "criterion")}
    links = {}
    for link in EvidenceLink.objects.filter(answer__submission=submission).select_related("answer"):
        links.setdefault(link.answer.criterion_id, []).append(link)
    order = {Score.Round.FINAL: 0, Score.Round.APPEAL: 0, Score.Round.EXPERT: 1, Score.Round.PRESCORE: 2}
    best = {}
    for s in scores.values():
        if not s.is_current:
            continue
        held = best.get(s.criterion_id)
        if held is None or (order[s.round], -s.at.timestamp()) < (order[held.round], -held.at.timestamp()):
            best[s.criterion_id] = s
    rows = []
    for criterion in (
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    ):
        score = best.get(criterion.pk)
        history, seen, step = [], set(), score
        while step is not None and step.pk not in seen:
            seen.add(step.pk)
            history.append(step)
            step = scores.get(step.previous_id)
        rows.append({"criterion": criterion, "score": score, "history": history, "links": links.get(criterion.pk, [])})
    return rows


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


# --- appeals --------------------------------------------------------------------------------------------------


@transaction.atomic
def appeal_file(*, submission, items, by, access, today=None):
    """The organizer appeals the final points of some criteria, each with an argument, in the appeal window."""
    from assessment.models import Appeal, Stage

    today = today or timezone.localdate()
    window = submission.campaign.stage_dates.get(Stage.APPEALS)
    if window is None or not window.starts_on <= today <= window.ends_on:
        raise ScoreError(_("Appeals are accepted only during the appeal stage of the campaign."))
    # Locked before "already appealed" is checked: two appeals sent at once queue instead of one failing the
    # unique constraint.
    submission = Submission.objects.select_related("campaign", "municipality").locked(submission.pk)
    items = [(criterion, plain_text(argument)) for criterion, argument in items]
    if not items:
        raise ScoreError(_("Choose at least one criterion to appeal."))
    for criterion, argument in items:
        if not argument:
            raise ScoreError(_("%(code)s: write the argument of the appeal.") % {"code": criterion.code})
        if len(argument) > 5000:
            raise ScoreError(_("The text is longer than %(max)s characters.") % {"max": 5000})
    taken = set(Appeal.objects.filter(submission=submission).values_list("criterion__code", flat=True))
    again = [c.code for c, _a in items if c.code in taken]
    if again:
        raise ScoreError(_("These criteria have already been appealed: %(codes)s.") % {"codes": ", ".join(again)})
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


@transaction.atomic
def appeal_decide(*, appeal, upheld, points, reason, by, access):
    reason = plain_text(reason)
    from assessment.models import Appeal

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
    if not (reason or "").strip():
        raise ScoreError(_("Please give the reason."))
    final = Score.objects.get(
        submission=submission, criterion=appeal.criterion, round=Score.Round.FINAL, is_current=True
    )
    new_points = final.points
    if upheld:
        if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= appeal.criterion.max_points:
            raise ScoreError(
                _("%(code)s: points must be a whole number from 0 to %(max)s.")
                % {"code": appeal.criterion.code, "max": appeal.criterion.max_points}
            )
        new_points = points
    now = timezone.now()
    Appeal.objects.filter(pk=appeal.pk).update(
        outcome=Appeal.Outcome.UPHELD if upheld else Appeal.Outcome.REJECTED,
        points=new_points,
        reason=reason.strip(),
        decided_by=by,
        decided_at=now,
    )
    if upheld and new_points != final.points:
        decision = Score.objects.create(
            submission=submission,
            criterion=appeal.criterion,
            round=Score.Round.APPEAL,
            points=new_points,
            comment=reason.strip(),
            by=by,
            at=now,
            previous=final,
        )
        Score.objects.filter(pk=final.pk).update(is_current=False)
        Score.objects.create(
            submission=submission,
            criterion=appeal.criterion,
            round=Score.Round.FINAL,
            points=new_points,
            comment=reason.strip(),
            by=by,
            at=now,
            previous=decision,
        )
    if not Appeal.objects.filter(submission=submission, outcome="").exists():
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


def expert_reminders_send(*, today=None, days=2):
    """Remind experts of reviews due within `days` (or overdue) and not completed, once a day at most per
    assignment. Returns how many reminders were sent."""
    from municipalities.notifications import already_today

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
