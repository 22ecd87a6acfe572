"""End to end with real parts: a `celery -A ipplan worker` subprocess on the real Redis, sending through a
real SMTP server (aiosmtpd on a loopback port), on the test database. Dates are passed to the sweep the way
beat would compute them; the worker's clock is never waited on."""

import time

import pytest
from django.utils import timezone

from reminders.models import ReminderLog

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SITE = "https://ipplan.example.gov.cn"
EXPECTED = {  # recipient → subjects, on 2024-09-30 (see the scenario in conftest.py)
    "alice@example.gov.cn": [
        "【督办提醒】2024-09-30:3 项任务需要关注",
        "【逾期上报】2024-09-30:1 个单位 1 项任务逾期超过上报期限",
    ],
    "bob@example.gov.cn": ["【督办提醒】2024-09-30:3 项任务需要关注"],
    "lead@example.gov.cn": [
        "【逾期上报】2024-09-30:2 个单位 3 项任务逾期超过上报期限",
        # 区市场监管局 has overdue tasks and nobody to tell: the lead bureau hears of it once a day.
        "【投递问题日报】2024-09-30:有提醒未送达或无人可通知",
    ],
}


def settled():
    """Every email of the day is sent (or skipped), none pending, failed or in flight."""
    rows = list(ReminderLog.objects.values_list("status", flat=True))
    return rows and all(status in ("sent", "skipped") for status in rows)


def subjects_by_recipient(inbox):
    received: dict[str, list[str]] = {}
    for message in inbox.messages:
        received.setdefault(message["To"], []).append(message["Subject"])
    return {to: sorted(subjects) for to, subjects in received.items()}


def test_the_worker_sends_each_digest_through_smtp(worker, smtp, scenario, on_day, wait_for):
    with on_day("2024-09-30"):
        day = timezone.localdate().isoformat()
    result = worker.sweep(day).get(timeout=60)
    # 4 reminders made by claim, and the 投递问题日报 (区市场监管局 has nobody to tell)
    assert result == {
        "day": "2024-09-30", "is_working_day": True, "emails": 5, "skipped": 1, "created": 4, "dispatched": 5,
    }  # fmt: skip
    wait_for(lambda: len(smtp.inbox.messages) == 5 and settled(), message="5 emails delivered")

    assert subjects_by_recipient(smtp.inbox) == {to: sorted(subjects) for to, subjects in EXPECTED.items()}
    assert smtp.inbox.recipients() == sorted(
        ["alice@example.gov.cn", "alice@example.gov.cn", "bob@example.gov.cn"] + ["lead@example.gov.cn"] * 2
    )
    [digest] = [m for m in smtp.inbox.to("bob@example.gov.cn")]
    text, html = smtp.inbox.text_of(digest), smtp.inbox.html_of(digest)
    assert "区科技局联络员:您好!" in text and "已逾期 2 项" in text
    for name in ["science_support_overdue", "science_overdue", "science_report_missing"]:
        assert f"{SITE}/tasks/{scenario[name].pk}/" in text
        assert f'href="{SITE}/tasks/{scenario[name].pk}/"' in html
    assert f"/tasks/{scenario['science_quiet'].pk}/" not in text
    assert digest["From"] == "ipplan <noreply@ipplan.localhost>"
    log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
    assert digest["Message-ID"] == f"<reminder-{log.pk}.digest@ipplan.example.gov.cn>"


def test_two_sweeps_started_together_send_each_digest_once(worker, smtp, scenario, wait_for):
    first, second = worker.sweep("2024-09-30"), worker.sweep("2024-09-30")
    results = [first.get(timeout=60), second.get(timeout=60)]
    assert all(result["emails"] == 5 for result in results)
    # Each run counts what it did: one made and queued the rows, the other found them made.
    assert sorted((result["created"], result["dispatched"]) for result in results) == [(0, 0), (4, 5)]
    wait_for(lambda: len(smtp.inbox.messages) >= 5 and settled(), message="emails delivered")
    time.sleep(2)  # let any duplicate that was going to arrive arrive
    assert subjects_by_recipient(smtp.inbox) == {to: sorted(subjects) for to, subjects in EXPECTED.items()}
    assert ReminderLog.objects.filter(status="sent").count() == 5
    # A third sweep later that day adds nothing.
    assert worker.sweep("2024-09-30").get(timeout=60)["dispatched"] == 0
    time.sleep(1)
    assert len(smtp.inbox.messages) == 5


def test_smtp_down_then_up_delivers_each_digest_once(worker, smtp_down, scenario, wait_for):
    worker.sweep("2024-09-30").get(timeout=60)
    failed = wait_for(
        lambda: ReminderLog.objects.filter(status="failed").count() == 5, message="every send failed once"
    )
    assert failed
    assert "Connection refused" in ReminderLog.objects.filter(status="failed").first().error
    smtp_down.start()  # the mail server comes back; the jobs retry with backoff
    wait_for(
        lambda: len(smtp_down.inbox.messages) == 5 and settled(), timeout=90, message="delivered after retry"
    )
    time.sleep(1)
    assert subjects_by_recipient(smtp_down.inbox) == {
        to: sorted(subjects) for to, subjects in EXPECTED.items()
    }
    assert all(
        attempts >= 2
        for attempts in ReminderLog.objects.filter(status="sent").values_list("attempts", flat=True)
    )


def test_a_holiday_sweep_sends_nothing_and_a_make_up_day_sends(worker, smtp, scenario, wait_for):
    assert worker.sweep("2024-10-01").get(timeout=60) == {
        "day": "2024-10-01", "is_working_day": False, "emails": 0, "skipped": 0, "created": 0, "dispatched": 0,
    }  # fmt: skip
    assert not ReminderLog.objects.exists()
    result = worker.sweep("2024-09-29").get(timeout=60)  # Sunday, 调休上班
    assert result["is_working_day"] and result["dispatched"] == 5
    wait_for(lambda: len(smtp.inbox.messages) == 5 and settled(), message="make-up day emails delivered")
    assert {message["To"] for message in smtp.inbox.messages} == set(EXPECTED)
