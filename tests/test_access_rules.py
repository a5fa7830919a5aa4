"""Visibility answered by municipalities/access.py: who may score, move a submission, see its points, list and
re-invite people. Access stands on the ground floor and takes the assessment's objects duck-typed."""

import pytest
from django.urls import reverse

from assessment import workflow
from assessment.models import ReviewAssignment, Submission
from municipalities.access import access_for
from municipalities.models import Appointment, Invitation, Role
from municipalities.people import appointment_invite


@pytest.fixture
def own(campaign, world):
    """The world's own submission (Kirov, region 43), submitted, with the world's expert assigned."""
    submission = campaign.submissions.select_related("municipality").get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    submission.refresh_from_db()
    ReviewAssignment.objects.create(
        submission=submission, expert=world.users["expert"], assigned_by=world.users["operator"]
    )
    return submission


def access(world, role):
    return access_for(world.users[role])


@pytest.mark.parametrize(
    ("role", "prescore", "expert"),
    [
        ("operator", True, False),
        ("coordinator", True, False),
        ("ministry", False, False),
        ("organizer", False, False),
        ("expert", False, True),
        ("nobody", False, False),
    ],
)
def test_who_may_score_which_round(own, world, role, prescore, expert):
    who = access(world, role)

    assert who.may_score(own, "prescore") is prescore
    assert who.may_score(own, "expert") is expert
    assert who.may_score(own, "final") is False


def test_an_expert_scores_only_until_the_review_is_completed_or_the_assignment_ends(own, world):
    assignment = own.assignments.get()
    ReviewAssignment.objects.filter(pk=assignment.pk).update(completed_at=assignment.assigned_at)
    completed = access(world, "expert").may_score(own, "expert")
    ReviewAssignment.objects.filter(pk=assignment.pk).update(completed_at=None, is_active=False)

    assert completed is False and access(world, "expert").may_score(own, "expert") is False
    assert own.is_assigned_to(world.users["expert"].pk) is False and own.is_assigned_to(None) is False


def test_a_coordinator_scores_only_at_home(campaign, world):
    elsewhere = campaign.submissions.select_related("municipality").get(municipality=world.other_municipality)

    assert not access(world, "coordinator").may_score(elsewhere, "prescore")
    assert access(world, "operator").may_score(elsewhere, "prescore")


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("submit", {"organizer", "deputy"}),
        ("return", {"operator", "coordinator", "expert"}),
        ("prescore", {"operator", "coordinator"}),
        ("start_review", {"operator"}),
        ("decide_appeal", {"operator", "expert", "far"}),
    ],
)
def test_who_may_move_a_submission(own, world, name, allowed):
    far = Appointment.objects.create(user=world.users["nobody"], role=Role.EXPERT, region=world.other_region)
    transition = workflow.TRANSITIONS[name]
    users = {**world.users, "far": far.user}
    roles = ["operator", "ministry", "coordinator", "organizer", "deputy", "expert", "far"]

    may = {role for role in roles if workflow.may(access_for(users[role]), transition, own)}

    # An expert not assigned returns nothing; any expert may be the one to decide an appeal (appeals.may_decide).
    assert may == allowed


@pytest.mark.parametrize(
    ("role", "before", "after"),
    [
        ("operator", "all", "all"),
        ("ministry", "all", "all"),
        ("coordinator", "all", "all"),
        ("expert", "expert", "all"),
        ("organizer", None, "all"),
        ("nobody", None, "all"),
    ],
)
def test_what_of_the_points_each_role_sees(own, world, role, before, after):
    who = access(world, role)

    assert who.points_scope(own, has_result=False) == before
    assert who.points_scope(own, has_result=True) == after
    assert who.sees_all_points(own.municipality.region_id) is (before == "all")


def test_the_operator_re_invites_everyone_listed_on_the_people_page(world, as_role):
    """The people page listed the national appointments (the ministry's) to the operator, while re-sending
    their invitation answered 404: the two views wrote the scope differently. Access.people_scope is both."""
    operator = world.users["operator"]
    appointment = appointment_invite(
        access=access_for(operator),
        by=operator,
        email="m@minobr.example.ru",
        first_name="М",
        last_name="М",
        role=Role.MINISTRY,
    )
    client = as_role(world, "operator")

    listed = client.get(reverse("people"))
    resent = client.post(reverse("people_resend", args=[appointment.pk]))

    assert any(row["appointment"] == appointment for row in listed.context["rows"])
    assert resent.status_code == 302
    assert Invitation.objects.filter(appointment=appointment, is_void=False).count() == 1
    assert Invitation.objects.filter(appointment=appointment).count() == 2


def test_a_coordinator_lists_and_re_invites_only_in_their_regions(world, as_role):
    operator = world.users["operator"]
    elsewhere = appointment_invite(
        access=access_for(operator),
        by=operator,
        email="o@elista.example.ru",
        first_name="О",
        last_name="О",
        role=Role.ORGANIZER,
        municipality=world.other_municipality,
    )
    client = as_role(world, "coordinator")

    listed = client.get(reverse("people"))

    assert all(row["appointment"] != elsewhere for row in listed.context["rows"])
    assert client.post(reverse("people_resend", args=[elsewhere.pk])).status_code == 404
