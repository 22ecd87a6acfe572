"""Data for the report and calendar tests: an ongoing task next to the dated ones of the shared fixtures."""

import datetime

import pytest
import time_machine

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


DONGLI_IMPORTED = datetime.datetime(2021, 3, 1, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def dongli(db):
    """What ``make run`` holds: the agency catalogue and the 东丽 seed plan, imported the way setup_demo
    imports seeds, plus progress reports of realistic length on a third of the tasks."""
    from django.conf import settings
    from django.core.management import call_command

    from tasks.models import ProgressUpdate
    from tasks.services.importing import import_seed_files

    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)
    seed = settings.BASE_DIR / "seeds" / "dongli-2020-2021-protection-plan.txt"
    with time_machine.travel(DONGLI_IMPORTED, tick=False):  # the plan was issued at the start of 2021
        list(import_seed_files([seed]))
    plan = Measure.objects.get(plan__jurisdiction="东丽区", number="1").plan
    reports = [
        "已制定工作方案,明确责任分工和时间节点,召开专题推进会议两次。",
        "已完成年度目标任务的80%,下一步将加大宣传力度,持续推进相关工作,确保按期完成。"
        "同时加强与市级部门的沟通对接,及时报送工作进展。",
        "已办结。",
    ]
    tasks = list(Task.objects.filter(measure__plan=plan).order_by("pk"))
    for index, task in enumerate(tasks[::3]):
        ProgressUpdate.objects.create(
            task=task,
            text=reports[index % 3],
            percent=50,
            created_at=DONGLI_IMPORTED + datetime.timedelta(days=40),
        )
    return plan
