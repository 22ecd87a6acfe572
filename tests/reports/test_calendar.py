"""The iCalendar document: read back with a second library (recurring-ical-events) and checked line by line."""

import datetime

import pytest
import recurring_ical_events
import time_machine
from icalendar import Calendar

from reports.calendar import build_calendar
from reports.selectors import calendar_tasks
from tasks.models import Task
from tasks.status import next_period, period_of

NOW = datetime.datetime(2021, 6, 1, 9, 0, tzinfo=datetime.UTC)


def render(*tasks, with_agency=False) -> bytes:
    queryset = calendar_tasks(Task.objects.filter(pk__in=[t.pk for t in tasks]))
    return build_calendar(queryset, name="区金融局 · 任务截止日", with_agency=with_agency)


def occurrences(payload: bytes, start=(2019, 1, 1), end=(2024, 1, 1)):
    calendar = Calendar.from_ical(payload)
    return recurring_ical_events.of(calendar).between(start, end)


@time_machine.travel(NOW)
def test_a_dated_task_is_an_all_day_event_on_its_due_date(finance_task, settings):
    settings.SITE_URL = "https://ipplan.example.gov.cn"
    [event] = occurrences(render(finance_task))
    assert str(event["SUMMARY"]) == "【截止】东丽区 2. 建立健全重大投融资活动…"
    assert event.decoded("DTSTART") == datetime.date(2021, 12, 31)
    assert event.decoded("DTEND") == datetime.date(2022, 1, 1)  # exclusive: the event is one whole day
    description = str(event["DESCRIPTION"])
    assert "建立健全重大投融资活动知识产权评议工作机制。" in description
    assert f"https://ipplan.example.gov.cn/tasks/{finance_task.pk}/" in description
    assert str(event["URL"]) == f"https://ipplan.example.gov.cn/tasks/{finance_task.pk}/"
    assert str(event["UID"]) == f"ipplan-task-{finance_task.pk}@ipplan.example.gov.cn"
    triggers = sorted(alarm.decoded("TRIGGER") for alarm in event.walk("VALARM"))
    # 09:00 seven days before and 09:00 the day before the all-day deadline
    assert triggers == [datetime.timedelta(days=-7, hours=9), datetime.timedelta(hours=-15)]
    assert all(str(alarm["ACTION"]) == "DISPLAY" for alarm in event.walk("VALARM"))


@time_machine.travel(NOW)
def test_an_ongoing_task_recurs_on_each_report_deadline_within_the_plan_period(ongoing_task, plan):
    # Quarterly, report due on the 10th of the month after each quarter, plan 2020-2021.
    events = occurrences(render(ongoing_task))
    expected, period = [], period_of(datetime.date(2020, 1, 1), "quarterly")
    while period.end <= datetime.date(2021, 12, 31):
        expected.append(period.report_deadline(10))
        period = next_period(period, "quarterly")
    assert [e.decoded("DTSTART") for e in events] == expected
    assert expected[0] == datetime.date(2020, 4, 10) and expected[-1] == datetime.date(2022, 1, 10)
    assert {str(e["SUMMARY"]) for e in events} == {"【报送】东丽区 5. 持续开展知识产权纠纷多…"}
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == datetime.timedelta(days=1) for e in events)
    assert all(len(e.walk("VALARM")) == 2 for e in events)


@time_machine.travel(NOW)
@pytest.mark.parametrize(
    ("cycle", "due_day", "first", "count"),
    [
        ("monthly", 31, datetime.date(2020, 2, 29), 24),  # clamped to short months, leap February
        ("monthly", 5, datetime.date(2020, 2, 5), 24),
        ("half_yearly", 15, datetime.date(2020, 7, 15), 4),
        ("yearly", 30, datetime.date(2021, 1, 30), 2),
    ],
)
def test_recurrences_follow_the_plans_cycle_and_clamp_the_due_day(
    ongoing_task, plan, cycle, due_day, first, count
):
    plan.reporting_cycle, plan.report_due_day = cycle, due_day
    plan.save()
    dates = [e.decoded("DTSTART") for e in occurrences(render(ongoing_task))]
    expected, period = [], period_of(datetime.date(2020, 1, 1), cycle)
    while period.end <= datetime.date(2021, 12, 31):
        expected.append(period.report_deadline(due_day))
        period = next_period(period, cycle)
    assert dates == expected
    assert (dates[0], len(dates)) == (first, count)


@time_machine.travel(NOW)
def test_a_changed_due_date_moves_the_event_and_raises_its_sequence(finance_task):
    before = Calendar.from_ical(render(finance_task)).events[0]
    finance_task.due_date = datetime.date(2022, 3, 31)
    with time_machine.travel(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)):  # after the fixtures' saves
        finance_task.save()
    after = Calendar.from_ical(render(finance_task)).events[0]
    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("DTSTART") == datetime.date(2022, 3, 31)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")
    assert after.decoded("LAST-MODIFIED").tzinfo is not None  # UTC, as RFC 5545 requires


@time_machine.travel(NOW)
def test_a_done_task_is_marked_and_loses_its_alarms(finance_task, ongoing_task):
    finance_task.status = Task.Status.DONE
    finance_task.save()
    ongoing_task.status = Task.Status.DONE
    ongoing_task.completed_at = datetime.datetime(2020, 9, 1, tzinfo=datetime.UTC)
    ongoing_task.save()
    events = occurrences(render(finance_task, ongoing_task))
    dated = [e for e in events if e.decoded("DTSTART") == datetime.date(2021, 12, 31)]
    assert str(dated[0]["SUMMARY"]).startswith("【已办结】")
    assert all(not e.walk("VALARM") for e in events)
    # the ongoing series stops at its completion: only the 2020-04-10 and 2020-07-10 deadlines remain
    assert sorted(e.decoded("DTSTART") for e in events if e is not dated[0]) == [
        datetime.date(2020, 4, 10),
        datetime.date(2020, 7, 10),
    ]


@time_machine.travel(NOW)
def test_tasks_of_inactive_plans_or_removed_measures_are_left_out(finance_task, science_task, plan, measure):
    assert len(occurrences(render(finance_task, science_task))) == 2
    measure.is_removed = True
    measure.save()
    assert occurrences(render(finance_task, science_task)) == []


@time_machine.travel(NOW)
def test_plan_feeds_name_the_agency(finance_task, science_task):
    summaries = sorted(
        str(e["SUMMARY"]) for e in occurrences(render(finance_task, science_task, with_agency=True))
    )
    assert summaries == [
        "【截止】东丽区 2. 建立健全重大投融资活动… · 区科技局",
        "【截止】东丽区 2. 建立健全重大投融资活动… · 区金融局",
    ]


@time_machine.travel(NOW)
def test_the_document_follows_rfc_5545_lines_and_names_the_calendar(finance_task, ongoing_task):
    payload = render(finance_task, ongoing_task)
    assert payload.startswith(b"BEGIN:VCALENDAR\r\n") and payload.endswith(b"END:VCALENDAR\r\n")
    lines = payload.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)  # CRLF only, never a bare LF
    assert all(len(line) <= 75 for line in lines)  # octets, not characters: Chinese is 3 octets each
    assert any(line.startswith(b" ") for line in lines)  # the long Chinese description was folded
    for line in lines:
        line.decode("utf-8")  # folding never splits a multi-byte character
    calendar = Calendar.from_ical(payload)
    assert str(calendar["X-WR-CALNAME"]) == "区金融局 · 任务截止日"
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["METHOD"]) == "PUBLISH"
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in payload and b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in payload
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Shanghai"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    assert len({str(e["UID"]) for e in calendar.walk("VEVENT")}) == 2
