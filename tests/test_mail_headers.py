"""E-mail that bulk senders' mailbox providers accept: every automatic message says so (RFC 3834), every message a
person may turn off carries a one-click unsubscribe (RFC 8058) that works without a login and only with its signed
link, the From address is a real one in production, and every link in every message is absolute and built from
SITE_URL."""

import io
import re
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from municipalities import mail as muko_mail
from municipalities import notifications as notices
from municipalities.access import access_for
from municipalities.models import Notification, NotificationSettings, Role
from municipalities.people import appointment_invite
from surveys import services as surveys
from tests.test_settings import STRONG_KEY, manage

SITE = "https://muko.example.ru"
ONE_CLICK = "List-Unsubscribe=One-Click"


def _sent(django_capture_on_commit_callbacks, action):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        action()
    return list(mail.outbox)


def _notify(user, kind, django_capture_on_commit_callbacks, path="/campaigns/"):
    (message,) = _sent(
        django_capture_on_commit_callbacks,
        lambda: notices.notify([user], kind, "Срок сдачи форм через 3 дня", "Осталось 3 дня.", path),
    )
    return message


def _unsubscribe_url(message):
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


def _path(url):
    return urlsplit(url).path


def mail_provider():
    """What a mailbox provider is: no session, no cookie, CSRF checks on."""
    return Client(enforce_csrf_checks=True)


# --- the headers ------------------------------------------------------------------------------------------------


@override_settings(SITE_URL=SITE)
def test_a_notification_that_can_be_turned_off_carries_one_click_unsubscribe(world, django_capture_on_commit_callbacks):
    organizer = world.users["organizer"]

    message = _notify(organizer, Notification.Kind.DEADLINE, django_capture_on_commit_callbacks)

    headers = message.message()
    assert headers["Auto-Submitted"] == "auto-generated"
    assert headers["List-Unsubscribe-Post"] == ONE_CLICK
    url = _unsubscribe_url(message)
    assert url.startswith(f"{SITE}/accounts/unsubscribe/")
    assert headers["List-Unsubscribe"] == f"<{url}>"
    assert muko_mail.unsubscribe_read(url.rstrip("/").rsplit("/", 1)[1]) == (organizer.pk, "deadline")


def test_a_mail_that_cannot_be_turned_off_offers_no_unsubscribe(world, django_capture_on_commit_callbacks):
    """The appointment e-mail (the link to set a password) is always sent: an unsubscribe there would lie."""
    coordinator = world.users["coordinator"]

    (message,) = _sent(
        django_capture_on_commit_callbacks,
        lambda: appointment_invite(
            access=access_for(coordinator),
            by=coordinator,
            email="new.organizer@example.org",
            first_name="Анна",
            last_name="Смирнова",
            role=Role.ORGANIZER,
            municipality=world.sibling,
        ),
    )

    assert message.message()["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in message.message()


def test_survey_links_to_a_school_are_service_mail_without_unsubscribe(
    survey_campaign, world, django_capture_on_commit_callbacks
):
    """A school's official address is no person with settings: the links and reminders are part of the procedure
    the regional order sets (why: municipalities.mail.email_message)."""
    world.school.email = "school@example.org"
    world.school.save()

    sent = _sent(
        django_capture_on_commit_callbacks,
        lambda: surveys.links_send(campaign=survey_campaign, municipalities=[world.municipality]),
    )
    sent += _sent(
        django_capture_on_commit_callbacks,
        lambda: surveys.reminders_send(campaign=survey_campaign, municipalities=[world.municipality]),
    )

    assert len(sent) == 2
    for message in sent:
        headers = message.message()
        assert headers["Auto-Submitted"] == "auto-generated"
        assert "List-Unsubscribe" not in headers and "List-Unsubscribe-Post" not in headers
        assert reverse("notification_settings") not in message.body


def test_the_digest_unsubscribes_from_every_kind_it_gathers(world, django_capture_on_commit_callbacks):
    organizer = world.users["organizer"]
    notices.settings_save(user=organizer, email_kinds=Notification.Kind.values, digest=True)
    _sent(
        django_capture_on_commit_callbacks,
        lambda: notices.notify([organizer], Notification.Kind.RESULT, "Итоги опубликованы", "", "/"),
    )

    (digest,) = _sent(django_capture_on_commit_callbacks, lambda: call_command("send_digests", stdout=io.StringIO()))
    response = mail_provider().post(_path(_unsubscribe_url(digest)), {"List-Unsubscribe": "One-Click"})

    assert digest.message()["Auto-Submitted"] == "auto-generated"
    assert digest.message()["List-Unsubscribe-Post"] == ONE_CLICK
    assert response.status_code == 200
    prefs = NotificationSettings.objects.get(user=organizer)
    assert set(prefs.email_off) == set(Notification.Kind.values) - {"appointment"}
    assert prefs.emails(Notification.Kind.APPOINTMENT)


def test_the_password_reset_letter_is_automatic_and_links_to_site_url(
    world, client, django_capture_on_commit_callbacks
):
    organizer = world.users["organizer"]

    with override_settings(SITE_URL=SITE):
        (message,) = _sent(
            django_capture_on_commit_callbacks,
            lambda: client.post(reverse("password_reset"), {"email": organizer.email}, HTTP_HOST="127.0.0.1"),
        )

    assert message.message()["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in message.message()
    links = re.findall(r"https?://\S+", message.body)
    assert links and all(link.startswith(f"{SITE}/accounts/password/reset/") for link in links), links


# --- the one-click unsubscribe ------------------------------------------------------------------------------------


def test_one_click_post_turns_that_kind_off_without_a_session_or_csrf(
    world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    organizer = world.users["organizer"]
    notices.settings_save(user=organizer, email_kinds=["result", "deadline", "review"], digest=False)
    url = _path(_unsubscribe_url(_notify(organizer, Notification.Kind.DEADLINE, django_capture_on_commit_callbacks)))

    with django_assert_max_num_queries(6):
        response = mail_provider().post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    page = response.content.decode()
    assert "больше не будут приходить" in page and "«Сроки и напоминания»" in page
    prefs = NotificationSettings.objects.get(user=organizer)
    assert "deadline" in prefs.email_off
    assert prefs.emails("result") and prefs.emails("review") and not prefs.digest  # nothing else changed
    # The event still lands under the bell, but no e-mail goes.
    assert (
        _sent(
            django_capture_on_commit_callbacks,
            lambda: notices.notify([organizer], Notification.Kind.DEADLINE, "Срок сегодня", "", "/"),
        )
        == []
    )
    assert Notification.objects.filter(user=organizer, title="Срок сегодня").exists()
    # A second click (a provider retrying) is the same answer and changes nothing more.
    again = mail_provider().post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200
    assert NotificationSettings.objects.get(user=organizer).email_off.count("deadline") == 1


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_the_link_asks_first_and_changes_nothing(method, world, django_capture_on_commit_callbacks):
    """Link scanners of mail providers open every link of a message: a GET must never unsubscribe."""
    organizer = world.users["organizer"]
    url = _path(_unsubscribe_url(_notify(organizer, Notification.Kind.REVIEW, django_capture_on_commit_callbacks)))

    response = getattr(mail_provider(), method)(url)

    assert response.status_code == 200
    assert not NotificationSettings.objects.filter(user=organizer).exists()
    if method == "get":
        page = response.content.decode()
        assert "Отписаться" in page and "«Ход проверки»" in page
        assert 'method="post"' in page and reverse("notification_settings") in page


def test_only_a_valid_signed_link_is_accepted(world, django_capture_on_commit_callbacks):
    organizer, other = world.users["organizer"], world.users["deputy"]
    token = _path(_unsubscribe_url(_notify(organizer, "deadline", django_capture_on_commit_callbacks))).split("/")[-2]
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a changed signature
        signing.dumps({"u": other.pk, "k": "deadline"}),  # signed, but not for this purpose (no salt)
        signing.dumps({"u": other.pk, "k": "deadline"}, salt="django.contrib.sessions"),
        muko_mail.unsubscribe_token(other.pk, "appointment"),  # a kind that cannot be turned off
        muko_mail.unsubscribe_token(other.pk, "no-such-kind"),
        muko_mail.unsubscribe_token(987654, "deadline"),  # nobody
        "x" * 300,
    ]

    for bad in forged:
        url = reverse("unsubscribe", args=[bad])
        assert mail_provider().get(url).status_code == 404, bad
        response = mail_provider().post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 404, bad
        assert "Ссылка недействительна" in response.content.decode()

    assert not NotificationSettings.objects.exists()


def test_an_old_link_is_refused_with_the_way_to_the_settings(world):
    organizer = world.users["organizer"]
    long_ago = timezone.now() - muko_mail.UNSUBSCRIBE_MAX_AGE - timedelta(days=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: long_ago.timestamp())
        token = muko_mail.unsubscribe_token(organizer.pk, "deadline")

    response = mail_provider().post(reverse("unsubscribe", args=[token]))

    assert response.status_code == 404
    assert reverse("notification_settings") in response.content.decode()
    assert not NotificationSettings.objects.exists()


# --- From, SITE_URL ---------------------------------------------------------------------------------------------


@override_settings(DEFAULT_FROM_EMAIL="МУКО <noreply@muko.example.ru>")
def test_the_cyrillic_display_name_is_encoded_per_rfc_2047(world, django_capture_on_commit_callbacks):
    message = _notify(world.users["organizer"], "result", django_capture_on_commit_callbacks)

    raw = message.message().as_bytes()
    parsed = message_from_bytes(raw)

    from_line = next(line for line in raw.split(b"\n") if line.startswith(b"From:"))
    assert from_line.isascii() and b"=?utf-8?" in from_line
    assert str(make_header(decode_header(parsed["From"]))) == "МУКО <noreply@muko.example.ru>"


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "muko.example.ru", "SITE_URL": SITE}


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({}, "DEFAULT_FROM_EMAIL"),
        ({"DEFAULT_FROM_EMAIL": "МУКО <noreply@localhost>"}, "DEFAULT_FROM_EMAIL"),
        ({"DEFAULT_FROM_EMAIL": "noreply@muko"}, "DEFAULT_FROM_EMAIL"),
        ({"DEFAULT_FROM_EMAIL": "МУКО"}, "DEFAULT_FROM_EMAIL"),
        ({"DEFAULT_FROM_EMAIL": "МУКО <noreply@muko.example.ru>", "SITE_URL": ""}, "SITE_URL"),
        ({"DEFAULT_FROM_EMAIL": "МУКО <noreply@muko.example.ru>", "SITE_URL": "muko.example.ru"}, "SITE_URL"),
    ],
)
def test_production_refuses_to_mail_from_nowhere(env, mentions):
    result = manage("check", **{**PRODUCTION, **env})

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert mentions in result.stderr


def test_production_starts_with_a_real_sender_and_development_with_the_default():
    production = manage("check", **PRODUCTION, DEFAULT_FROM_EMAIL="МУКО <noreply@muko.example.ru>")
    development = manage("check", DEBUG="1", DEFAULT_FROM_EMAIL="", SITE_URL="")

    assert production.returncode == 0, production.stderr
    assert development.returncode == 0, development.stderr


def test_site_url_follows_port_unless_given():
    probe = "from django.conf import settings; print(settings.SITE_URL)"

    default = manage("shell", "-c", probe, DEBUG="1", PORT="", SITE_URL="")
    on_port = manage("shell", "-c", probe, DEBUG="1", PORT="8123", SITE_URL="")
    given = manage("shell", "-c", probe, DEBUG="1", PORT="8123", SITE_URL="https://muko.example.ru/")

    assert default.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8000"
    assert on_port.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8123"
    assert given.stdout.strip().splitlines()[-1] == "https://muko.example.ru"


# --- every link of every mail ----------------------------------------------------------------------------------------

LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']*)["']|(\b[a-z][a-z0-9+.-]*://[^\s<>"')]+)""", re.I)


def _links(message):
    texts = [message.body, *(content for content, _mimetype in message.alternatives)]
    found = [a or b for text in texts for a, b in LINK.findall(text)]
    found += [v.strip("<>") for k, v in message.extra_headers.items() if k == "List-Unsubscribe"]
    return found


@override_settings(SITE_URL=SITE)
def test_every_link_in_every_mail_is_absolute_and_built_from_site_url(
    survey_campaign, world, client, django_capture_on_commit_callbacks
):
    organizer, coordinator = world.users["organizer"], world.users["coordinator"]
    world.school.email = "school@example.org"
    world.school.save()
    sent = []
    sent += _sent(
        django_capture_on_commit_callbacks,
        lambda: appointment_invite(
            access=access_for(coordinator),
            by=coordinator,
            email="new.organizer@example.org",
            first_name="Анна",
            last_name="Смирнова",
            role=Role.ORGANIZER,
            municipality=world.sibling,
        ),
    )
    sent += [_notify(organizer, kind, django_capture_on_commit_callbacks) for kind in ("deadline", "result")]
    notices.settings_save(user=coordinator, email_kinds=Notification.Kind.values, digest=True)
    _sent(
        django_capture_on_commit_callbacks,
        lambda: notices.notify([coordinator], "submitted", "Формы отправлены", "", "/campaigns/test-2026/"),
    )
    sent += _sent(django_capture_on_commit_callbacks, lambda: call_command("send_digests", stdout=io.StringIO()))
    sent += _sent(
        django_capture_on_commit_callbacks,
        lambda: surveys.links_send(campaign=survey_campaign, municipalities=[world.municipality]),
    )
    sent += _sent(
        django_capture_on_commit_callbacks,
        lambda: client.post(reverse("password_reset"), {"email": organizer.email}, HTTP_HOST="testserver"),
    )

    assert len(sent) == 6
    for message in sent:
        links = _links(message)
        assert links, message.subject
        wrong = [link for link in links if not link.startswith(f"{SITE}/") and link != SITE]
        assert not wrong, (message.subject, wrong)
