"""Reads about reminders that other pages (the dashboard) call."""

from __future__ import annotations

import datetime

from .workdays import arranged_years

# The State Council publishes next year's 放假安排 in October–December; warn from November on.
WARN_NEXT_YEAR_FROM_MONTH = 11


def needed_years(today: datetime.date) -> list[int]:
    """The years whose 放假安排 the sweep needs now: the current one, and the coming one from November."""
    years = [today.year]
    if today.month >= WARN_NEXT_YEAR_FROM_MONTH:
        years.append(today.year + 1)
    return years


def missing_holiday_years(today: datetime.date) -> list[int]:
    """Years the sweep needs whose 放假安排 is not in the holiday table (the dashboard shows a warning).

    The current year always counts; the coming year from November. Rows presumed from the statutory days
    (推定) do not count. A missing year does not stop the sweep (it presumes the statutory days off, see
    workdays.py), but 调休 working days and the real length of each break would be treated wrongly."""
    years = needed_years(today)
    covered = arranged_years(years)
    return [year for year in years if year not in covered]
