"""The daily sweep in-process (Celery eager, Django's locmem outbox): who gets what, and each email once."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Liaison
from reminders import services
from reminders.models import ReminderLog, ReminderLogTask
from tasks.models import Task

from .conftest import at

Reason = ReminderLogTask.Reason
DAY = datetime.date(2024, 9, 30)


def by_recipient(emails):
    return {(email.kind, email.recipient): email for email in emails}


def reasons(email):
    return {(line.pk, line.reason) for line in email.lines}


def test_it_builds_each_liaisons_digest(scenario, finance, science, market):
    emails = by_recipient(services.compute_reminders(DAY))
    alice = emails[("digest", "alice@example.gov.cn")]
    assert reasons(alice) == {
        (scenario["finance_lead_overdue"].pk, Reason.OVERDUE),
        # 10-01…07 are holidays: both are due by the next working day, 10-08.
        (scenario["finance_due_next_day"].pk, Reason.DUE_NEXT_DAY),
        (scenario["finance_due_in_holiday"].pk, Reason.DUE_NEXT_DAY),
    }
    assert alice.period == "2024-09-30" and not alice.skip_reason
    bob = emails[("digest", "bob@example.gov.cn")]
    assert reasons(bob) == {
        (scenario["science_support_overdue"].pk, Reason.OVERDUE),
        (scenario["science_overdue"].pk, Reason.OVERDUE),
        (scenario["science_report_missing"].pk, Reason.REPORT_MISSING),
    }
    nobody = emails[("digest", "")]
    assert nobody.agency_ids == [market.pk] and nobody.skip_reason == "该单位没有设置联络员邮箱"


def test_it_escalates_to_the_lead_bureau_by_agency_and_to_the_lead_agency(scenario, finance, science):
    emails = by_recipient(services.compute_reminders(DAY))
    bureau = emails[("escalation", "lead@example.gov.cn")]
    assert reasons(bureau) == {
        (scenario["finance_lead_overdue"].pk, Reason.ESCALATED),  # 10 days > 7
        (scenario["science_support_overdue"].pk, Reason.ESCALATED),
        (scenario["science_report_missing"].pk, Reason.ESCALATED),  # report 20 days late
    }
    assert [group["agency"] for group in bureau.agency_groups()] == ["区科技局", "区金融局"]
    # 区金融局 leads measure 1: its liaison hears that 区科技局's share is overdue.
    lead_agency = emails[("escalation", "alice@example.gov.cn")]
    assert reasons(lead_agency) == {(scenario["science_support_overdue"].pk, Reason.SUPPORT_OVERDUE)}
    assert ("escalation", "bob@example.gov.cn") not in emails
    assert len(emails) == 5


def test_due_soon_follows_the_plans_threshold(plan, make_task, finance, alice, on_day):
    soon = make_task(finance, "1", due="2024-09-27")
    later = make_task(finance, "2", due="2024-10-20")
    day = datetime.date(2024, 9, 23)
    [digest] = services.compute_reminders(day)
    assert reasons(digest) == {(soon.pk, Reason.DUE_SOON)}
    plan.remind_days_before = 30
    plan.save()
    [digest] = services.compute_reminders(day)
    assert reasons(digest) == {(soon.pk, Reason.DUE_SOON), (later.pk, Reason.DUE_SOON)}


def test_escalation_follows_the_plans_threshold(scenario, plan):
    plan.escalate_after_days = 30
    plan.save()
    emails = services.compute_reminders(DAY)
    assert [email.kind for email in emails if email.kind == "escalation"] == []


def test_ongoing_tasks_are_reminded_before_their_report_deadline(make_task, finance, alice):
    task = make_task(finance, "1", ongoing=True, report_due="2024-10-10")
    [digest] = services.compute_reminders(datetime.date(2024, 10, 8))
    assert reasons(digest) == {(task.pk, Reason.REPORT_DUE)}
    assert "2024-10-10" in digest.lines[0].note


def test_the_sweep_sends_each_email_once_however_often_it_runs(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        first = sweep()
        sweep()
        sweep(DAY)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "alice@example.gov.cn",  # digest
        "alice@example.gov.cn",  # escalation: 区科技局's share of a measure 区金融局 leads
        "bob@example.gov.cn",
        "lead@example.gov.cn",  # escalation
        "lead@example.gov.cn",  # 投递问题日报: 区市场监管局 has nobody to tell
    ]
    assert len(first.dispatched) == 5
    statuses = dict(ReminderLog.objects.values_list("recipient", "status").filter(kind="digest"))
    assert statuses == {"alice@example.gov.cn": "sent", "bob@example.gov.cn": "sent", "": "skipped"}
    assert ReminderLog.objects.count() == 6
    assert ReminderLog.objects.filter(kind="delivery_summary").count() == 1
    log = ReminderLog.objects.get(kind="digest", recipient="alice@example.gov.cn")
    assert log.attempts == 1 and log.sent_at is not None
    assert set(log.tasks.all()) == {
        scenario["finance_lead_overdue"],
        scenario["finance_due_next_day"],
        scenario["finance_due_in_holiday"],
    }


def test_a_holiday_sweep_sends_nothing(scenario, on_day, sweep):
    with on_day("2024-10-01"):
        result = sweep()
    assert not result.is_working_day
    assert mail.outbox == [] and not ReminderLog.objects.exists()


def test_a_make_up_working_day_sweeps(scenario, on_day, sweep):
    with on_day("2024-09-29"):  # Sunday, 调休上班 before National Day
        result = sweep()
    assert result.is_working_day
    assert "bob@example.gov.cn" in [message.to[0] for message in mail.outbox]


def test_an_uncovered_year_presumes_the_statutory_holidays(make_task, finance, alice, on_day, sweep):
    make_task(finance, "1", due="2027-01-04")
    with on_day("2026-12-31"):  # 元旦 2027 presumed: Monday 01-04 is the next working day
        assert sweep().is_working_day
    with on_day("2027-01-01"):  # a Friday, 元旦 (no 2027 arrangement: presumed from the statutory days)
        assert not sweep().is_working_day
    with on_day("2027-01-04"):
        assert sweep().is_working_day
    assert [message.to for message in mail.outbox] == [["alice@example.gov.cn"]] * 2
    assert "1个工作日内到期" in mail.outbox[0].body and "今天到期" in mail.outbox[1].body


def test_nothing_to_say_sends_nothing(make_task, finance, alice, lead, on_day, sweep):
    make_task(finance, "1", due="2024-12-31")
    with on_day("2024-09-30"):
        result = sweep()
    assert result.emails == [] and mail.outbox == []


def test_weekly_liaisons_get_one_digest_a_week(scenario, weekly, on_day, sweep):
    for day in ["2024-09-23", "2024-09-24", "2024-09-25"]:
        with on_day(day):
            sweep()
    to_bob = [message for message in mail.outbox if message.to == ["bob@example.gov.cn"]]
    assert len(to_bob) == 1 and "每周" in to_bob[0].subject
    with on_day("2024-09-30"):
        sweep()
    assert len([message for message in mail.outbox if message.to == ["bob@example.gov.cn"]]) == 2
    assert ReminderLog.objects.filter(recipient="bob@example.gov.cn", kind="digest").count() == 2


def test_a_liaison_who_turned_digests_off_is_logged_skipped_but_still_escalated(
    scenario, alice, on_day, sweep
):
    Liaison.objects.filter(user=alice).update(digest_frequency=Liaison.DigestFrequency.OFF)
    with on_day("2024-09-30"):
        sweep()
    to_alice = [message.subject for message in mail.outbox if message.to == ["alice@example.gov.cn"]]
    assert len(to_alice) == 1 and to_alice[0].startswith("【逾期上报】")
    skipped = ReminderLog.objects.get(kind="digest", recipient="alice@example.gov.cn")
    assert skipped.status == "skipped" and skipped.reason == "联络员已设置不接收提醒邮件"


def test_done_tasks_and_inactive_plans_are_left_out(scenario, plan, on_day):
    plan.is_active = False
    plan.save()
    assert services.compute_reminders(DAY) == []
    plan.is_active = True
    plan.save()
    Task.objects.update(status=Task.Status.DONE)
    assert services.compute_reminders(DAY) == []


def test_smtp_failure_is_logged_and_the_next_sweep_delivers_once(scenario, settings, on_day, sweep):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    with on_day("2024-09-30"):
        sweep()  # eager Celery retries, gives up; the sweep itself does not crash
    failed = ReminderLog.objects.filter(status="failed")
    assert failed.count() == 5  # 4 reminders and the 投递问题日报
    assert "ConnectionRefusedError" in failed.first().error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with on_day("2024-09-30", hour=11):
        sweep()
        sweep()
    assert len(mail.outbox) == 5
    assert ReminderLog.objects.filter(status="sent").count() == 5


def test_deliver_takes_a_row_once(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)  # claimed, not sent
        log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
        assert services.deliver(log.pk).outcome == "sent"
        assert services.deliver(log.pk).outcome == "done"
    assert [message.to for message in mail.outbox] == [["bob@example.gov.cn"]]


def test_a_send_left_in_flight_by_a_killed_worker_is_retried_after_its_lease(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)
        log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
        ReminderLog.objects.filter(pk=log.pk).update(status="sending", claimed_at=services.timezone.now())
        in_flight = services.deliver(log.pk)
        assert in_flight.outcome == "in_flight" and in_flight.retry_in == pytest.approx(300)
        assert mail.outbox == []
    with on_day("2024-09-30", hour=10):
        assert services.deliver(log.pk).outcome == "sent"
    assert len(mail.outbox) == 1


def test_the_number_of_queries_does_not_grow_with_tasks(plan, make_task, finance, science, alice, bob, lead):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            services.compute_reminders(DAY)
        return len(queries)

    for number in range(1, 6):
        make_task(finance, str(number), due="2024-09-01", role=Task.Role.LEAD)
        make_task(science, str(number), due="2024-09-01", role=Task.Role.SUPPORT)
    few = count_queries()
    for number in range(6, 60):
        make_task(finance, str(number), due="2024-09-02", role=Task.Role.LEAD)
        make_task(science, str(number), due="2024-10-03", role=Task.Role.SUPPORT)
    assert count_queries() == few


def test_the_next_sweep_picks_up_a_send_whose_worker_died(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)
        ReminderLog.objects.exclude(status="skipped").update(
            status="sending", claimed_at=services.timezone.now()
        )
    with on_day("2024-09-30", hour=10):  # the lease (5 minutes) has run out
        assert len(sweep().dispatched) == 4
    assert len(mail.outbox) == 4


def test_any_channels_failure_is_a_failed_attempt_retried_with_backoff(scenario, on_day, sweep, monkeypatch):
    from reminders.services import channels

    def broken(log):
        raise OSError("gateway timeout")

    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)
        log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
        ReminderLog.objects.filter(pk=log.pk).update(channel=ReminderLog.Channel.SMS)
        monkeypatch.setitem(channels.SENDERS, ReminderLog.Channel.SMS, broken)
        first = services.deliver(log.pk)
        monkeypatch.setitem(channels.SENDERS, ReminderLog.Channel.SMS, lambda log: 1 / 0)
        second = services.deliver(log.pk)
    log.refresh_from_db()
    assert (first.outcome, first.retry_in) == ("failed", 60)
    assert (second.outcome, second.retry_in) == ("failed", 120)  # doubled
    assert log.status == "failed" and log.attempts == 2 and "ZeroDivisionError" in log.error
    assert log.next_attempt_at == at("2024-09-30") + datetime.timedelta(minutes=2)


def test_a_visibility_timeout_below_the_retry_countdown_is_refused(settings):
    from reminders.checks import visibility_timeout_above_retry_countdown

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 7200}
    assert visibility_timeout_above_retry_countdown(None) == []
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    [error] = visibility_timeout_above_retry_countdown(None)
    assert error.id == "reminders.E001" and "3600" in error.msg


def test_each_row_has_a_stable_message_id_on_the_sites_domain(scenario, on_day, sweep, settings):
    settings.SITE_URL = "https://ipplan.example.gov.cn"
    with on_day("2024-09-30"):
        sweep()
    log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
    [message] = [m for m in mail.outbox if m.to == ["bob@example.gov.cn"] and "督办提醒" in m.subject]
    assert message.message()["Message-ID"] == f"<reminder-{log.pk}.digest@ipplan.example.gov.cn>"
