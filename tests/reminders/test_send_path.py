"""The send path's economies keep its guarantees: a row is claimed by one compare-and-set that returns it,
"sent" is written a few rows at a time, each row with its own time, and a row whose "sent" was never written
is sent again after its lease with the same Message-ID (at least once, never twice in a normal run)."""

import datetime
import math

import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders import services
from reminders.models import ReminderLog, ReminderLogTask
from reminders.services import outbox

from .conftest import at


def updates_marking_sent(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "'sent'" in q["sql"]]


def test_take_returns_the_row_it_claimed_and_nothing_when_held_or_settled(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)
        log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
        now = services.timezone.now()
        taken = outbox.take(log.pk, now)
        assert taken.pk == log.pk and taken.status == "sending" and taken.attempts == 1
        assert taken.claimed_at == now and taken.next_attempt_at is None  # aware datetimes, on any database
        assert taken.body_text == log.body_text and taken.created_at == log.created_at
        assert outbox.take(log.pk, now) is None  # held by its sender within the lease
        assert outbox.take(log.pk, now + datetime.timedelta(minutes=4)) is None
    later = at("2024-09-30", 10)  # the lease (5 minutes) has run out: the next sender may take it
    again = outbox.take(log.pk, later)
    assert again.attempts == 2 and again.claimed_at == later
    ReminderLog.objects.filter(pk=log.pk).update(status="sent")
    assert outbox.take(log.pk, later + datetime.timedelta(hours=1)) is None
    assert outbox.take(10**9, later) is None


def test_deliver_now_writes_sent_for_several_rows_at_once_each_with_its_own_time(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        result = sweep(dispatch=lambda ids: None)
    start = at("2024-09-30")
    with CaptureQueriesContext(connection) as queries, time_machine.travel(start, tick=True):
        report = services.deliver_now(result.dispatched)  # the clock runs: each row is sent at its time
    rows = ReminderLog.objects.filter(pk__in=result.dispatched)
    assert len(result.dispatched) == 5 and sorted(report.sent) == sorted(result.dispatched)
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 5
    assert len(updates_marking_sent(queries)) == 1  # one write for the five rows, not one each
    times = sorted(rows.values_list("sent_at", flat=True))
    assert all(start <= moment <= start + datetime.timedelta(minutes=1) for moment in times)
    assert len(set(times)) == 5  # each row keeps its own time
    # Nothing is sent twice: the rows are settled.
    assert services.deliver_now(result.dispatched).done == result.dispatched
    assert len(mail.outbox) == 5


def test_sent_is_written_every_few_rows_and_at_the_end(scenario, on_day, sweep, monkeypatch):
    monkeypatch.setattr(outbox.SentMarks, "ROWS", 2)
    with on_day("2024-09-30"):
        result = sweep(dispatch=lambda ids: None)
        with CaptureQueriesContext(connection) as queries:
            services.deliver_now(result.dispatched)
    assert len(updates_marking_sent(queries)) == 3  # 2 + 2 + the last one when the run ends
    assert set(ReminderLog.objects.filter(pk__in=result.dispatched).values_list("status", flat=True)) == {
        "sent"
    }


def test_a_sent_row_whose_mark_was_lost_is_sent_again_after_its_lease_with_the_same_message_id(
    scenario, on_day, sweep, monkeypatch, settings
):
    settings.SITE_URL = "https://ipplan.example.gov.cn"

    def database_gone(self):
        self._waiting = {}
        raise OSError("server closed the connection unexpectedly")

    with on_day("2024-09-30"):
        result = sweep(dispatch=lambda ids: None)
        with monkeypatch.context() as patched:
            patched.setattr(outbox.SentMarks, "write", database_gone)
            report = services.deliver_now(result.dispatched)  # logged, not raised
    assert len(report.sent) == 5 and len(mail.outbox) == 5
    assert set(ReminderLog.objects.filter(pk__in=result.dispatched).values_list("status", flat=True)) == {
        "sending"
    }
    with on_day("2024-09-30", hour=10):  # the lease has run out: the recovery job sends them again
        services.recover(dispatch=services.deliver_now)
    assert len(mail.outbox) == 10
    first, second = mail.outbox[:5], mail.outbox[5:]
    assert sorted(m.message()["Message-ID"] for m in first) == sorted(
        m.message()["Message-ID"] for m in second
    )
    assert set(ReminderLog.objects.filter(pk__in=result.dispatched).values_list("status", flat=True)) == {
        "sent"
    }


def test_task_links_go_in_one_statement_per_batch_and_existing_links_are_kept(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)
    log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
    links = sorted(ReminderLogTask.objects.filter(log=log).values_list("log_id", "task_id", "reason"))
    ReminderLogTask.objects.filter(log=log).exclude(task_id=links[0][1]).delete()
    rows = links * 400  # each link 400 times: the first is inserted (or kept), the others skipped
    with CaptureQueriesContext(connection) as queries:
        outbox._insert_ignoring(ReminderLogTask, ["log_id", "task_id", "reason"], rows)
    fields = [ReminderLogTask._meta.get_field(name) for name in ("log", "task", "reason")]
    if connection.vendor == "postgresql":  # one array per column
        per_statement = outbox.UNNEST_ROWS
    else:  # a multi-row VALUES, as many rows as the database takes parameters (333 on SQLite)
        per_statement = min(1000, connection.ops.bulk_batch_size(fields, rows))
    inserts = [query for query in queries if query["sql"].startswith("INSERT")]
    assert len(links) >= 2 and len(inserts) == math.ceil(len(rows) / per_statement)
    assert sorted(ReminderLogTask.objects.filter(log=log).values_list("log_id", "task_id", "reason")) == links


def test_take_without_update_returning_claims_the_same_way(scenario, on_day, sweep, monkeypatch):
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_update", False)
    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)
        log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
        now = services.timezone.now()
        taken = outbox.take(log.pk, now)
        assert (taken.pk, taken.status, taken.attempts, taken.claimed_at) == (log.pk, "sending", 1, now)
        assert outbox.take(log.pk, now) is None


def claims(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "'sending'" in q["sql"]]


def test_how_many_rows_are_claimed_at_once_follows_the_timeouts_and_the_lease(settings):
    settings.REMINDER_SENDING_LEASE_SECONDS, settings.CHANNEL_TIMEOUT = 300, 10
    settings.EMAIL_TIMEOUT = None
    assert outbox.claim_ahead() == 1  # a send could wait forever: one row at a time
    settings.EMAIL_TIMEOUT = 20
    assert outbox.claim_ahead() == 5  # 5 × 20 s within a third of the 5-minute lease
    settings.EMAIL_TIMEOUT = 2
    assert outbox.claim_ahead() == 10  # the vendors' 10 s count too: 10 × 10 s, and never more than 10
    settings.EMAIL_TIMEOUT = 120
    assert outbox.claim_ahead() == 1


def test_deliver_now_claims_several_rows_in_one_statement_each_by_its_own_compare_and_set(
    scenario, on_day, sweep, settings
):
    settings.EMAIL_TIMEOUT = 20  # 5 rows a statement
    with on_day("2024-09-30"):
        result = sweep(dispatch=lambda ids: None)
        bob, finance = (
            ReminderLog.objects.get(kind="digest", recipient=address).pk
            for address in ("bob@example.gov.cn", "alice@example.gov.cn")
        )
        ReminderLog.objects.filter(pk=bob).update(status="sending", claimed_at=services.timezone.now())
        ReminderLog.objects.filter(pk=finance).update(status="sent")
        with CaptureQueriesContext(connection) as queries:
            report = services.deliver_now(result.dispatched)
    assert len(result.dispatched) == 5 and len(claims(queries)) == 1
    assert report.in_flight == [bob] and report.done == [finance] and len(report.sent) == 3
    assert len(mail.outbox) == 3 and not {m.to[0] for m in mail.outbox} & {"bob@example.gov.cn"}
    assert ReminderLog.objects.get(pk=bob).status == "sending"  # still its other sender's
    assert ReminderLog.objects.filter(pk__in=report.sent, status="sent", attempts=1).count() == 3


def test_with_a_time_budget_each_row_is_claimed_only_when_its_turn_comes(scenario, on_day, sweep, settings):
    settings.EMAIL_TIMEOUT = 20
    with on_day("2024-09-30"):
        result = sweep(dispatch=lambda ids: None)
        with CaptureQueriesContext(connection) as queries:
            report = services.deliver_now(result.dispatched, budget=60)
    assert len(claims(queries)) == 5 and len(report.sent) == 5


def test_an_id_listed_twice_is_sent_once(scenario, on_day, sweep, settings):
    settings.EMAIL_TIMEOUT = 20  # claimed 5 at a time: both copies in one statement
    with on_day("2024-09-30"):
        result = sweep(dispatch=lambda ids: None)
        first = result.dispatched[0]
        report = services.deliver_now([first, first, *result.dispatched[1:4]])
    assert report.sent.count(first) == 1 and len(report.sent) == 4
    assert len(mail.outbox) == 4
