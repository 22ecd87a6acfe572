"""催办 by hand: the service the dashboard calls and the Task admin action."""

import pytest
from django.core import mail
from django.urls import reverse

from reminders.models import ReminderLog
from reminders.services import send_urge
from tasks.models import Task


def test_it_emails_each_agencys_liaison_once(scenario, lead, on_day, django_capture_on_commit_callbacks):
    tasks = [scenario["finance_due_next_day"], scenario["science_overdue"], scenario["science_quiet"]]
    with on_day("2024-09-30"), django_capture_on_commit_callbacks(execute=True):
        result = send_urge(tasks, lead)
        send_urge(tasks, lead)  # clicked twice: sent once
    assert sorted(message.to[0] for message in mail.outbox) == ["alice@example.gov.cn", "bob@example.gov.cn"]
    to_bob = mail.outbox[[m.to[0] for m in mail.outbox].index("bob@example.gov.cn")]
    assert to_bob.subject == "【催办】2024-09-30:请尽快办理 2 项任务"
    assert f"/tasks/{scenario['science_quiet'].pk}/" in to_bob.body
    assert result.recipients == ["alice@example.gov.cn", "bob@example.gov.cn"]
    log = ReminderLog.objects.get(recipient="bob@example.gov.cn")
    assert log.kind == "urge" and log.requested_by == lead and log.status == "sent"
    assert set(log.tasks.all()) == {scenario["science_overdue"], scenario["science_quiet"]}


def test_agencies_without_a_liaison_and_done_tasks_are_not_emailed(scenario, lead, market, on_day):
    with on_day("2024-09-30"):
        result = send_urge([scenario["market_overdue"], scenario["finance_done"]], lead)
    assert mail.outbox == [] and result.recipients == []
    [skipped] = result.skipped
    assert skipped.agency_ids == [market.pk]
    assert ReminderLog.objects.get().status == "skipped"


@pytest.mark.django_db(transaction=True)
def test_the_admin_action_urges_the_selected_tasks(client, lead, scenario, on_day):
    client.force_login(lead)
    with on_day("2024-09-30"):
        page = client.post(
            reverse("admin:tasks_task_changelist"),
            {"action": "urge_tasks", "_selected_action": [scenario["finance_lead_overdue"].pk]},
            follow=True,
        )
        again = client.post(
            reverse("admin:tasks_task_changelist"),
            {"action": "urge_tasks", "_selected_action": [scenario["finance_lead_overdue"].pk]},
            follow=True,
        )
    assert page.status_code == 200
    assert "催办 1 项任务,涉及 1 封催办邮件" in page.text and "已发出 1 封:alice@example.gov.cn" in page.text
    assert "1 封已发送过,未重复发送:alice@example.gov.cn" in again.text
    assert [message.to for message in mail.outbox] == [["alice@example.gov.cn"]]


def test_a_leader_cannot_urge(client, leader, scenario):
    client.force_login(leader)
    page = client.post(
        reverse("admin:tasks_task_changelist"),
        {"action": "urge_tasks", "_selected_action": [scenario["finance_lead_overdue"].pk]},
    )
    assert mail.outbox == [] and not ReminderLog.objects.exists()
    assert page.status_code in (200, 302, 403)


def test_the_task_page_shows_its_reminder_emails(client, lead, scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep()
    client.force_login(lead)
    task: Task = scenario["finance_lead_overdue"]
    page = client.get(reverse("admin:tasks_task_change", args=[task.pk]))
    assert page.status_code == 200
    assert "【督办提醒】2024-09-30:3 项任务需要关注" in page.text
    assert "【逾期上报】2024-09-30" in page.text
