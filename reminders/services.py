"""Reminder emails: who gets what (one computation for the sweep, the preview and the command), claiming
each email in the outbox before it is sent, and sending it exactly once.

Exactly once, step by step:
1. ``compute_reminders(day)`` decides the emails of a working day: one digest per liaison email (daily or
   weekly), one escalation digest per lead-bureau user and per lead-agency liaison. Pure reads, a fixed
   number of queries whatever the number of tasks.
2. ``claim`` renders them and inserts one ``ReminderLog`` row per email with the unique key
   (recipient, kind, period), ignoring rows that exist: a second or concurrent sweep inserts nothing new.
3. After commit, every row of the day still pending or failed is dispatched to ``deliver``, which takes it
   by compare-and-set (pending/failed → sending) and marks it sent. Only one sender wins a row; an SMTP error
   marks it failed and the Celery job retries with backoff; a row left "sending" by a killed worker is taken
   again once its lease has run out.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import html
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.db.models.functions import Substr
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from agencies.models import Agency, Liaison
from agencies.roles import LEAD_BUREAU_GROUP
from ipplan.lib.emails import EMAIL_LANGUAGE, build_message, render_parts, task_url
from tasks.models import Task

from .models import ReminderLog, ReminderLogTask
from .workdays import WorkingCalendar, calendar_around

logger = logging.getLogger(__name__)

Reason = ReminderLogTask.Reason
Kind = ReminderLog.Kind
Status = ReminderLog.Status

# A row left "sending" longer than this (a worker killed mid-send) may be taken again. Well above the SMTP
# timeout, so a slow but live send is never doubled.
SENDING_LEASE = datetime.timedelta(minutes=5)
# The hour of the daily sweep (the PeriodicTask the data migration creates; editable in the admin).
SWEEP_HOUR = 9
# An escalation email lists at most this many tasks per agency; the log row links all of them.
MAX_LINES_PER_AGENCY = 30

LATE_REASONS = {Reason.OVERDUE, Reason.REPORT_MISSING, Reason.ESCALATED, Reason.SUPPORT_OVERDUE}
DIGEST_REASONS = [
    Reason.OVERDUE,
    Reason.DUE_NEXT_DAY,
    Reason.DUE_SOON,
    Reason.REPORT_MISSING,
    Reason.REPORT_DUE,
]


# The stdlib's escape (Django's lazy-aware wrapper is slow over 150,000 lines), cached: plan titles, agency
# names and measure summaries repeat from line to line.
escape = functools.lru_cache(maxsize=65536)(html.escape)


@functools.cache
def _wording(language: str) -> dict:
    with translation.override(language):
        return {
            "overdue": _("已逾期 %(days)d 天(截止日期 %(date)s)"),
            "report_missing": _("定期进展报送已逾期 %(days)d 天(应于 %(date)s 前报送)"),
            "report_due": _("请于 %(date)s 前报送本期进展"),
            "urged_ongoing": _("持续推进,下次报送截止 %(date)s"),
            "urged": _("截止日期 %(date)s"),
            "due_today": _("今天到期(%(date)s)"),
            "due": _("%(date)s 到期,还有 %(days)d 天"),
            "count": _("%(n)d 项"),
            "more": _("……另有 %(n)d 项,请在系统中查看。"),
            "roles": {role.value: str(role.label) for role in Task.Role},
        }


def wording() -> dict:
    """The words of task lines, translated once per language (an email may list thousands of lines)."""
    return _wording(translation.get_language() or "zh-hans")


@dataclass(frozen=True)
class TaskLine:
    """One task as an email lists it, and why."""

    pk: int
    measure_id: int
    agency_id: int
    agency_name: str
    plan_title: str
    measure_number: str
    summary: str
    role: str
    due_date: datetime.date | None
    is_ongoing: bool
    next_report_due: datetime.date | None
    reason: str
    days: int  # days overdue (overdue reasons) or days left (due reasons)

    @property
    def url(self) -> str:
        return task_url(self)

    @property
    def role_label(self) -> str:
        return wording()["roles"][self.role]

    @property
    def is_late(self) -> bool:
        return self.reason in LATE_REASONS

    @property
    def note(self) -> str:
        """Why the task is listed, in words (in the active language: emails render inside zh-hans)."""
        return self.note_in(wording())

    def note_in(self, words: dict) -> str:
        if self.reason in (Reason.OVERDUE, Reason.ESCALATED, Reason.SUPPORT_OVERDUE) and not self.is_ongoing:
            return words["overdue"] % {"days": self.days, "date": self.due_date}
        if self.reason in (Reason.REPORT_MISSING, Reason.ESCALATED, Reason.SUPPORT_OVERDUE):
            return words["report_missing"] % {"days": self.days, "date": self.next_report_due}
        if self.reason == Reason.REPORT_DUE:
            return words["report_due"] % {"date": self.next_report_due}
        if self.reason == Reason.URGED:
            if self.is_ongoing:
                return words["urged_ongoing"] % {"date": self.next_report_due or "—"}
            return words["urged"] % {"date": self.due_date or "—"}
        if self.days == 0:
            return words["due_today"] % {"date": self.due_date}
        return words["due"] % {"date": self.due_date, "days": self.days}

    def items(self, words: dict) -> tuple[str, str]:
        """(plain text, HTML) of this line in an email. The benchmark's emails list 150,000 lines: each is
        formatted here once, in Python, not by a template loop (ten times slower). Emails are only rendered
        in Chinese, so caching the first rendering is safe."""
        cached = self.__dict__.get("_items")
        if cached is None:
            note, role, url = self.note_in(words), words["roles"][self.role], self.url
            text = (
                f"{self.plan_title} · 第{self.measure_number}项 · {self.summary}({self.agency_name},{role})\n"
                f"   {note}\n   {url}\n"
            )
            color = "#c01c28" if self.reason in LATE_REASONS else "#986a00"
            html = (
                f'<a href="{escape(url)}" style="color:#1a5fb4">{escape(self.plan_title)} · '
                f"第{escape(self.measure_number)}项 · {escape(self.summary)}</a><br>"
                f'<span style="color:#666">{escape(self.agency_name)} · {role}</span> · '
                f'<span style="color:{color}">{escape(note)}</span>'
            )
            cached = self.__dict__["_items"] = (text, html)  # frozen dataclass: bypass __setattr__
        return cached


def lines_text(lines: list[TaskLine]) -> str:
    words = wording()
    return "".join(f"{number}. {line.items(words)[0]}" for number, line in enumerate(lines, 1))


CELL = 'style="border-bottom:1px solid #eee;padding:6px 4px;vertical-align:top"'


def lines_html(lines: list[TaskLine]) -> SafeString:
    words = wording()
    rows = "".join(
        f"<tr><td {CELL}>{number}.</td><td {CELL}>{line.items(words)[1]}</td></tr>\n"
        for number, line in enumerate(lines, 1)
    )
    return mark_safe(f'<table style="border-collapse:collapse;width:100%;font-size:14px">\n{rows}</table>')


@dataclass
class Email:
    """An email the sweep (or a 催办) would send: the outbox row before it exists."""

    kind: str
    recipient: str
    period: str
    day: datetime.date
    lines: list[TaskLine]
    user_id: int | None = None
    agency_ids: list[int] = field(default_factory=list)
    agency_names: list[str] = field(default_factory=list)
    skip_reason: str = ""  # set: logged as skipped, not sent
    requested_by_id: int | None = None
    existing_status: str = ""  # filled by annotate_existing() for the preview

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.recipient, self.kind, self.period)

    @property
    def status(self) -> str:
        return Status.SKIPPED if self.skip_reason else Status.PENDING

    def get_kind_label(self) -> str:
        if self.kind == Kind.DIGEST and "-W" in self.period:
            return _("每周汇总")
        return str(Kind(self.kind).label)

    def sections(self) -> list[dict]:
        """Lines grouped by reason, in digest order (for digests and 催办)."""
        by_reason: dict[str, list[TaskLine]] = defaultdict(list)
        for line in self.lines:
            by_reason[line.reason].append(line)
        return [
            {"reason": reason, "title": Reason(reason).label, "lines": by_reason[reason]}
            for reason in [*DIGEST_REASONS, Reason.URGED]
            if by_reason.get(reason)
        ]

    def rendered_sections(self) -> list[dict]:
        return [
            {
                **section,
                "count": len(section["lines"]),
                "text": lines_text(section["lines"]),
                "html": lines_html(section["lines"]),
            }
            for section in self.sections()
        ]

    def agency_groups(self) -> list[dict]:
        """Lines grouped by agency, most lines first (for escalation digests)."""
        by_agency: dict[int, list[TaskLine]] = defaultdict(list)
        for line in self.lines:
            by_agency[line.agency_id].append(line)
        groups = [
            {
                "agency": lines[0].agency_name,
                "count": len(lines),
                "lines": lines[:MAX_LINES_PER_AGENCY],
                "more": max(len(lines) - MAX_LINES_PER_AGENCY, 0),
            }
            for lines in by_agency.values()
        ]
        return sorted(groups, key=lambda group: (-group["count"], group["agency"]))

    def counts(self) -> dict[str, int]:
        counts = {reason.value: 0 for reason in Reason}
        for line in self.lines:
            counts[line.reason] += 1
        return counts

    def reason_summary(self) -> str:
        """E.g. "已逾期 2 项,1个工作日内到期 1 项" — for the preview and the command's output."""
        return ",".join(
            _("%(reason)s %(count)d 项") % {"reason": Reason(reason).label, "count": count}
            for reason, count in self.counts().items()
            if count
        )


@dataclass
class SweepResult:
    day: datetime.date
    is_working_day: bool
    emails: list[Email] = field(default_factory=list)
    dispatched: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "day": self.day.isoformat(),
            "is_working_day": self.is_working_day,
            "emails": len(self.emails),
            "skipped": sum(1 for email in self.emails if email.skip_reason),
            "dispatched": len(self.dispatched),
        }


# ---------------------------------------------------------------------------------------------------------
# Who gets what


def week_key(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _task_rows(queryset):
    return queryset.values(
        "pk",
        "agency_id",
        "agency__name",
        "agency__short_name",
        "role",
        "due_date",
        "is_ongoing",
        "next_report_due",
        "measure_id",
        "measure__number",
        "measure__plan__title",
        "measure__plan__remind_days_before",
        "measure__plan__escalate_after_days",
        head=Substr("measure__text", 1, 41),
    )


def _summary(head: str) -> str:
    # Same rule as Measure.summary, on the first 41 characters the query fetched.
    head = head.split("。", 1)[0]
    return head if len(head) <= 40 else head[:39] + "…"


def _line(row: dict, reason: str, days: int) -> TaskLine:
    return TaskLine(
        pk=row["pk"],
        measure_id=row["measure_id"],
        agency_id=row["agency_id"],
        agency_name=row["agency__short_name"] or row["agency__name"],
        plan_title=row["measure__plan__title"],
        measure_number=row["measure__number"],
        summary=_summary(row["head"]),
        role=row["role"],
        due_date=row["due_date"],
        is_ongoing=row["is_ongoing"],
        next_report_due=row["next_report_due"],
        reason=reason,
        days=days,
    )


def classify(row: dict, day: datetime.date, next_working_day: datetime.date) -> tuple[TaskLine | None, bool]:
    """The digest line for a task (or None) and whether it is escalated (overdue beyond the plan's limit)."""
    attention = row["next_report_due"] if row["is_ongoing"] else row["due_date"]
    if attention is None:
        return None, False
    remind_until = day + datetime.timedelta(days=row["measure__plan__remind_days_before"])
    if attention < day:
        days = (day - attention).days
        reason = Reason.REPORT_MISSING if row["is_ongoing"] else Reason.OVERDUE
        return _line(row, reason, days), days > row["measure__plan__escalate_after_days"]
    days_left = (attention - day).days
    if row["is_ongoing"]:
        if attention <= max(next_working_day, remind_until):
            return _line(row, Reason.REPORT_DUE, days_left), False
        return None, False
    # Due by the next working day: on a Friday, a task due on Sunday or Monday is "due next day".
    if attention <= next_working_day:
        return _line(row, Reason.DUE_NEXT_DAY, days_left), False
    if attention <= remind_until:
        return _line(row, Reason.DUE_SOON, days_left), False
    return None, False


def _open_tasks():
    return Task.objects.open().filter(measure__plan__is_active=True, measure__is_removed=False)


def compute_reminders(day: datetime.date, *, calendar: WorkingCalendar | None = None) -> list[Email]:
    """Every email the sweep of ``day`` sends (or logs as skipped). Reads only; a fixed number of queries."""
    calendar = calendar or calendar_around(day)
    next_day = calendar.next_working_day(day)
    horizon = _open_tasks().aggregate(days=Max("measure__plan__remind_days_before"))["days"] or 0
    until = max(day + datetime.timedelta(days=horizon), next_day)
    rows = _task_rows(
        _open_tasks()
        .with_light(day)
        .filter(attention_date__lte=until)
        .order_by("attention_date", "measure__plan_id", "measure__position", "pk")
    )

    digest_lines: dict[int, list[TaskLine]] = defaultdict(list)  # agency id → lines
    escalated: list[TaskLine] = []
    for row in rows:
        line, is_escalated = classify(row, day, next_day)
        if line is None:
            continue
        digest_lines[line.agency_id].append(line)
        if is_escalated:
            escalated.append(_line(row, Reason.ESCALATED, line.days))

    emails = _liaison_digests(day, digest_lines)
    emails += _escalations(day, escalated)
    return emails


def _memberless_group(path: str = "") -> Q:
    """A collective without members (有关部门 before the lead bureau names them): nobody stands behind it.
    ``path`` leads from the queried model to the agency ("" for Agency itself, "agency__" for Liaison)."""
    members = Agency.members.through.objects.filter(from_agency_id=OuterRef(f"{path}pk"))
    return Q(**{f"{path}is_group": True}) & ~Exists(members)


def _liaison_rows(**filters) -> list[dict]:
    return list(
        Liaison.objects.filter(user__is_active=True, **filters)
        .exclude(email="")
        .exclude(_memberless_group("agency__"))  # never counted as reached, even with a liaison set
        .order_by("email", "agency__name", "pk")
        .values("email", "agency_id", "agency__name", "agency__short_name", "digest_frequency", "user_id")
    )


def _group_by_email(liaisons: Iterable[dict]) -> dict[str, list[dict]]:
    by_email: dict[str, list[dict]] = defaultdict(list)
    for liaison in liaisons:
        by_email[liaison["email"].strip().lower()].append(liaison)
    return by_email


def _liaison_digests(day: datetime.date, digest_lines: dict[int, list[TaskLine]]) -> list[Email]:
    emails = []
    covered_agencies = set()
    for email, liaisons in sorted(_group_by_email(_liaison_rows()).items()):
        covered_agencies.update(liaison["agency_id"] for liaison in liaisons)
        wanted = [
            liaison for liaison in liaisons if liaison["digest_frequency"] != Liaison.DigestFrequency.OFF
        ]
        chosen = wanted or liaisons
        lines = [line for liaison in chosen for line in digest_lines.get(liaison["agency_id"], [])]
        if not lines:
            continue  # nothing to say → no email
        frequencies = {liaison["digest_frequency"] for liaison in liaisons}
        weekly = (
            Liaison.DigestFrequency.DAILY not in frequencies and Liaison.DigestFrequency.WEEKLY in frequencies
        )
        emails.append(
            Email(
                kind=Kind.DIGEST,
                recipient=email,
                period=week_key(day) if weekly else day.isoformat(),
                day=day,
                lines=lines,
                user_id=chosen[0]["user_id"],
                agency_ids=[liaison["agency_id"] for liaison in chosen],
                agency_names=[liaison["agency__short_name"] or liaison["agency__name"] for liaison in chosen],
                skip_reason="" if wanted else _("联络员已设置不接收提醒邮件"),
            )
        )
    # Agencies with something to say and nobody to tell: logged so the lead bureau can find a liaison.
    emails += _unreachable(Kind.DIGEST, day, day.isoformat(), digest_lines, covered_agencies)
    return emails


def _unreachable(kind, day, period, lines_by_agency, covered, **fields) -> list[Email]:
    """A skipped log entry for each agency with tasks to mention and no liaison email."""
    uncovered = [agency_id for agency_id in lines_by_agency if agency_id not in covered]
    groups = (
        set(Agency.objects.filter(_memberless_group(), pk__in=uncovered).values_list("pk", flat=True))
        if uncovered
        else set()
    )
    return [
        Email(
            kind=kind,
            recipient="",
            period=f"{period}#agency-{agency_id}",
            day=day,
            lines=lines_by_agency[agency_id],
            agency_ids=[agency_id],
            agency_names=[lines_by_agency[agency_id][0].agency_name],
            skip_reason=_("单位集合尚未指定成员单位,无人可通知")
            if agency_id in groups
            else _("该单位没有设置联络员邮箱"),
            **fields,
        )
        for agency_id in uncovered
    ]


def _lead_bureau_recipients() -> dict[str, int]:
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=LEAD_BUREAU_GROUP)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", "pk")
    )
    recipients: dict[str, int] = {}
    for email, pk in users:
        recipients.setdefault(email.strip().lower(), pk)
    return recipients


def _escalations(day: datetime.date, escalated: list[TaskLine]) -> list[Email]:
    if not escalated:
        return []
    emails = []
    bureau = _lead_bureau_recipients()
    agency_ids = sorted({line.agency_id for line in escalated})
    for email, user_id in sorted(bureau.items()):
        emails.append(
            Email(
                kind=Kind.ESCALATION,
                recipient=email,
                period=day.isoformat(),
                day=day,
                lines=escalated,
                user_id=user_id,
                agency_ids=agency_ids,
            )
        )

    # A lead agency (牵头) hears about its support agencies' (配合) escalated shares of the same measures.
    support = [line for line in escalated if line.role == Task.Role.SUPPORT]
    if not support:
        return emails
    overdue_support = (
        _open_tasks()
        .filter(measure=OuterRef("measure"), role=Task.Role.SUPPORT)
        .filter(Q(is_ongoing=False, due_date__lt=day) | Q(is_ongoing=True, next_report_due__lt=day))
    )
    lead_agencies_by_measure: dict[int, set[int]] = defaultdict(set)
    for measure_id, agency_id in (
        Task.objects.filter(role=Task.Role.LEAD, measure__plan__is_active=True, measure__is_removed=False)
        .filter(Exists(overdue_support))
        .values_list("measure_id", "agency_id")
    ):
        lead_agencies_by_measure[measure_id].add(agency_id)
    lines_for_agency: dict[int, list[TaskLine]] = defaultdict(list)
    for line in support:
        for lead_agency in lead_agencies_by_measure.get(line.measure_id, ()):
            if lead_agency != line.agency_id:
                lines_for_agency[lead_agency].append(replace(line, reason=Reason.SUPPORT_OVERDUE))
    if not lines_for_agency:
        return emails
    for email, liaisons in sorted(_group_by_email(_liaison_rows(agency_id__in=lines_for_agency)).items()):
        if email in bureau:
            continue  # the lead bureau's escalation already lists every agency
        lines = [line for liaison in liaisons for line in lines_for_agency[liaison["agency_id"]]]
        emails.append(
            Email(
                kind=Kind.ESCALATION,
                recipient=email,
                period=day.isoformat(),
                day=day,
                lines=lines,
                user_id=liaisons[0]["user_id"],
                agency_ids=sorted({line.agency_id for line in lines}),
                agency_names=[
                    liaison["agency__short_name"] or liaison["agency__name"] for liaison in liaisons
                ],
            )
        )
    return emails


def annotate_existing(emails: list[Email]) -> list[Email]:
    """Fill ``existing_status`` from the outbox (the preview shows what was already sent)."""
    if not emails:
        return emails
    existing = _existing_by_day(emails)
    for email in emails:
        email.existing_status = existing.get(email.key, "")
    return emails


def _existing_by_day(emails: list[Email]) -> dict:
    days = {email.day for email in emails}
    weeks = {week_key(day) for day in days}
    return {
        (row["recipient"], row["kind"], row["period"]): row["status"]
        for row in ReminderLog.objects.filter(Q(day__in=days) | Q(period__in=weeks)).values(
            "recipient", "kind", "period", "status"
        )
    }


# ---------------------------------------------------------------------------------------------------------
# Rendering and claiming


def render(email: Email) -> tuple[str, str, str]:
    """(subject, text, html) of an email, in Chinese whatever language the caller is in."""
    with translation.override(EMAIL_LANGUAGE):
        return _render(email)


def groups_text_html(groups: list[dict]) -> tuple[str, SafeString, str]:
    """An escalation's body by agency: (text, html, one-line overview). Formatted in Python, not in a template
    loop: the lead bureau's escalation can list a thousand agencies."""
    words = wording()
    text, html, overview = [], [], []
    for group in groups:
        agency, count = group["agency"], words["count"] % {"n": group["count"]}
        overview.append(f"{agency} {group['count']}")
        more = words["more"] % {"n": group["more"]} if group["more"] else ""
        text.append(f"\n【{agency}】{count}\n{lines_text(group['lines'])}" + (f"{more}\n" if more else ""))
        html.append(
            f'<h3 style="margin:18px 0 6px">{escape(agency)}({count})</h3>\n{lines_html(group["lines"])}\n'
            + (f'<p style="color:#666">{escape(more)}</p>\n' if more else "")
        )
    return "".join(text), mark_safe("".join(html)), "、".join(overview)


def _render(email: Email) -> tuple[str, str, str]:
    ctx = {
        "email": email,
        "day": email.day,
        "agencies": "、".join(email.agency_names),
        "total": len(email.lines),
        "counts": email.counts(),
        "summary": email.reason_summary(),
        "weekly": "-W" in email.period,
    }
    if email.kind == Kind.ESCALATION:
        groups = email.agency_groups()
        text, html, overview = groups_text_html(groups)
        return render_parts(
            "escalation",
            {
                **ctx,
                "agency_count": len(groups),
                "groups_text": text,
                "groups_html": html,
                "overview": overview,
            },
        )
    if email.kind == Kind.URGE:
        return render_parts("urge", {**ctx, "sections": email.rendered_sections()})
    return render_parts("digest", {**ctx, "sections": email.rendered_sections()})


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


# ---------------------------------------------------------------------------------------------------------
# Sending


def dispatch_with_celery(log_ids: list[int]) -> None:
    from .jobs import deliver_reminder

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
        build_message(log.subject, log.body_text, log.body_html, log.recipient).send()
    except Exception as error:
        ReminderLog.objects.filter(pk=log_id, status=Status.SENDING).update(
            status=Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    ReminderLog.objects.filter(pk=log_id).update(status=Status.SENT, sent_at=timezone.now(), error="")
    return Delivery("sent")


# ---------------------------------------------------------------------------------------------------------
# Entry points: the sweep (beat, command) and 催办


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
        result.dispatched = claim(emails)
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


def compute_urge(tasks: Iterable[Task] | Iterable[int], by_user, day: datetime.date) -> list[Email]:
    """The 催办 emails for selected tasks: one per liaison email of their agencies (digest settings do not
    apply). Keyed by the day and the set of tasks, so the same 催办 twice in a day sends once."""
    pks = sorted({getattr(task, "pk", task) for task in tasks})
    rows = list(
        _task_rows(_open_tasks().filter(pk__in=pks).order_by("agency__name", "measure__position", "pk"))
    )
    lines_by_agency: dict[int, list[TaskLine]] = defaultdict(list)
    for row in rows:
        attention = row["next_report_due"] if row["is_ongoing"] else row["due_date"]
        days = (day - attention).days if attention else 0
        lines_by_agency[row["agency_id"]].append(_line(row, Reason.URGED, days))
    emails = []
    covered = set()
    for email, liaisons in sorted(_group_by_email(_liaison_rows(agency_id__in=lines_by_agency)).items()):
        lines = [line for liaison in liaisons for line in lines_by_agency[liaison["agency_id"]]]
        covered.update(liaison["agency_id"] for liaison in liaisons)
        emails.append(
            Email(
                kind=Kind.URGE,
                recipient=email,
                period=f"{day.isoformat()}/{_fingerprint(line.pk for line in lines)}",
                day=day,
                lines=lines,
                user_id=liaisons[0]["user_id"],
                agency_ids=sorted({line.agency_id for line in lines}),
                agency_names=[
                    liaison["agency__short_name"] or liaison["agency__name"] for liaison in liaisons
                ],
                requested_by_id=getattr(by_user, "pk", None),
            )
        )
    for agency_id, lines in lines_by_agency.items():
        emails += _unreachable(
            Kind.URGE,
            day,
            f"{day.isoformat()}/{_fingerprint(line.pk for line in lines)}",
            {agency_id: lines},
            covered,
            requested_by_id=getattr(by_user, "pk", None),
        )
    return emails


def _fingerprint(pks: Iterable[int]) -> str:
    return hashlib.sha1(",".join(str(pk) for pk in sorted(pks)).encode()).hexdigest()[:12]


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
        transaction.on_commit(lambda: dispatch(dispatched), robust=True)
    return UrgeResult(emails=emails, dispatched=dispatched)


def next_sweep_day(now: datetime.datetime | None = None) -> datetime.date:
    """The day the next daily sweep runs for: today before the sweep hour on a working day, else the next
    working day (the preview's default)."""
    now = timezone.localtime(now)
    today = now.date()
    calendar = calendar_around(today)
    if calendar.is_working_day(today) and now.hour < SWEEP_HOUR:
        return today
    return calendar.next_working_day(today)
