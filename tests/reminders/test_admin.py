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


def resend(client, action, rows):
    return client.post(
        reverse("admin:reminders_reminderlog_changelist"),
        {"action": action, "_selected_action": [row.pk for row in rows]},
        follow=True,
    )


def test_the_lead_bureau_sends_failed_emails_again(client, lead, scenario, on_day):
    with on_day("2024-09-30"):
        from reminders import services

        services.run_sweep(dispatch=lambda ids: None)
    ReminderLog.objects.exclude(status="skipped").update(status="failed", error="SMTPServerDisconnected")
    client.force_login(lead)
    page = resend(client, "resend_unsent", ReminderLog.objects.all())
    # 4 reminders and the 投递问题日报 (区市场监管局 has nobody to tell)
    assert (
        "已发出 5 封:alice@example.gov.cn、alice@example.gov.cn、bob@example.gov.cn、lead@example.gov.cn、"
        "lead@example.gov.cn" in (page.text)
    )
    assert "1 条无需或无法发送" in page.text  # the agency without a liaison
    assert len(mail.outbox) == 5
    assert ReminderLog.objects.filter(status="sent").count() == 5


def test_resend_covers_every_state_and_says_what_it_left(client, lead, scenario, on_day):
    from django.utils import timezone

    from reminders import services

    with on_day("2024-09-30"):
        services.run_sweep(dispatch=lambda ids: None)
    reminders = ReminderLog.objects.exclude(status="skipped").exclude(kind="delivery_summary")
    rows = {(log.kind, log.recipient): log for log in reminders}
    now = timezone.now()
    states = {
        ("digest", "alice@example.gov.cn"): {"status": "gave_up", "error": "已放弃:7 天内未能发出。"},
        ("digest", "bob@example.gov.cn"): {"status": "superseded"},
        ("escalation", "alice@example.gov.cn"): {"status": "sending", "claimed_at": now},  # in its lease
        ("escalation", "lead@example.gov.cn"): {"status": "sent", "sent_at": now, "attempts": 1},
    }
    for key, fields in states.items():
        ReminderLog.objects.filter(pk=rows[key].pk).update(**fields)
    client.force_login(lead)

    page = resend(client, "resend_unsent", rows.values())
    assert "已发出 2 封:alice@example.gov.cn、bob@example.gov.cn" in page.text
    assert "1 封正在发送,未重复提交:alice@example.gov.cn" in page.text
    assert "1 封已发送过,未重复发送:lead@example.gov.cn" in page.text
    assert sorted(message.subject[:6] for message in mail.outbox) == ["【督办提醒】"] * 2

    # A send that outlived its lease (its worker died) is taken again.
    ReminderLog.objects.filter(pk=rows[("escalation", "alice@example.gov.cn")].pk).update(
        claimed_at=now - services.sending_lease() - timezone.timedelta(seconds=1)
    )
    page = resend(client, "resend_unsent", [rows[("escalation", "alice@example.gov.cn")]])
    assert "已发出 1 封:alice@example.gov.cn" in page.text
    assert len(mail.outbox) == 3

    # Sent mail goes again only when asked explicitly, and the page says so.
    page = resend(client, "resend_including_sent", [rows[("escalation", "lead@example.gov.cn")]])
    assert (
        "其中 1 封此前已发送过,按要求再次发送" in page.text and "已发出 1 封:lead@example.gov.cn" in page.text
    )
    assert [message.to for message in mail.outbox[3:]] == [["lead@example.gov.cn"]]
    # The copy carries the row's Message-ID, as the first send did.
    lead_row = ReminderLog.objects.get(pk=rows[("escalation", "lead@example.gov.cn")].pk)
    assert mail.outbox[3].extra_headers["Message-ID"] == services.message_id(lead_row)
    assert lead_row.attempts == 2 and lead_row.status == "sent"


def test_leaders_read_the_log_but_cannot_resend(client, leader, scenario, on_day):
    with on_day("2024-09-30"):
        from reminders import services

        services.run_sweep(dispatch=lambda ids: None)
    client.force_login(leader)
    url = reverse("admin:reminders_reminderlog_changelist")
    assert client.get(url).status_code == 200
    for action in ["resend_unsent", "resend_including_sent"]:
        client.post(url, {"action": action, "_selected_action": [ReminderLog.objects.first().pk]})
    assert mail.outbox == []


def test_liaisons_cannot_see_the_log(client, alice):
    client.force_login(alice)
    assert client.get(reverse("admin:reminders_reminderlog_changelist")).status_code == 302
