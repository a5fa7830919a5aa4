"""Conflicts of interest through other roles, and appointing an account that already exists.

An organizer, deputy or coordinator who is also an expert never reviews their own municipality or region (not
by hand, not automatically, not on appeal). A coordinator who appoints by e-mail an account that already exists
learns nothing about it, and the invitation does not let anyone set that account's password."""

import re

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from assessment import appeals, experts
from assessment.models import Appeal, Submission
from assessment.scores import ScoreError
from municipalities.access import access_for
from municipalities.models import Appointment, Invitation, Role
from tests.factories import AppointmentFactory, RegionFactory, UserFactory

SECRET_NAME = "Засекреченная"
SECRET_FIRST = "Евдокия Пантелеймоновна"
PASSWORD = "correct-horse-9"  # the factory's


@pytest.fixture
def far_region(db):
    return RegionFactory(code="77", name="Далёкая область")


def expert_in(far_region, username):
    return AppointmentFactory(user=UserFactory(username=username), role=Role.EXPERT, region=far_region).user


@pytest.fixture
def organizer_expert(world, far_region):
    """The world's organizer of «город Киров», also appointed expert (home region far away)."""
    organizer = world.users["organizer"]
    AppointmentFactory(user=organizer, role=Role.EXPERT, region=far_region)
    return organizer


def ready_for_review(campaign, municipality):
    submission = campaign.submissions.select_related("municipality__region", "campaign").get(municipality=municipality)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.PRESCORED)
    submission.refresh_from_db()
    return submission


# --- eligibility ------------------------------------------------------------------------------------------------


def test_an_organizer_appointed_expert_never_reviews_their_municipality(campaign, world, organizer_expert):
    own = ready_for_review(campaign, world.municipality)
    sibling = ready_for_review(campaign, world.sibling)

    assert organizer_expert not in experts.eligible_experts(own)
    assert organizer_expert in experts.eligible_experts(sibling)  # another municipality: no conflict
    with pytest.raises(ScoreError) as refused:
        experts.assign(submission=own, expert=organizer_expert, by=world.users["operator"])
    assert "город Киров" in refused.value.message and str(Role.ORGANIZER.label) in refused.value.message
    assert "cannot review" not in refused.value.message and "не может проверять" in refused.value.message
    assert not own.assignments.exists()


def test_the_automatic_assignment_skips_the_organizer_expert(campaign, world, organizer_expert):
    own = ready_for_review(campaign, world.municipality)
    sibling = ready_for_review(campaign, world.sibling)

    made = experts.assign_automatically(campaign=campaign, by=world.users["operator"])

    assert made == 1
    assert not own.assignments.exists()
    assert list(sibling.assignments.values_list("expert", flat=True)) == [organizer_expert.pk]


def test_a_deputy_and_an_ended_appointment_are_conflicts_too(campaign, world, far_region):
    own = ready_for_review(campaign, world.municipality)
    deputy = world.users["deputy"]
    AppointmentFactory(user=deputy, role=Role.EXPERT, region=far_region)
    former = expert_in(far_region, "former-organizer")
    AppointmentFactory(user=former, role=Role.ORGANIZER, municipality=world.municipality, is_active=False)

    eligible = experts.eligible_experts(own)

    assert deputy not in eligible and former not in eligible


def test_a_coordinator_appointed_expert_never_reviews_their_region(campaign, world, far_region):
    coordinator = world.users["coordinator"]
    AppointmentFactory(user=coordinator, role=Role.EXPERT, region=far_region)
    submissions = [ready_for_review(campaign, m) for m in (world.municipality, world.sibling, world.other_municipality)]

    eligible = [coordinator in experts.eligible_experts(s) for s in submissions]
    with pytest.raises(ScoreError) as refused:
        experts.assign(submission=submissions[1], expert=coordinator, by=world.users["operator"])
    made = experts.assign_automatically(campaign=campaign, by=world.users["operator"])

    assert eligible == [False, False, True]
    assert "Кировская область" in refused.value.message
    assert made == 1 and list(submissions[2].assignments.values_list("expert", flat=True)) == [coordinator.pk]


def test_the_appeal_is_never_decided_by_the_organizer_expert(finalized, world, organizer_expert, far_region, client):
    stranger = expert_in(far_region, "stranger-expert")
    submission = finalized.submissions.get(municipality=world.municipality)
    client.force_login(world.users["organizer"])
    client.post(reverse("appeal_form", args=["test-2026", "kirov"]), {"a-1.1.2": "Показатели опубликованы"})
    appeal = Appeal.objects.get(submission=submission)

    queue = client.get(reverse("appeal_queue")).content.decode()
    posted = client.post(
        reverse("appeal_queue"), {"appeal": appeal.pk, "outcome": "upheld", "points": 5, "reason": "x"}
    )
    with pytest.raises(ScoreError) as refused:
        appeals.appeal_decide(
            appeal=appeal,
            upheld=True,
            points=5,
            reason="Свой район",
            by=organizer_expert,
            access=access_for(organizer_expert),
        )

    assert appeals.may_decide(stranger, submission) and not appeals.may_decide(organizer_expert, submission)
    assert "Показатели опубликованы" not in queue
    assert posted.status_code == 302
    appeal.refresh_from_db()
    assert appeal.outcome == "" and appeal.decided_by is None
    assert "город Киров" in refused.value.message


def test_an_invitation_never_accepted_is_no_conflict(campaign, world, far_region, as_role):
    # Otherwise a coordinator could strike an inconvenient expert off a municipality by inviting them.
    expert = expert_in(far_region, "strict-expert")
    own = ready_for_review(campaign, world.municipality)
    invite(as_role(world, "coordinator"), expert.email, municipality=world.municipality.pk)

    assert Appointment.objects.get(user=expert, role=Role.DEPUTY_ORGANIZER).is_active is False
    assert expert in experts.eligible_experts(own)


# --- appointing an existing account --------------------------------------------------------------------------


def invite(client, email, municipality, role="deputy_organizer", **extra):
    data = {
        "last_name": "Петрова",
        "first_name": "Анна",
        "email": email,
        "role": role,
        "municipality": municipality,
        **extra,
    }
    return client.post(reverse("people"), data, follow=True)


def link_from(message):
    return re.search(r"http://\S+(/accounts/invitation/\S+/)", message.body).group(1)


@pytest.fixture
def existing(world):
    """Someone's account elsewhere (an expert of another region), with its own name and password."""
    user = UserFactory(
        username="e.secret", email="e.secret@example.org", last_name=SECRET_NAME, first_name=SECRET_FIRST
    )
    AppointmentFactory(user=user, role=Role.EXPERT, region=world.other_region)
    return user


def test_the_coordinator_learns_no_name_of_an_existing_account(
    world, as_role, existing, django_capture_on_commit_callbacks
):
    client = as_role(world, "coordinator")

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, "E.Secret@example.org", municipality=world.sibling.pk)
    page = response.content.decode()
    said = [str(m) for m in messages.get_messages(response.wsgi_request)]
    municipality_page = client.get(reverse("municipality_detail", args=[world.sibling.code])).content.decode()
    people_page = client.get(reverse("people")).content.decode()

    assert response.status_code == 200 and response.redirect_chain[-1][0] == reverse("people")
    for text in [page, municipality_page, people_page, *said]:
        assert SECRET_NAME not in text and SECRET_FIRST not in text
    assert "e.secret@example.org" in page  # the address the coordinator typed, and that the invitation is out
    appointment = Appointment.objects.get(user=existing, role=Role.DEPUTY_ORGANIZER)
    assert appointment.is_active is False  # no role for the account until its holder accepts
    assert not access_for(get_user_model().objects.get(pk=existing.pk)).is_organizer
    (message,) = mail.outbox
    assert message.to == ["e.secret@example.org"]


def test_the_invitation_of_an_existing_account_sets_no_password_and_asks_to_sign_in(
    world, as_role, existing, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_role(world, "coordinator"), existing.email, municipality=world.sibling.pk)
    url = link_from(mail.outbox[0])
    client.logout()

    page = client.get(url)
    hijack = client.post(url, {"password1": "Hijacked-Pass-2026", "password2": "Hijacked-Pass-2026"})
    existing.refresh_from_db()
    appointment = Appointment.objects.get(user=existing, role=Role.DEPUTY_ORGANIZER)

    assert page.status_code == 200
    assert 'name="password1"' not in page.content.decode()
    login_link = f"{reverse('login')}?next={url}"
    assert login_link in page.content.decode().replace("%2F", "/")
    assert hijack.status_code == 302 and hijack["Location"].replace("%2F", "/") == login_link
    assert "_auth_user_id" not in client.session
    assert existing.check_password(PASSWORD) and not existing.check_password("Hijacked-Pass-2026")
    assert appointment.is_active is False and not appointment.invitations.filter(accepted_at__isnull=False).exists()
    assert "Set your password" not in mail.outbox[0].body and "Задайте пароль" not in mail.outbox[0].body

    # Someone else signed in cannot accept it either.
    client.force_login(world.users["nobody"])
    other = client.post(url)
    appointment.refresh_from_db()
    assert other.status_code == 403 and appointment.is_active is False

    # The holder signs in with their own password and accepts.
    client.logout()
    signed_in = client.post(reverse("login"), {"username": "e.secret", "password": PASSWORD, "next": url})
    confirm = client.get(url)
    accepted = client.post(url)
    appointment.refresh_from_db()
    existing.refresh_from_db()

    assert signed_in.status_code == 302 and signed_in["Location"] == url
    assert confirm.status_code == 200 and 'name="password1"' not in confirm.content.decode()
    assert accepted.status_code == 302 and accepted["Location"] == reverse("home")
    assert appointment.is_active is True and appointment.invitations.filter(accepted_at__isnull=False).exists()
    assert existing.check_password(PASSWORD)
    assert client.get(url).status_code == 404  # used
    people_page = as_role(world, "coordinator").get(reverse("people")).content.decode()
    assert SECRET_NAME in people_page  # accepted: now a colleague, named


def test_a_new_account_still_sets_its_password_by_the_link(world, as_role, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(as_role(world, "coordinator"), "new.deputy@uo.example.ru", municipality=world.sibling.pk)
    url = link_from(mail.outbox[0])
    client.logout()

    form = client.get(url)
    done = client.post(url, {"password1": "Kirov-School-2026", "password2": "Kirov-School-2026"})

    user = get_user_model().objects.get(email="new.deputy@uo.example.ru")
    appointment = Appointment.objects.get(user=user)
    assert "new.deputy@uo.example.ru" in response.content.decode()
    assert 'name="password1"' in form.content.decode()
    assert done.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert user.check_password("Kirov-School-2026")
    assert appointment.is_active and Invitation.objects.get(appointment=appointment).accepted_at is not None
