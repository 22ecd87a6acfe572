"""Reminders and notifications: who gets what (compute), how it reads (render), claiming it in the outbox
(one row per message, never two) and sending it at least once, with retries and recovery (outbox), and the
ways it reaches people (channels). This module holds the entry
points the beat, the command and the pages call: the daily sweep and 催办.
"""

from __future__ import annotations

import datetime
import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tasks import changes
from tasks.models import Task

from ..models import ReminderLog
from ..workdays import calendar_around, warn_missing_arrangements, write_presumed_holidays
from . import notices, problems, reach
from .compute import (
    MAX_LINES_PER_AGENCY,
    SWEEP_HOUR,
    Email,
    SweepResult,
    TaskLine,
    annotate_existing,
    classify,
    compute_reminders,
    compute_urge,
    next_sweep_day,
    week_key,
)
from .outbox import (
    IN_PROCESS_BUDGET_SECONDS,
    Delivery,
    DispatchReport,
    Recovery,
    Resend,
    claim,
    deliver,
    deliver_now,
    dispatch_with_celery,
    message_id,
    prepare_resend,
    recover,
    retry_due,
    sending_lease,
)
from .render import groups_text_html, lines_html, lines_text, render, wording

__all__ = [
    "MAX_LINES_PER_AGENCY",
    "SWEEP_HOUR",
    "Delivery",
    "DispatchReport",
    "Email",
    "SweepResult",
    "TaskLine",
    "UrgeResult",
    "annotate_existing",
    "claim",
    "classify",
    "compute_reminders",
    "compute_urge",
    "deliver",
    "deliver_now",
    "dispatch_with_celery",
    "groups_text_html",
    "lines_html",
    "lines_text",
    "message_id",
    "next_sweep_day",
    "notices",
    "prepare_resend",
    "recover",
    "Recovery",
    "problems",
    "reach",
    "render",
    "Resend",
    "run_sweep",
    "sending_lease",
    "send_urge",
    "timezone",
    "week_key",
    "wording",
]

logger = logging.getLogger(__name__)

# Emails rendered and inserted per batch by the sweep (1,000 agencies: 10 batches).
CLAIM_BATCH = 200


def __getattr__(name: str):
    if name == "SENDING_LEASE":  # the setting, read when asked (tests shorten it)
        return sending_lease()
    raise AttributeError(name)


def run_sweep(
    day: datetime.date | None = None,
    *,
    dispatch: Callable[[list[int]], object] | None = dispatch_with_celery,
    dry_run: bool = False,
) -> SweepResult:
    """The daily sweep: on a working day, claim every reminder email of ``day`` and dispatch after commit
    the rows this run made and the unsent rows whose retry is due (``dispatch=None``: the caller sends
    ``result.dispatched`` itself). Safe to run again or concurrently: no row is made twice, and a row made
    by an overlapping run is left to that run (its counts are its own)."""
    day = day or timezone.localdate()
    if not dry_run:
        changes.compact()  # once a day, the cached aggregates' change log folds into one row
    # A year of the window without its 放假安排: warn in the log, and (unless a dry run) write its statutory
    # days as 推定 rows so the admin shows what the sweep assumes; the calendar presumes them either way.
    if (missing := warn_missing_arrangements(day)) and not dry_run:
        write_presumed_holidays(missing)
    calendar = calendar_around(day)
    if not calendar.is_working_day(day):
        logger.info("reminder sweep %s: not a working day, nothing sent", day)
        return SweepResult(day, is_working_day=False)
    emails = compute_reminders(day, calendar=calendar)
    result = SweepResult(day, is_working_day=True, emails=emails)
    if dry_run:
        annotate_existing(emails)
        return result
    now = timezone.now()
    with transaction.atomic():
        # Claimed a batch at a time: each batch's rendered bodies are written and let go before the next.
        claimed: list[int] = []
        for batch in itertools.batched(emails, CLAIM_BATCH):
            part = claim(list(batch), now=now)
            claimed += part
            result.created += part.created
        result.dispatched = (
            claimed
            + _unclaimed(notices.claim_notice_digests(day), now)
            + _unclaimed(problems.claim_summary(day), now)
        )
        ids = list(result.dispatched)
        if dispatch is not None:
            transaction.on_commit(lambda: dispatch(ids), robust=True)
    logger.info("reminder sweep %s: %s", day, result.as_dict())
    return result


def _unclaimed(log_ids: list[int], now: datetime.datetime) -> list[int]:
    """Of these rows, those no other run has queued (or whose retry is due), marked as queued by this run."""
    rows = ReminderLog.objects.filter(pk__in=log_ids).filter(Q(next_attempt_at__isnull=True) | retry_due(now))
    ids = sorted(rows.values_list("pk", flat=True))
    ReminderLog.objects.filter(pk__in=ids).exclude(status=ReminderLog.Status.SENDING).update(
        next_attempt_at=now + sending_lease()
    )
    return ids


@dataclass
class UrgeResult:
    emails: list[Email]
    dispatched: list[int]
    report: DispatchReport | None = None  # None: sending starts when the caller's transaction commits
    again: Resend | None = None  # this 催办's rows from earlier the same day, by state

    @property
    def recipients(self) -> list[str]:
        return [email.recipient for email in self.emails if not email.skip_reason]

    @property
    def skipped(self) -> list[Email]:
        return [email for email in self.emails if email.skip_reason]


def send_urge(
    tasks: Iterable[Task] | Iterable[int],
    by_user,
    *,
    dispatch: Callable[..., DispatchReport] = dispatch_with_celery,
    resend: bool = True,
) -> UrgeResult:
    """催办 now: email the liaisons of the selected tasks' agencies (done tasks are left out), log it all.

    The same 催办 again the same day makes no new row; its rows that did not go out (pending, failed, a
    stale sending, gave_up) are sent again, a send in progress is left alone. Outside a transaction the
    rows are dispatched at once and ``report`` says what happened (queued, sent in-process because the
    broker was unreachable, failed, left for the recovery job); inside one, after it commits."""
    emails = compute_urge(tasks, by_user, timezone.localdate())
    with transaction.atomic():
        dispatched = list(claim(emails))
        again = None
        if resend:
            keys = [email.key for email in emails if not email.skip_reason]
            again = prepare_resend(_rows_with_keys(keys).exclude(pk__in=dispatched))
            dispatched = sorted({*dispatched, *again.ids})
        notices.on_urged(emails, actor=by_user)
    result = UrgeResult(emails=emails, dispatched=dispatched, again=again)

    def run():
        result.report = dispatch(dispatched, budget=IN_PROCESS_BUDGET_SECONDS)

    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(run, robust=True)
    else:
        run()
    return result


def _rows_with_keys(keys: list[tuple[str, str, str]]):
    rows = ReminderLog.objects.none()
    if keys:
        recipients, kinds, periods = zip(*keys, strict=True)
        rows = ReminderLog.objects.filter(
            channel=ReminderLog.Channel.EMAIL, recipient__in=recipients, kind__in=kinds, period__in=periods
        )
    return rows
