"""The login lockout behind a reverse proxy: PROXY_COUNT picks the client's address out of X-Forwarded-For, so a
stranger cannot lock a login for everyone behind the same proxy, nor dodge the lockout with a forged header."""

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.urls import reverse

from config.client_ip import client_ip
from tests.factories import UserFactory

PROXY = "10.0.0.1"  # nginx on the app host: every request's REMOTE_ADDR
STRANGER = "203.0.113.7"
USER = "198.51.100.20"
PASSWORD = "correct-horse-9"  # the factory's password


@pytest.fixture
def account(db):
    return UserFactory(username="real-user")


def attempt(client, forwarded, password="nope", remote=PROXY):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": "real-user", "password": password}, **headers)


def fail_five_times(client, forwarded, remote=PROXY):
    statuses = [attempt(client, forwarded, remote=remote).status_code for _ in range(5)]
    assert statuses == [200] * 4 + [429]  # the fifth failure locks


@override_settings(PROXY_COUNT=1)
def test_a_stranger_behind_the_proxy_does_not_lock_out_the_user_from_another_address(account, client):
    fail_five_times(client, STRANGER)
    client.cookies.clear()

    response = attempt(client, USER, password=PASSWORD)

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {STRANGER}


@override_settings(PROXY_COUNT=1)
def test_five_failures_from_one_address_still_lock_that_address(account, client):
    fail_five_times(client, STRANGER)

    locked = attempt(client, STRANGER, password=PASSWORD)

    assert locked.status_code == 429
    assert "Вход временно заблокирован" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(PROXY_COUNT=1)
def test_a_forged_left_part_neither_dodges_the_lockout_nor_lands_it_on_someone_else(account, client):
    # nginx appends the address it sees; whatever the client sent stays on the left.
    for i in range(5):
        attempt(client, f"192.0.2.{i}, {USER}, {STRANGER}")

    locked = attempt(client, f"192.0.2.99, {STRANGER}", password=PASSWORD)
    client.cookies.clear()
    user = attempt(client, USER, password=PASSWORD)

    assert locked.status_code == 429
    assert user.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {STRANGER}


@override_settings(PROXY_COUNT=0)
def test_without_a_proxy_x_forwarded_for_is_ignored(account, client):
    for i in range(5):
        attempt(client, f"192.0.2.{i}", remote=STRANGER)  # a different forged address each time

    locked = attempt(client, USER, password=PASSWORD, remote=STRANGER)
    client.cookies.clear()
    other = attempt(client, STRANGER, password=PASSWORD, remote=USER)  # pretends to be the locked address

    assert locked.status_code == 429
    assert other.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {STRANGER}


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "198.51.100.20", PROXY),
        (1, None, PROXY),  # not through the proxy after all: nothing to trust
        (1, "198.51.100.20", "198.51.100.20"),
        (1, "1.2.3.4, 198.51.100.20", "198.51.100.20"),
        (2, "1.2.3.4, 198.51.100.20, 10.0.0.2", "198.51.100.20"),
        (2, "198.51.100.20", PROXY),  # fewer hops than proxies
        (1, "not-an-address", PROXY),
        (1, "1.2.3.4, \x00", PROXY),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_the_proxy_count_th_hop_from_the_right(rf, count, forwarded, expected):
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded

    with override_settings(PROXY_COUNT=count):
        assert client_ip(rf.get("/", **headers)) == expected
