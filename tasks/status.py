"""Task status lights and reporting periods: computed here, used by pages, emails and exports alike.

A dated task is judged by its due date. An ongoing task (持续推进) is judged by ``next_report_due``: the
deadline of the earliest reporting period it has not reported on yet (day N of the following period, per
the plan's reporting cycle). Both collapse into one "attention date" so a list, a digest and a spreadsheet
can compute the light in the database with one expression.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

YELLOW_DAYS = 7  # "due soon": within a week


class Light(models.TextChoices):
    RED = "red", _("红灯")
    YELLOW = "yellow", _("黄灯")
    GREEN = "green", _("绿灯")
    GREY = "grey", _("已办结")


LIGHT_ORDER = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.GREY: 3}

# What each light means, in words (a colour alone says nothing to a colour-blind reader or on a grey printout),
# and the shape drawn for it: a warning triangle, a diamond, a circle, a square.
LIGHT_MEANINGS = {
    Light.RED: _("已逾期"),
    Light.YELLOW: _("即将到期"),
    Light.GREEN: _("正常"),
    Light.GREY: _("已办结"),
}
LIGHT_SHAPES = {Light.RED: "triangle", Light.YELLOW: "diamond", Light.GREEN: "circle", Light.GREY: "square"}


@dataclass(frozen=True)
class Period:
    """One reporting period of an ongoing task, e.g. 2024-Q1."""

    key: str
    start: datetime.date
    end: datetime.date
    label: str

    def report_deadline(self, due_day: int) -> datetime.date:
        """Day ``due_day`` of the month after the period ends (clamped to that month's length)."""
        first_next = self.end + datetime.timedelta(days=1)
        last = calendar.monthrange(first_next.year, first_next.month)[1]
        return first_next.replace(day=min(max(due_day, 1), last))


def period_of(day: datetime.date, cycle: str) -> Period:
    """The reporting period containing ``day`` for a plan's cycle (monthly, quarterly, half_yearly, yearly)."""
    year = day.year
    if cycle == "monthly":
        last = calendar.monthrange(year, day.month)[1]
        return Period(
            f"{year}-{day.month:02d}",
            day.replace(day=1),
            day.replace(day=last),
            f"{year}年{day.month}月",
        )
    if cycle == "half_yearly":
        half = 1 if day.month <= 6 else 2
        start = datetime.date(year, 1 if half == 1 else 7, 1)
        end = datetime.date(year, 6, 30) if half == 1 else datetime.date(year, 12, 31)
        return Period(f"{year}-H{half}", start, end, f"{year}年{'上' if half == 1 else '下'}半年")
    if cycle == "yearly":
        return Period(str(year), datetime.date(year, 1, 1), datetime.date(year, 12, 31), f"{year}年度")
    quarter = (day.month - 1) // 3 + 1
    start = datetime.date(year, 3 * quarter - 2, 1)
    end_month = 3 * quarter
    end = datetime.date(year, end_month, calendar.monthrange(year, end_month)[1])
    return Period(f"{year}-Q{quarter}", start, end, f"{year}年第{quarter}季度")


def next_period(period: Period, cycle: str) -> Period:
    return period_of(period.end + datetime.timedelta(days=1), cycle)


def previous_period(period: Period, cycle: str) -> Period:
    return period_of(period.start - datetime.timedelta(days=1), cycle)


def period_by_key(key: str, cycle: str) -> Period:
    """Inverse of ``Period.key`` for the given cycle."""
    if cycle == "monthly":
        year, month = key.split("-")
        return period_of(datetime.date(int(year), int(month), 1), cycle)
    if cycle == "half_yearly":
        year, half = key.split("-H")
        return period_of(datetime.date(int(year), 1 if half == "1" else 7, 1), cycle)
    if cycle == "yearly":
        return period_of(datetime.date(int(key), 1, 1), cycle)
    year, quarter = key.split("-Q")
    return period_of(datetime.date(int(year), 3 * int(quarter) - 2, 1), cycle)


# "Current", "overdue" and "next report due" -------------------------------------------------------------
#
# These are the one definition every page, export, email and calendar reads (through TaskQuerySet.current(),
# .overdue() and .with_light(), or the in-memory twins below):
# - current: the task's plan is live (执行中) and its measure is still in the plan;
# - next report due: an open ongoing task owes the report stored in ``next_report_due`` only while its plan
#   is live and the deadline falls inside the plan's reporting window — up to the report on the plan's last
#   period (due in January after ``period_end``), or up to ``reports_until`` when the lead bureau extends it;
# - overdue: not done, and the attention date (due date, or next report due) has passed.


def current_q() -> Q:
    """Tasks of live plans whose measure was not removed by a re-import."""
    return Q(measure__plan__is_active=True, measure__is_removed=False)


def last_report_due(plan) -> datetime.date | None:
    """The deadline of the last periodic report a plan asks for (None: no end). Every cycle's last period of
    a year ends on 31 December, so the report on the plan's last period is due on day N of January."""
    if plan.reports_until:
        return plan.reports_until
    if plan.period_end:
        return datetime.date(plan.period_end + 1, 1, min(max(plan.report_due_day, 1), 31))
    return None


def _report_in_window() -> Q:
    """SQL twin of ``report_due_for``: the stored deadline is not after the plan's last report deadline
    (``Plan.last_report_due``, derived from ``last_report_due`` on save; NULL: no end)."""
    plan = "measure__plan__"
    return Q(**{f"{plan}is_active": True, "next_report_due__isnull": False}) & (
        Q(**{f"{plan}last_report_due__isnull": True})
        | Q(**{"next_report_due__lte": F(f"{plan}last_report_due")})
    )


def report_due_expression() -> Case:
    """SQL for the report deadline an open ongoing task still owes (NULL: none, done, or not ongoing)."""
    return Case(
        When(Q(is_ongoing=True) & ~Q(status="done") & _report_in_window(), then=F("next_report_due")),
        default=Value(None),
        output_field=models.DateField(),
    )


def report_due_for(task) -> datetime.date | None:
    """The report deadline an ongoing task in memory still owes (same rule as ``report_due_expression``)."""
    if not task.is_ongoing or task.next_report_due is None or task.status == "done":
        return None
    plan = task.measure.plan
    if not plan.is_active:
        return None
    last = last_report_due(plan)
    return task.next_report_due if last is None or task.next_report_due <= last else None


def attention_date_expression() -> Case:
    """SQL for the date a task must be acted on by: due date, or the report deadline it still owes."""
    return Case(
        When(is_ongoing=True, then=report_due_expression()),
        default=F("due_date"),
        output_field=models.DateField(),
    )


def attention_date_for(task) -> datetime.date | None:
    return report_due_for(task) if task.is_ongoing else task.due_date


def overdue_days(*, status: str, attention_date: datetime.date | None, today: datetime.date) -> int:
    """Days past the attention date of an open task (0 when not overdue): the number behind "逾期 N 天"."""
    if status == "done" or attention_date is None or attention_date >= today:
        return 0
    return (today - attention_date).days


def light_expression(today: datetime.date, yellow_days: int = YELLOW_DAYS) -> Case:
    """SQL for the light: grey when done, red past the attention date, yellow within ``yellow_days``."""
    soon = today + datetime.timedelta(days=yellow_days)
    return Case(
        When(status="done", then=Value(Light.GREY)),
        When(Q(attention_date__lt=today), then=Value(Light.RED)),
        When(Q(attention_date__lte=soon), then=Value(Light.YELLOW)),
        default=Value(Light.GREEN),
        output_field=models.CharField(),
    )


def attention_q(**lookups) -> Q:
    """Tasks whose attention date matches ``lookups`` (e.g. ``lt=today``), said in plain columns: the due date
    of a dated task, the report still owed by an ongoing one (``report_due_expression``'s window). A task
    without an attention date matches nothing. Counting with these filters costs a comparison or two per
    task where the nested CASE of ``attention_date_expression`` costs one evaluation per reference."""
    dated = Q(is_ongoing=False, **{f"due_date__{op}": value for op, value in lookups.items()})
    ongoing = Q(is_ongoing=True, **{f"next_report_due__{op}": value for op, value in lookups.items()})
    return dated | (ongoing & _report_in_window())


def light_filters(today: datetime.date, yellow_days: int = YELLOW_DAYS) -> dict[str, Q]:
    """``light_expression`` as one filter per light, for counting (``Count("pk", filter=...)``). The four are a
    partition of the tasks: grey = done, red = open and past the attention date, yellow = open and due within
    ``yellow_days``, green = every other task (callers count it as the rest)."""
    open_ = ~Q(status="done")
    soon = today + datetime.timedelta(days=yellow_days)
    return {
        Light.RED: open_ & attention_q(lt=today),
        Light.YELLOW: open_ & attention_q(gte=today, lte=soon),
        Light.GREY: Q(status="done"),
    }


def light_text(
    *, light: str, attention_date: datetime.date | None, is_ongoing: bool, today: datetime.date
) -> str:
    """The words shown next to a task's light: 已逾期 N 天, N 天内到期 (待报送 for an ongoing task's report),
    正常, 已办结."""
    light = Light(light)
    if light == Light.RED and attention_date is not None:
        days = (today - attention_date).days
        return ngettext("已逾期 %(n)d 天", "已逾期 %(n)d 天", days) % {"n": days}
    if light == Light.YELLOW and attention_date is not None:
        if is_ongoing:
            return str(_("待报送"))
        days = (attention_date - today).days
        if days <= 0:
            return str(_("今天到期"))
        return ngettext("%(n)d 天内到期", "%(n)d 天内到期", days) % {"n": days}
    return str(LIGHT_MEANINGS[light])


def light_for(
    *,
    status: str,
    attention_date: datetime.date | None,
    today: datetime.date,
    yellow_days: int = YELLOW_DAYS,
) -> Light:
    """The same rule as ``light_expression``, for a task already in memory."""
    if status == "done":
        return Light.GREY
    if attention_date is None:
        return Light.GREEN
    if attention_date < today:
        return Light.RED
    if attention_date <= today + datetime.timedelta(days=yellow_days):
        return Light.YELLOW
    return Light.GREEN
