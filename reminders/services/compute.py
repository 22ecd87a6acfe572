"""Who gets which reminder email: one computation for the sweep, the preview, the command and 催办.

Pure reads with a fixed number of queries whatever the number of tasks. The tasks come from the one
definition of "current" and "overdue" (tasks/status.py through ``TaskQuerySet``)."""

from __future__ import annotations

import datetime
import hashlib
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Liaison
from ipplan.lib.emails import task_url
from tasks.models import Task

from ..models import ReminderLog, ReminderLogTask
from ..workdays import WorkingCalendar, calendar_around
from . import reach
from .render import DIGEST_REASONS, LATE_REASONS, escape, lines_html, lines_text, wording

Reason = ReminderLogTask.Reason
Kind = ReminderLog.Kind
Status = ReminderLog.Status

# The hour of the daily sweep (the PeriodicTask the data migration creates; editable in the admin).
SWEEP_HOUR = 9
# An escalation email lists at most this many tasks per agency; the log row links all of them.
MAX_LINES_PER_AGENCY = 30


@dataclass(frozen=True, slots=True)
class TaskLine:
    """One task as an email lists it, and why. Slotted: the sweep holds one per task line (150,000 at the
    benchmark's size), and a per-instance dict would double their memory."""

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
            # ``days`` is the day of the 催办 minus the attention date: > 0 late, < 0 still to come.
            if self.is_ongoing:
                if self.next_report_due and self.days > 0:
                    return words["report_missing"] % {"days": self.days, "date": self.next_report_due}
                return words["urged_ongoing"] % {"date": self.next_report_due or "—"}
            if self.due_date is None:
                return words["urged"] % {"date": "—"}
            if self.days > 0:
                return words["overdue"] % {"days": self.days, "date": self.due_date}
            if self.days == 0:
                return words["due_today"] % {"date": self.due_date}
            return words["due"] % {"date": self.due_date, "days": -self.days}
        if self.days == 0:
            return words["due_today"] % {"date": self.due_date}
        return words["due"] % {"date": self.due_date, "days": self.days}

    def items(self, words: dict) -> tuple[str, str]:
        """(plain text, HTML) of this line in an email, formatted in Python, not by a template loop (ten
        times slower). Not kept on the line: a sweep renders 100,000 lines, and keeping each rendering would
        hold hundreds of megabytes until the sweep ends (render.py formats each shown line once)."""
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
        return text, html


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
    # Task id → its one-click 签收 link for this recipient (filled at claim time, see action_links.py).
    action_links: dict[int, str] = field(default_factory=dict)
    # Escalations: agencies listed whose own liaisons nobody can tell (reach.AgencyGap), and memberless
    # collectives, so the lead bureau knows who was not notified.
    not_reached: list = field(default_factory=list)
    memberless: list = field(default_factory=list)

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
                "text": lines_text(section["lines"], self.action_links),
                "html": lines_html(section["lines"], self.action_links),
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
                "agency_id": lines[0].agency_id,
                "count": len(lines),
                "max_days": max(line.days for line in lines),
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
    dispatched: list[int] = field(default_factory=list)  # rows THIS run handed to sending
    created: int = 0  # rows THIS run inserted (a concurrent or earlier run's rows are not counted)

    def as_dict(self) -> dict:
        return {
            "day": self.day.isoformat(),
            "is_working_day": self.is_working_day,
            "emails": len(self.emails),
            "skipped": sum(1 for email in self.emails if email.skip_reason),
            "created": self.created,
            "dispatched": len(self.dispatched),
        }


def week_key(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _task_rows(queryset):
    return queryset.with_attention().values(
        "pk",
        "agency_id",
        "agency__name",
        "agency__short_name",
        "role",
        "due_date",
        "is_ongoing",
        "report_due",
        "attention_date",
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
        # Names and titles repeat from line to line: one string each, not one per task.
        agency_name=sys.intern(row["agency__short_name"] or row["agency__name"]),
        plan_title=sys.intern(row["measure__plan__title"]),
        measure_number=sys.intern(row["measure__number"]),
        summary=sys.intern(_summary(row["head"])),  # the measure's tasks share it
        role=sys.intern(row["role"]),
        due_date=row["due_date"],
        is_ongoing=row["is_ongoing"],
        next_report_due=row["report_due"],
        reason=reason,
        days=days,
    )


def classify(row: dict, day: datetime.date, next_working_day: datetime.date) -> tuple[TaskLine | None, bool]:
    """The digest line for a task (or None) and whether it is escalated (overdue beyond the plan's limit)."""
    attention = row["attention_date"]
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
    return Task.objects.current().open()


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
    ).iterator(chunk_size=5000)  # rows are turned into lines as they come, never all held at once

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
    """A collective without members (有关部门 before the lead bureau names them): nobody stands behind it."""
    return reach.memberless_group(path)


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
    return reach.lead_bureau_addresses()


def _escalations(day: datetime.date, escalated: list[TaskLine]) -> list[Email]:
    if not escalated:
        return []
    emails = []
    bureau = _lead_bureau_recipients()
    agency_ids = sorted({line.agency_id for line in escalated})
    not_reached = reach.unreachable_agencies(agency_ids) if bureau else []
    memberless = reach.memberless_collectives(agency_ids) if bureau else []
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
                not_reached=not_reached,
                memberless=memberless,
            )
        )

    # A lead agency (牵头) hears about its support agencies' (配合) escalated shares of the same measures.
    support = [line for line in escalated if line.role == Task.Role.SUPPORT]
    if not support:
        return emails
    overdue_support = (
        Task.objects.current().overdue(day).filter(measure=OuterRef("measure"), role=Task.Role.SUPPORT)
    )
    lead_agencies_by_measure: dict[int, set[int]] = defaultdict(set)
    for measure_id, agency_id in (
        Task.objects.current()
        .filter(role=Task.Role.LEAD)
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


def compute_urge(tasks: Iterable[Task] | Iterable[int], by_user, day: datetime.date) -> list[Email]:
    """The 催办 emails for selected tasks: one per liaison email of their agencies (digest settings do not
    apply). Keyed by the day and the set of tasks, so the same 催办 twice in a day sends once."""
    pks = sorted({getattr(task, "pk", task) for task in tasks})
    rows = list(
        _task_rows(_open_tasks().filter(pk__in=pks).order_by("agency__name", "measure__position", "pk"))
    )
    lines_by_agency: dict[int, list[TaskLine]] = defaultdict(list)
    for row in rows:
        attention = row["attention_date"]
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


def next_sweep_day(now: datetime.datetime | None = None) -> datetime.date:
    """The day the next daily sweep runs for: today before the sweep hour on a working day, else the next
    working day (the preview's default)."""
    now = timezone.localtime(now)
    today = now.date()
    calendar = calendar_around(today)
    if calendar.is_working_day(today) and now.hour < SWEEP_HOUR:
        return today
    return calendar.next_working_day(today)
