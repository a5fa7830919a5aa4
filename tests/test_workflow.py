"""Every transition from every state: allowed where the table says so, refused everywhere else."""

import pytest

from assessment.models import StatusChange, Submission
from assessment.workflow import TRANSITIONS, TransitionError, apply
from municipalities.access import access_for

ACTOR = {
    "submit": "organizer",
    "return": "coordinator",
    "prescore": "coordinator",
    "start_review": "operator",
    "finalize": "operator",
    "appeal": "organizer",
    "decide_appeal": "operator",
}
CASES = [(name, status) for name in TRANSITIONS for status in Submission.Status]


@pytest.mark.parametrize(("name", "status"), CASES)
def test_transition_table(campaign, world, name, status):
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status=status)
    submission.refresh_from_db()
    user = world.users[ACTOR[name]]
    transition = TRANSITIONS[name]

    if status in transition.sources:
        apply(submission=submission, name=name, by=user, access=access_for(user), reason="причина")
        assert Submission.objects.get(pk=submission.pk).status == transition.target
        assert StatusChange.objects.get(submission=submission).by == user
    else:
        with pytest.raises(TransitionError):
            apply(submission=submission, name=name, by=user, access=access_for(user), reason="причина")
        assert Submission.objects.get(pk=submission.pk).status == status
        assert not StatusChange.objects.exists()


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_a_role_outside_the_table_is_refused(campaign, world, name):
    submission = campaign.submissions.get(municipality=world.municipality)
    status = sorted(TRANSITIONS[name].sources)[0]
    Submission.objects.filter(pk=submission.pk).update(status=status)
    submission.refresh_from_db()
    outsider = world.users["ministry"]

    with pytest.raises(TransitionError):
        apply(submission=submission, name=name, by=outsider, access=access_for(outsider), reason="причина")


def test_someone_else_moving_first_fails_cleanly(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    stale = Submission.objects.get(pk=submission.pk)
    coordinator = world.users["coordinator"]
    apply(
        submission=Submission.objects.get(pk=submission.pk),
        name="prescore",
        by=coordinator,
        access=access_for(coordinator),
    )

    with pytest.raises(TransitionError):
        apply(submission=stale, name="return", by=coordinator, access=access_for(coordinator), reason="поздно")

    assert Submission.objects.get(pk=submission.pk).status == "prescored"


def test_a_reason_is_required_where_the_table_says_so(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    submission.refresh_from_db()
    coordinator = world.users["coordinator"]

    with pytest.raises(TransitionError):
        apply(submission=submission, name="return", by=coordinator, access=access_for(coordinator), reason="  ")
