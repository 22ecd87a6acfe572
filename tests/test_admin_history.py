"""The admin's history of a task reads like the 变更记录: Chinese labels, choice labels, local time, and
nobody can save a past version back."""

import datetime

import time_machine
from django.urls import reverse

from workspace.services import approve_completion, submit_progress


def test_task_history_shows_chinese_labels_and_local_time(client, lead, alice, finance_task):
    with time_machine.travel(datetime.datetime(2021, 6, 15, 2, 0, tzinfo=datetime.UTC), tick=False):
        submit_progress(
            task=finance_task, user=alice, text="已完成", percent=100, status="completion_requested"
        )
        approve_completion(task=finance_task, user=lead)
    client.force_login(lead)
    page = client.get(reverse("admin:tasks_task_history", args=[finance_task.pk]))
    assert page.status_code == 200
    text = page.text
    assert "申请办结" in text and "已办结" in text
    assert "completion_requested" not in text and "done →" not in text
    assert "变更内容" in text and "Changes" not in text
    assert "2021-06-15 10:00" in text  # 02:00 UTC is 10:00 in Shanghai
    assert "Deleted" not in text and "pk=None" not in text and "None" not in text


def test_a_past_version_cannot_be_saved_back(client, lead, finance_task):
    finance_task.status = "in_progress"
    finance_task.save()
    client.force_login(lead)
    first = finance_task.history.order_by("history_id").first()
    url = reverse("admin:tasks_task_simple_history", args=[finance_task.pk, first.history_id])
    assert client.get(url).status_code == 200
    assert client.post(url, {"status": "not_started"}).status_code == 403
    finance_task.refresh_from_db()
    assert finance_task.status == "in_progress"
