"""Every admin changelist, with several rows, in at most 10 queries and readable: long texts truncated."""

import datetime
import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.urls import reverse
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, SolarSchedule

from agencies.models import AgencyRobot, BureauProfile
from reminders.models import ReminderLog, ReminderLogTask
from reports.models import CalendarFeed, ExportJob
from reports.services import issue_notice
from tasks.models import ExtensionRequest, Indicator, IndicatorValue, Measure, ProgressUpdate, Task
from workspace.links import issue_links

MAX_QUERIES = 10
ROWS = 12  # more rows than allowed queries: a query per row cannot hide
LONG = "建立健全重大投融资活动知识产权评议工作机制," * 8


@pytest.fixture
def rows(plan, measure, finance, science, market, alice, bob, lead, leader):
    finance.aliases.create(name="东丽区金融工作局")
    science.aliases.create(name="东丽区科学技术局")
    for number in range(3, 3 + ROWS // 3 + 1):
        extra = Measure.objects.create(plan=plan, number=str(number), text=LONG, position=number * 10)
        for agency in (finance, science, market):
            task = Task.objects.create(
                measure=extra, agency=agency, due_date=datetime.date(2021, 12, 31), role=Task.Role.SUPPORT
            )
            ProgressUpdate.objects.create(task=task, author=alice, text=LONG, percent=10)
            ExtensionRequest.objects.create(
                task=task,
                requested_by=alice,
                current_due_date=task.due_date,
                requested_due_date=datetime.date(2022, 6, 30),
                reason=LONG,
            )
            task.save()  # a second history row
    for n in range(ROWS):
        indicator = Indicator.objects.create(plan=plan, name=f"指标{n}", agency=science)
        IndicatorValue.objects.create(indicator=indicator, year=2024, value="1")
    for day in range(1, ROWS + 1):
        log = ReminderLog.objects.create(
            recipient=f"r{day}@example.gov.cn",
            kind=ReminderLog.Kind.URGE,
            period=f"d{day}",
            day=datetime.date(2026, 1, day),
        )
        for task in Task.objects.all()[:3]:
            ReminderLogTask.objects.create(log=log, task=task, reason=ReminderLogTask.Reason.values[0])
    for liaison in (alice.liaisons.get(), bob.liaisons.get()):
        CalendarFeed.objects.create(kind=CalendarFeed.Kind.AGENCY, user=liaison.user, liaison=liaison)
    for user in (alice, bob, leader):
        ExportJob.objects.create(user=user, exporter="progress")
    for user in (lead, leader):
        BureauProfile.objects.create(user=user, jurisdiction="东丽区")
    for agency in (finance, science, market):
        issue_notice(agency=agency, plan=plan, user=lead)
    IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    CrontabSchedule.objects.create(minute="0", hour="7")
    SolarSchedule.objects.create(event="sunrise", latitude=39.1, longitude=117.2)
    ClockedSchedule.objects.create(clocked_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    for n, agency in enumerate((finance, science, market) * 4):
        AgencyRobot.objects.create(
            agency=agency,
            kind=AgencyRobot.Kind.WECOM,
            name=f"工作群{n}",
            webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={n:08d}-0000-0000-0000-000000000000",
        )
    # One-click 签收 links for alice's open tasks (区金融局).
    issue_links({task.pk: [alice.pk] for task in Task.objects.filter(agency=finance)}, "email")
    for n in range(ROWS):
        AccessAttempt.objects.create(username=f"u{n}", ip_address="10.0.0.1", failures_since_start=1)
        AccessLog.objects.create(username=f"u{n}", ip_address="10.0.0.1")
        AccessFailureLog.objects.create(username=f"u{n}", ip_address="10.0.0.1")


def changelists():
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.mark.parametrize("model", changelists(), ids=lambda model: model._meta.label)
def test_changelist_queries(client, superuser, rows, model, django_assert_max_num_queries):
    client.force_login(superuser)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    client.get(url)  # warm caches (content types, sessions) so the count is the page's own
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0, "no rows: the count would prove nothing"


@pytest.mark.parametrize("name", ["tasks_measure", "tasks_task", "tasks_progressupdate"])
def test_long_texts_are_truncated_in_lists(client, superuser, rows, name):
    client.force_login(superuser)
    page = client.get(reverse(f"admin:{name}_changelist"))
    assert LONG[:20] in page.text  # shown, shortened
    assert LONG[:60] not in page.text


@pytest.mark.parametrize("name", ["admin:tasks_measure_export"])
def test_division_table_columns_are_named_in_chinese(client, superuser, measure, name):
    client.force_login(superuser)
    page = client.get(reverse(name)).text
    assert "牵头单位" in page and "完成时限" in page
    visible = re.sub(r"<[^>]+>", " ", page)  # attributes keep the internal keys
    assert "responsible" not in visible.lower() and "deadline" not in visible.lower()
