"""`manage.py send_reminders [--date] [--dry-run]`: the same sweep without Celery."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command

from reminders.models import ReminderLog

from .conftest import at


def run(*args):
    out = io.StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_dry_run_lists_what_would_be_sent_and_sends_nothing(scenario):
    output = run("--date", "2024-09-30", "--dry-run")
    assert (
        "[到期提醒汇总] alice@example.gov.cn 区金融局 2024-09-30:已逾期 1 项,1个工作日内到期 2 项 将发送"
        in output
    )
    assert "[逾期上报] lead@example.gov.cn" in output
    assert "不发送:该单位没有设置联络员邮箱" in output
    assert mail.outbox == [] and not ReminderLog.objects.exists()


def test_it_sends_once_and_says_so(scenario):
    first = run("--date", "2024-09-30")
    second = run("--date", "2024-09-30")
    # 4 reminders (and 1 skipped) plus the 投递问题日报: 区市场监管局 has nobody to tell
    assert "本次发送 5 封,失败 0 封,共 5 封提醒" in first
    assert "本次发送 0 封" in second
    assert len(mail.outbox) == 5
    assert "已发送过" in run("--date", "2024-09-30", "--dry-run")


def test_a_holiday_sends_nothing(scenario):
    assert run("--date", "2024-10-01") == "2024-10-01 不是工作日,不发送提醒邮件。\n"


def test_today_by_default(scenario, on_day):
    with on_day("2024-09-29"):
        assert "本次发送 5 封" in run()  # with the 投递问题日报


def test_a_bad_date_is_refused_in_chinese(scenario):
    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        run("--date", "2024-13-01")


def test_it_counts_only_what_this_run_sent(scenario, on_day):
    from reminders import services

    with on_day("2024-09-30"):
        # An overlapping run (the worker's sweep) made the rows a moment ago and is sending them.
        services.run_sweep(dispatch=None)
        output = run("--date", "2024-09-30")
    assert "本次发送 0 封,失败 0 封,共 5 封提醒" in output
    assert mail.outbox == []
    # That run died: a lease later, the command's recovery sends its rows and counts them as its own.
    with on_day("2024-09-30", hour=10):
        output = run("--date", "2024-09-30")
    # 4 reminders and the 投递问题日报 (区市场监管局 has nobody to tell)
    assert "本次发送 5 封,失败 0 封" in output and len(mail.outbox) == 5


def test_a_failed_send_is_reported_and_retried_with_backoff(scenario, settings, on_day):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    with on_day("2024-09-30"), pytest.raises(CommandError, match="5 封发送失败,已记录;将按退避间隔自动重试"):
        run("--date", "2024-09-30")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with on_day("2024-09-30"):  # at once again: the retry is not due yet, nothing is hammered
        assert "本次发送 0 封" in run("--date", "2024-09-30")
    with time_machine.travel(at("2024-09-30") + timedelta(minutes=2), tick=False):
        assert "本次发送 5 封" in run("--date", "2024-09-30")  # with the 投递问题日报
    assert len(mail.outbox) == 5
