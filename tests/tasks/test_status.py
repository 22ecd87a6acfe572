import datetime
import itertools

import pytest

from tasks.models import Measure, Plan, Task
from tasks.status import (
    Light,
    light_filters,
    light_for,
    next_period,
    period_by_key,
    period_of,
    previous_period,
)

D = datetime.date


@pytest.mark.parametrize(
    ("day", "cycle", "key", "start", "end", "label"),
    [
        (D(2024, 2, 15), "monthly", "2024-02", D(2024, 2, 1), D(2024, 2, 29), "2024年2月"),
        (D(2024, 5, 1), "quarterly", "2024-Q2", D(2024, 4, 1), D(2024, 6, 30), "2024年第2季度"),
        (D(2024, 12, 31), "quarterly", "2024-Q4", D(2024, 10, 1), D(2024, 12, 31), "2024年第4季度"),
        (D(2024, 7, 1), "half_yearly", "2024-H2", D(2024, 7, 1), D(2024, 12, 31), "2024年下半年"),
        (D(2024, 3, 3), "yearly", "2024", D(2024, 1, 1), D(2024, 12, 31), "2024年度"),
    ],
)
def test_period_of(day, cycle, key, start, end, label):
    period = period_of(day, cycle)
    assert (period.key, period.start, period.end, period.label) == (key, start, end, label)
    assert period_by_key(key, cycle) == period


def test_report_deadline_is_day_n_of_the_following_month_clamped():
    q4 = period_of(D(2024, 11, 1), "quarterly")
    assert q4.report_deadline(10) == D(2025, 1, 10)
    january = period_of(D(2025, 1, 5), "monthly")
    assert january.report_deadline(31) == D(2025, 2, 28)


def test_next_and_previous_periods_cross_years():
    q4 = period_of(D(2024, 11, 1), "quarterly")
    assert next_period(q4, "quarterly").key == "2025-Q1"
    assert previous_period(period_of(D(2025, 1, 1), "monthly"), "monthly").key == "2024-12"


@pytest.mark.parametrize(
    ("status", "attention", "expected"),
    [
        ("done", D(2020, 1, 1), Light.GREY),
        ("in_progress", None, Light.GREEN),
        ("in_progress", D(2024, 6, 9), Light.RED),
        ("not_started", D(2024, 6, 10), Light.YELLOW),
        ("not_started", D(2024, 6, 17), Light.YELLOW),
        ("not_started", D(2024, 6, 18), Light.GREEN),
    ],
)
def test_light_for(status, attention, expected):
    assert light_for(status=status, attention_date=attention, today=D(2024, 6, 10)) == expected


def test_the_counting_filters_say_what_the_light_says(finance):
    """``light_filters`` (the counts) and ``light_expression`` (lists, exports) agree on every kind of task:
    done or open, dated or ongoing, a report inside or past the plan's window, a plan ended or live."""
    today = datetime.date(2024, 6, 15)
    offsets = [None, -30, -1, 0, 3, 7, 8, 60]
    plans = [
        Plan.objects.create(title="至2024年", period_start=2023, period_end=2024),
        Plan.objects.create(title="至2023年", period_start=2022, period_end=2023),  # reports end Jan 2024
        Plan.objects.create(title="已结束", period_start=2023, period_end=2025, is_active=False),
    ]
    cases = itertools.product(plans, ["in_progress", "done"], [False, True], offsets)
    for n, (plan, status, ongoing, offset) in enumerate(cases, start=1):
        day = None if offset is None else today + datetime.timedelta(days=offset)
        measure = Measure.objects.create(plan=plan, number=str(n), text="措施。", position=n)
        Task.objects.create(
            measure=measure,
            agency=finance,
            status=status,
            is_ongoing=ongoing,
            due_date=None if ongoing else day,
            next_report_due=day if ongoing else None,
        )
    expected = dict(Task.objects.with_light(today).values_list("pk", "light"))
    filters = light_filters(today)
    got = {pk: Light.GREEN for pk in expected}
    for light, condition in filters.items():
        for pk in Task.objects.filter(condition).values_list("pk", flat=True):
            assert got[pk] == Light.GREEN, "the filters overlap"
            got[pk] = light
    assert got == expected
    assert set(expected.values()) == set(Light.values)  # every light is exercised
