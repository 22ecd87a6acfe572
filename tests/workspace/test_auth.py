"""Login, logout, password reset in Chinese; repeated failures lock the login (django-axes)."""

import re

from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD


def test_the_login_page_is_in_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.text
    assert "用户名" in response.text and "忘记密码" in response.text


def test_a_liaison_logs_in_and_out(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("workspace:task_list")
    response = client.post(reverse("logout"))
    assert response.url == reverse("login")
    assert client.get(reverse("workspace:task_list")).status_code == 302


def test_a_wrong_password_is_explained(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.text


def test_repeated_failures_lock_the_login(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.text
    assert "_auth_user_id" not in client.session


def test_the_admin_login_still_works(client, superuser):
    response = client.post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD, "next": reverse("admin:index")}
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_password_reset_by_email_in_chinese(client, alice):
    response = client.post(reverse("password_reset"), {"email": "alice@example.gov.cn"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.subject == "ipplan 计划督办系统:重设密码"
    assert "您的用户名:alice" in message.body
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form_url = client.get(link).url
    response = client.post(form_url, {"new_password1": "Xin-Mima-2026!", "new_password2": "Xin-Mima-2026!"})
    assert response.url == reverse("password_reset_complete")
    assert "密码已重设" in client.get(response.url).text
    response = client.post(reverse("login"), {"username": "alice", "password": "Xin-Mima-2026!"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_password_change(client, alice):
    client.force_login(alice)
    assert "修改密码" in client.get(reverse("password_change")).text
