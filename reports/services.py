"""Writes: calendar feed tokens and background export jobs."""

from __future__ import annotations

import datetime
import logging
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Liaison
from tasks.models import Plan

from .models import CalendarFeed, ExportJob, IssuedDocument, new_feed_token
from .selectors import sees_all_tasks

logger = logging.getLogger(__name__)
STALE_AFTER = datetime.timedelta(hours=1)  # an unfinished export older than this is considered lost


class FeedError(Exception):
    """A feed the user may not have; the message is shown to them."""


def liaison_feed(*, liaison: Liaison) -> CalendarFeed:
    """The liaison's feed of their agency's tasks, created on first use (re-running returns the same one)."""
    feed, _created = CalendarFeed.objects.get_or_create(
        liaison=liaison, defaults={"kind": CalendarFeed.Kind.AGENCY, "user": liaison.user}
    )
    return feed


def plan_feed(*, user, plan: Plan) -> CalendarFeed:
    if not sees_all_tasks(user):
        raise FeedError(_("只有督办人员和领导可以订阅整个计划的日历。"))
    feed, _created = CalendarFeed.objects.get_or_create(
        user=user, plan=plan, defaults={"kind": CalendarFeed.Kind.PLAN}
    )
    return feed


def regenerate_feed(*, feed: CalendarFeed) -> CalendarFeed:
    """A new secret URL; the old one answers 404 from now on."""
    feed.token = new_feed_token()
    feed.token_changed_at = timezone.now()
    feed.save(update_fields=["token", "token_changed_at"])
    return feed


def revoke_feed(*, feed: CalendarFeed) -> None:
    feed.delete()


def record_fetch(*, feed: CalendarFeed) -> None:
    """Remember that a calendar app fetched the feed (shown to the liaison), at most once a minute."""
    now = timezone.now()
    if feed.last_fetched_at is None or (now - feed.last_fetched_at).total_seconds() > 60:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)


# Export jobs ---------------------------------------------------------------------------------------------


def request_export(*, user, exporter: str, params: dict, language: str) -> ExportJob:
    """Queue a background export, or return the identical one still queued or running (a reload of the page
    must not start a second build)."""
    from .jobs import build_export  # jobs.py imports this module

    with transaction.atomic():
        unfinished = ExportJob.objects.select_for_update().filter(
            user=user, exporter=exporter, status__in=[ExportJob.Status.PENDING, ExportJob.Status.RUNNING]
        )
        stale_before = timezone.now() - STALE_AFTER
        for existing in unfinished:
            if existing.created_at < stale_before:
                # A worker died or the queue was lost: give up on it instead of making the user wait forever.
                ExportJob.objects.filter(pk=existing.pk).update(
                    status=ExportJob.Status.FAILED,
                    error=_("报表生成超时,请重新导出。"),
                    finished_at=timezone.now(),
                )
            elif existing.params == params and existing.language == language:
                return existing
        job = ExportJob.objects.create(user=user, exporter=exporter, params=params, language=language)
        transaction.on_commit(lambda: build_export.delay(str(job.pk)))
    return job


def run_export_job(*, job_id) -> bool:
    """Build a queued export. Claimed by compare-and-set, so a redelivered Celery message does nothing."""
    from .exporters import get_exporter

    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return False
    job = ExportJob.objects.select_related("user").get(pk=job_id)

    def report(done: int, total: int) -> None:
        percent = min(99, int(done * 100 / total)) if total else 99
        ExportJob.objects.filter(pk=job.pk).update(progress=percent, total_rows=total)

    try:
        exporter = get_exporter(job.exporter, user=job.user, params=job.params, language=job.language)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "report.xlsx"
            exporter.write(path, on_progress=report)
            filename = exporter.filename()
            with path.open("rb") as handle:
                job.file.save(filename, File(handle), save=False)
    except Exception as exc:  # the user sees why; the log has the traceback
        logger.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        return False
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        progress=100,
        file=job.file.name,
        filename=filename,
        finished_at=timezone.now(),
    )
    return True


KEEP_EXPORTS = datetime.timedelta(days=1)


def purge_exports(*, now: datetime.datetime | None = None) -> int:
    """Delete finished exports (rows and files) older than a day: reports hold personal and internal data,
    and the file system is not an archive. Re-running deletes nothing more."""
    cutoff = (now or timezone.now()) - KEEP_EXPORTS
    old = ExportJob.objects.filter(
        status__in=[ExportJob.Status.DONE, ExportJob.Status.FAILED], created_at__lt=cutoff
    )
    deleted = 0
    for job in old.iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        deleted += 1
    return deleted


# Issued documents (督办通知单, 通报) ---------------------------------------------------------------------------

REPLY_DAYS = 5  # working time a unit gets to answer a 督办通知单 (calendar days, shown on the document)


def _issue(*, kind: str, issued_on: datetime.date, **fields) -> IssuedDocument:
    """Create the document with the next number of its year (督办〔2026〕N号). The unique constraint settles
    a race between two clerks: the loser takes the next number."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                last = (
                    IssuedDocument.objects.filter(kind=kind, year=issued_on.year)
                    .order_by("-number")
                    .values_list("number", flat=True)
                    .first()
                )
                return IssuedDocument.objects.create(
                    kind=kind, year=issued_on.year, number=(last or 0) + 1, issued_on=issued_on, **fields
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not number the document")


def issue_notice(
    *,
    agency: Agency,
    plan: Plan | None,
    user,
    today: datetime.date | None = None,
    reply_by: datetime.date | None = None,
) -> tuple[IssuedDocument, bool]:
    """督办通知单 for one agency's overdue and red tasks. Issuing again the same day for the same agency and
    plan returns the notice already issued (no second number). Returns (notice, created)."""
    from .documents import notice_content

    today = today or timezone.localdate()
    existing = IssuedDocument.objects.filter(
        kind=IssuedDocument.Kind.NOTICE, agency=agency, plan=plan, issued_on=today
    ).first()
    if existing is not None:
        return existing, False
    reply_by = reply_by or today + datetime.timedelta(days=REPLY_DAYS)
    content = notice_content(agency=agency, plan=plan, today=today, reply_by=reply_by)
    notice = _issue(
        kind=IssuedDocument.Kind.NOTICE,
        issued_on=today,
        agency=agency,
        plan=plan,
        reply_by=reply_by,
        issued_by=user,
        content=content,
    )
    return notice, True


def issue_bulletin(
    *, plan: Plan | None, period_key: str, user, today: datetime.date | None = None
) -> tuple[IssuedDocument, bool]:
    """工作进展情况通报 for a plan and a period, with the weights and scores it prints stored on it: later
    changes of the weights do not change what was issued. One 通报 per plan and period (issuing again
    returns it). Returns (bulletin, created)."""
    from .documents import bulletin_content
    from .models import ScoreWeights
    from .scorecard import Scorecard, parse_period

    today = today or timezone.localdate()
    period = parse_period(period_key)
    existing = IssuedDocument.objects.filter(
        kind=IssuedDocument.Kind.BULLETIN, plan=plan, period=period.key
    ).first()
    if existing is not None:
        return existing, False
    weights = ScoreWeights.current().as_dict()
    scores = Scorecard(plan=plan, period=period, weights=weights, today=today).scores()
    content = bulletin_content(plan=plan, period=period, scores=scores, today=today)
    bulletin = _issue(
        kind=IssuedDocument.Kind.BULLETIN,
        issued_on=today,
        plan=plan,
        period=period.key,
        issued_by=user,
        content=content,
        weights=weights,
        scores=[score.as_dict() for score in scores],
    )
    return bulletin, True
