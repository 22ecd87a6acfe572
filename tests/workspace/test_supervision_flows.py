"""签收, 延期申请 and 申请办结 → 同意办结 / 退回, end to end through the views."""

import datetime

import pytest
from django.urls import reverse

from tasks.models import ExtensionRequest, ProgressUpdate, Task


def detail(task):
    return reverse("workspace:task_detail", args=[task.pk])


# 签收 ------------------------------------------------------------------------------------------------


def test_a_liaison_acknowledges_a_task_once(client, alice, finance_task, frozen):
    client.force_login(alice)
    ack = reverse("workspace:acknowledge", args=[finance_task.pk])
    assert client.post(ack).status_code == 302
    finance_task.refresh_from_db()
    first = finance_task.acknowledged_at
    assert (first, finance_task.acknowledged_by) == (
        datetime.datetime(2021, 6, 15, 2, tzinfo=datetime.UTC),
        alice,
    )
    frozen.shift(datetime.timedelta(days=1))
    client.post(ack)
    finance_task.refresh_from_db()
    assert finance_task.acknowledged_at == first
    assert finance_task.history.count() == 2  # created, acknowledged


@pytest.mark.parametrize(
    ("actor", "status"), [("bob", 404), ("charlie", 404), ("leader", 403), ("lead", 403)]
)
def test_only_the_agency_acknowledges(client, request, finance_task, actor, status):
    client.force_login(request.getfixturevalue(actor))
    assert client.post(reverse("workspace:acknowledge", args=[finance_task.pk])).status_code == status
    finance_task.refresh_from_db()
    assert finance_task.acknowledged_at is None


def test_acknowledging_needs_post(client, alice, finance_task):
    client.force_login(alice)
    assert client.get(reverse("workspace:acknowledge", args=[finance_task.pk])).status_code == 405


# 延期申请 --------------------------------------------------------------------------------------------


def ask_extension(client, task, date="2022-03-31", reason="需等待市级评议办法出台后衔接。"):
    return client.post(
        reverse("workspace:request_extension", args=[task.pk]),
        {"extension-requested_due_date": date, "extension-reason": reason},
    )


def decide_extension(client, extension, decision, reason="", **extra):
    return client.post(
        reverse("workspace:decide_extension", args=[extension.pk]),
        {"decision": decision, "reason": reason, **extra},
    )


def test_extension_approved_moves_the_due_date_and_keeps_the_original(
    client, alice, lead, finance_task, frozen
):
    client.force_login(alice)
    assert ask_extension(client, finance_task).status_code == 302
    extension = ExtensionRequest.objects.get()
    assert (extension.current_due_date, extension.requested_due_date) == (
        datetime.date(2021, 12, 31),
        datetime.date(2022, 3, 31),
    )
    client.force_login(lead)
    assert "需等待市级评议办法出台后衔接" in client.get(reverse("workspace:review_queue")).text
    response = decide_extension(client, extension, "approve", next="review")
    assert response.url == reverse("workspace:review_queue")
    finance_task.refresh_from_db()
    assert finance_task.due_date == datetime.date(2022, 3, 31)
    assert finance_task.original_due_date == datetime.date(2021, 12, 31)
    extension.refresh_from_db()
    assert (extension.decision, extension.decided_by) == ("approved", lead)
    assert (
        finance_task.history.order_by("-history_id").first().history_change_reason == "同意延期至 2022-03-31"
    )
    client.force_login(alice)
    page = client.get(detail(finance_task)).text
    assert "已同意" in page and "原截止日期 2021-12-31" in page


def test_extension_refused_needs_a_reason_that_the_liaison_sees(client, alice, lead, finance_task, frozen):
    client.force_login(alice)
    ask_extension(client, finance_task)
    extension = ExtensionRequest.objects.get()
    client.force_login(lead)
    decide_extension(client, extension, "refuse")
    extension.refresh_from_db()
    assert extension.decision == "pending"
    decide_extension(client, extension, "refuse", reason="该任务为年度重点,请按期完成。")
    extension.refresh_from_db()
    assert extension.decision == "refused"
    finance_task.refresh_from_db()
    assert finance_task.due_date == datetime.date(2021, 12, 31)
    client.force_login(alice)
    page = client.get(detail(finance_task)).text
    assert "未同意" in page and "该任务为年度重点,请按期完成。" in page


def test_one_pending_extension_at_a_time_and_an_adjustment_after_the_deadline(
    client, alice, finance_task, frozen
):
    client.force_login(alice)
    ask_extension(client, finance_task)
    response = ask_extension(client, finance_task, date="2022-06-30")
    assert "已有一项延期申请正在审核" in client.get(response.url).text
    assert ExtensionRequest.objects.count() == 1
    ExtensionRequest.objects.update(decision="refused")
    frozen.move_to(datetime.datetime(2022, 1, 5, 2, tzinfo=datetime.UTC))
    client.force_login(alice)  # the session from half a year ago has expired
    response = ask_extension(client, finance_task, date="2022-01-05")  # not ahead of today
    assert "截止日期已过,调整时限申请的日期应晚于今天(2022-01-05)。" in client.get(response.url).text
    assert ExtensionRequest.objects.count() == 1
    # After the deadline the liaison may still ask: a 调整时限申请 the lead bureau decides.
    response = ask_extension(client, finance_task, date="2022-03-31")
    assert "调整时限申请已提交,等待督办人员审核。" in client.get(response.url).text
    adjustment = ExtensionRequest.objects.get(decision="pending")
    assert adjustment.is_adjustment and adjustment.kind_label == "调整时限申请"


def test_an_earlier_date_is_refused(client, alice, finance_task, frozen):
    client.force_login(alice)
    response = ask_extension(client, finance_task, date="2021-10-01")
    assert "应晚于当前截止日期" in client.get(response.url).text
    assert not ExtensionRequest.objects.exists()


@pytest.mark.parametrize(("actor", "status"), [("bob", 404), ("leader", 403), ("lead", 403)])
def test_only_the_agency_asks_for_an_extension(client, request, finance_task, actor, status, frozen):
    client.force_login(request.getfixturevalue(actor))
    assert ask_extension(client, finance_task).status_code == status
    assert not ExtensionRequest.objects.exists()


@pytest.mark.parametrize(
    ("actor", "status"), [("alice", 403), ("bob", 404), ("leader", 403), ("charlie", 404)]
)
def test_only_the_lead_bureau_decides_extensions(client, request, alice, finance_task, actor, status, frozen):
    extension = ExtensionRequest.objects.create(
        task=finance_task,
        requested_by=alice,
        current_due_date=finance_task.due_date,
        requested_due_date=datetime.date(2022, 3, 31),
        reason="理由",
    )
    client.force_login(request.getfixturevalue(actor))
    assert decide_extension(client, extension, "approve").status_code == status
    extension.refresh_from_db()
    assert extension.decision == "pending"


# 申请办结 → 同意办结 / 退回 ----------------------------------------------------------------------------


def ask_to_close(client, task):
    return client.post(
        detail(task), {"text": "评议办法已印发实施。", "percent": "100", "status": "completion_requested"}
    )


def review(client, task, decision, reason="", **extra):
    return client.post(
        reverse("workspace:review_completion", args=[task.pk]),
        {"decision": decision, "reason": reason, **extra},
    )


def test_completion_approved(client, alice, lead, finance_task, frozen):
    client.force_login(alice)
    ask_to_close(client, finance_task)
    client.force_login(lead)
    queue = client.get(reverse("workspace:review_queue"))
    assert queue.context["queue"].completions == [finance_task]
    assert "评议办法已印发实施。" in queue.text
    review(client, finance_task, "approve")
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.DONE
    assert finance_task.completed_at == datetime.datetime(2021, 6, 15, 2, tzinfo=datetime.UTC)
    update = finance_task.updates.get()
    assert (update.review_decision, update.reviewed_by) == ("approved", lead)
    client.force_login(alice)
    response = client.get(detail(finance_task))
    assert response.context["task"].light == "grey"
    assert "同意办结" in response.text and "已办结" in response.text


def test_completion_returned_with_a_reason(client, alice, lead, finance_task, frozen):
    client.force_login(alice)
    ask_to_close(client, finance_task)
    client.force_login(lead)
    review(client, finance_task, "refuse")  # no reason: refused, nothing changes
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.COMPLETION_REQUESTED
    review(client, finance_task, "refuse", reason="请补充印发文件。", next="review")
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.IN_PROGRESS
    assert finance_task.updates.get().review_reason == "请补充印发文件。"
    client.force_login(alice)
    page = client.get(detail(finance_task)).text
    assert "退回" in page and "请补充印发文件。" in page
    assert 'enctype="multipart/form-data"' in page  # may report again


def test_a_decision_is_taken_once(client, alice, lead, finance_task, frozen):
    client.force_login(alice)
    ask_to_close(client, finance_task)
    client.force_login(lead)
    review(client, finance_task, "approve")
    response = review(client, finance_task, "refuse", reason="迟到的退回")
    assert "没有待审核的办结申请" in client.get(response.url).text
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.DONE
    assert ProgressUpdate.objects.get().review_decision == "approved"


@pytest.mark.parametrize(
    ("actor", "status"), [("alice", 403), ("bob", 404), ("leader", 403), ("charlie", 404)]
)
def test_only_the_lead_bureau_reviews(client, request, alice, finance_task, actor, status, frozen):
    client.force_login(alice)
    ask_to_close(client, finance_task)
    client.force_login(request.getfixturevalue(actor))
    assert review(client, finance_task, "approve").status_code == status
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.COMPLETION_REQUESTED


@pytest.mark.parametrize(
    ("actor", "status"), [("lead", 200), ("leader", 200), ("alice", 403), ("charlie", 403)]
)
def test_who_may_open_the_review_queue(client, request, actor, status):
    client.force_login(request.getfixturevalue(actor))
    assert client.get(reverse("workspace:review_queue")).status_code == status


def test_a_leader_sees_the_queue_without_buttons(client, alice, leader, finance_task, frozen):
    client.force_login(alice)
    ask_to_close(client, finance_task)
    client.force_login(leader)
    page = client.get(reverse("workspace:review_queue")).text
    assert "评议办法已印发实施。" in page
    assert "同意办结" not in page


def test_the_queue_lists_unacknowledged_tasks_since_when(client, lead, finance_task, science_task, frozen):
    science_task.acknowledged_at = datetime.datetime(2021, 6, 1, tzinfo=datetime.UTC)
    science_task.save()
    client.force_login(lead)
    queue = client.get(reverse("workspace:review_queue")).context["queue"]
    assert queue.unacknowledged == [finance_task]
