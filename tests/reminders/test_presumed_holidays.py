"""A year without 放假安排: the statutory days of the 全国年节及纪念日放假办法 are presumed (推定), the command,
the worker's log and the admin say so, and loading the official arrangement replaces them."""

import datetime
import io
import logging

import pytest
from chinese_calendar import constants
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from reminders import jobs
from reminders.models import Holiday, ReminderLog
from reminders.selectors import missing_holiday_years
from reminders.workdays import (
    WorkingCalendar,
    load_package_holidays,
    missing_arrangement_years,
    statutory_holidays,
    write_presumed_holidays,
)

D = datetime.date
WARNING = "警告:系统中没有 2027 年的放假安排"


def days_named(year: int, name: str) -> list[datetime.date]:
    return [day for day, label in statutory_holidays(year) if label == name]


# ---------------------------------------------------------------------------------------------------------
# The statutory days, against the official arrangements the chinesecalendar package knows


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_is_off_in_the_official_arrangement(year):
    presumed = statutory_holidays(year)
    assert len([name for _day, name in presumed if "补假" not in name]) >= 13  # 13 days a year since 2025
    for day, name in presumed:
        assert day in constants.holidays, f"{day} {name} is a working day in the {year} arrangement"
        assert day not in constants.workdays


# (春节 = 正月初一, 清明节, 端午节, 中秋节) in the official arrangements.
OFFICIAL = {
    2020: ("2020-01-25", "2020-04-04", "2020-06-25", "2020-10-01"),
    2021: ("2021-02-12", "2021-04-04", "2021-06-14", "2021-09-21"),
    2022: ("2022-02-01", "2022-04-05", "2022-06-03", "2022-09-10"),
    2023: ("2023-01-22", "2023-04-05", "2023-06-22", "2023-09-29"),
    2024: ("2024-02-10", "2024-04-04", "2024-06-10", "2024-09-17"),
    2025: ("2025-01-29", "2025-04-04", "2025-05-31", "2025-10-06"),
    2026: ("2026-02-17", "2026-04-05", "2026-06-19", "2026-09-25"),
}


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_lunar_festivals_and_qingming_fall_on_the_official_dates(year):
    spring, qingming, dragon_boat, mid_autumn = (D.fromisoformat(day) for day in OFFICIAL[year])
    first_days = days_named(year, "春节")
    assert first_days == [spring - datetime.timedelta(days=n) for n in (1, 0, -1, -2)]  # 除夕, 初一–初三
    assert days_named(year, "清明节") == [qingming]
    assert days_named(year, "端午节") == [dragon_boat]
    assert mid_autumn in [day for day, name in statutory_holidays(year) if "中秋节" in name]
    holidays = {day: name for day, name in constants.holidays.items()}
    for day in first_days[1:]:  # 初一–初三: in the package's 春节 break every year (除夕 only since 2025)
        assert holidays[day] == "Spring Festival"
    assert holidays[qingming] == "Tomb-sweeping Day"
    assert holidays[dragon_boat] == "Dragon Boat Festival"
    assert holidays[mid_autumn] in ("Mid-autumn Festival", "National Day")  # 2020: the same day


def test_new_years_eve_is_the_day_before_the_first_whether_the_twelfth_month_has_29_or_30_days():
    assert days_named(2024, "春节")[0] == D(2024, 2, 9)  # 腊月三十
    assert days_named(2025, "春节")[0] == D(2025, 1, 28)  # 腊月廿九: no 三十 that year
    assert days_named(2027, "春节")[0] == D(2027, 2, 5)


def test_a_day_off_on_a_weekend_is_made_up_on_the_next_free_weekday():
    presumed = dict(statutory_holidays(2027))
    # 国庆节 2027: Friday 10-01 to Sunday 10-03, made up on Monday and Tuesday.
    assert [presumed.get(D(2027, 10, n)) for n in range(1, 7)] == [
        "国庆节", "国庆节", "国庆节", "国庆节(补假)", "国庆节(补假)", None,
    ]  # fmt: skip
    # 春节 2027: 除夕 Friday 02-05, 初一 and 初二 on the weekend.
    assert [day for day, name in presumed.items() if name.startswith("春节")] == [
        D(2027, 2, n) for n in range(5, 11)
    ]
    # 2028: 中秋 is 10-03, inside 国庆: the shared day is made up too.
    presumed = dict(statutory_holidays(2028))
    assert presumed[D(2028, 10, 3)] == "中秋节、国庆节"
    assert [presumed[D(2028, 10, n)] for n in (4, 5)] == ["国庆节(补假)"] * 2
    assert D(2028, 10, 6) not in presumed and presumed[D(2028, 1, 3)] == "元旦(补假)"


# ---------------------------------------------------------------------------------------------------------
# When they count, and when they are written


def test_the_calendar_presumes_them_in_memory_for_a_year_without_rows():
    calendar = WorkingCalendar(D(2027, 9, 1), D(2027, 10, 31))
    assert not calendar.is_working_day(D(2027, 10, 1)) and not calendar.is_working_day(D(2027, 10, 5))
    assert calendar.is_working_day(D(2027, 10, 6))
    assert calendar.presumed[D(2027, 9, 15)] == "中秋节"
    assert calendar.next_working_day(D(2027, 9, 30)) == D(2027, 10, 6)
    assert not Holiday.objects.filter(date__year=2027).exists()


def test_written_rows_are_marked_presumed_and_writing_again_adds_nothing():
    assert write_presumed_holidays([2027]) == len(statutory_holidays(2027))
    assert write_presumed_holidays([2027]) == 0
    row = Holiday.objects.get(date=D(2027, 10, 1))
    assert (row.source, row.name, row.is_working_day) == ("presumed", "国庆节", False)
    assert row.get_source_display() == "推定(法定节日)"
    # A year with rows is the table's: deleting a presumed row makes that day a working day.
    row.delete()
    assert WorkingCalendar(D(2027, 10, 1), D(2027, 10, 1)).is_working_day(D(2027, 10, 1))


def test_presumed_rows_are_not_an_arrangement_but_a_row_entered_by_hand_is():
    write_presumed_holidays([2027])
    assert missing_arrangement_years(D(2026, 12, 15)) == [2027]
    assert missing_holiday_years(D(2026, 11, 22)) == [2027]
    Holiday.objects.create(date=D(2027, 2, 4), name="春节", source=Holiday.Source.MANUAL)
    assert missing_arrangement_years(D(2026, 12, 15)) == []
    assert missing_holiday_years(D(2026, 11, 22)) == []
    # The presumed rows still count until replaced or deleted.
    assert not WorkingCalendar(D(2027, 2, 4), D(2027, 2, 10)).is_working_day(D(2027, 2, 10))


def test_the_look_ahead_crosses_into_the_new_year_from_december():
    assert missing_arrangement_years(D(2026, 12, 1)) == []
    assert missing_arrangement_years(D(2026, 12, 2)) == [2027]
    assert missing_arrangement_years(D(2027, 6, 1)) == [2027]


def test_loading_the_package_replaces_presumed_rows_and_keeps_manual_ones():
    """2026 as if the package had not known it: presumed rows, one of them entered by hand since."""
    Holiday.objects.filter(date__year=2026).delete()
    write_presumed_holidays([2026])
    Holiday.objects.filter(date=D(2026, 10, 5)).update(source="manual", name="国庆节(手工)")
    out = io.StringIO()
    call_command("load_holidays", stdout=out, stderr=io.StringIO())
    assert f"已替换推定记录 {len(statutory_holidays(2026)) - 1} 条" in out.getvalue()
    assert not Holiday.objects.filter(source="presumed", date__year=2026).exists()
    assert Holiday.objects.get(date=D(2026, 10, 7)).source == "package"  # the real break is longer
    assert Holiday.objects.get(date=D(2026, 10, 5)).name == "国庆节(手工)"
    assert Holiday.objects.get(date=D(2026, 9, 20)).is_working_day  # a 调休 Sunday, now known
    assert load_package_holidays() == 0


def test_load_holidays_writes_and_warns_about_the_coming_year(on_day):
    out, err = io.StringIO(), io.StringIO()
    with on_day("2026-11-23"):
        call_command("load_holidays", stdout=out, stderr=err)
    assert "新增放假安排 0 条" in out.getvalue()
    assert f"已按法定节日写入推定放假日 {len(statutory_holidays(2027))} 条" in out.getvalue()
    assert WARNING in err.getvalue() and "manage.py load_holidays" in err.getvalue()
    assert Holiday.objects.filter(date__year=2027, source="presumed").count() == len(statutory_holidays(2027))
    with on_day("2026-06-01"):
        call_command("load_holidays", stdout=io.StringIO(), stderr=(quiet := io.StringIO()))
    assert quiet.getvalue() == ""


# ---------------------------------------------------------------------------------------------------------
# send_reminders and the worker


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("send_reminders", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def due_in_2027(make_task, finance, science, alice, bob):
    """Overdue and due-soon tasks around 国庆 2027 for two agencies with liaisons."""
    make_task(finance, "1", due="2027-09-28")
    make_task(finance, "2", due="2027-10-08")
    make_task(science, "3", due="2027-09-30")


@pytest.mark.parametrize(
    ("day", "festival"), [("2027-10-01", "国庆节"), ("2027-02-08", "春节"), ("2027-10-05", "国庆节(补假)")]
)
def test_a_presumed_holiday_sends_nothing_and_the_command_warns(due_in_2027, day, festival):
    out, err = run("--date", day, "--dry-run")
    assert out == f"{day} 不是工作日(推定放假:{festival}),不发送提醒邮件。\n"
    assert WARNING in err and "管理后台“放假安排”" in err and "manage.py load_holidays" in err
    assert not ReminderLog.objects.exists() and mail.outbox == []
    assert not Holiday.objects.filter(date__year=2027).exists()  # a dry run writes nothing


def test_a_working_day_in_2027_still_sends_and_warns(due_in_2027):
    out, err = run("--date", "2027-10-08", "--dry-run")
    assert "alice@example.gov.cn 区金融局 2027-10-08:已逾期 1 项,1个工作日内到期 1 项 将发送" in out
    assert "bob@example.gov.cn 区科技局 2027-10-08:已逾期 1 项 将发送" in out
    assert WARNING in err
    out, err = run("--date", "2027-10-08")
    assert "本次发送 2 封,失败 0 封" in out and WARNING in err
    assert sorted(message.to[0] for message in mail.outbox) == ["alice@example.gov.cn", "bob@example.gov.cn"]
    # The real run wrote the year's statutory days for the admin.
    assert Holiday.objects.filter(date__year=2027, source="presumed").count() == len(statutory_holidays(2027))


def test_the_command_says_nothing_when_the_year_is_arranged(scenario):
    out, err = run("--date", "2024-10-01", "--dry-run")
    assert out == "2024-10-01 不是工作日,不发送提醒邮件。\n" and err == ""


def test_the_worker_logs_the_warning_and_writes_presumed_rows(due_in_2027, caplog):
    caplog.set_level(logging.INFO)
    result = jobs.sweep("2027-10-01")
    assert result["is_working_day"] is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "reminders.workdays"]
    assert len(warnings) == 1 and WARNING in warnings[0].getMessage()
    assert "2027-10-01" in warnings[0].getMessage()
    assert Holiday.objects.get(date=D(2027, 10, 1)).source == "presumed"
    assert not ReminderLog.objects.exists()


def test_the_worker_warns_ahead_when_the_window_reaches_the_new_year(make_task, finance, alice, caplog):
    make_task(finance, "1", due="2026-12-31")
    caplog.set_level(logging.WARNING, logger="reminders.workdays")
    jobs.sweep("2026-12-01")
    # (the sweep may warn of other things, e.g. no 督办人员 address: only the calendar's warnings count here)
    assert [record for record in caplog.records if record.name == "reminders.workdays"] == []
    jobs.sweep("2026-12-15")
    assert [r.getMessage() for r in caplog.records if WARNING in r.getMessage()]
    assert Holiday.objects.filter(date=D(2027, 1, 1), source="presumed").exists()


# ---------------------------------------------------------------------------------------------------------
# The admin


def test_the_admin_labels_and_filters_presumed_days(client, lead, on_day):
    write_presumed_holidays([2027])
    client.force_login(lead)
    url = reverse("admin:reminders_holiday_changelist")
    with on_day("2026-11-23"):
        page = client.get(url, {"source__exact": "presumed"})
    assert page.status_code == 200
    text = page.text
    assert "<strong" in text and "推定(法定节日)" in text and "调休上班日无法推定" in text
    assert "含推定记录的年份:2027" in text and "系统中还没有 2027 年的放假安排" in text
    assert page.context["cl"].result_count == len(statutory_holidays(2027))
    assert "2027年10月5日" in text or "2027-10-05" in text
    assert client.get(url, {"source__exact": "package"}).context["cl"].result_count > 0
    assert "推定(法定节日)" in client.get(url).text  # the source filter offers it


def test_entering_a_presumed_date_by_hand_replaces_it(client, lead):
    write_presumed_holidays([2027])
    client.force_login(lead)
    page = client.post(
        reverse("admin:reminders_holiday_add"),
        {"date": "2027-10-04", "name": "国庆节", "is_working_day": ""},
        follow=True,
    )
    assert page.status_code == 200 and "已替换 2027-10-04 的推定记录" in page.text
    assert "2027 年还有 18 条推定放假日仍按放假计算" in page.text
    row = Holiday.objects.get(date=D(2027, 10, 4))
    assert (row.source, row.name) == ("manual", "国庆节")
    # A date already entered by hand is still refused.
    again = client.post(reverse("admin:reminders_holiday_add"), {"date": "2027-10-04", "name": "x"})
    assert again.status_code == 200 and Holiday.objects.get(date=D(2027, 10, 4)).name == "国庆节"


def test_saving_a_presumed_row_confirms_it(client, lead):
    write_presumed_holidays([2027])
    row = Holiday.objects.get(date=D(2027, 9, 15))
    client.force_login(lead)
    form = client.get(reverse("admin:reminders_holiday_change", args=[row.pk]))
    assert "保存即改为手工录入" in form.text
    client.post(
        reverse("admin:reminders_holiday_change", args=[row.pk]),
        {"date": "2027-09-15", "name": "中秋节", "is_working_day": ""},
    )
    row.refresh_from_db()
    assert row.source == "manual"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_the_warning(worker, smtp, due_in_2027, wait_for):
    """The beat's job on a `celery -A ipplan worker` subprocess: its log says what to do, nothing is sent."""
    assert worker.sweep("2027-10-01").get(timeout=60)["is_working_day"] is False
    log = wait_for(lambda: WARNING in (text := worker.log_path.read_text()) and text, message="worker log")
    [line] = [line for line in log.splitlines() if WARNING in line]
    assert "WARNING" in line and "reminder sweep 2027-10-01: 警告" in line
    assert "manage.py load_holidays" in log
    assert Holiday.objects.filter(date__year=2027, source="presumed").count() == len(statutory_holidays(2027))
    assert smtp.inbox.messages == [] and not ReminderLog.objects.exists()
