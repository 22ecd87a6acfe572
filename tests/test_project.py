"""The project as a whole: checks, migrations, settings defaults, the demo setup."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from agencies.models import Agency, Liaison


def test_system_checks_are_clean():
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_migrations_are_in_step_with_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_chinese_and_shanghai_by_default():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ


def test_english_is_available_through_gettext():
    from agencies.models import Agency

    with translation.override("en"):
        assert str(Agency._meta.verbose_name) == "Agency"


@pytest.mark.django_db
def test_setup_demo_is_idempotent_and_prints_passwords_once():
    first, second = io.StringIO(), io.StringIO()
    call_command("setup_demo", "--no-seeds", stdout=first)
    agencies, liaisons = Agency.objects.count(), Liaison.objects.count()
    call_command("setup_demo", "--no-seeds", stdout=second)
    assert "admin" in first.getvalue() and "密码只显示这一次" in first.getvalue()
    assert "演示账号已存在" in second.getvalue()
    assert agencies > 90 and liaisons > 10
    assert (Agency.objects.count(), Liaison.objects.count()) == (agencies, liaisons)


@pytest.mark.django_db
def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
