"""Workspace fixtures on top of the suite's actors (tests/conftest.py): an ongoing measure, frozen time,
and attachments stored in a temporary directory."""

import datetime

import pytest
import time_machine

from tasks.models import Measure, Task

# 2021-06-15 10:00 in Shanghai: finance_task and science_task are due 2021-12-31 (green).
NOW = datetime.datetime(2021, 6, 15, 2, 0, tzinfo=datetime.UTC)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ongoing_task(plan, finance):
    """持续推进 task of 区金融局, quarterly reports due by the 10th; Q2 2021 report due 2021-07-10."""
    measure = Measure.objects.create(
        plan=plan,
        number="5",
        text="持续开展知识产权质押融资宣传。",
        raw_clause="区金融局负责;持续推进",
        is_ongoing=True,
        position=80,
    )
    return Task.objects.create(
        measure=measure,
        agency=finance,
        role=Task.Role.RESPONSIBLE,
        is_ongoing=True,
        next_report_due=datetime.date(2021, 7, 10),
    )
