"""Data for the report and calendar tests: an ongoing task next to the dated ones of the shared fixtures."""

import datetime

import pytest

from tasks.models import Measure, Task


@pytest.fixture
def ongoing_measure(plan, measure):
    return Measure.objects.create(
        plan=plan,
        section=measure.section,
        number="5",
        text="持续开展知识产权纠纷多元化解工作,定期报送工作进展。",
        raw_deadline="持续推进",
        is_ongoing=True,
        position=80,
    )


@pytest.fixture
def ongoing_task(ongoing_measure, finance):
    return Task.objects.create(
        measure=ongoing_measure,
        agency=finance,
        role=Task.Role.RESPONSIBLE,
        is_ongoing=True,
        next_report_due=datetime.date(2020, 4, 10),
    )
