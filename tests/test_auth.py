import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import UserFactory

GENERIC = "Неверный логин или пароль"


def test_wrong_password_and_unknown_user_get_the_same_russian_message(client, db):
    UserFactory(username="real-user")

    wrong_password = client.post(reverse("login"), {"username": "real-user", "password": "nope"})
    no_such_user = client.post(reverse("login"), {"username": "ghost", "password": "nope"})

    assert GENERIC in wrong_password.content.decode()
    assert wrong_password.content.decode().count(GENERIC) == no_such_user.content.decode().count(GENERIC)
    assert wrong_password.status_code == no_such_user.status_code == 200


def test_a_right_password_logs_in(client, db):
    UserFactory(username="real-user")

    response = client.post(reverse("login"), {"username": "real-user", "password": "correct-horse-9"})

    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_five_failures_lock_the_login_with_a_russian_message(client, db):
    UserFactory(username="real-user")
    for _ in range(5):
        client.post(reverse("login"), {"username": "real-user", "password": "nope"})

    locked = client.post(reverse("login"), {"username": "real-user", "password": "correct-horse-9"})

    assert locked.status_code == 429
    assert "Вход временно заблокирован" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.fixture(autouse=True)
def _fresh_limits():
    """The password-reset limits are counted in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


def test_password_reset_sends_a_russian_letter_with_a_link(client, db, django_capture_on_commit_callbacks):
    UserFactory(username="real-user", email="real@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "real@example.org"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/" in mail.outbox[0].body
    assert "пароль" in mail.outbox[0].body.lower()


def test_password_reset_does_not_reveal_unknown_addresses(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert len(mail.outbox) == 0


def test_logout_is_a_post(client, db):
    client.force_login(UserFactory())

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def without_tokens(response):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def reset(client, email, address="192.0.2.1"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_the_reset_letter_is_sent_by_the_task_worker_not_in_the_request(
    client, db, django_capture_on_commit_callbacks, monkeypatch
):
    from types import SimpleNamespace

    from municipalities import mail as tasks

    UserFactory(username="real-user", email="real@example.org")
    enqueued = []

    def enqueue(messages):
        enqueued.append(messages)
        return original.enqueue(messages)

    original = tasks.send_mail_task
    monkeypatch.setattr(tasks, "send_mail_task", SimpleNamespace(enqueue=enqueue))
    with django_capture_on_commit_callbacks() as callbacks:
        response = reset(client, "real@example.org")
    sent_in_request = len(mail.outbox)
    for callback in callbacks:
        callback()

    assert response.status_code == 302
    assert sent_in_request == 0  # nothing leaves while the request runs
    assert [m["to"] for batch in enqueued for m in batch] == [["real@example.org"]]
    assert len(mail.outbox) == 1 and "/accounts/password/reset/" in mail.outbox[0].body


def test_password_reset_letters_are_limited_per_address(client, db, django_capture_on_commit_callbacks):
    UserFactory(username="real-user", email="real@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        responses = [reset(client, "Real@Example.org", address=f"192.0.2.{i}") for i in range(6)]

    assert len(mail.outbox) == 3  # from six different clients, still three letters an hour
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, reverse("password_reset_done"))}


def test_password_reset_requests_are_limited_per_client(client, db, django_capture_on_commit_callbacks):
    for i in range(12):
        UserFactory(username=f"user-{i}", email=f"user-{i}@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        responses = [reset(client, f"user-{i}@example.org") for i in range(12)]
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere = reset(client, "user-11@example.org", address="192.0.2.2")

    assert len(mail.outbox) == 11  # ten from the flooding client, then one asked from elsewhere
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, reverse("password_reset_done"))}
    assert elsewhere.status_code == 302


def test_a_limited_request_looks_like_any_other(client, db, django_capture_on_commit_callbacks):
    UserFactory(username="real-user", email="real@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            reset(client, "real@example.org")

    limited = reset(client, "real@example.org")
    unknown = reset(client, "nobody@example.org")
    page_limited = client.get(limited["Location"])
    page_unknown = client.get(unknown["Location"])

    assert (limited.status_code, limited["Location"]) == (unknown.status_code, unknown["Location"])
    assert without_tokens(page_limited) == without_tokens(page_unknown)
