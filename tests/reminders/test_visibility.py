"""Delivery problems in view, bounded messages and the small fixes of the delivery issue (parts 3, 4, 9).

Seen from Monday 2024-09-30 in the scenario of conftest.py: 区市场监管局 has an overdue task and no liaison.
"""

import datetime
import io
import logging

import openpyxl
import pytest
from django.core import mail
from django.urls import reverse

from agencies.models import Agency, Liaison
from reminders import services
from reminders.models import ReminderLog
from reminders.services import problems, reach
from reminders.services.attachments import for_log
from reminders.services.compute import Email, TaskLine
from reminders.services.render import MAX_DIGEST_LINES
from tasks.models import Task

from .conftest import at

DAY = datetime.date(2024, 9, 30)
SITE = "https://ipplan.example.gov.cn"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


def summary_mails():
    return [m for m in mail.outbox if "投递问题日报" in m.subject]


# Who can be reached -----------------------------------------------------------------------------------------


def test_reach_lists_agencies_nobody_can_be_told_and_memberless_collectives(scenario, market, alice, plan):
    group = Agency.objects.create(name="有关部门", is_group=True, kind=Agency.Kind.GROUP)
    Task.objects.create(measure=scenario["market_overdue"].measure, agency=group, due_date=DAY)
    assert [gap.name for gap in reach.unreachable_agencies()] == [market.display_name]
    assert [(gap.name, gap.open_tasks) for gap in reach.memberless_collectives()] == [("有关部门", 1)]
    # A liaison without an active account does not count; with one, the agency is reachable.
    liaison = Liaison.objects.create(user=alice, agency=market, email="m@example.gov.cn")
    assert reach.unreachable_agencies() == []
    alice.is_active = False
    alice.save()
    [gap] = [gap for gap in reach.unreachable_agencies() if gap.pk == market.pk]
    assert gap.liaisons == 1  # "check the liaison", not "add one"
    liaison.delete()


def test_the_panel_lists_the_ten_worst_and_the_admin_lists_them_all(scenario, market, lead, client, on_day):
    """A city with many agencies and nobody set up: the panel names the 10 with most open tasks and links the
    admin's 通知对象 filter, which lists every one (and only those)."""
    measure = scenario["market_overdue"].measure
    extra = Agency.objects.bulk_create(
        [Agency(name=f"测试局{i:03d}", jurisdiction="东丽区") for i in range(105)]
    )
    Task.objects.bulk_create([Task(measure=measure, agency=agency, due_date=DAY) for agency in extra])
    unreachable = {gap.pk for gap in reach.unreachable_agencies()}
    assert unreachable >= {agency.pk for agency in extra} | {market.pk}
    client.force_login(lead)
    with on_day("2024-09-30"):
        page = client.get(reverse("workspace:dashboard"))
        listed = client.get(reverse("admin:agencies_agency_changelist") + "?reach=unreachable&all=")
    assert f"无人可通知的单位({len(unreachable)} 个)" in page.text
    assert page.text.count("添加联络员</a>") == 10
    assert f"共 {len(unreachable)} 个单位,此处显示未办结任务最多的 10 个。" in page.text
    assert f"查看全部 {len(unreachable)} 个无人可通知的单位" in page.text
    assert "/admin/agencies/agency/?reach=unreachable" in page.text
    assert {agency.pk for agency in listed.context["cl"].result_list} == unreachable


def test_the_dashboard_counts_open_tasks_as_reach_does(
    scenario, market, make_task, science, lead, client, on_day
):
    """The panel reuses the dashboard's per-agency aggregate: the same gaps as counting them afresh."""
    make_task(market, "9", due="2024-10-20")
    done = make_task(market, "10", due="2024-09-01")
    done.status = Task.Status.DONE
    done.save()
    client.force_login(lead)
    with on_day("2024-09-30"):
        page = client.get(reverse("workspace:dashboard"))
        fresh = problems.collect()
    shown = page.context["problems"]
    assert shown.unreachable == fresh.unreachable and shown.memberless == fresh.memberless
    [gap] = [gap for gap in shown.unreachable if gap.pk == market.pk]
    assert gap.open_tasks == Task.objects.current().open().filter(agency=market).count() == 2


# The daily summary to the 督办人员 ---------------------------------------------------------------------------


def test_the_daily_summary_goes_once_and_links_where_to_fix(scenario, market, lead, on_day, sweep):
    with on_day("2024-09-30"):
        sweep()
        sweep()  # again: no second summary
    [summary] = summary_mails()
    assert summary.to == ["lead@example.gov.cn"]
    assert "无人可通知的单位" in summary.body and market.display_name in summary.body
    assert f"{SITE}/admin/agencies/liaison/add/?agency={market.pk}" in summary.body
    assert f"{SITE}/dashboard/#delivery-problems" in summary.body
    row = ReminderLog.objects.get(kind="delivery_summary")
    assert row.period == "2024-09-30" and row.status == "sent"


def test_failed_given_up_and_stuck_rows_are_reported(scenario, lead, on_day, sweep):
    with on_day("2024-09-27"):
        sweep(dispatch=lambda ids: None)
        # A 催办 whose sender died: retried itself (a stale digest would be superseded by the next one).
        services.send_urge([scenario["science_overdue"]], lead, dispatch=lambda ids: None)
    digests = ReminderLog.objects.filter(kind="digest").exclude(status="skipped").order_by("pk")
    # A failed digest is superseded by the next day's (which carries its tasks): the failed row that stays
    # failed, and is reported, is an escalation.
    escalations = ReminderLog.objects.filter(kind="escalation").order_by("pk")
    failed, gave_up = escalations[0], digests[1]
    ReminderLog.objects.filter(pk=failed.pk).update(status="failed", error="SMTPServerDisconnected: gone")
    ReminderLog.objects.filter(pk=gave_up.pk).update(status="gave_up")
    stuck = ReminderLog.objects.get(kind="urge", channel="email")
    ReminderLog.objects.filter(pk=stuck.pk).update(
        status="sending",
        claimed_at=at("2024-09-30", 8),  # an hour before the sweep: its sender died
    )
    with on_day("2024-09-30"):
        found = problems.collect()
        sweep()
    assert {group.status: group.count for group in found.groups} == {"failed": 1, "gave_up": 1, "sending": 1}
    [summary] = summary_mails()
    assert "发送失败" in summary.body and "SMTPServerDisconnected: gone" in summary.body
    assert "已放弃" in summary.body and "发送中超时" in summary.body
    assert f"{SITE}/admin/reminders/reminderlog/{failed.pk}/change/" in summary.body
    assert f"{SITE}/admin/reminders/reminderlog/?status__exact=failed&day__gte=2024-09-23" in summary.body


def test_nothing_to_report_sends_no_summary(make_task, finance, alice, lead, on_day, sweep):
    make_task(finance, "1", due="2024-09-27")
    with on_day("2024-09-30"):
        assert not problems.collect()
        sweep()
    assert mail.outbox and summary_mails() == []


def test_without_a_bureau_address_the_sweep_warns_and_the_dashboard_says_so(
    scenario, lead, client, on_day, sweep, caplog
):
    lead.email = ""
    lead.save()
    with on_day("2024-09-30"), caplog.at_level(logging.WARNING):
        sweep()
    assert "no 督办人员 has an email address" in caplog.text
    assert summary_mails() == [] and not ReminderLog.objects.filter(kind="escalation", recipient="").exists()
    client.force_login(lead)
    with on_day("2024-09-30"):
        page = client.get(reverse("workspace:dashboard"))
    assert "没有任何督办人员设置了邮箱" in page.text


def test_the_dashboard_panel_lists_problems_with_links(scenario, market, lead, client, on_day):
    group = Agency.objects.create(name="各成员单位", is_group=True, kind=Agency.Kind.GROUP)
    Task.objects.create(measure=scenario["market_overdue"].measure, agency=group, due_date=DAY)
    client.force_login(lead)
    with on_day("2024-09-30"):
        page = client.get(reverse("workspace:dashboard"))
    assert 'id="delivery-problems"' in page.text
    assert f"/admin/agencies/liaison/add/?agency={market.pk}" in page.text
    assert f"/admin/agencies/agency/{group.pk}/change/" in page.text
    assert "未指定成员单位的单位集合(1 个)" in page.text


# The escalation says who was not notified, and stays small ---------------------------------------------------


def test_the_escalation_names_who_was_not_notified_and_attaches_the_tasks(
    scenario, market, lead, on_day, sweep, make_task
):
    make_task(market, "8", due="2024-09-01", text='=HYPERLINK("http://evil.example","点我")。')
    with on_day("2024-09-30"):
        sweep()
    [escalation] = [m for m in mail.outbox if m.to == ["lead@example.gov.cn"] and "逾期上报" in m.subject]
    assert "以下单位未能收到提醒" in escalation.body
    assert "区市场监管局" in escalation.body and "(未能通知该单位)" in escalation.body
    [(name, content, mimetype)] = escalation.attachments
    assert name == "逾期上报任务清单-20240930.xlsx" and mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "单位", "计划")
    assert len(rows) == 1 + 4  # 3 escalated tasks before, and 区市场监管局's new one
    [formula] = [cell for row in sheet.iter_rows() for cell in row if str(cell.value).startswith("=HYPER")]
    assert formula.data_type == "s"  # text, never a formula (safe_cells)
    # The liaison's own escalation (support agencies of its measure) carries its tasks too.
    [to_alice] = [m for m in mail.outbox if m.to == ["alice@example.gov.cn"] and "逾期上报" in m.subject]
    [(_name, content, _mimetype)] = to_alice.attachments
    [header, row] = openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)
    assert header[1] == "单位" and header[6] == "截止/应报日期"
    assert (row[0], row[1], row[3], row[5]) == (1, "区科技局", "1", "配合")  # its support agency's share
    assert row[6] == datetime.datetime(2024, 9, 20) and row[7] == 10  # a date cell; days overdue
    assert row[9].endswith(f"/tasks/{scenario['science_support_overdue'].pk}/")


def test_the_escalation_body_stays_under_1_mb_at_1000_agencies_and_35000_tasks():
    lines = [
        TaskLine(
            pk=number,
            measure_id=number // 5,
            agency_id=number % 1000,
            agency_name=f"天津市东丽区第{number % 1000}人民政府部门",
            plan_title="东丽区知识产权强区建设三年行动计划(2024—2026年)",
            measure_number=str(number // 5),
            summary="健全知识产权保护工作机制,加强部门协作,推进知识产权纠纷多元化解",
            role=Task.Role.SUPPORT,
            due_date=DAY - datetime.timedelta(days=30 + number % 200),
            is_ongoing=False,
            next_report_due=None,
            reason="escalated",
            days=30 + number % 200,
        )
        for number in range(35_000)
    ]
    gaps = [reach.AgencyGap(pk, f"第{pk}局", 35, 0) for pk in range(300)]
    email = Email(
        kind="escalation",
        recipient="lead@example.gov.cn",
        period=DAY.isoformat(),
        day=DAY,
        lines=lines,
        agency_ids=list(range(1000)),
        not_reached=gaps,
    )
    subject, text, html = services.render(email)
    size = len(text.encode()) + len(html.encode())
    assert size < 1_000_000, size
    assert "1000 个单位 35000 项任务" in subject
    assert text.count("/tasks/?agency=") == 1000
    assert "另有 250 个单位" in text  # 300 unreachable, 50 named


# Digests are capped ------------------------------------------------------------------------------------------


def test_a_digest_lists_50_lines_then_counts_the_rest_and_links_my_tasks(
    make_task, finance, alice, on_day, sweep
):
    for number in range(1, 61):
        make_task(finance, str(number), due="2024-09-20")
    with on_day("2024-09-30"):
        sweep()
    [digest] = [m for m in mail.outbox if m.to == ["alice@example.gov.cn"] and "督办提醒" in m.subject]
    assert "60. " not in digest.body and f"{MAX_DIGEST_LINES}. " in digest.body
    assert f"另有 10 项未在邮件中列出,请在“我的任务”中查看:{SITE}/tasks/" in digest.body
    # The footer: the liaison changes the frequency in 我的设置, not through the lead bureau.
    assert "请联系牵头部门" not in digest.body
    assert f"进入“我的设置”修改“提醒邮件频率”:{SITE}/profile/" in digest.body
    html = digest.alternatives[0][0]
    assert f'href="{SITE}/profile/"' in html and f'href="{SITE}/tasks/"' in html
    log = ReminderLog.objects.get(kind="digest", recipient="alice@example.gov.cn")
    assert log.tasks.count() == 60  # the ledger links every task


# 催办 ---------------------------------------------------------------------------------------------------------


def test_urge_lines_say_how_late_or_how_soon(scenario, lead, on_day, django_capture_on_commit_callbacks):
    tasks = [scenario["science_overdue"], scenario["science_quiet"], scenario["science_report_missing"]]
    with on_day("2024-09-30"), django_capture_on_commit_callbacks(execute=True):
        services.send_urge(tasks, lead)
    [urge] = mail.outbox
    assert "已逾期 3 天(截止日期 2024-09-27)" in urge.body
    assert "2024-12-31 到期,还有 92 天" in urge.body
    assert "定期进展报送已逾期 20 天" in urge.body
    assert f"我的任务:{SITE}/tasks/" in urge.body


@pytest.mark.parametrize("scope", ["overdue", "agency"])
def test_bulk_urge_asks_first_then_sends(
    scope, scenario, science, lead, client, on_day, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    data = {"scope": scope, "agency": science.pk, "next": "/dashboard/"}
    with on_day("2024-09-30"):
        dashboard = client.get(reverse("workspace:dashboard"))
        assert f'name="agency" value="{science.pk}"' in dashboard.text  # a 催办 button per agency row
        page = client.post(reverse("reminders:urge"), data)
    assert page.status_code == 200 and mail.outbox == [] and not ReminderLog.objects.exists()
    expected = 5 if scope == "overdue" else 3
    assert f"确认催办 {expected} 项任务" in page.text
    if scope == "overdue":
        assert "其中 1 个单位没有可通知的联络员" in page.text  # 区市场监管局
    with on_day("2024-09-30"), django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("reminders:urge"), {**data, "confirm": "yes"}, follow=True)
    assert f"催办 {expected} 项任务,涉及" in done.text
    recipients = sorted(m.to[0] for m in mail.outbox)
    if scope == "agency":
        assert recipients == ["bob@example.gov.cn"]
    else:
        assert recipients == ["alice@example.gov.cn", "bob@example.gov.cn"]


def test_urging_an_unknown_agency_is_refused_in_chinese(lead, client, scenario):
    client.force_login(lead)
    page = client.post(reverse("reminders:urge"), {"scope": "agency", "agency": "999999"}, follow=True)
    assert "请选择要催办的单位。" in page.text and not ReminderLog.objects.exists()


def test_for_log_attaches_nothing_to_other_kinds(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep(dispatch=lambda ids: None)
    digest = ReminderLog.objects.filter(kind="digest").exclude(status="skipped").first()
    assert for_log(digest) == []
