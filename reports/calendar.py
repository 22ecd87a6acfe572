"""iCalendar output: subscription feeds and single-task downloads (RFC 5545), serialised directly.

- A dated task is an all-day VEVENT on its due date (DTEND is exclusive, so it ends the next day); calendar
  apps ignore VTODO in subscriptions, hence events.
- An ongoing task (持续推进) is one recurring VEVENT on its report deadlines: day ``report_due_day`` of the month
  after each reporting period (tasks/status.py), up to the plan's last report (``last_report_due``).
- UIDs depend only on the task, so a changed due date moves the event instead of duplicating it; SEQUENCE
  counts saves of the task and its measure, LAST-MODIFIED is the later ``updated_at``.
- Open tasks carry two alarms, at 09:00 seven days and one day before; done tasks stay, marked 【已办结】,
  without alarms (an ongoing task's series stops at its completion).

Feeds are written line by line from one ``.values()`` query rather than through icalendar's object model: a
plan feed of 2,000 tasks took over a second in icalendar (its per-character line folding), 30,000 took a
minute. The output is the same document, property for property and in the same order; icalendar still
provides the VTIMEZONE (one small component per feed) and reads the feeds back in the tests, where the
icalendar-built feed of before (tests/reports/icalendar_reference.py) is the reference.

Lines follow RFC 5545 section 3.1: CRLF endings, folded so that no line exceeds 75 octets (at most 74 octets
of content per line, as icalendar folds) and never inside a UTF-8 character or right after a backslash.
TEXT values escape backslash, semicolon, comma and line breaks (section 3.3.11).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Timezone, vDuration, vRecur

from tasks.models import Plan, Task
from tasks.status import last_report_due, period_of

SUMMARY_MEASURE_CHARS = 11  # what a phone's month or list view shows of a Chinese title
ALARM_TRIGGERS = (
    datetime.timedelta(days=-6, hours=-15),  # 09:00 seven days before the (all-day) deadline
    datetime.timedelta(hours=-15),  # 09:00 the day before
)
CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
REFRESH = datetime.timedelta(hours=1)
PRODID = "-//ipplan//计划督办系统//ZH"
FOLD_OCTETS = 74  # content octets per physical line; a continuation line adds its leading space (75)
CRLF = b"\r\n"
FOLD = b"\r\n "

# The columns a feed needs, in one query (``selectors.calendar_tasks`` joins measure, plan and agency).
FEED_COLUMNS = (
    "pk",
    "status",
    "role",
    "is_ongoing",
    "due_date",
    "completed_at",
    "created_at",
    "updated_at",
    "modified_at",
    "revision",
    "measure__number",
    "measure__text",
    "measure__plan_id",
    "measure__plan__title",
    "measure__plan__jurisdiction",
    "measure__plan__period_start",
    "measure__plan__period_end",
    "measure__plan__reporting_cycle",
    "measure__plan__report_due_day",
    "measure__plan__reports_until",
    "agency__name",
    "agency__short_name",
)
PLAN_FIELDS = ("title", "jurisdiction", "period_start", "period_end", "reporting_cycle", "report_due_day")


# RFC 5545 primitives -----------------------------------------------------------------------------------------


def escape_text(text: str) -> str:
    """A TEXT value (section 3.3.11): backslash, semicolon and comma escaped, any line break as ``\\n``."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: bytes) -> bytes:
    """One content line as physical lines joined by CRLF + space: at most 74 octets of it per line, cut only
    between UTF-8 characters, and not right after a backslash or caret (some readers unescape before they
    unfold), which is how icalendar folds too."""
    end = len(line)
    if end <= FOLD_OCTETS:
        return line
    parts = []
    start = 0
    while end - start > FOLD_OCTETS:
        cut = start + FOLD_OCTETS
        while line[cut] & 0xC0 == 0x80:  # a continuation byte: back up to the start of its character
            cut -= 1
        if cut - start > 1 and line[cut - 1] in b"\\^":
            cut -= 1
        parts.append(line[start:cut])
        start = cut
    parts.append(line[start:])
    return FOLD.join(parts)


def content_line(name: str, value: str) -> bytes:
    """``NAME:value`` (name with any parameters; value already in its iCalendar form), folded, no CRLF."""
    line = f"{name}:{value}"
    if len(line) <= FOLD_OCTETS and line.isascii():
        return line.encode()
    return fold(line.encode())


def utc_stamp(moment: datetime.datetime) -> str:
    """A DATE-TIME in UTC (``20210601T090000Z``); a naive value is taken as the project's time zone."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def ical_date(day: datetime.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@functools.cache
def duration(delta: datetime.timedelta) -> str:
    return vDuration(delta).to_ical().decode()


@functools.cache
def recurrence(rule: tuple) -> str:
    """The RRULE value of a rule given as sorted ``(key, value)`` pairs (icalendar orders the parts)."""
    return (
        vRecur({key: list(value) if isinstance(value, tuple) else value for key, value in rule})
        .to_ical()
        .decode()
    )


@functools.cache
def vtimezone(tzid: str, first: datetime.date, last: datetime.date) -> bytes:
    """The VTIMEZONE block (with its CRLF) covering ``first``..``last``, built once per zone and range."""
    return Timezone.from_tzid(tzid, first_date=first, last_date=last).to_ical()


# What a task shows ---------------------------------------------------------------------------------------------


def task_uid(task) -> str:
    """``ipplan-task-<pk>@<site host>``: anything with a ``pk``."""
    host = urlsplit(settings.SITE_URL).hostname or "ipplan"
    return f"ipplan-task-{task.pk}@{host}"


def _short(text: str) -> str:
    head = text.split("。", 1)[0].strip()
    return head if len(head) <= SUMMARY_MEASURE_CHARS else head[:SUMMARY_MEASURE_CHARS] + "…"


def report_deadlines_rule(plan: Plan, first: datetime.date) -> tuple[datetime.date, dict]:
    """DTSTART and RRULE for an ongoing task's report deadlines, starting with the period containing ``first``.

    Deadlines are day N of the month after each period, clamped to short months (tasks/status.py): for
    N > 28 that is "the last of days 28..N", i.e. BYMONTHDAY=28,…,N with BYSETPOS=-1. ``plan`` is a Plan or
    anything with its reporting fields.
    """
    cycle = plan.reporting_cycle
    start = period_of(first, cycle).report_deadline(plan.report_due_day)
    day = min(max(plan.report_due_day, 1), 31)
    rule: dict = {"FREQ": "MONTHLY", "INTERVAL": CYCLE_MONTHS.get(cycle, 3)}
    if day <= 28:
        rule["BYMONTHDAY"] = [day]
    else:
        rule["BYMONTHDAY"] = list(range(28, day + 1))
        rule["BYSETPOS"] = [-1]
    last = last_report_due(plan)  # the same window the task page and reminders use
    if last is not None:
        rule["UNTIL"] = last
    return start, rule


class _Words:
    """The feed's fixed words, translated once per feed rather than once per task."""

    def __init__(self) -> None:
        self.done = _("【已办结】")
        self.ongoing = _("【报送】")
        self.dated = _("【截止】")
        self.plan = _("计划:%(plan)s")
        self.agency = _("责任单位:%(agency)s(%(role)s)")
        self.cycle = _("持续推进:%(cycle)s报送,下一周期第%(day)d日前报送上一周期进展")
        self.status = _("状态:%(status)s")
        self.page = _("任务页面:%(url)s")
        self.categories = escape_text(_("计划督办"))
        self.roles = {value: str(label) for value, label in Task.Role.choices}
        self.statuses = {value: str(label) for value, label in Task.Status.choices}
        self.cycles = {value: str(label) for value, label in Plan.ReportingCycle.choices}


class _FeedWriter:
    """Turns feed rows (``FEED_COLUMNS``) into VEVENT bytes; per-plan values are worked out once per plan."""

    def __init__(self, *, now: datetime.datetime, with_agency: bool) -> None:
        self.words = _Words()
        self.with_agency = with_agency
        self.site = settings.SITE_URL
        host = urlsplit(settings.SITE_URL).hostname or "ipplan"
        self.uid_suffix = f"@{host}"
        self.dtstamp = content_line("DTSTAMP", utc_stamp(now))
        self.today_zone = timezone.get_current_timezone()
        self.plans: dict[int, SimpleNamespace] = {}
        self.rules: dict[tuple, tuple[datetime.date, dict]] = {}
        self.alarm_head = b"BEGIN:VALARM\r\n" + content_line("ACTION", "DISPLAY") + CRLF
        self.alarm_tails = [
            content_line("TRIGGER", duration(trigger)) + b"\r\nEND:VALARM\r\n" for trigger in ALARM_TRIGGERS
        ]
        self.fixed = CRLF.join(
            [
                content_line("STATUS", "CONFIRMED"),
                content_line("TRANSP", "TRANSPARENT"),
            ]  # a deadline: not busy
        )
        self.categories = content_line("CATEGORIES", self.words.categories)

    def plan(self, row: dict) -> SimpleNamespace:
        plan = self.plans.get(row["measure__plan_id"])
        if plan is None:
            plan = SimpleNamespace(
                **{field: row[f"measure__plan__{field}"] for field in PLAN_FIELDS},
                reports_until=row["measure__plan__reports_until"],
            )
            plan.cycle_display = self.words.cycles.get(plan.reporting_cycle, plan.reporting_cycle)
            self.plans[row["measure__plan_id"]] = plan
        return plan

    def rule(self, plan_id: int, plan: SimpleNamespace, first: datetime.date) -> tuple[datetime.date, dict]:
        key = (plan_id, first)
        found = self.rules.get(key)
        if found is None:
            found = self.rules[key] = report_deadlines_rule(plan, first)
        return found

    def summary(self, row: dict, plan: SimpleNamespace) -> str:
        words = self.words
        if row["status"] == Task.Status.DONE:
            tag = words.done
        elif row["is_ongoing"]:
            tag = words.ongoing
        else:
            tag = words.dated
        where = plan.jurisdiction
        summary = (
            f"{tag}{where + ' ' if where else ''}{row['measure__number']}. {_short(row['measure__text'])}"
        )
        if self.with_agency:
            summary += f" · {row['agency__short_name'] or row['agency__name']}"
        return summary

    def description(self, row: dict, plan: SimpleNamespace, url: str) -> str:
        words = self.words
        lines = [row["measure__text"].strip(), ""]
        lines.append(words.plan % {"plan": plan.title})
        role = words.roles.get(row["role"], row["role"])
        lines.append(words.agency % {"agency": row["agency__name"], "role": role})
        if row["is_ongoing"]:
            lines.append(words.cycle % {"cycle": plan.cycle_display, "day": plan.report_due_day})
        lines.append(words.status % {"status": words.statuses.get(row["status"], row["status"])})
        lines.append(words.page % {"url": url})
        return "\n".join(lines)

    def event(self, row: dict) -> tuple[datetime.date, bytes] | None:
        """``(DTSTART, the VEVENT's bytes)``, or None for a task without a date to show."""
        plan = self.plan(row)
        done = row["status"] == Task.Status.DONE
        rrule = None
        if row["is_ongoing"]:
            if plan.period_start:
                first = datetime.date(plan.period_start, 1, 1)
            else:
                first = timezone.localtime(row["created_at"], self.today_zone).date()
            start, rule = self.rule(row["measure__plan_id"], plan, first)
            if done and row["completed_at"]:
                finished = timezone.localtime(row["completed_at"], self.today_zone).date()
                rule = {**rule, "UNTIL": min(rule.get("UNTIL", finished), finished)}
            if "UNTIL" in rule and rule["UNTIL"] < start:
                return None
            rrule = recurrence(tuple(sorted((key, _hashable(value)) for key, value in rule.items())))
        elif row["due_date"]:
            start = row["due_date"]
        else:
            return None
        url = f"{self.site}/tasks/{row['pk']}/"
        summary = escape_text(self.summary(row, plan))
        modified = row["modified_at"] or row["updated_at"]
        revision = row["revision"]
        lines = [
            b"BEGIN:VEVENT",
            content_line("SUMMARY", summary),
            content_line("DTSTART;VALUE=DATE", ical_date(start)),
            content_line("DTEND;VALUE=DATE", ical_date(start + datetime.timedelta(days=1))),
            self.dtstamp,
            content_line("UID", escape_text(f"ipplan-task-{row['pk']}{self.uid_suffix}")),
            f"SEQUENCE:{revision if revision is not None else 0}".encode(),
        ]
        if rrule is not None:
            lines.append(content_line("RRULE", rrule))
        lines += [
            self.categories,
            content_line("CREATED", utc_stamp(row["created_at"])),
            content_line("DESCRIPTION", escape_text(self.description(row, plan, url))),
            content_line("LAST-MODIFIED", utc_stamp(modified)),
            self.fixed,
            content_line("URL", url),
            b"",
        ]
        body = CRLF.join(lines)
        if not done:
            alarm = self.alarm_head + content_line("DESCRIPTION", summary) + CRLF
            body += b"".join(alarm + tail for tail in self.alarm_tails)
        return start, body + b"END:VEVENT\r\n"


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def feed_rows(tasks: QuerySet[Task]) -> Iterator[dict]:
    """The rows of a ``selectors.calendar_tasks`` queryset, in its order, as dicts: one query."""
    return tasks.values(*FEED_COLUMNS).iterator(chunk_size=2000)


def build_calendar(
    tasks: QuerySet[Task] | Iterable[dict], *, name: str, description: str = "", with_agency: bool = False
) -> bytes:
    """The whole VCALENDAR as bytes (UTF-8, CRLF, folded at 75 octets) for a ``calendar_tasks`` queryset
    (or its rows, ``feed_rows``)."""
    rows = feed_rows(tasks) if isinstance(tasks, QuerySet) else tasks
    with translation.override(settings.LANGUAGE_CODE):
        now = timezone.now()
        writer = _FeedWriter(now=now, with_agency=with_agency)
        events: list[bytes] = []
        first_year = last_year = None
        for row in rows:
            made = writer.event(row)
            if made is None:
                continue
            start, body = made
            events.append(body)
            year = start.year
            if first_year is None or year < first_year:
                first_year = year
            if last_year is None or year > last_year:
                last_year = year
        head = [
            b"BEGIN:VCALENDAR",
            content_line("VERSION", "2.0"),
            content_line("PRODID", escape_text(PRODID)),
            content_line("CALSCALE", "GREGORIAN"),
            content_line("METHOD", "PUBLISH"),
        ]
        if description:
            head.append(content_line("X-WR-CALDESC", escape_text(description)))
        head += [
            content_line("NAME", escape_text(name)),
            content_line("X-WR-CALNAME", escape_text(name)),
            content_line("REFRESH-INTERVAL;VALUE=DURATION", duration(REFRESH)),
            content_line("X-PUBLISHED-TTL", duration(REFRESH)),
            content_line("X-WR-TIMEZONE", settings.TIME_ZONE),
            b"",
        ]
        # Dates are floating all-day values; the zone says where "the day" is, for X-WR-TIMEZONE readers.
        first = datetime.date((first_year or now.year) - 1, 1, 1)
        last = datetime.date((last_year or now.year) + 2, 1, 1)
        zone = vtimezone(settings.TIME_ZONE, first, last)
        return b"".join([CRLF.join(head), zone, *events, b"END:VCALENDAR\r\n"])
