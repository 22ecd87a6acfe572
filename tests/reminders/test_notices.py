"""Notifications of events: inbox and email rows keyed by event and channel, sent once, as each user chose."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from agencies.models import Liaison
from reminders.models import NotificationPreference, ReminderLog
from reminders.services import notices
from tasks.models import ExtensionRequest, Task
from workspace import services

DAY = "2024-09-24"  # a Tuesday


@pytest.fixture
def now(on_day):
    with on_day(DAY):
        yield


@pytest.fixture
def shared(make_task, finance, science):
    """Measure 1: 区金融局 leads, 区科技局 supports; both due 2024-12-31."""
    return (
        make_task(finance, "1", due="2024-12-31", role=Task.Role.LEAD),
        make_task(science, "1", due="2024-12-31", role=Task.Role.SUPPORT),
    )


def inbox(user):
    return list(
        ReminderLog.objects.filter(channel="inbox", user=user).order_by("pk").values_list("kind", "subject")
    )


def emails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def test_a_request_tells_the_lead_bureau_and_its_decision_tells_the_liaison(
    now, shared, alice, lead, django_capture_on_commit_callbacks
):
    task = shared[0]
    with django_capture_on_commit_callbacks(execute=True):
        extension = services.request_extension(
            task=task, user=alice, requested_due_date=datetime.date(2025, 3, 31), reason="等待市级办法。"
        )
    assert inbox(lead) == [("new_request", "【延期申请】区金融局 申请延至 2025-03-31")]
    assert inbox(alice) == []  # the actor is not told about their own action
    assert [m.subject for m in emails_to("lead@example.gov.cn")] == [
        "【延期申请】区金融局 申请延至 2025-03-31"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_extension(extension=extension, user=lead, approve=False, reason="请按期完成。")
    [(kind, subject)] = inbox(alice)
    assert (kind, subject) == ("extension_decided", "【延期申请】不同意延期")
    body = ReminderLog.objects.get(channel="inbox", user=alice).body_text
    assert "审核人:lead,2024-09-24 09:00" in body and "审核意见:请按期完成。" in body
    assert len(emails_to("alice@example.gov.cn")) == 1
    # The refusal is in the task's history with its author.
    record = task.history.order_by("-history_id").first()
    assert (
        record.history_user == lead and record.history_change_reason == "不同意延期至 2025-03-31:请按期完成。"
    )


def test_the_same_event_is_never_told_twice(now, shared, alice, lead, django_capture_on_commit_callbacks):
    extension = ExtensionRequest.objects.create(
        task=shared[0],
        requested_by=alice,
        current_due_date=datetime.date(2024, 12, 31),
        requested_due_date=datetime.date(2025, 3, 31),
        reason="等待市级办法。",
    )
    with django_capture_on_commit_callbacks(execute=True):
        notices.on_extension_requested(extension, actor=alice)
        notices.on_extension_requested(extension, actor=alice)  # a retried request
    assert len(inbox(lead)) == 1 and len(mail.outbox) == 1
    assert ReminderLog.objects.filter(kind="new_request").count() == 2  # one inbox row, one email row


def test_each_user_chooses_per_kind(now, shared, alice, lead, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=lead, kind="new_report", email="off", inbox=False)
    NotificationPreference.objects.create(user=lead, kind="new_request", email="daily", inbox=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_progress(
            task=shared[0], user=alice, text="已起草。", percent=30, status="in_progress"
        )
        services.submit_progress(
            task=shared[0], user=alice, text="已印发。", percent=100, status="completion_requested"
        )
    assert inbox(lead) == [("new_request", "【办结申请】区金融局 申请办结")]  # the report: nothing at all
    assert mail.outbox == []  # the request waits for the daily digest
    held = ReminderLog.objects.get(channel="email", kind="new_request")
    assert held.status == "held"


def test_held_notices_go_out_in_the_next_sweeps_daily_digest(
    on_day, shared, alice, lead, sweep, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=lead, kind="new_report", email="daily")
    with on_day("2024-09-24", hour=15), django_capture_on_commit_callbacks(execute=True):
        services.submit_progress(
            task=shared[0], user=alice, text="已起草。", percent=30, status="in_progress"
        )
    assert mail.outbox == []
    with on_day("2024-09-25"):
        sweep()
        sweep()  # run twice: one digest
    [digest] = [m for m in emails_to("lead@example.gov.cn") if "投递问题日报" not in m.subject]
    assert digest.subject == "【每日消息汇总】2024-09-25:1 条消息"
    assert "【进展报送】区金融局 报送了进展" in digest.body
    assert ReminderLog.objects.get(channel="email", kind="new_report").status == "digested"


def test_the_lead_agency_hears_of_and_reads_its_supports_reports(
    now, shared, alice, bob, client, django_capture_on_commit_callbacks
):
    lead_task, support_task = shared
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_progress(
            task=support_task, user=bob, text="配合完成调研。", percent=50, status="in_progress"
        )
        services.submit_progress(
            task=support_task, user=bob, text="配合完成评估。", percent=80, status="in_progress"
        )
    assert [kind for kind, _subject in inbox(alice)] == ["support_report", "support_report"]
    item = ReminderLog.objects.filter(channel="inbox", user=alice).order_by("pk").first()
    assert item.url.endswith(f"/tasks/{lead_task.pk}/")  # her own task: it shows the supports' reports
    client.force_login(alice)
    page = client.get(reverse("workspace:task_detail", args=[lead_task.pk])).text
    assert "配合完成调研。" in page and "配合完成评估。" in page and "全部报送记录(2)" in page
    # Opening the message marks it read and lands on that page.
    response = client.post(reverse("workspace:inbox_read"), {"message": item.pk})
    assert response.status_code == 302 and response.url == f"/tasks/{lead_task.pk}/"
    item.refresh_from_db()
    assert item.read_at is not None


def test_due_date_changes_and_reassignments_tell_the_liaisons(
    now, shared, alice, bob, lead, science, market, django_capture_on_commit_callbacks
):
    lead_task = shared[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.change_due_date(
            task=lead_task, user=lead, due_date=datetime.date(2025, 6, 30), reason="统筹安排"
        )
        services.reassign(task=lead_task, user=lead, agency=market, reason="职责调整")
    assert [kind for kind, _ in inbox(alice)] == ["due_date_changed", "reassigned"]
    assert inbox(alice)[0][1] == "【截止日期调整】2024-12-31 → 2025-06-30"
    assert len(emails_to("alice@example.gov.cn")) == 2


def test_urge_reaches_the_inbox_too(now, shared, alice, lead, django_capture_on_commit_callbacks):
    from reminders.services import send_urge

    with django_capture_on_commit_callbacks(execute=True):
        send_urge([shared[0]], lead)
        send_urge([shared[0]], lead)
    assert [kind for kind, _ in inbox(alice)] == ["urge"]
    assert len(emails_to("alice@example.gov.cn")) == 1


def test_preferences_are_saved_in_my_settings(client, alice, lead):
    client.force_login(alice)
    page = client.get(reverse("workspace:profile"))
    assert "延期申请审核结果" in page.text and "新的进展报送" not in page.text  # a liaison's kinds only
    data = {"form": "notifications"}
    for kind in notices.LIAISON_KINDS:
        data[f"email_{kind}"] = "instant"
        data[f"inbox_{kind}"] = "on"
    data["email_extension_decided"] = "daily"
    data.pop("inbox_due_date_changed")
    data["email_urge"] = "off"  # disabled: 催办 email always goes out
    assert client.post(reverse("workspace:profile"), data).status_code == 302
    saved = {p.kind: (p.email, p.inbox) for p in NotificationPreference.objects.filter(user=alice)}
    assert saved["extension_decided"] == ("daily", True)
    assert saved["due_date_changed"] == ("instant", False)
    assert saved["urge"] == ("instant", True)


def test_the_inbox_is_the_users_own(
    client, alice, bob, lead, now, shared, django_capture_on_commit_callbacks
):
    services.change_due_date(
        task=shared[0], user=lead, due_date=datetime.date(2025, 6, 30), reason="统筹安排"
    )
    item = ReminderLog.objects.get(channel="inbox", user=alice)
    client.force_login(bob)
    assert client.post(reverse("workspace:inbox_read"), {"message": item.pk}).status_code == 404
    assert "截止日期调整" not in client.get(reverse("workspace:inbox")).text
    client.force_login(alice)
    listing = client.get(reverse("workspace:inbox"))
    assert "截止日期调整" in listing.text and 'class="badge red"' in listing.text
    assert Liaison.objects.filter(user=alice).exists()


def test_an_adjustment_after_the_deadline_is_named_as_such(
    now, make_task, finance, alice, lead, django_capture_on_commit_callbacks
):
    late = make_task(finance, "9", due="2024-09-20")
    with django_capture_on_commit_callbacks(execute=True):
        extension = services.request_extension(
            task=late, user=alice, requested_due_date=datetime.date(2024, 10, 31), reason="资料延迟到位。"
        )
        services.decide_extension(extension=extension, user=lead, approve=True)
    assert inbox(lead) == [("new_request", "【调整时限申请】区金融局 申请延至 2024-10-31")]
    assert inbox(alice) == [("extension_decided", "【调整时限申请】同意延期至 2024-10-31")]
    late.refresh_from_db()
    assert (late.due_date, late.original_due_date) == (
        datetime.date(2024, 10, 31),
        datetime.date(2024, 9, 20),
    )
