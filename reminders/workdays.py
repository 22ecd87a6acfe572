"""Chinese working days: the ``Holiday`` table (放假安排) decides; without a row, Monday–Friday work.

The chinesecalendar package only seeds the table (it knows the years up to its release and raises for
later ones), so the sweep never depends on it and never crashes on an uncovered year.
"""

from __future__ import annotations

import datetime

from django.db import models

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


def package_rows() -> list[tuple[datetime.date, bool, str]]:
    """(date, is_working_day, name) for every exception the chinesecalendar package knows."""
    from chinese_calendar import constants

    # Weekend days inside a holiday are listed too: they change nothing and show the whole break.
    rows = [(day, False, PACKAGE_HOLIDAY_NAMES.get(name, name)) for day, name in constants.holidays.items()]
    rows += [(day, True, PACKAGE_HOLIDAY_NAMES.get(name, name)) for day, name in constants.workdays.items()]
    return rows


def load_package_holidays(holiday_model: type[models.Model] | None = None) -> int:
    """Insert the package's 放假安排 into the table; rows already there (e.g. edited by hand) are kept.

    Takes the model so that the data migration can pass its historical model. Returns rows added."""
    if holiday_model is None:
        from .models import Holiday as holiday_model
    existing = set(holiday_model.objects.values_list("date", flat=True))
    new = [
        holiday_model(date=day, is_working_day=working, name=name, source="package")
        for day, working, name in package_rows()
        if day not in existing
    ]
    holiday_model.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return len(new)


class WorkingCalendar:
    """Working-day questions over a date range, answered from one query."""

    def __init__(self, start: datetime.date, end: datetime.date):
        from .models import Holiday

        self.start, self.end = start, end
        self.exceptions: dict[datetime.date, bool] = dict(
            Holiday.objects.filter(date__range=(start, end)).values_list("date", "is_working_day")
        )

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
    from .models import Holiday

    row = Holiday.objects.filter(date=day).values_list("is_working_day", flat=True).first()
    return row if row is not None else day.weekday() < 5


def next_working_day(day: datetime.date, *, inclusive: bool = False) -> datetime.date:
    return calendar_around(day).next_working_day(day, inclusive=inclusive)
