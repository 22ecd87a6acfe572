"""The outbox: one ``ReminderLog`` row per message and channel, claimed before anything is sent.

Delivery is at least once, and never twice on purpose:
1. ``claim`` renders the emails and inserts one row per email with its unique key (recipient, kind, period),
   ignoring rows that exist: a re-run or concurrent sweep never creates a second row. Each run stamps the
   rows it inserts with its own ``batch`` and hands to sending only those and rows whose retry is due, so
   two overlapping runs do not both queue (or count) the same row.
2. ``deliver`` takes a row by compare-and-set (pending/failed, or sending past its lease → sending; one
   UPDATE … RETURNING that also reads the row), hands it to its channel (channels.py) and marks it sent —
   at once, or a few rows at a time when ``deliver_now`` sends a batch (``SentMarks``: a commit per row
   less). ``deliver_now`` also claims a few rows per statement (``claim_ahead``: as many as could all time
   out well within the lease). Only one sender holds a row at a time.
3. Any exception from the channel marks the row failed with ``next_attempt_at`` (backoff doubling from
   ``REMINDER_RETRY_BACKOFF_SECONDS`` up to ``..._MAX_SECONDS``); the Celery job retries at that time.
4. ``recover`` (beat, every 3 minutes) picks up what no job will: a row left "sending" by a dead worker
   once its lease (``REMINDER_SENDING_LEASE_SECONDS``) has run out, a row whose job was lost, rows of
   earlier days. A digest that was never sent is superseded (已由次日汇总取代) when a newer digest for the
   same recipient exists — it lists the tasks still open; every other kind is retried itself. A row still
   unsent ``REMINDER_RETRY_WINDOW_DAYS`` after it was made ends 已放弃 (gave_up), the reason in ``error``.

Why at least once: an SMTP server (or a webhook) cannot be asked whether it already took a message. If the
process dies after the server accepted it but before the row says sent, the row is sent again once the lease
runs out. Every row has a stable Message-ID (``message_id``), so the copy carries the same id and mail
clients and archives can fold it.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import socket
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import kombu
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.constants import OnConflict
from django.db.models.functions import Concat
from django.utils import timezone
from kombu.utils.url import url_to_parts

from ..models import ReminderLog, ReminderLogTask
from . import action_links, channels, fanout
from .compute import Email
from .render import render

logger = logging.getLogger(__name__)

Kind = ReminderLog.Kind
Status = ReminderLog.Status

# Rows that should still be sent (a fresh "sending" is somebody's send in progress).
UNSENT = [Status.PENDING, Status.FAILED, Status.SENDING]
# What the 催办 page and the admin may spend sending in-process when the broker is unreachable.
IN_PROCESS_BUDGET_SECONDS = 2.0
# Task links are inserted in batches of about this many as the rows are walked.
LINK_BATCH = 10_000


def sending_lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS)


def retry_window() -> datetime.timedelta:
    return datetime.timedelta(days=settings.REMINDER_RETRY_WINDOW_DAYS)


def backoff(attempts: int) -> datetime.timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2×base, 4×base … capped."""
    base, cap = settings.REMINDER_RETRY_BACKOFF_SECONDS, settings.REMINDER_RETRY_BACKOFF_MAX_SECONDS
    return datetime.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def __getattr__(name: str):
    if name == "SENDING_LEASE":  # the setting, read when asked (tests shorten it)
        return sending_lease()
    raise AttributeError(name)


def message_id(log: ReminderLog) -> str:
    """The row's Message-ID, the same for every attempt, on the site's own domain."""
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<reminder-{log.pk}.{log.kind}@{domain}>"


def stale_sending(now: datetime.datetime) -> Q:
    """A "sending" row whose sender died (or hangs) past its lease."""
    return Q(status=Status.SENDING, claimed_at__lt=now - sending_lease())


def retry_due(now: datetime.datetime) -> Q:
    """Unsent rows that no job is about to take: pending or failed whose next attempt is due (a pending row
    without one is due a lease after it was made), and "sending" past its lease."""
    waiting = Q(status__in=[Status.PENDING, Status.FAILED]) & (
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=now - sending_lease())
    )
    return waiting | stale_sending(now)


class Claimed(list):
    """The ids a claim hands to sending; ``created`` counts the rows this run inserted."""

    created: int = 0


def claim(emails: list[Email], *, now: datetime.datetime | None = None) -> Claimed:
    """Insert one outbox row per email, keeping rows that exist (their key was claimed before). Returns the
    ids of this batch's rows to send now: the rows this run inserted, and rows of the same keys whose retry
    is due. A digest claimed here supersedes the recipient's earlier digests that never went out. Call
    inside a transaction."""
    if not emails:
        return Claimed()
    now = now or timezone.now()
    batch = uuid.uuid4().hex
    expected_by = now + sending_lease()  # queued now; the recovery job looks again if nobody took it
    action_links.attach(emails)  # one-click 签收 links for the tasks not yet 签收ed (workspace/links.py)
    rendered: dict[tuple, tuple[str, str, str]] = {}
    new_rows = []
    for email in emails:
        subject = text = html = ""
        if not email.skip_reason:
            # Everybody in the lead bureau gets the same escalation text: render it once.
            cache_key = (email.kind, id(email.lines)) if email.kind == Kind.ESCALATION else None
            if cache_key and cache_key in rendered:
                subject, text, html = rendered[cache_key]
            else:
                subject, text, html = render(email)
                if cache_key:
                    rendered[cache_key] = (subject, text, html)
        new_rows.append(
            ReminderLog(
                recipient=email.recipient,
                kind=email.kind,
                period=email.period,
                day=email.day,
                status=email.status,
                reason=(email.skip_reason or email.reason_summary())[:300],
                user_id=email.user_id,
                requested_by_id=email.requested_by_id,
                subject=subject[:300],
                body_text=text,
                body_html=html,
                batch=batch,
                next_attempt_at=None if email.skip_reason else expected_by,
            )
        )
    ReminderLog.objects.bulk_create(new_rows, batch_size=500, ignore_conflicts=True)

    by_key = {email.key: email for email in emails}
    lease_start = now - sending_lease()
    rows = _rows_for(emails)
    links, agency_links, pending = [], [], Claimed()
    for row in rows:
        email = by_key.get((row["recipient"], row["kind"], row["period"]))
        if email is None:
            continue
        if row["batch"] == batch:
            if row["status"] == Status.PENDING:
                pending.append(row["pk"])
                pending.created += 1
        elif is_due(row, now, lease_start):
            pending.append(row["pk"])
        if row["day"] != email.day:
            continue  # this week's weekly digest went out on an earlier day: leave its links alone
        log_id = row["pk"]
        links += [(log_id, line.pk, str(line.reason)) for line in email.lines]  # a Reason member is its value
        if len(links) >= LINK_BATCH:  # 100,000 tasks make 300,000 links: never hold them all at once
            _insert_ignoring(ReminderLogTask, ["log_id", "task_id", "reason"], links)
            links = []
        agency_links += [(log_id, agency_id) for agency_id in email.agency_ids]
    _insert_ignoring(ReminderLogTask, ["log_id", "task_id", "reason"], links)
    _insert_ignoring(ReminderLog.agencies.through, ["reminderlog_id", "agency_id"], agency_links)
    _supersede_earlier_digests(emails, now)
    pending += fanout.claim(emails, batch=batch, now=now)  # the same reminders on 企业微信 / 钉钉 / SMS
    pending.sort()
    return pending


def _insert_ignoring(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert plain (column values) rows, skipping rows whose unique key exists — ``bulk_create(
    ignore_conflicts=True)`` without a model instance per row, which at 150,000 task links was most of the
    claim's time. On PostgreSQL each column goes as one array (``INSERT … SELECT * FROM unnest(…)``, 10,000
    rows a statement): 470,000 values bound one by one cost seconds of the sweep. Elsewhere one multi-row
    INSERT per batch the database takes (a few hundred rows on SQLite). Only integer and short text columns:
    nothing to adapt."""
    if not rows:
        return
    ops = connection.ops
    fields = [model._meta.get_field(column.removesuffix("_id")) for column in columns]
    head = "{} {} ({})".format(
        ops.insert_statement(on_conflict=OnConflict.IGNORE),
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(field.column) for field in fields),
    )
    tail = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            sql = f"{head} SELECT * FROM unnest({arrays}) {tail}".strip()
            for start in range(0, len(rows), UNNEST_ROWS):
                cursor.execute(
                    sql, [list(column) for column in zip(*rows[start : start + UNNEST_ROWS], strict=True)]
                )
            return
        per_statement = min(1000, ops.bulk_batch_size(fields, rows))
        values = "({})".format(", ".join(["%s"] * len(fields)))
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            sql = f"{head} VALUES {', '.join([values] * len(part))} {tail}".strip()
            cursor.execute(sql, [value for row in part for value in row])


# Rows per INSERT … SELECT FROM unnest on PostgreSQL.
UNNEST_ROWS = 10_000


# What claim (and the fan-out to other channels) reads back of the rows it inserted or found.
CLAIM_FIELDS = (
    "pk", "recipient", "kind", "period", "status", "day", "claimed_at", "created_at", "next_attempt_at", "batch",
)  # fmt: skip


def is_due(row: dict, now: datetime.datetime, lease_start: datetime.datetime) -> bool:
    if row["status"] == Status.SENDING:
        return row["claimed_at"] is not None and row["claimed_at"] < lease_start
    if row["status"] not in (Status.PENDING, Status.FAILED):
        return False
    if row["next_attempt_at"] is None:
        return row["created_at"] < lease_start
    return row["next_attempt_at"] <= now


def _rows_for(emails: list[Email]) -> list[dict]:
    days = {email.day for email in emails}
    periods = {email.period for email in emails if "#" not in email.period}
    kinds = {email.kind for email in emails}
    return list(
        ReminderLog.objects.filter(kind__in=kinds)
        .filter(Q(day__in=days) | Q(period__in=periods))
        .values(*CLAIM_FIELDS)
    )


def _supersede_earlier_digests(emails: list[Email], now: datetime.datetime) -> int:
    """A recipient's new digest lists every task still open: their earlier unsent digests are not retried."""
    newer: dict[datetime.date, list[str]] = {}
    for email in emails:
        if email.kind == Kind.DIGEST and email.recipient and not email.skip_reason:
            newer.setdefault(email.day, []).append(email.recipient)
    superseded = 0
    for day, recipients in newer.items():
        superseded += (
            ReminderLog.objects.filter(
                channel=ReminderLog.Channel.EMAIL, kind=Kind.DIGEST, recipient__in=recipients, day__lt=day
            )
            .filter(Q(status__in=[Status.PENDING, Status.FAILED]) | stale_sending(now))
            .update(status=Status.SUPERSEDED, next_attempt_at=None)
        )
    return superseded


# Sending -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    outcome: str  # sent / failed / gave_up / done (sent or settled before) / in_flight / missing
    retry_in: float = 0
    error: str = ""


def deliver(
    log_id: int,
    *,
    now: datetime.datetime | None = None,
    mail: MailSession | None = None,
    marks: SentMarks | None = None,
) -> Delivery:
    """Send one outbox row if nobody else holds it: compare-and-set to sending, send, mark sent.
    ``mail``: the SMTP session an email row goes over (``deliver_now``'s batch); else one of its own.
    ``marks``: where "sent" is written a few rows at a time (``deliver_now``); else at once.

    Any exception from the channel marks the row failed with its next attempt (or gave_up past the retry
    window) and is returned, not raised: ``retry_in`` says when to try again."""
    now = now or timezone.now()
    log = take(log_id, now)
    if log is None:
        return _not_taken(log_id, now)
    return _send_taken(log, now, mail=mail, marks=marks)


def _not_taken(log_id: int, now: datetime.datetime) -> Delivery:
    """Why a row could not be taken: gone, held by another sender (look again when its lease runs out), or
    settled."""
    row = ReminderLog.objects.filter(pk=log_id).values("status", "claimed_at").first()
    if row is None:
        return Delivery("missing")
    if row["status"] == Status.SENDING:
        # Someone else is sending: look again when their lease runs out.
        left = (row["claimed_at"] + sending_lease() - now).total_seconds()
        return Delivery("in_flight", retry_in=max(left, 1))
    return Delivery("done")


def _send_taken(
    log: ReminderLog, now: datetime.datetime, *, mail: MailSession | None, marks: SentMarks | None
) -> Delivery:
    """Hand a row this sender holds to its channel and record the outcome."""
    try:
        channels.send(log, mail_connection=mail.connection if mail else None)
    except channels.ChannelRejected as error:  # the vendor refuses it: retrying changes nothing until fixed
        return _rejected(log, str(error)[:2000])
    except (
        Exception
    ) as error:  # any other failure of a channel is a failed attempt (ChannelError is an OSError)
        return _failed(log, f"{type(error).__name__}: {error}"[:2000], now)
    if marks is None:
        ReminderLog.objects.filter(pk=log.pk).update(
            status=Status.SENT, sent_at=timezone.now(), error="", next_attempt_at=None
        )
    else:
        marks.add(log.pk)
    return Delivery("sent")


class SentMarks:
    """Rows handed to their channel whose "sent" is not written yet: written together, each with its own
    ``sent_at``, once ``ROWS`` of them wait or the first has waited ``SECONDS``, and when the run ends.

    Every commit waits for the disk (~3 ms): one per row for the claim that must precede the send, and one
    per few rows for "sent" instead of one each. Until written, a sent row stays "sending" within its lease
    (minutes), which no other sender takes; if the process dies meanwhile, the recovery job sends those rows
    again after the lease, with the same Message-ID — at least once, as after a crash between the server's
    acceptance and a per-row "sent"; the window is a few rows instead of one."""

    ROWS = 25
    SECONDS = 1.0

    def __init__(self):
        self._waiting: dict[int, datetime.datetime] = {}
        self._since = 0.0

    def add(self, log_id: int) -> None:
        if not self._waiting:
            self._since = time.monotonic()
        self._waiting[log_id] = timezone.now()

    @property
    def due(self) -> bool:
        return len(self._waiting) >= self.ROWS or (
            bool(self._waiting) and time.monotonic() - self._since >= self.SECONDS
        )

    def write(self) -> None:
        """Mark the waiting rows sent (one UPDATE). They are let go even if it fails: they stay "sending",
        and the recovery job sends them again once their lease has run out."""
        waiting, self._waiting = self._waiting, {}
        if waiting:
            ReminderLog.objects.filter(pk__in=list(waiting)).update(
                status=Status.SENT,
                sent_at=Case(*(When(pk=pk, then=Value(at)) for pk, at in waiting.items())),
                error="",
                next_attempt_at=None,
            )


def take(log_id: int, now: datetime.datetime) -> ReminderLog | None:
    """Compare-and-set the row to sending (pending or failed, or sending past its lease) and return it as it
    is now, in one statement (UPDATE … RETURNING): None when somebody else holds it or it is settled. The
    sender reads the row it holds without a second query (at 2,000 mails a sweep, one round trip less
    each)."""
    return take_many([log_id], now).get(log_id)


def take_many(log_ids: list[int], now: datetime.datetime) -> dict[int, ReminderLog]:
    """``take`` for several rows in one statement, each row by its own compare-and-set (the condition is
    per row): {id: row} of those taken."""
    if not log_ids:
        return {}
    unsent = Q(status__in=[Status.PENDING, Status.FAILED]) | stale_sending(now)
    if not connection.features.can_return_rows_from_update:  # SQLite before 3.35: then read them
        rows = ReminderLog.objects.filter(pk__in=log_ids).filter(unsent)
        taken = list(rows.values_list("pk", flat=True))
        ReminderLog.objects.filter(pk__in=taken).filter(unsent).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, next_attempt_at=None
        )
        return ReminderLog.objects.filter(pk__in=taken, status=Status.SENDING, claimed_at=now).in_bulk()
    meta = ReminderLog._meta
    quote, adapt = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
    status, claimed_at = quote(meta.get_field("status").column), quote(meta.get_field("claimed_at").column)
    attempts = quote(meta.get_field("attempts").column)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {status} = %s, {claimed_at} = %s, {attempts} = {attempts} + 1, "
        f"{quote(meta.get_field('next_attempt_at').column)} = NULL "
        f"WHERE {quote(meta.pk.column)} IN ({', '.join(['%s'] * len(log_ids))}) "
        f"AND ({status} IN (%s, %s) OR ({status} = %s AND {claimed_at} < %s)) "
        f"RETURNING {', '.join(quote(field.column) for field in meta.concrete_fields)}"
    )
    params = [
        Status.SENDING.value,
        adapt(now),
        *log_ids,
        Status.PENDING.value,
        Status.FAILED.value,
        Status.SENDING.value,
        adapt(now - sending_lease()),
    ]
    # A raw query of the model: Django turns the returned columns into ReminderLogs (dates included).
    return {row.pk: row for row in ReminderLog.objects.raw(sql, params)}


# Rows deliver_now claims at once, at most (see claim_ahead).
CLAIM_AHEAD = 10


def claim_ahead() -> int:
    """How many rows ``deliver_now`` claims in one statement: as many as could each take their whole timeout
    (SMTP or a vendor's HTTP) within a third of the lease, so that a row claimed ahead is sent long before
    another sender may take it; one when the mail backend sets no timeout."""
    timeout = getattr(settings, "EMAIL_TIMEOUT", None)
    if not timeout:
        return 1
    longest = max(timeout, settings.CHANNEL_TIMEOUT)
    return max(1, min(CLAIM_AHEAD, int(sending_lease().total_seconds() // (3 * longest))))


def _failed(log: ReminderLog, error: str, now: datetime.datetime) -> Delivery:
    rows = ReminderLog.objects.filter(pk=log.pk, status=Status.SENDING)
    if log.created_at < now - retry_window():
        rows.update(status=Status.GAVE_UP, error=_gave_up_reason(log.attempts) + error)
        logger.warning("reminder %s given up after %s attempts: %s", log.pk, log.attempts, error)
        return Delivery("gave_up", error=error)
    wait = backoff(log.attempts)
    rows.update(status=Status.FAILED, error=error, next_attempt_at=now + wait)
    logger.warning("reminder %s failed (attempt %s), retry in %s: %s", log.pk, log.attempts, wait, error)
    return Delivery("failed", retry_in=wait.total_seconds(), error=error)


def _rejected(log: ReminderLog, error: str) -> Delivery:
    """A refusal (wrong key or secret, deleted robot, unknown template) ends 已放弃 at once with the vendor's
    answer; once the setting is fixed, 再次发送 in the admin sends it again."""
    ReminderLog.objects.filter(pk=log.pk, status=Status.SENDING).update(
        status=Status.GAVE_UP, error=f"已放弃:对方拒绝,重试无益,请检查设置后再次发送。{error}"[:2000]
    )
    logger.warning("reminder %s refused, not retried: %s", log.pk, error)
    return Delivery("gave_up", error=error)


def _gave_up_reason(attempts: int | None = None) -> str:
    days = settings.REMINDER_RETRY_WINDOW_DAYS
    if attempts is None:
        return f"已放弃:{days} 天内未能发出。最后一次错误:"
    return f"已放弃:{days} 天内尝试 {attempts} 次未能发出。最后一次错误:"


@dataclass
class DispatchReport:
    """What one dispatch did with each row: queued for a worker, or (broker unreachable) sent in-process."""

    queued: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # failed now; retried with backoff
    in_flight: list[int] = field(default_factory=list)  # another sender holds it within its lease
    done: list[int] = field(default_factory=list)  # already sent or settled
    left: list[int] = field(default_factory=list)  # not tried (time budget spent): the recovery job will
    broker_error: str = ""

    def add(self, log_id: int, delivery: Delivery) -> None:
        bucket = {"sent": self.sent, "in_flight": self.in_flight, "failed": self.failed}
        if delivery.outcome == "gave_up":
            self.failed.append(log_id)
        else:
            bucket.get(delivery.outcome, self.done).append(log_id)

    def as_dict(self) -> dict:
        return {
            name: len(getattr(self, name))
            for name in ["queued", "sent", "failed", "in_flight", "done", "left"]
        }


def dispatch_with_celery(log_ids: list[int], *, budget: float | None = None) -> DispatchReport:
    """Queue a ``reminders.deliver`` job per row. Without Redis (eager Celery) the rows are sent here. When
    the broker cannot be reached the rows are sent in this process instead, for at most ``budget`` seconds;
    rows not tried stay pending for the recovery job. Never waits on a broker more than a second or two."""
    report = DispatchReport()
    if not log_ids:
        return report
    from ipplan.celery import app  # this project's app, whatever Celery app was made last (tests make some)

    if app.conf.task_always_eager:
        return deliver_now(log_ids, budget=budget)
    try:
        _probe_broker(app.conf.broker_write_url or app.conf.broker_url)
        with _quick_connection(app) as connection:
            for log_id in log_ids:
                app.send_task(
                    "reminders.deliver", (log_id,), connection=connection, retry=False, ignore_result=True
                )
                report.queued.append(log_id)
    except Exception as error:  # kombu's OperationalError, OSError, redis errors: the broker is unreachable
        rest = log_ids[len(report.queued) :]
        report.broker_error = f"{type(error).__name__}: {error}"[:300]
        logger.warning("broker unreachable (%s): sending %d reminder(s) in-process", error, len(rest))
        in_process = deliver_now(rest, budget=budget)
        for name in ["sent", "failed", "in_flight", "done", "left"]:
            getattr(report, name).extend(getattr(in_process, name))
    return report


DEFAULT_PORTS = {"redis": 6379, "rediss": 6380, "amqp": 5672, "amqps": 5671}


def _probe_broker(url: str) -> None:
    """Raise OSError at once when nothing answers at the broker's address. The Redis client retries a
    refused connection with backoff (seconds) whatever kombu is told, so a closed port is found here."""
    parts = url_to_parts(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    if not parts.hostname or port is None:
        return  # a transport without an address (memory://, filesystem://)
    socket.create_connection((parts.hostname, port), timeout=settings.REMINDER_BROKER_CONNECT_TIMEOUT).close()


def _quick_connection(app):
    """A broker connection that gives up fast: one connect attempt, short socket timeouts."""
    timeout = settings.REMINDER_BROKER_CONNECT_TIMEOUT
    options = {
        **(app.conf.broker_transport_options or {}),
        "max_retries": 0,
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
    }
    # A kombu Connection of our own: the app's would take broker_connection_timeout (4 s) over ours.
    return kombu.Connection(
        app.conf.broker_write_url or app.conf.broker_url, connect_timeout=timeout, transport_options=options
    )


def deliver_now(log_ids: list[int], *, budget: float | None = None) -> DispatchReport:
    """Send in this process (the command, eager Celery, the broker-down fallback). Failures are marked failed
    with their next attempt; past ``budget`` seconds the remaining rows are left for the recovery job.

    A commit waits for the disk (~3 ms on a busy server), and claiming each row in a statement of its own made
    that a commit per mail: without a budget the rows are claimed ``claim_ahead()`` at a time (each by its own
    compare-and-set, in one statement) and marked sent a few at a time (``SentMarks``)."""
    report = DispatchReport()
    deadline = None if budget is None else time.monotonic() + budget
    # With a time budget a row is claimed only when its turn comes: rows not tried are left unclaimed.
    ahead = 1 if budget is not None else claim_ahead()
    marks = SentMarks()
    with MailSession() as mail:
        try:
            for chunk in itertools.batched(log_ids, ahead):
                if deadline is not None and time.monotonic() > deadline:
                    report.left.extend(chunk)
                    continue
                taken = None
                if ahead > 1:
                    now = timezone.now()
                    try:
                        taken = take_many(list(chunk), now)
                    except Exception:  # the database: leave the rows for the recovery job
                        logger.exception("reminders %s not sent; the recovery job will try again", chunk)
                        report.left.extend(chunk)
                        mail.reset()
                        continue
                for log_id in chunk:
                    try:
                        if taken is None:
                            delivery = deliver(log_id, mail=mail, marks=marks)
                        elif log_id in taken:  # (taken once: an id listed twice is not sent twice)
                            delivery = _send_taken(taken.pop(log_id), now, mail=mail, marks=marks)
                        else:
                            delivery = _not_taken(log_id, now)
                    except Exception:  # the database, not the channel: leave the row for the recovery job
                        logger.exception("reminder %s not sent; the recovery job will try again", log_id)
                        report.left.append(log_id)
                        mail.reset()
                        continue
                    report.add(log_id, delivery)
                    if delivery.outcome in ("failed", "gave_up"):
                        mail.reset()  # the session may be broken: the next email opens a fresh one
                    if marks.due:
                        _write_marks(marks)
        finally:
            _write_marks(marks)
    return report


def _write_marks(marks: SentMarks) -> None:
    try:
        marks.write()
    except Exception:  # the database: the rows stay "sending" and are sent again after their lease
        logger.exception("sent rows not marked sent; the recovery job will send them again")


class MailSession:
    """One SMTP session for a run of emails instead of a connect, EHLO and QUIT per message. Each row is still
    claimed and sent on its own (``deliver``), and marked with its own outcome and time (a few "sent" rows per
    UPDATE, ``SentMarks``), so at-least-once and the per-row counts do not change.
    The session is opened when the first email asks for it, dropped after any failed row, and renewed every
    ``MESSAGES_PER_SESSION`` messages (servers limit what one session may carry). When it cannot be opened,
    ``connection()`` is None from then on and each email opens its own, so the failure is the row's, as
    before (and a server that is down is not tried twice per row)."""

    MESSAGES_PER_SESSION = 100

    def __init__(self):
        self._connection = None
        self._used = 0
        self._unavailable = False

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *exc) -> None:
        self.reset()

    def connection(self):
        if self._connection is not None and self._used >= self.MESSAGES_PER_SESSION:
            self.reset()
        if self._connection is None:
            if self._unavailable:
                return None
            from django.core.mail import get_connection

            connection = get_connection()
            try:
                connection.open()
            except Exception as error:  # the row's own send meets (and records) the same failure
                logger.warning("mail session not opened (%s): one connection per message", error)
                self._unavailable = True
                return None
            self._connection = connection
        self._used += 1
        return self._connection

    def reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # a broken session: nothing to close cleanly
                logger.debug("mail session close failed", exc_info=True)
        self._connection, self._used = None, 0


# Recovery ------------------------------------------------------------------------------------------------


@dataclass
class Recovery:
    now: datetime.datetime
    superseded: int = 0
    gave_up: int = 0
    dispatched: list[int] = field(default_factory=list)
    report: DispatchReport | None = None

    def as_dict(self) -> dict:
        return {
            "superseded": self.superseded,
            "gave_up": self.gave_up,
            "dispatched": len(self.dispatched),
            **(self.report.as_dict() if self.report else {}),
        }


def recover(*, now: datetime.datetime | None = None, dispatch=dispatch_with_celery) -> Recovery:
    """The recovery job: supersede unsent digests a newer digest replaces, give up rows past the retry
    window, and send again every unsent row whose retry is due (any day, any channel, any kind)."""
    now = now or timezone.now()
    result = Recovery(now=now)
    unsent = Q(status__in=[Status.PENDING, Status.FAILED]) | stale_sending(now)
    with transaction.atomic():
        newer_digest = ReminderLog.objects.filter(
            channel=OuterRef("channel"),
            recipient=OuterRef("recipient"),
            kind=Kind.DIGEST,
            day__gt=OuterRef("day"),
        ).exclude(status=Status.SKIPPED)
        result.superseded = (
            ReminderLog.objects.filter(kind=Kind.DIGEST)
            .exclude(recipient="")
            .filter(unsent)
            .filter(Exists(newer_digest))
            .update(status=Status.SUPERSEDED, next_attempt_at=None)
        )
        result.gave_up = ReminderLog.objects.filter(unsent, created_at__lt=now - retry_window()).update(
            status=Status.GAVE_UP,
            next_attempt_at=None,
            error=Concat(Value(_gave_up_reason()), F("error")),
        )
        due = ReminderLog.objects.filter(retry_due(now))
        result.dispatched = sorted(due.values_list("pk", flat=True))
        # Queued now: look again a lease later if nobody took them.
        ReminderLog.objects.filter(
            pk__in=result.dispatched, status__in=[Status.PENDING, Status.FAILED]
        ).update(next_attempt_at=now + sending_lease())
    if result.superseded or result.gave_up:
        logger.warning(
            "reminder recovery: %d superseded by a newer digest, %d given up",
            result.superseded,
            result.gave_up,
        )
    if dispatch is not None and result.dispatched:
        result.report = dispatch(result.dispatched)
    return result


# Sending again on request (催办, the admin) -----------------------------------------------------------------


@dataclass
class Resend:
    """Selected rows sorted by what a resend may do with them."""

    ids: list[int] = field(default_factory=list)  # put back to pending, to send now
    in_flight: list[int] = field(default_factory=list)  # a send within its lease: 正在发送
    sent: list[int] = field(default_factory=list)  # sent before and not asked to send again
    unsendable: list[int] = field(default_factory=list)  # skipped (nobody to send to), held, inbox


def prepare_resend(queryset, *, include_sent: bool = False, now: datetime.datetime | None = None) -> Resend:
    """Reset the selected rows that should go out (pending, failed, stale sending, gave_up, superseded, and
    sent ones when ``include_sent``) to pending, due now. A fresh "sending" is left to its sender."""
    now = now or timezone.now()
    result = Resend()
    resendable = [Status.PENDING, Status.FAILED, Status.GAVE_UP, Status.SUPERSEDED]
    if include_sent:
        resendable.append(Status.SENT)
    with transaction.atomic():
        # Locked by primary key: the admin's queryset is annotated (GROUP BY), which FOR UPDATE refuses.
        selected = list(queryset.values_list("pk", flat=True))
        rows = list(
            ReminderLog.objects.select_for_update()
            .filter(pk__in=selected)
            .order_by("pk")
            .values("pk", "status", "claimed_at", "channel", "recipient")
        )
        for row in rows:
            status = row["status"]
            if (
                row["channel"] == ReminderLog.Channel.INBOX
                or not row["recipient"]
                or status
                in (
                    Status.SKIPPED,
                    Status.HELD,
                    Status.DIGESTED,
                )
            ):
                result.unsendable.append(row["pk"])
            elif status == Status.SENDING:
                stale = row["claimed_at"] is None or row["claimed_at"] < now - sending_lease()
                (result.ids if stale else result.in_flight).append(row["pk"])
            elif status in resendable:
                result.ids.append(row["pk"])
            else:
                result.sent.append(row["pk"])
        # A stale "sending" is taken by deliver's lease rule; the others go back to pending.
        ReminderLog.objects.filter(pk__in=result.ids).exclude(status=Status.SENDING).update(
            status=Status.PENDING, next_attempt_at=now + sending_lease()
        )
    return result
