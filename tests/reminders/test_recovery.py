"""Recovery under faults, with real parts: a worker SIGKILLed mid-send (a `celery -A ipplan worker` on Redis
and aiosmtpd), an SMTP outage of two hours (aiosmtpd, a simulated clock), a broker that cannot be reached
during 催办 (the urge view against a closed port), and the retry window ending in 已放弃."""

import asyncio
import datetime
import time

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from ipplan.celery import app as celery_app
from reminders import services
from reminders.models import ReminderLog

from .conftest import SmtpServer, Worker, at, free_port
from .test_worker import EXPECTED, subjects_by_recipient

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class HoldingInbox:
    """An SMTP server whose first ``hold`` messages hang after the data (a slow relay); a held message whose
    client disconnects is never accepted — the client saw no 250, so the mail is not delivered."""

    def __init__(self, inbox, hold: int):
        self.inbox, self.hold = inbox, hold
        self.holding = 0
        self.dropped = 0

    async def handle_DATA(self, server, session, envelope):
        if self.hold > 0:
            self.hold -= 1
            self.holding += 1
            try:
                while not server.transport.is_closing():
                    await asyncio.sleep(0.05)
            finally:
                self.holding -= 1
                self.dropped += 1
            return "421 closing"
        return await self.inbox.handle_DATA(server, session, envelope)


def statuses():
    return sorted(ReminderLog.objects.exclude(status="skipped").values_list("status", flat=True))


def test_a_worker_killed_mid_send_loses_nothing(scenario, smtp_port, wait_for):
    server = SmtpServer(smtp_port)
    holding = HoldingInbox(server.inbox, hold=2)
    from aiosmtpd.controller import Controller

    server.controller = Controller(holding, hostname="127.0.0.1", port=smtp_port)
    server.controller.start()
    first = Worker(smtp_port)
    try:
        first.sweep("2024-09-30").get(timeout=60)
        wait_for(
            lambda: holding.holding == 2 and statuses() == ["sending", "sending", "sent", "sent", "sent"],
            message="two mails held mid-send, three delivered",
        )
        first.kill()  # SIGKILL, worker and pool: the two jobs stay unacknowledged in Redis
        killed_at = time.monotonic()
        wait_for(lambda: holding.dropped == 2, message="the server saw the client go")
        assert len(server.inbox.messages) == 3 and statuses() == [
            "sending",
            "sending",
            "sent",
            "sent",
            "sent",
        ]

        second = Worker(smtp_port, flush=False)  # Redis keeps the dead worker's jobs (visibility timeout 2 h)
        try:
            time.sleep(max(0, 4 - (time.monotonic() - killed_at)))  # the worker's lease (WORKER_TIMINGS)
            assert second.recover().get(timeout=30)["dispatched"] == 2
            wait_for(lambda: statuses() == ["sent"] * 5, message="the held mails sent again")
            recovered_in = time.monotonic() - killed_at
        finally:
            second.stop()
    finally:
        first.stop()
        server.stop()
    time.sleep(1)
    # 0 lost, none twice: every expected mail arrived exactly once (the held ones were never accepted).
    assert subjects_by_recipient(server.inbox) == {to: sorted(subjects) for to, subjects in EXPECTED.items()}
    assert len({message["Message-ID"] for message in server.inbox.messages}) == 5
    assert recovered_in < 600
    resent = ReminderLog.objects.filter(attempts=2)
    assert resent.count() == 2 and all(log.sent_at for log in resent)


@pytest.fixture
def smtp_settings(settings):
    def point_at(port: int):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
        settings.SITE_URL = "https://ipplan.example.gov.cn"

    return point_at


def test_two_hours_without_smtp_then_everything_is_delivered_once(scenario, smtp_down, smtp_settings):
    smtp_settings(smtp_down.port)
    start = at("2024-09-30", 9)
    with time_machine.travel(start, tick=False):
        result = services.run_sweep(dispatch=None)
        report = services.deliver_now(result.dispatched)
    # 4 reminders and the 投递问题日报 (区市场监管局 has nobody to tell)
    assert len(report.failed) == 5 and statuses() == ["failed"] * 5
    assert "Connection refused" in ReminderLog.objects.filter(status="failed").first().error

    def every_three_minutes(until: datetime.datetime, moment: datetime.datetime):
        while moment < until:
            moment += datetime.timedelta(minutes=3)
            with time_machine.travel(moment, tick=False):
                services.recover(dispatch=services.deliver_now)
        return moment

    moment = every_three_minutes(start + datetime.timedelta(hours=2), start)
    assert smtp_down.inbox.messages == [] and statuses() == ["failed"] * 5
    attempts = set(ReminderLog.objects.exclude(status="skipped").values_list("attempts", flat=True))
    assert max(attempts) <= 8  # backoff: 1, 2, 4 … 60 minutes, not one try per tick

    smtp_down.start()  # the mail server is back at 11:00
    back = moment
    every_three_minutes(back + datetime.timedelta(hours=1, minutes=3), moment)
    assert statuses() == ["sent"] * 5
    assert subjects_by_recipient(smtp_down.inbox) == {
        to: sorted(subjects) for to, subjects in EXPECTED.items()
    }
    last_sent = max(ReminderLog.objects.values_list("sent_at", flat=True).exclude(sent_at=None))
    assert last_sent - back <= datetime.timedelta(hours=1)
    # Running the sweep and the recovery again sends nothing more.
    with time_machine.travel(back + datetime.timedelta(hours=2), tick=False):
        services.deliver_now(services.run_sweep(dispatch=None).dispatched)
        services.recover(dispatch=services.deliver_now)
    assert len(smtp_down.inbox.messages) == 5


def test_a_failed_digest_is_superseded_others_are_retried_and_old_ones_given_up(
    scenario, smtp_down, smtp_settings, client, lead
):
    smtp_settings(smtp_down.port)
    with time_machine.travel(at("2024-09-27"), tick=False):  # Friday: the mail server is down all day
        services.deliver_now(services.run_sweep(dispatch=None).dispatched)
    friday = {(log.kind, log.recipient): log.pk for log in ReminderLog.objects.exclude(status="skipped")}
    assert set(ReminderLog.objects.filter(pk__in=friday.values()).values_list("status", flat=True)) == {
        "failed"
    }

    smtp_down.start()
    with time_machine.travel(at("2024-09-30"), tick=False):  # Monday: back; the sweep, then the recovery
        services.deliver_now(services.run_sweep(dispatch=None).dispatched)
        recovery = services.recover(dispatch=services.deliver_now)
    friday_rows = {
        key: ReminderLog.objects.get(pk=pk) for key, pk in friday.items()
    }  # Monday's digests list the tasks still open: Friday's are not sent on top of them
    for key, log in friday_rows.items():
        if key[0] == "digest":
            assert log.status == "superseded", key
        else:
            assert log.status == "sent", key  # an escalation (or the 投递问题日报) is retried itself
    assert recovery.report and len(recovery.report.sent) == len([key for key in friday if key[0] != "digest"])
    digests_to_alice = [
        m for m in smtp_down.inbox.to("alice@example.gov.cn") if m["Subject"].startswith("【督办提醒】")
    ]
    assert [m["Subject"][:17] for m in digests_to_alice] == ["【督办提醒】2024-09-30:"]

    # A 催办 that failed nine days ago and was never sent ends 已放弃, visibly, with the reason.
    with time_machine.travel(at("2024-09-21"), tick=False):
        stale = ReminderLog.objects.create(
            kind="urge",
            recipient="bob@example.gov.cn",
            period="2024-09-21/old",
            day=datetime.date(2024, 9, 21),
            status="failed",
            attempts=9,
            error="SMTPServerDisconnected: down",
            subject="【催办】old",
            body_text="old",
        )
    with time_machine.travel(at("2024-09-30", 10), tick=False):
        assert services.recover(dispatch=services.deliver_now).gave_up == 1
    stale.refresh_from_db()
    assert stale.status == "gave_up"
    assert stale.error.startswith("已放弃:7 天内未能发出。最后一次错误:SMTPServerDisconnected")
    client.force_login(lead)
    page = client.get(reverse("admin:reminders_reminderlog_changelist"), {"status__exact": "gave_up"})
    assert "已放弃" in page.text and "bob@example.gov.cn" in page.text


@pytest.fixture
def broker_down():
    """Celery as in production (not eager), its broker a closed port on our Redis host."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url = f"redis://127.0.0.1:{free_port()}/9"
    conf.task_always_eager = False
    yield
    conf.broker_url, conf.task_always_eager = saved


def urge(client, task):
    """Click 催办 on the task's page: the time is the POST's answer; the page it leads to shows the messages."""
    url = reverse("workspace:task_detail", args=[task.pk])
    assert client.get(url).status_code == 200  # the user is on the task's page
    started = time.monotonic()
    answer = client.post(reverse("reminders:urge"), {"task": [task.pk], "next": url})
    elapsed = time.monotonic() - started
    assert answer.status_code == 302
    return client.get(answer.url), elapsed


def page_messages(page) -> list[str]:
    return [str(message) for message in page.context["messages"]]


def test_broker_down_urge_sends_in_process_and_says_so_within_3_s(
    broker_down, client, lead, scenario, on_day
):
    client.force_login(lead)
    with on_day("2024-09-30"):
        page, elapsed = urge(client, scenario["finance_lead_overdue"])
    assert elapsed < 3
    said = page_messages(page)
    assert "消息队列暂时无法连接,已改为由本服务器直接发送。" in said
    assert "已发出 1 封:alice@example.gov.cn。" in said
    assert not any("提交后台" in text for text in said)
    assert [message.to for message in mail.outbox] == [["alice@example.gov.cn"]]
    assert ReminderLog.objects.get(kind="urge", recipient="alice@example.gov.cn").status == "sent"


def test_broker_and_smtp_down_urge_says_it_failed_within_3_s(
    broker_down, client, lead, scenario, on_day, smtp_settings, smtp_down
):
    smtp_settings(smtp_down.port)
    client.force_login(lead)
    with on_day("2024-09-30"):
        page, elapsed = urge(client, scenario["finance_lead_overdue"])
        # Clicked again: the failed row is tried again, still honestly reported.
        again, elapsed_again = urge(client, scenario["finance_lead_overdue"])
    assert elapsed < 3 and elapsed_again < 3
    said = " ".join(page_messages(page))
    assert "1 封发送失败,收件人尚未收到:alice@example.gov.cn(ConnectionRefusedError" in said
    assert "已发出" not in said and "提交后台" not in said
    assert "1 封发送失败" in " ".join(page_messages(again))
    log = ReminderLog.objects.get(kind="urge", recipient="alice@example.gov.cn")
    assert log.status == "failed" and log.attempts == 2 and log.next_attempt_at is not None

    # The mail server comes back: the recovery job sends it once its retry is due.
    smtp_down.start()
    with time_machine.travel(log.next_attempt_at + datetime.timedelta(seconds=1), tick=False):
        services.recover(dispatch=services.deliver_now)
    log.refresh_from_db()
    assert log.status == "sent" and [m["To"] for m in smtp_down.inbox.messages] == ["alice@example.gov.cn"]
    assert smtp_down.inbox.messages[0]["Message-ID"] == f"<reminder-{log.pk}.urge@ipplan.example.gov.cn>"


def test_the_migration_schedules_the_recovery_job_every_three_minutes():
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    migration = importlib.import_module("reminders.migrations.0006_schedule_recovery")
    PeriodicTask.objects.filter(task="reminders.recover").delete()  # a flush may have left it or not
    migration.schedule_recovery(apps, None)
    migration.schedule_recovery(apps, None)  # migrating again adds nothing
    [task] = PeriodicTask.objects.filter(task="reminders.recover")
    assert task.enabled and task.interval.every == 3 and task.interval.period == "minutes"
