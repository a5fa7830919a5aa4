from django.core import mail
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


def test_password_reset_sends_a_russian_letter_with_a_link(client, db):
    UserFactory(username="real-user", email="real@example.org")

    response = client.post(reverse("password_reset"), {"email": "real@example.org"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/" in mail.outbox[0].body
    assert "пароль" in mail.outbox[0].body.lower()


def test_password_reset_does_not_reveal_unknown_addresses(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert len(mail.outbox) == 0


def test_logout_is_a_post(client, db):
    client.force_login(UserFactory())

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
