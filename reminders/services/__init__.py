"""Reminders and notifications: who gets what (compute), how it reads (render), claiming it in the outbox
and sending it exactly once (outbox), and the ways it reaches people (channels). This module holds the entry
points the beat, the command and the pages call: the daily sweep and 催办.
"""

from __future__ import annotations

import datetime
import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from tasks.models import Task

from ..workdays import calendar_around
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
from .outbox import SENDING_LEASE, Delivery, claim, deliver, deliver_now, dispatch_with_celery
from .render import groups_text_html, lines_html, lines_text, render, wording

__all__ = [
    "MAX_LINES_PER_AGENCY",
    "SENDING_LEASE",
    "SWEEP_HOUR",
    "Delivery",
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
    "next_sweep_day",
    "notices",
    "problems",
    "reach",
    "render",
    "run_sweep",
    "send_urge",
    "timezone",
    "week_key",
    "wording",
]

logger = logging.getLogger(__name__)

# Emails rendered and inserted per batch by the sweep (1,000 agencies: 10 batches).
CLAIM_BATCH = 200


def run_sweep(
    day: datetime.date | None = None,
    *,
    dispatch: Callable[[list[int]], None] | None = dispatch_with_celery,
    dry_run: bool = False,
) -> SweepResult:
    """The daily sweep: on a working day, claim every reminder email of ``day`` and dispatch the unsent ones
    after commit (``dispatch=None``: the caller sends ``result.dispatched`` itself).
    Safe to run again or concurrently: nothing is sent twice, and rows left unsent are dispatched again."""
    day = day or timezone.localdate()
    calendar = calendar_around(day)
    if not calendar.is_working_day(day):
        logger.info("reminder sweep %s: not a working day, nothing sent", day)
        return SweepResult(day, is_working_day=False)
    emails = compute_reminders(day, calendar=calendar)
    result = SweepResult(day, is_working_day=True, emails=emails)
    if dry_run:
        annotate_existing(emails)
        return result
    with transaction.atomic():
        # Claimed a batch at a time: each batch's rendered bodies are written and let go before the next.
        claimed = [pk for batch in itertools.batched(emails, CLAIM_BATCH) for pk in claim(list(batch))]
        result.dispatched = claimed + notices.claim_notice_digests(day) + problems.claim_summary(day)
        ids = list(result.dispatched)
        if dispatch is not None:
            transaction.on_commit(lambda: dispatch(ids), robust=True)
    logger.info("reminder sweep %s: %s", day, result.as_dict())
    return result


@dataclass
class UrgeResult:
    emails: list[Email]
    dispatched: list[int]

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
    dispatch: Callable[[list[int]], None] = dispatch_with_celery,
) -> UrgeResult:
    """催办 now: email the liaisons of the selected tasks' agencies (done tasks are left out), log it all."""
    emails = compute_urge(tasks, by_user, timezone.localdate())
    with transaction.atomic():
        dispatched = claim(emails)
        notices.on_urged(emails, actor=by_user)
        transaction.on_commit(lambda: dispatch(dispatched), robust=True)
    return UrgeResult(emails=emails, dispatched=dispatched)
