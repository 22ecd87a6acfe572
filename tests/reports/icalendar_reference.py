"""The feed builder as it was before reports/calendar.py serialised feeds directly: built with the icalendar
package, one Event object per task. Kept (unchanged apart from this note) as the reference the tests compare
the direct serialiser against, event by event, on the same data. Only the constants and the recurrence rule
(not serialisation) come from reports/calendar.py.

- A dated task is an all-day VEVENT on its due date (DTEND is exclusive, so it ends the next day); calendar
  apps ignore VTODO in subscriptions, hence events.
- An ongoing task (持续推进) is one recurring VEVENT on its report deadlines: day ``report_due_day`` of the month
  after each reporting period (tasks/status.py), up to the plan's last report (``last_report_due``).
- UIDs depend only on the task, so a changed due date moves the event instead of duplicating it; SEQUENCE
  counts saves of the task and its measure, LAST-MODIFIED is the later ``updated_at``.
- Open tasks carry two alarms, at 09:00 seven days and one day before; done tasks stay, marked 【已办结】,
  without alarms (an ongoing task's series stops at its completion).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, Timezone, vDuration, vRecur

from ipplan.lib.emails import task_url
from reports.calendar import (  # the constants and the recurrence rule are not serialisation: shared
    ALARM_TRIGGERS,
    PRODID,
    REFRESH,
    SUMMARY_MEASURE_CHARS,
    report_deadlines_rule,
)
from tasks.models import Task


def task_uid(task: Task) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "ipplan"
    return f"ipplan-task-{task.pk}@{host}"


def _short(text: str) -> str:
    head = text.split("。", 1)[0].strip()
    return head if len(head) <= SUMMARY_MEASURE_CHARS else head[:SUMMARY_MEASURE_CHARS] + "…"


def task_summary(task: Task, *, with_agency: bool = False) -> str:
    """``【截止】东丽区 2. 建立健全重大投融资活动…``; plan feeds add the agency, since one measure has several."""
    if task.status == Task.Status.DONE:
        tag = _("【已办结】")
    elif task.is_ongoing:
        tag = _("【报送】")
    else:
        tag = _("【截止】")
    measure = task.measure
    where = measure.plan.jurisdiction
    summary = f"{tag}{where + ' ' if where else ''}{measure.number}. {_short(measure.text)}"
    if with_agency:
        summary += f" · {task.agency.display_name}"
    return summary


def _description(task: Task) -> str:
    measure = task.measure
    lines = [measure.text.strip(), ""]
    lines.append(_("计划:%(plan)s") % {"plan": measure.plan.title})
    lines.append(
        _("责任单位:%(agency)s(%(role)s)") % {"agency": task.agency.name, "role": task.get_role_display()}
    )
    if task.is_ongoing:
        plan = measure.plan
        lines.append(
            _("持续推进:%(cycle)s报送,下一周期第%(day)d日前报送上一周期进展")
            % {"cycle": plan.get_reporting_cycle_display(), "day": plan.report_due_day}
        )
    lines.append(_("状态:%(status)s") % {"status": task.get_status_display()})
    lines.append(_("任务页面:%(url)s") % {"url": task_url(task)})
    return "\n".join(lines)


def task_event(task: Task, *, now: datetime.datetime, with_agency: bool = False) -> Event | None:
    """The VEVENT for a task annotated by ``selectors.with_revision``; None when it has no date to show."""
    done = task.status == Task.Status.DONE
    event = Event()
    event.add("uid", task_uid(task))
    event.add("dtstamp", now)
    event.add("created", task.created_at)
    event.add("last-modified", getattr(task, "modified_at", None) or task.updated_at)
    # The annotation may be 0 (rows created without history); only a task that was not annotated is counted.
    revision = getattr(task, "revision", None)
    event.add("sequence", revision if revision is not None else task.history.count())
    summary = task_summary(task, with_agency=with_agency)
    event.add("summary", summary)
    event.add("description", _description(task))
    event.add("url", task_url(task))
    event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    event.add("categories", [_("计划督办")])

    if task.is_ongoing:
        plan = task.measure.plan
        first = (
            datetime.date(plan.period_start, 1, 1)
            if plan.period_start
            else timezone.localdate(task.created_at)
        )
        start, rule = report_deadlines_rule(plan, first)
        if done and task.completed_at:
            finished = timezone.localdate(task.completed_at)
            rule["UNTIL"] = min(rule.get("UNTIL", finished), finished)
        if "UNTIL" in rule and rule["UNTIL"] < start:
            return None
        event.add("rrule", vRecur(rule))
    elif task.due_date:
        start = task.due_date
    else:
        return None
    event.add("dtstart", start)
    event.add("dtend", start + datetime.timedelta(days=1))
    event.add("status", "CONFIRMED")

    if not done:
        for trigger in ALARM_TRIGGERS:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            alarm.add("trigger", trigger)
            event.add_component(alarm)
    return event


def build_calendar(
    tasks: Iterable[Task], *, name: str, description: str = "", with_agency: bool = False
) -> bytes:
    """The whole VCALENDAR as bytes (UTF-8, CRLF, lines folded at 75 octets by icalendar)."""
    with translation.override(settings.LANGUAGE_CODE):
        now = timezone.now()
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", name)
        calendar.add("name", name)
        if description:
            calendar.add("x-wr-caldesc", description)
        calendar.add("x-wr-timezone", settings.TIME_ZONE)
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
        years = []
        for task in tasks:
            event = task_event(task, now=now, with_agency=with_agency)
            if event is not None:
                calendar.add_component(event)
                years.append(event.decoded("dtstart").year)
        # Dates are floating all-day values; the zone says where "the day" is, for X-WR-TIMEZONE readers.
        first = datetime.date(min(years, default=now.year) - 1, 1, 1)
        last = datetime.date(max(years, default=now.year) + 2, 1, 1)
        calendar.subcomponents.insert(
            0, Timezone.from_tzid(settings.TIME_ZONE, first_date=first, last_date=last)
        )
        return calendar.to_ical()
