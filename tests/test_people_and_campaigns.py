import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from assessment.models import Campaign, Material, Stage, Submission
from municipalities.models import Appointment, Invitation, Role


def invite(client, **data):
    return client.post(reverse("people"), data)


def link_from(message):
    return re.search(r"http://\S+/accounts/invitation/\S+/", message.body).group(0)


def test_a_coordinator_appoints_an_organizer_by_invitation(world, as_role, django_capture_on_commit_callbacks):
    client = as_role(world, "coordinator")

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            client,
            last_name="Петрова",
            first_name="Анна Ивановна",
            email="Petrova@uo.example.ru",
            role="deputy_organizer",
            municipality=world.sibling.pk,
        )

    appointment = Appointment.objects.get(user__email="petrova@uo.example.ru")
    assert response.status_code == 302
    assert appointment.role == Role.DEPUTY_ORGANIZER and appointment.municipality == world.sibling
    assert not appointment.user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/invitation/" in mail.outbox[0].body


def test_the_invitation_link_sets_a_password_once(world, as_role, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(
            as_role(world, "coordinator"),
            last_name="Петрова",
            first_name="Анна",
            email="p@uo.example.ru",
            role="organizer",
            municipality=world.sibling.pk,
        )
    url = link_from(mail.outbox[0]).replace("http://127.0.0.1:8000", "")
    client.logout()

    weak = client.post(url, {"password1": "123", "password2": "123"})
    good = client.post(url, {"password1": "Kirov-School-2026", "password2": "Kirov-School-2026"})
    reused = client.get(url)

    assert weak.status_code == 200 and "is-invalid" in weak.content.decode()
    assert good.status_code == 302
    assert get_user_model().objects.get(email="p@uo.example.ru").check_password("Kirov-School-2026")
    assert reused.status_code == 404


def test_resending_voids_the_old_link_and_expired_links_fail(
    world, as_role, client, django_capture_on_commit_callbacks
):
    coordinator = as_role(world, "coordinator")
    with django_capture_on_commit_callbacks(execute=True):
        invite(
            coordinator,
            last_name="П",
            first_name="А",
            email="p@uo.example.ru",
            role="organizer",
            municipality=world.sibling.pk,
        )
    appointment = Appointment.objects.get(user__email="p@uo.example.ru")
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(reverse("people_resend", args=[appointment.pk]))
    old, new = (link_from(m).replace("http://127.0.0.1:8000", "") for m in mail.outbox)
    client.logout()

    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    Invitation.objects.filter(is_void=False).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert client.get(new).status_code == 404


def test_a_coordinator_cannot_appoint_in_another_region_or_a_coordinator(world, as_role):
    client = as_role(world, "coordinator")

    other_region = invite(
        client,
        last_name="X",
        first_name="Y",
        email="x@e.ru",
        role="organizer",
        municipality=world.other_municipality.pk,
    )
    coordinator = invite(
        client, last_name="X", first_name="Y", email="x@e.ru", role="coordinator", municipality=world.sibling.pk
    )

    assert other_region.status_code == 200 and coordinator.status_code == 200
    assert not Appointment.objects.filter(user__email="x@e.ru").exists()


def test_the_operator_appoints_a_coordinator_and_an_expert(world, as_role):
    client = as_role(world, "operator")

    invite(client, last_name="К", first_name="К", email="k@e.ru", role="coordinator", region=world.other_region.pk)
    invite(client, last_name="Э", first_name="Э", email="e@e.ru", role="expert", region=world.region.pk)

    assert Appointment.objects.get(user__email="k@e.ru").region == world.other_region
    assert Appointment.objects.get(user__email="e@e.ru").role == Role.EXPERT


def campaign_data(world, methodology, **changes):
    today = timezone.localdate()
    data = {
        "title": "Оценка 2027",
        "slug": "2027",
        "year": 2027,
        "methodology": methodology.pk,
        "municipalities": [world.municipality.pk, world.other_municipality.pk],
        "experts_per_submission": 1,
        "reconcile_points": 2,
        "reconcile_share": "0.20",
    }
    for i, stage in enumerate(Stage):
        data[f"{stage}_start"] = (today + datetime.timedelta(days=10 * i)).isoformat()
        data[f"{stage}_end"] = (today + datetime.timedelta(days=10 * i + 9)).isoformat()
    data.update(changes)
    return data


def test_the_operator_creates_a_campaign_with_stages_and_participants(world, methodology, as_role):
    client = as_role(world, "operator")

    response = client.post(reverse("campaign_create"), campaign_data(world, methodology))

    campaign = Campaign.objects.get(slug="2027")
    assert response.status_code == 302
    assert campaign.stages.count() == 8 and campaign.current_stage == Stage.RESOURCES
    assert set(Submission.objects.filter(campaign=campaign).values_list("municipality__code", flat=True)) == {
        "kirov",
        "elista",
    }
    assert methodology.is_locked


def test_stage_dates_out_of_order_are_refused(world, methodology, as_role):
    client = as_role(world, "operator")
    data = campaign_data(world, methodology, data_collection_end="2000-01-01")

    response = client.post(reverse("campaign_create"), data)

    assert response.status_code == 200 and not Campaign.objects.filter(slug="2027").exists()
    assert "is-invalid" in response.content.decode()


def test_a_summer_data_collection_is_warned_about(world, methodology, as_role):
    client = as_role(world, "operator")
    data = campaign_data(
        world, methodology, data_collection_start="2027-07-01", data_collection_end="2027-07-31", slug=""
    )

    response = client.post(reverse("campaign_create"), data)

    assert "июл" in response.content.decode().lower() or "July" in response.content.decode()


def test_a_municipality_that_started_cannot_leave(campaign, world, methodology, as_role):
    Submission.objects.filter(campaign=campaign, municipality=world.municipality).update(status="submitted")
    client = as_role(world, "operator")
    data = campaign_data(world, methodology, slug="test-2026", municipalities=[world.other_municipality.pk])

    client.post(reverse("campaign_edit", args=["test-2026"]), data)

    assert campaign.participations.filter(municipality=world.municipality).exists()


def test_a_coordinators_material_is_for_their_region(campaign, world, as_role):
    client = as_role(world, "coordinator")

    client.post(
        reverse("campaign_materials", args=["test-2026"]),
        {"kind": "faq", "title": "Где взять приказ?", "body": "На сайте управления.", "order": 0},
    )

    material = Material.objects.get(title="Где взять приказ?")
    assert material.region == world.region
    organizer_page = as_role(world, "organizer").get(reverse("campaign_materials", args=["test-2026"])).content.decode()
    assert "Где взять приказ?" in organizer_page
    world.users["organizer"].appointments.update(municipality=world.other_municipality)
    world.users["organizer"].__dict__.pop("_access", None)


def test_an_organizer_cannot_add_materials(campaign, world, as_role):
    response = as_role(world, "organizer").post(
        reverse("campaign_materials", args=["test-2026"]), {"kind": "faq", "title": "x", "body": "y"}
    )

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "organizer", "ministry"])
def test_only_the_operator_creates_campaigns(world, methodology, as_role, role):
    response = as_role(world, role).post(reverse("campaign_create"), campaign_data(world, methodology))

    assert response.status_code == 403
