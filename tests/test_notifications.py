"""Notifications: every event that e-mails users also lands under the bell; e-mail per kind on/off; the digest."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessment import collection, experts
from assessment.models import Submission
from municipalities import notifications as notices
from municipalities.access import access_for
from municipalities.models import Notification, NotificationSettings, Role
from municipalities.people import appointment_invite
from tests.factories import AppointmentFactory, UserFactory


def returned(campaign, world, django_capture_on_commit_callbacks, criteria=("1.1.1", "2.3.2")):
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    submission.refresh_from_db()
    coordinator = world.users["coordinator"]
    with django_capture_on_commit_callbacks(execute=True):
        collection.submission_return(
            submission=submission,
            by=coordinator,
            access=access_for(coordinator),
            reason="Нет ссылки на приказ",
            criteria=list(criteria),
        )
    return submission


def test_a_send_back_reaches_the_organizers_in_the_app_and_by_email(
    campaign, world, django_capture_on_commit_callbacks
):
    returned(campaign, world, django_capture_on_commit_callbacks)

    for role in ("organizer", "deputy"):
        note = Notification.objects.get(user=world.users[role])
        assert note.kind == Notification.Kind.RETURNED
        assert "1.1.1, 2.3.2" in note.body  # the criteria to correct are named
        assert note.path == reverse("submission_detail", args=[campaign.slug, "kirov"])
        assert note.read_at is None and note.emailed_at is not None
    assert not Notification.objects.filter(user=world.users["coordinator"]).exists()

    sent = {m.to[0]: m for m in mail.outbox}
    message = sent[world.users["organizer"].email]
    assert message.subject == "Ваши формы возвращены на доработку"
    assert "Здравствуйте" in message.body and "1.1.1, 2.3.2" in message.body
    assert reverse("submission_detail", args=[campaign.slug, "kirov"]) in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<html" in html and "Открыть в платформе" in html
    assert reverse("notification_settings") in html  # where to turn it off


def test_the_bell_counts_unread_and_opening_marks_read(campaign, world, client, django_capture_on_commit_callbacks):
    returned(campaign, world, django_capture_on_commit_callbacks)
    organizer = world.users["organizer"]
    client.force_login(organizer)

    page = client.get(reverse("home")).content.decode()
    assert "Уведомления: 1 непрочитанное" in page

    listing = client.get(reverse("notifications"))
    assert "Ваши формы возвращены на доработку" in listing.content.decode()
    note = Notification.objects.get(user=organizer)
    response = client.get(reverse("notification_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == note.path
    note.refresh_from_db()
    assert note.is_read
    assert "Уведомления: новых нет" in client.get(reverse("home")).content.decode()


def test_plural_forms_of_the_bell(world, client):
    user = world.users["organizer"]
    client.force_login(user)
    for n, label in [(2, "2 непрочитанных"), (5, "5 непрочитанных"), (21, "21 непрочитанное")]:
        Notification.objects.filter(user=user).delete()
        Notification.objects.bulk_create(Notification(user=user, kind="result", title=f"t{i}") for i in range(n))
        assert f"Уведомления: {label}" in client.get(reverse("notifications")).content.decode()


def test_mark_all_read_and_someone_elses_notification(world, client):
    user, other = world.users["organizer"], world.users["coordinator"]
    Notification.objects.bulk_create(Notification(user=user, kind="deadline", title=f"t{i}") for i in range(3))
    theirs = Notification.objects.create(user=other, kind="deadline", title="чужое")
    client.force_login(user)

    assert client.get(reverse("notification_open", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("notifications_read"), follow=True)
    assert "3 уведомления отмечены прочитанными" in response.content.decode()
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_an_unsafe_link_is_never_followed(world, client):
    user = world.users["organizer"]
    note = Notification.objects.create(user=user, kind="result", title="x", path="https://evil.example/")
    client.force_login(user)
    assert client.get(reverse("notification_open", args=[note.pk]))["Location"] == reverse("notifications")


def test_email_off_per_kind_keeps_the_notification(campaign, world, client, django_capture_on_commit_callbacks):
    organizer = world.users["organizer"]
    client.force_login(organizer)
    kinds = [k for k in Notification.Kind.values if k not in ("returned", "appointment")]
    response = client.post(reverse("notification_settings"), {"email_kinds": kinds})
    assert response.status_code == 302
    assert NotificationSettings.objects.get(user=organizer).email_off == ["returned"]

    returned(campaign, world, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(user=organizer, kind="returned").exists()
    recipients = {m.to[0] for m in mail.outbox}
    assert organizer.email not in recipients and world.users["deputy"].email in recipients


def test_the_settings_form_shows_the_choices_and_refuses_nonsense(world, client):
    client.force_login(world.users["coordinator"])
    page = client.get(reverse("notification_settings")).content.decode()
    assert "Формы возвращены на доработку" in page and "дайджест" in page
    response = client.post(reverse("notification_settings"), {"email_kinds": ["no-such-kind"]})
    assert response.status_code == 400
    assert not NotificationSettings.objects.filter(user=world.users["coordinator"]).exists()


def test_the_daily_digest_gathers_the_days_events(campaign, world, django_capture_on_commit_callbacks):
    organizer = world.users["organizer"]
    notices.settings_save(user=organizer, email_kinds=Notification.Kind.values, digest=True)
    returned(campaign, world, django_capture_on_commit_callbacks)
    submission = campaign.submissions.get(municipality=world.municipality)
    with django_capture_on_commit_callbacks(execute=True):
        collection.extension_grant(
            submission=submission,
            until=timezone.localdate() + datetime.timedelta(days=5),
            reason="Отпуск",
            by=world.users["coordinator"],
            access=access_for(world.users["coordinator"]),
        )
    assert organizer.email not in {m.to[0] for m in mail.outbox}
    assert Notification.objects.filter(user=organizer, email_pending=True).count() == 2

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_digests", stdout=io.StringIO())
    (digest,) = [m for m in mail.outbox if m.to == [organizer.email]]
    assert digest.subject == "Дайджест за день: 2 новых события"
    assert "возвращены на доработку" in digest.body and "Срок" in digest.body
    assert digest.alternatives[0][1] == "text/html"
    assert not Notification.objects.filter(user=organizer, email_pending=True).exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_digests", stdout=io.StringIO())
    assert mail.outbox == []  # nothing twice


def test_an_appointment_is_always_emailed_with_the_link_that_is_never_stored(world, django_capture_on_commit_callbacks):
    coordinator = world.users["coordinator"]
    with django_capture_on_commit_callbacks(execute=True):
        appointment_invite(
            access=access_for(coordinator),
            by=coordinator,
            email="new.organizer@example.org",
            first_name="Анна",
            last_name="Смирнова",
            role=Role.ORGANIZER,
            municipality=world.sibling,
        )
    (message,) = mail.outbox
    assert "/accounts/invitation/" in message.body
    note = Notification.objects.get(user__email="new.organizer@example.org")
    assert note.kind == "appointment" and "/invitation/" not in note.body + note.path


def test_assignment_and_due_reminders_reach_the_expert(campaign, world, django_capture_on_commit_callbacks):
    expert = AppointmentFactory(
        user=UserFactory(username="t-expert-08"), role=Role.EXPERT, region=world.other_region
    ).user
    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.PRESCORED)
    submission.refresh_from_db()
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        experts.assign(submission=submission, expert=expert, by=world.users["operator"], due_on=today)
    assert Notification.objects.get(user=expert, kind="assignment").path == reverse("expert_queue")

    assert experts.expert_reminders_send(today=today) == 1
    assert experts.expert_reminders_send(today=today) == 0  # once a day
    reminder = Notification.objects.get(user=expert, kind="deadline")
    assert "Срок проверки" in reminder.title or "срок" in reminder.title.lower()


def test_organizer_reminders_do_not_query_per_municipality(campaign, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        sent = collection.reminders_send(campaign=campaign)
    assert sent >= 1
    assert Notification.objects.filter(kind="deadline", user=world.users["organizer"]).exists()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_pages_render_in_both_languages(world, client, language):
    client.force_login(world.users["ministry"])
    client.cookies["django_language"] = language
    assert client.get(reverse("notifications")).status_code == 200
    assert client.get(reverse("notification_settings")).status_code == 200
