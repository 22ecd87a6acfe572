"""django-axes keys lockouts on username + client address, where the client address is read through the
configured number of trusted proxies; the login page counts down; a password reset lifts the lockout."""

import re

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from ipplan.lib.clientip import client_ip
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is the client's word, ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged entry on the left is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2"),  # did not pass both proxies
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_address_comes_from_trusted_proxies_only(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def fail(client, address, username="alice"):
    return client.post(
        reverse("login"),
        {"username": username, "password": "wrong"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=address,
    )


def test_behind_a_proxy_one_client_cannot_lock_out_another(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "198.51.100.66")
    assert fail(client, "198.51.100.66").status_code == 429
    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",  # the same proxy
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_login_page_counts_the_remaining_attempts(client, alice, settings):
    first = fail(client, "")
    assert f"还可尝试 {settings.AXES_FAILURE_LIMIT - 1} 次" in first.text
    second = fail(client, "")
    assert f"还可尝试 {settings.AXES_FAILURE_LIMIT - 2} 次" in second.text


def test_a_password_reset_lifts_the_lockout(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        fail(client, "")
    login = {"username": "alice", "password": PASSWORD}
    assert client.post(reverse("login"), login, REMOTE_ADDR="10.0.0.1").status_code == 429
    client.post(reverse("password_reset"), {"email": "alice@example.gov.cn"})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url
    client.post(form_url, {"new_password1": "Xin-Mima-2026!", "new_password2": "Xin-Mima-2026!"})
    login = {"username": "alice", "password": "Xin-Mima-2026!"}
    response = client.post(reverse("login"), login, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
