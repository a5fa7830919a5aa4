"""The submission workflow: one transition table, one function that applies a move.

A move takes the submission's row lock, then is a conditional UPDATE (status = the old one), so when two
people act at once exactly one wins and the other gets TransitionError instead of overwriting a state they
never saw."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment.models import StatusChange, Submission

S = Submission.Status


class TransitionError(Exception):
    pass


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset
    target: str
    roles: frozenset  # who may make the move, as Access predicates: "organizer", "coordinator", ...
    needs_reason: bool = False


TRANSITIONS = {
    t.name: t
    for t in [
        Transition(
            "submit", gettext_lazy("submit"), frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, frozenset({"organizer"})
        ),
        Transition(
            "return",
            gettext_lazy("return for corrections"),
            frozenset({S.SUBMITTED, S.PRESCORED, S.IN_REVIEW}),
            S.RETURNED,
            frozenset({"coordinator", "expert", "operator"}),
            needs_reason=True,
        ),
        Transition(
            "prescore",
            gettext_lazy("complete pre-scoring"),
            frozenset({S.SUBMITTED}),
            S.PRESCORED,
            frozenset({"coordinator", "operator"}),
        ),
        Transition(
            "start_review",
            gettext_lazy("send to experts"),
            frozenset({S.PRESCORED}),
            S.IN_REVIEW,
            frozenset({"operator"}),
        ),
        Transition(
            "finalize", gettext_lazy("finalize"), frozenset({S.IN_REVIEW}), S.FINALIZED, frozenset({"operator"})
        ),
        Transition(
            "appeal",
            gettext_lazy("appeal"),
            frozenset({S.FINALIZED}),
            S.APPEALED,
            frozenset({"organizer"}),
            needs_reason=True,
        ),
        Transition(
            "decide_appeal",
            gettext_lazy("decide the appeal"),
            frozenset({S.APPEALED}),
            S.FINALIZED,
            frozenset({"expert", "operator"}),
        ),
    ]
}


def may(access, transition, submission):
    """Whether the actor's role allows the move on this submission (scope included): access.may_move. Any expert
    may be the one to decide an appeal as far as the workflow goes; which one may is appeals.may_decide."""
    return access.may_move(submission, transition.roles, any_expert=transition.name == "decide_appeal")


@transaction.atomic
def apply(*, submission, name, by, access, reason="", snapshot=None, criteria=(), at=None, **fields):
    """Move `submission` by transition `name`, or raise TransitionError with a message for the user. `at` is the
    moment of the move when it is recorded after the fact (the demo's finished campaigns); now otherwise."""
    transition = TRANSITIONS[name]
    # The row lock first (see Submission.objects.locked): a move waits for a save in progress, and a save
    # that waited for the move finds the new status.
    stored = Submission.objects.locked(submission.pk)
    if not may(access, transition, submission):
        raise TransitionError(_("Your role does not allow this action on this submission."))
    if transition.needs_reason and not reason.strip():
        raise TransitionError(_("Please give the reason."))
    old = submission.status
    if old not in transition.sources:
        raise TransitionError(
            _("The submission is %(status)s: it cannot be moved to «%(target)s».")
            % {"status": submission.get_status_display(), "target": S(transition.target).label}
        )
    if stored.status != old:
        raise TransitionError(_("Someone else has just changed this submission. Reload the page to see its state."))
    now = at or timezone.now()
    moved = Submission.objects.filter(pk=submission.pk, status=old).update(
        status=transition.target, last_activity_at=now, **fields
    )
    if not moved:
        raise TransitionError(_("Someone else has just changed this submission. Reload the page to see its state."))
    StatusChange.objects.create(
        submission=submission,
        old=old,
        new=transition.target,
        by=by,
        at=now,
        reason=reason,
        snapshot=snapshot,
        criteria=list(criteria),
    )
    submission.status = transition.target
    submission.last_activity_at = now
    for field, value in fields.items():
        setattr(submission, field, value)
    return submission
