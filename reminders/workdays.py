"""Chinese working days: the ``Holiday`` table (放假安排) decides; without a row, Monday–Friday work.

The chinesecalendar package only seeds the table (it knows the years up to its release and raises for
later ones), so the sweep never depends on it and never crashes on an uncovered year.

A year without its 放假安排 (no row from the package or entered by hand) falls back to the statutory days of
the 全国年节及纪念日放假办法 (``statutory_holidays``), marked 推定 (``Holiday.Source.PRESUMED``):

- The rule for "has its 放假安排": at least one row of the year from the package or entered by hand. The lead
  bureau enters the State Council's notice as a whole; presumed rows never count. Warnings
  (``missing_arrangement_years``: the sweep's log, ``send_reminders``, ``load_holidays``, the dashboard) name
  the years the sweep needs that have none.
- Where they live: the sweep and ``load_holidays`` write them as PRESUMED rows into a year that has no row at
  all, so the admin shows what the sweep uses; ``WorkingCalendar`` computes the same days in memory for a
  year without any row (a dry run, the preview: nothing written).
- Once a year has rows, the table is the truth: presumed rows count until replaced. Loading the package
  deletes the presumed rows of every year it covers and inserts its own (rows entered by hand are still
  kept); entering a date by hand replaces the presumed row of that date; presumed rows that the official
  notice does not confirm are deleted (or changed) in the admin.
- 调休 make-up working days cannot be inferred, so the fallback only marks days off.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import logging
from collections.abc import Iterable, Iterator

from django.db import models, transaction

logger = logging.getLogger(__name__)

# chinesecalendar's English holiday names → the names used in the State Council's notices.
PACKAGE_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
ONE_DAY = datetime.timedelta(days=1)
# How far the sweep looks ahead (due-soon reminders, the next working day): a missing year inside this
# window is warned about, e.g. from 2 December on for the coming January.
LOOK_AHEAD = datetime.timedelta(days=30)
PRESUMED = "presumed"  # Holiday.Source.PRESUMED, spelled out for the data migration's historical model
MAKE_UP_SUFFIX = "(补假)"


def package_rows() -> list[tuple[datetime.date, bool, str]]:
    """(date, is_working_day, name) for every exception the chinesecalendar package knows."""
    from chinese_calendar import constants

    # Weekend days inside a holiday are listed too: they change nothing and show the whole break.
    rows = [(day, False, PACKAGE_HOLIDAY_NAMES.get(name, name)) for day, name in constants.holidays.items()]
    rows += [(day, True, PACKAGE_HOLIDAY_NAMES.get(name, name)) for day, name in constants.workdays.items()]
    return rows


def load_package_holidays(holiday_model: type[models.Model] | None = None) -> int:
    """Insert the package's 放假安排 into the table. Every year the package covers replaces its presumed rows
    (推定); other rows already there (e.g. entered or edited by hand) are kept.

    Takes the model so that the data migration can pass its historical model. Returns rows added."""
    return load_package_holidays_counted(holiday_model)[0]


def load_package_holidays_counted(holiday_model: type[models.Model] | None = None) -> tuple[int, int]:
    """``load_package_holidays`` returning (rows added, presumed rows replaced)."""
    if holiday_model is None:
        from .models import Holiday as holiday_model
    rows = package_rows()
    years = {day.year for day, _working, _name in rows}
    with transaction.atomic():
        replaced, _ = holiday_model.objects.filter(source=PRESUMED, date__year__in=years).delete()
        existing = set(holiday_model.objects.filter(date__year__in=years).values_list("date", flat=True))
        new = [
            holiday_model(date=day, is_working_day=working, name=name, source="package")
            for day, working, name in rows
            if day not in existing
        ]
        holiday_model.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return len(new), replaced


# ---------------------------------------------------------------------------------------------------------
# The statutory days, for a year without its 放假安排


@functools.lru_cache(maxsize=32)  # lunar-python takes ~15 ms a year; the answer never changes
def statutory_holidays(year: int) -> tuple[tuple[datetime.date, str], ...]:
    """(date, name) of the days off the 全国年节及纪念日放假办法 fixes for ``year``, as in force from
    1 January 2025, with the 补假 its article 6 requires. Sorted by date.

    Source: 国务院令第795号, 国务院关于修改《全国年节及纪念日放假办法》的决定 (10 November 2024, in force
    1 January 2025; published on www.gov.cn), as reported by Xinhua on 12 November 2024
    (http://en.people.cn/n3/2024/1113/c90000-20240871.html: 春节 from three to four days with 除夕 added,
    劳动节 from one to two days with 2 May added). Article 2 (全体公民放假的节日) as revised:
    元旦 1 day (1 January); 春节 4 days (农历除夕、正月初一至初三); 清明节 1 day (农历清明当日);
    劳动节 2 days (1–2 May); 端午节 1 day (农历端午当日); 中秋节 1 day (农历中秋当日);
    国庆节 3 days (1–3 October). Article 6: a day off that falls on a Saturday or Sunday is made up on a
    working day (补假) — presumed here to be the first weekday after the festival that is not already off,
    as the State Council's notices do. Which weekends become 调休 working days is decided each year by the
    notice and cannot be presumed.
    """
    from lunar_python import Lunar

    def solar(lunar_year: int, month: int, day: int) -> datetime.date:
        value = Lunar.fromYmd(lunar_year, month, day).getSolar()
        return datetime.date(value.getYear(), value.getMonth(), value.getDay())

    new_year = solar(year, 1, 1)  # 正月初一; 除夕 is the day before whether 腊月 has 29 or 30 days
    qingming = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]  # the solar term in April of ``year``
    festivals: list[tuple[str, list[datetime.date]]] = [
        ("元旦", [datetime.date(year, 1, 1)]),
        ("春节", [new_year - ONE_DAY + datetime.timedelta(days=n) for n in range(4)]),
        ("清明节", [datetime.date(qingming.getYear(), qingming.getMonth(), qingming.getDay())]),
        ("劳动节", [datetime.date(year, 5, 1), datetime.date(year, 5, 2)]),
        ("端午节", [solar(year, 5, 5)]),
        ("中秋节", [solar(year, 8, 15)]),
        ("国庆节", [datetime.date(year, 10, n) for n in (1, 2, 3)]),
    ]
    days: dict[datetime.date, str] = {}
    owed: list[tuple[str, datetime.date]] = []  # (festival, its last day) for each day not taken as a weekday
    for name, dates in festivals:
        for day in dates:
            if day.weekday() >= 5 or day in days:  # a weekend, or shared with another festival (中秋 = 国庆)
                owed.append((name, dates[-1]))
            days[day] = f"{days[day]}、{name}" if day in days else name
    for name, last in owed:
        candidate = last + ONE_DAY
        while candidate.weekday() >= 5 or candidate in days:
            candidate += ONE_DAY
        days[candidate] = name + MAKE_UP_SUFFIX
    return tuple(sorted(days.items()))


def arranged_years(years: Iterable[int]) -> set[int]:
    """Those of ``years`` that have their 放假安排: a row from the package or entered by hand."""
    from .models import Holiday

    years = sorted(set(years))
    rows = Holiday.objects.filter(date__year__in=years).exclude(source=PRESUMED)
    return {first.year for first in rows.dates("date", "year")}


def years_between(start: datetime.date, end: datetime.date) -> list[int]:
    return list(range(start.year, end.year + 1))


def missing_arrangement_years(day: datetime.date, until: datetime.date | None = None) -> list[int]:
    """Years from ``day`` to ``until`` (default: the sweep's look-ahead) without their 放假安排."""
    years = years_between(day, until or day + LOOK_AHEAD)
    arranged = arranged_years(years)
    return [year for year in years if year not in arranged]


def missing_arrangement_message(year: int) -> str:
    """What the lead bureau reads in the command's output and the worker's log."""
    return (
        f"警告:系统中没有 {year} 年的放假安排(国务院办公厅节假日安排通知)。{year} 年暂按《全国年节及"
        "纪念日放假办法》推定法定节日放假(元旦、春节、清明节、劳动节、端午节、中秋节、国庆节及周末补假,"
        "来源标为“推定”),调休上班日无法推定(周末一律按休息日计算),提醒日期可能与实际安排不符。"
        "请牵头单位在管理后台“放假安排”中录入该年的放假和调休上班日期;"
        "或升级 chinesecalendar 后运行 manage.py load_holidays(推定记录将被替换)。"
    )


_quiet = contextvars.ContextVar("quiet_missing_arrangement_log", default=False)


@contextlib.contextmanager
def missing_arrangements_reported() -> Iterator[None]:
    """For a caller that shows ``missing_arrangement_message`` itself (the commands): the sweep inside does
    not log it a second time to the same terminal."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def warn_missing_arrangements(day: datetime.date) -> list[int]:
    """Log a warning for each year of the sweep's window without its 放假安排; returns those years."""
    years = missing_arrangement_years(day)
    if not _quiet.get():
        for year in years:
            logger.warning("reminder sweep %s: %s", day, missing_arrangement_message(year))
    return years


def write_presumed_holidays(years: Iterable[int]) -> int:
    """Write the statutory days of each year that has no row at all as PRESUMED rows (the admin shows them,
    labelled 推定). A year with any row is left alone: the table is its truth. Returns rows written."""
    from .models import Holiday

    years = sorted(set(years))
    occupied = {first.year for first in Holiday.objects.filter(date__year__in=years).dates("date", "year")}
    new = [
        Holiday(date=day, name=name, is_working_day=False, source=PRESUMED)
        for year in years
        if year not in occupied
        for day, name in statutory_holidays(year)
    ]
    # A concurrent sweep may write the same rows: the unique date makes the second insert a no-op.
    Holiday.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        written = sorted({row.date.year for row in new})
        logger.info("presumed statutory holidays written for %s", ", ".join(map(str, written)))
    return len(new)


# ---------------------------------------------------------------------------------------------------------
# Questions the sweep and the pages ask


class WorkingCalendar:
    """Working-day questions over a date range, answered from one query. A year without any row in the
    table gets the statutory days in memory (``presumed``), as ``write_presumed_holidays`` would write."""

    def __init__(self, start: datetime.date, end: datetime.date):
        from .models import Holiday

        self.start, self.end = start, end
        years = years_between(start, end)
        # Whole years: whether a year has any row decides the fallback (a few dozen rows a year).
        rows = Holiday.objects.filter(date__year__in=years).values_list(
            "date", "is_working_day", "source", "name"
        )
        self.exceptions: dict[datetime.date, bool] = {}
        # Days off taken from the presumption (a PRESUMED row, or computed here): name of the festival.
        self.presumed: dict[datetime.date, str] = {}
        occupied: set[int] = set()
        for day, working, source, name in rows:
            occupied.add(day.year)
            if start <= day <= end:
                self.exceptions[day] = working
                if source == PRESUMED and not working:
                    self.presumed[day] = name
        for year in years:
            if year not in occupied:
                for day, name in statutory_holidays(year):
                    if start <= day <= end:
                        self.exceptions[day] = False
                        self.presumed[day] = name

    def is_working_day(self, day: datetime.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def next_working_day(self, day: datetime.date, *, inclusive: bool = False) -> datetime.date:
        """The first working day after ``day`` (or ``day`` itself when ``inclusive`` and it is one)."""
        candidate = day if inclusive else day + ONE_DAY
        while not self.is_working_day(candidate):
            candidate += ONE_DAY
            if candidate > self.end:  # beyond what we loaded: fall back to Monday–Friday
                while candidate.weekday() >= 5:
                    candidate += ONE_DAY
                return candidate
        return candidate


def calendar_around(day: datetime.date) -> WorkingCalendar:
    # The longest Chinese holiday with its weekends is about ten days; a month either side is plenty.
    return WorkingCalendar(day - datetime.timedelta(days=31), day + datetime.timedelta(days=62))


def is_working_day(day: datetime.date) -> bool:
    return WorkingCalendar(day, day).is_working_day(day)


def next_working_day(day: datetime.date, *, inclusive: bool = False) -> datetime.date:
    return calendar_around(day).next_working_day(day, inclusive=inclusive)
