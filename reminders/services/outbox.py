"""The outbox: one ``ReminderLog`` row per message and channel, claimed before anything is sent.

Exactly once, step by step:
1. ``claim`` renders the emails and inserts one row per email with its unique key (recipient, kind, period),
   ignoring rows that exist: a second or concurrent sweep inserts nothing new.
2. After commit, every row still pending or failed is dispatched to ``deliver``, which takes it by
   compare-and-set (pending/failed → sending), hands it to its channel (channels.py) and marks it sent. Only
   one sender wins a row; an error marks it failed and the Celery job retries with backoff; a row left
   "sending" by a killed worker is taken again once its lease has run out.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from ..models import ReminderLog, ReminderLogTask
from . import channels
from .compute import Email
from .render import render

logger = logging.getLogger(__name__)

Kind = ReminderLog.Kind
Status = ReminderLog.Status

# A row left "sending" longer than this (a worker killed mid-send) may be taken again. Well above the SMTP
# timeout, so a slow but live send is never doubled.
SENDING_LEASE = datetime.timedelta(minutes=5)
# Task links are inserted in batches of about this many as the rows are walked.
LINK_BATCH = 10_000


def claim(emails: list[Email]) -> list[int]:
    """Insert one outbox row per email, keeping rows that exist (their key was claimed before). Returns the
    ids of this batch's rows that still need sending. Call inside a transaction."""
    if not emails:
        return []
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
            )
        )
    ReminderLog.objects.bulk_create(new_rows, batch_size=500, ignore_conflicts=True)

    by_key = {email.key: email for email in emails}
    stale_before = timezone.now() - SENDING_LEASE
    rows = _rows_for(emails)
    links, agency_links, pending = [], [], []
    for row in rows:
        email = by_key.get((row["recipient"], row["kind"], row["period"]))
        if email is None:
            continue
        if row["status"] in (Status.PENDING, Status.FAILED) or (
            row["status"] == Status.SENDING and row["claimed_at"] < stale_before  # its sender died
        ):
            pending.append(row["pk"])
        if row["day"] != email.day:
            continue  # this week's weekly digest went out on an earlier day: leave its links alone
        links += [
            ReminderLogTask(log_id=row["pk"], task_id=line.pk, reason=line.reason) for line in email.lines
        ]
        if len(links) >= LINK_BATCH:  # 100,000 tasks make 300,000 links: never hold them all at once
            ReminderLogTask.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
            links = []
        agency_links += [
            ReminderLog.agencies.through(reminderlog_id=row["pk"], agency_id=agency_id)
            for agency_id in email.agency_ids
        ]
    ReminderLogTask.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    ReminderLog.agencies.through.objects.bulk_create(agency_links, batch_size=1000, ignore_conflicts=True)
    return sorted(pending)


def _rows_for(emails: list[Email]) -> list[dict]:
    days = {email.day for email in emails}
    periods = {email.period for email in emails if "#" not in email.period}
    kinds = {email.kind for email in emails}
    return list(
        ReminderLog.objects.filter(kind__in=kinds)
        .filter(Q(day__in=days) | Q(period__in=periods))
        .values("pk", "recipient", "kind", "period", "status", "day", "claimed_at")
    )


def dispatch_with_celery(log_ids: list[int]) -> None:
    from ..jobs import deliver_reminder

    for log_id in log_ids:
        try:
            deliver_reminder.delay(log_id)
        except Exception:  # eager mode raises the send's error here; the row stays failed for the next sweep
            logger.exception(
                "reminder %s not sent now; it stays unsent and the next sweep retries it", log_id
            )


def deliver_now(log_ids: list[int]) -> None:
    """Send in this process (the management command, no Celery); failures stay logged as failed."""
    for log_id in log_ids:
        try:
            deliver(log_id)
        except Exception:
            logger.exception(
                "reminder %s failed; it stays 'failed' and the next sweep of the day retries it", log_id
            )


@dataclass(frozen=True)
class Delivery:
    outcome: str  # sent / done (sent or skipped before) / in_flight / missing
    retry_in: float = 0


def deliver(log_id: int) -> Delivery:
    """Send one outbox row if nobody else has: compare-and-set pending/failed → sending, send, mark sent.

    An SMTP error marks the row failed and is raised again for the caller's retry."""
    now = timezone.now()
    taken = (
        ReminderLog.objects.filter(pk=log_id)
        .filter(
            Q(status__in=[Status.PENDING, Status.FAILED])
            | Q(status=Status.SENDING, claimed_at__lt=now - SENDING_LEASE)
        )
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not taken:
        row = ReminderLog.objects.filter(pk=log_id).values("status", "claimed_at").first()
        if row is None:
            return Delivery("missing")
        if row["status"] == Status.SENDING:
            # Someone else is sending, or died doing so: look again when the lease runs out.
            left = (row["claimed_at"] + SENDING_LEASE - now).total_seconds()
            return Delivery("in_flight", retry_in=max(left, 1))
        return Delivery("done")
    log = ReminderLog.objects.get(pk=log_id)
    try:
        channels.send(log)
    except Exception as error:
        ReminderLog.objects.filter(pk=log_id, status=Status.SENDING).update(
            status=Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    ReminderLog.objects.filter(pk=log_id).update(status=Status.SENT, sent_at=timezone.now(), error="")
    return Delivery("sent")
