"""The reminder log in the admin: per agency, per task, read-only; failed emails can be sent again."""

from django.core import mail
from django.urls import reverse

from reminders.models import ReminderLog


def test_the_log_lists_emails_per_agency(client, lead, scenario, science, on_day, sweep):
    with on_day("2024-09-30"):
        sweep()
    client.force_login(lead)
    url = reverse("admin:reminders_reminderlog_changelist")
    page = client.get(url, {"agencies__id__exact": science.pk})
    assert page.status_code == 200
    listed = sorted((log.kind, log.recipient) for log in page.context["cl"].result_list)
    # 区金融局's liaison hears about 区科技局's overdue share of the measure 区金融局 leads.
    assert listed == [
        ("digest", "bob@example.gov.cn"),
        ("escalation", "alice@example.gov.cn"),
        ("escalation", "lead@example.gov.cn"),
    ]
    log = ReminderLog.objects.get(kind="digest", recipient="bob@example.gov.cn")
    detail = client.get(reverse("admin:reminders_reminderlog_change", args=[log.pk]))
    assert detail.status_code == 200
    assert "【督办提醒】2024-09-30:3 项任务需要关注" in detail.text and "已发送" in detail.text
    assert "保存" not in detail.text  # a record, not editable


def test_the_lead_bureau_sends_failed_emails_again(
    client, lead, scenario, on_day, django_capture_on_commit_callbacks
):
    with on_day("2024-09-30"):
        from reminders import services

        services.run_sweep(dispatch=lambda ids: None)
    ReminderLog.objects.exclude(status="skipped").update(status="failed", error="SMTPServerDisconnected")
    client.force_login(lead)
    page = client.post(
        reverse("admin:reminders_reminderlog_changelist"),
        {
            "action": "resend_unsent",
            "_selected_action": list(ReminderLog.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    # 4 reminders and the 投递问题日报 (区市场监管局 has nobody to tell)
    assert "已重新提交 5 封邮件" in page.text
    assert len(mail.outbox) == 5
    assert ReminderLog.objects.filter(status="sent").count() == 5


def test_leaders_read_the_log_but_cannot_resend(client, leader, scenario, on_day):
    with on_day("2024-09-30"):
        from reminders import services

        services.run_sweep(dispatch=lambda ids: None)
    client.force_login(leader)
    url = reverse("admin:reminders_reminderlog_changelist")
    assert client.get(url).status_code == 200
    client.post(url, {"action": "resend_unsent", "_selected_action": [ReminderLog.objects.first().pk]})
    assert mail.outbox == []


def test_liaisons_cannot_see_the_log(client, alice):
    client.force_login(alice)
    assert client.get(reverse("admin:reminders_reminderlog_changelist")).status_code == 302
