"""One data set read through every surface — task list, Excel export, dashboard, 催办, the reminder sweep,
the calendar feed, the workbook and the task page — must give the same "current", "overdue" and
"next report due" (tasks/status.py). Runs on SQLite and PostgreSQL alike.

Seen from Tuesday 2021-06-15:
- 执行计划 (2021–2022, live): dated tasks overdue, due later, done, awaiting 办结 review; an ongoing task with a
  missed report and one with a report due next month; a measure removed by a re-import (its overdue task
  counts nowhere).
- 期满计划 (2019–2020, still live): its periodic reports are due until 2021-01-10 only. One ongoing task
  missed that last report (overdue); one already reported it (stored next deadline 2021-04-10: nothing is
  asked any more); one was set to 已办结 in the admin (the completion time is recorded, its series stops).
- 已结束计划 (closed): an overdue task counts nowhere.
"""

from __future__ import annotations

import datetime
import io

import pytest
import recurring_ical_events
import time_machine
from django.contrib.admin.sites import site
from django.urls import reverse
from icalendar import Calendar
from openpyxl import load_workbook

from reminders.models import ReminderLogTask
from reminders.services import compute_reminders
from reports.services import plan_feed
from tasks.models import Measure, Plan, Task

TODAY = datetime.date(2021, 6, 15)
NOW = datetime.datetime(2021, 6, 15, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai
Status = Task.Status


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(frozen, lead, alice, bob, finance, science, market, client):
    live = Plan.objects.create(title="执行计划", jurisdiction="东丽区", period_start=2021, period_end=2022)
    ended = Plan.objects.create(title="期满计划", jurisdiction="东丽区", period_start=2019, period_end=2020)
    closed = Plan.objects.create(
        title="已结束计划", jurisdiction="东丽区", period_start=2021, period_end=2022, is_active=False
    )

    def task(plan, number, agency, *, due=None, report_due=None, status=Status.IN_PROGRESS, **fields):
        measure, _created = Measure.objects.get_or_create(
            plan=plan,
            number=number,
            defaults={"text": f"第{number}项措施:开展知识产权保护工作。", "position": int(number[-1])},
        )
        return Task.objects.create(
            measure=measure,
            agency=agency,
            due_date=datetime.date.fromisoformat(due) if due else None,
            is_ongoing=report_due is not None,
            next_report_due=datetime.date.fromisoformat(report_due) if report_due else None,
            status=status,
            **fields,
        )

    tasks = {
        "finance_overdue": task(live, "1", finance, due="2021-06-01", role=Task.Role.LEAD),
        "science_overdue": task(live, "1", science, due="2021-06-01", role=Task.Role.SUPPORT),
        "finance_later": task(live, "2", finance, due="2021-12-31"),
        "market_overdue": task(live, "2", market, due="2021-06-10"),  # no liaison
        "finance_report_missed": task(live, "3", finance, report_due="2021-04-10"),
        "science_report_due": task(live, "3", science, report_due="2021-07-10"),
        "finance_done": task(live, "4", finance, due="2021-05-01", status=Status.DONE),
        "science_removed": task(live, "5", science, due="2021-05-01"),
        "science_requested": task(live, "6", science, due="2021-06-01", status=Status.COMPLETION_REQUESTED),
        "finance_reported_last": task(ended, "1", finance, report_due="2021-04-10"),
        "science_last_missed": task(ended, "2", science, report_due="2021-01-10"),
        "finance_finished_in_admin": task(ended, "3", finance, report_due="2021-01-10"),
        "finance_closed_plan": task(closed, "1", finance, due="2021-05-01"),
    }
    Measure.objects.filter(pk=tasks["science_removed"].measure_id).update(is_removed=True)

    # 已办结 set in the admin goes through the status service: the completion time is recorded.
    client.force_login(lead)
    finished = tasks["finance_finished_in_admin"]
    admin_url = reverse("admin:tasks_task_change", args=[finished.pk])
    form = client.get(admin_url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    data.update({"status": Status.DONE, "_save": "1"})
    for _prefix, count in _inline_management(client.get(admin_url)):
        data.update(count)
    response = client.post(admin_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    finished.refresh_from_db()
    assert finished.status == Status.DONE and finished.completed_at == NOW
    assert finished.history.latest().history_user == lead
    return tasks


def _inline_management(response):
    """The inline formsets' management forms of an admin change page, as POST data."""
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        prefix = formset.formset.prefix
        yield (
            prefix,
            {
                f"{prefix}-TOTAL_FORMS": str(management["TOTAL_FORMS"].value()),
                f"{prefix}-INITIAL_FORMS": str(management["INITIAL_FORMS"].value()),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
            | {
                f"{prefix}-{index}-id": str(form.instance.pk)
                for index, form in enumerate(formset.formset.initial_forms)
            }
            | {
                f"{prefix}-{index}-{formset.formset.fk.name}": str(formset.formset.instance.pk)
                for index, _form in enumerate(formset.formset.initial_forms)
            },
        )


CURRENT = {
    "finance_overdue",
    "science_overdue",
    "finance_later",
    "market_overdue",
    "finance_report_missed",
    "science_report_due",
    "finance_done",
    "science_requested",
    "finance_reported_last",
    "science_last_missed",
    "finance_finished_in_admin",
}
OVERDUE = {
    "finance_overdue",
    "science_overdue",
    "market_overdue",
    "finance_report_missed",
    "science_requested",
    "science_last_missed",
}
REPORT_DUE = {  # what the task page shows as 下次报送截止 (and the calendar must contain)
    "finance_report_missed": datetime.date(2021, 4, 10),
    "science_report_due": datetime.date(2021, 7, 10),
    "science_last_missed": datetime.date(2021, 1, 10),
    "finance_reported_last": None,  # the plan's last report was made: nothing more is asked
    "finance_finished_in_admin": None,
}


def ids(world, names) -> set[int]:
    return {world[name].pk for name in names}


def label(task: Task) -> tuple[str, str, str]:
    return (task.measure.plan.title, task.measure.number, task.agency.name)


def labels(world, names) -> set[tuple[str, str, str]]:
    return {label(world[name]) for name in names}


def test_the_one_definition(world):
    assert set(Task.objects.current().values_list("pk", flat=True)) == ids(world, CURRENT)
    assert set(Task.objects.current().overdue(TODAY).values_list("pk", flat=True)) == ids(world, OVERDUE)
    annotated = {t.pk: t for t in Task.objects.current().with_light(TODAY)}
    for name, due in REPORT_DUE.items():
        task = world[name]
        assert annotated[task.pk].report_due == task.get_report_due() == due, name
    for name in CURRENT:
        task = annotated[world[name].pk]
        assert (task.light == "red") == (name in OVERDUE) == task.is_overdue(TODAY), name


def test_the_task_list_and_its_filters(client, lead, world):
    client.force_login(lead)
    # 全部: every current task; the default (未办结): the current tasks not done.
    page = client.get(reverse("workspace:task_list"), {"scope": "all"})
    assert page.context["page"].paginator.count == len(CURRENT)
    assert dict((value, n) for value, _label, n in page.context["counts"].by_light)["red"] == len(OVERDUE)
    default = client.get(reverse("workspace:task_list"))
    assert {t.pk for t in default.context["page"].object_list} == {
        world[name].pk for name in CURRENT if world[name].status != Task.Status.DONE
    }
    assert dict((value, n) for value, _label, n in default.context["counts"].by_light)["red"] == len(OVERDUE)
    overdue = client.get(reverse("workspace:task_list"), {"overdue": "on", "page": "1"})
    assert {t.pk for t in overdue.context["page"].object_list} == ids(world, OVERDUE)
    red = client.get(reverse("workspace:task_list"), {"light": "red"})
    assert {t.pk for t in red.context["page"].object_list} == ids(world, OVERDUE)


def rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_excel_export_and_the_workbook(client, lead, world):
    client.force_login(lead)
    response = client.get(reverse("reports:progress_report"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    detail = rows(workbook["任务明细"])
    header, body = detail[0], detail[1:]
    plan_col, number_col, agency_col = header.index("计划"), header.index("序号"), header.index("单位")
    assert {(r[plan_col], r[number_col], r[agency_col]) for r in body} == labels(world, CURRENT)
    next_col = next(i for i, h in enumerate(header) if h and "下次报送" in h)
    shown = {(r[plan_col], r[number_col], r[agency_col]): r[next_col] for r in body}
    for name, due in REPORT_DUE.items():
        cell = shown[label(world[name])]
        assert (cell.date() if cell else None) == due, name

    overdue = rows(workbook["逾期清单"])
    o_header, o_body = overdue[0], overdue[1:]
    o_agency, o_plan, o_number = o_header.index("单位"), o_header.index("计划"), o_header.index("序号")
    assert {(r[o_plan], r[o_number], r[o_agency]) for r in o_body} == labels(world, OVERDUE)
    days = o_header.index("逾期天数")
    by_label = {label(world[name]): world[name] for name in OVERDUE}
    for row in o_body:
        assert row[days] == by_label[(row[o_plan], row[o_number], row[o_agency])].overdue_days(TODAY)

    summary = {r[0]: r[1] for r in rows(workbook["汇总"]) if r and r[0]}
    assert summary["任务总数"] == len(CURRENT) and summary["逾期未完成"] == len(OVERDUE)
    summary_rows = rows(workbook["汇总"])
    start = next(i for i, r in enumerate(summary_rows) if r[:4] == ["单位", "任务数", "已办结", "逾期"])
    per_agency = {r[0]: r[3] for r in summary_rows[start + 1 :] if r and r[0]}
    assert per_agency == {"区金融局": 2, "区科技局": 3, "区市场监管局": 1}

    # "Export what I see": the overdue filter exports exactly the overdue tasks.
    filtered = client.get(reverse("reports:progress_report"), {"overdue": "on"})
    filtered_rows = rows(load_workbook(io.BytesIO(b"".join(filtered.streaming_content)))["任务明细"])[1:]
    assert {(r[plan_col], r[number_col], r[agency_col]) for r in filtered_rows} == labels(world, OVERDUE)


def test_the_dashboard_and_the_urge_button(client, lead, world):
    client.force_login(lead)
    page = client.get(reverse("workspace:dashboard"))
    board = page.context["board"]
    assert board.counts.total == len(CURRENT)
    assert sum(row.overdue for row in board.agencies) == page.context["overdue_count"] == len(OVERDUE)
    assert f"催办全部逾期任务({len(OVERDUE)} 项)" in page.text

    response = client.post(reverse("reminders:urge"), {"scope": "overdue", "confirm": "yes"})
    assert response.status_code == 302
    urged = set(ReminderLogTask.objects.filter(reason="urged").values_list("task_id", flat=True))
    assert urged == ids(world, OVERDUE)


def test_the_reminder_sweep_and_its_preview(client, lead, world):
    late = {ReminderLogTask.Reason.OVERDUE, ReminderLogTask.Reason.REPORT_MISSING}
    emails = compute_reminders(TODAY)
    listed = {
        line.pk for email in emails if email.kind == "digest" for line in email.lines if line.reason in late
    }
    assert listed == ids(world, OVERDUE)
    mentioned = {line.pk for email in emails for line in email.lines}
    assert world["finance_reported_last"].pk not in mentioned  # no report is asked once the window is over
    client.force_login(lead)
    preview = client.get(reverse("reminders:preview"), {"date": TODAY.isoformat()})
    assert preview.status_code == 200
    previewed = {
        line.pk
        for email in preview.context["emails"]
        if email.kind == "digest"
        for line in email.lines
        if line.reason in late
    }
    assert previewed == listed


def feed(client, user, plan) -> Calendar:
    response = client.get(reverse("reports:calendar_feed", args=[plan_feed(user=user, plan=plan).token]))
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def test_the_calendar_agrees_with_the_task_page(client, lead, world):
    client.force_login(lead)
    uid_of = {name: f"ipplan-task-{world[name].pk}@" for name in CURRENT}
    events = {}
    for plan in Plan.objects.all():
        for event in feed(client, lead, plan).walk("VEVENT"):
            events[str(event["UID"])] = event
    assert {uid.split("@")[0] + "@" for uid in events} == set(uid_of.values())

    def occurrences(name, start, end):
        event = next(e for uid, e in events.items() if uid.startswith(uid_of[name]))
        calendar = Calendar()
        calendar.add_component(event)
        return [o.decoded("dtstart") for o in recurring_ical_events.of(calendar).between(start, end)]

    far = datetime.date(2030, 1, 1)
    for name, due in REPORT_DUE.items():
        page = client.get(reverse("workspace:task_detail", args=[world[name].pk])).text
        if due is None:
            assert "下次报送截止" not in page, name
            assert occurrences(name, TODAY, far) == [], name  # the calendar asks for nothing more either
        else:
            assert f"下次报送截止:{due:%Y-%m-%d}" in page, name
            assert due in occurrences(name, due, due + datetime.timedelta(days=1)), name
    # The ended plan's series stops at its last report (2021-01-10) whatever the stored deadline says.
    assert occurrences("finance_reported_last", datetime.date(2021, 1, 1), far) == [
        datetime.date(2021, 1, 10)
    ]
    # Finished in the admin: the series stops at the completion time.
    assert occurrences("finance_finished_in_admin", datetime.date(2021, 1, 11), far) == []


def test_the_admin_agrees(client, lead, world):
    client.force_login(lead)
    changelist = client.get(reverse("admin:tasks_task_changelist"), {"overdue": "yes"})
    assert {t.pk for t in changelist.context["cl"].result_list} == ids(world, OVERDUE) | {
        world["science_removed"].pk,
        world["finance_closed_plan"].pk,
    }  # the admin lists every task, removed and closed ones included, by the same overdue rule
    assert site.is_registered(Task)
