"""Submitted reports are records: nobody edits one; a correction is a new version with who, when and why,
listed in the task's 变更记录."""

import pytest
from django.urls import reverse

from tasks.models import ProgressUpdate
from workspace.services import submit_progress


@pytest.fixture
def update(alice, finance_task, frozen):
    return submit_progress(
        task=finance_task, user=alice, text="已起草评议办法。", percent=30, status="in_progress"
    )


def correct_url(update):
    return reverse("workspace:correct_update", args=[update.pk])


def test_a_report_cannot_be_saved_with_new_content(update):
    update.text = "改写后的内容"
    with pytest.raises(ValueError):
        update.save()
    update.refresh_from_db()
    assert update.text == "已起草评议办法。"


def test_the_liaison_corrects_a_report_as_a_new_version(client, alice, update, finance_task):
    client.force_login(alice)
    assert client.get(correct_url(update)).status_code == 200
    response = client.post(
        correct_url(update), {"text": "已印发评议办法。", "percent": "50", "reason": "笔误"}
    )
    assert response.status_code == 302
    old, new = ProgressUpdate.objects.filter(task=finance_task).order_by("version")
    assert (old.text, old.version) == ("已起草评议办法。", 1)
    assert (new.text, new.version, new.supersedes, new.author) == ("已印发评议办法。", 2, old, alice)
    assert new.correction_reason == "笔误"
    finance_task.refresh_from_db()
    assert finance_task.percent == 50
    page = client.get(reverse("workspace:task_detail", args=[finance_task.pk]))
    row = next(h for h in page.context["page"].history if h["reason"] == "笔误" and "版" in h["type"])
    assert row["user"] == alice
    assert {"field": "进展情况", "old": "已起草评议办法。", "new": "已印发评议办法。"} in row["changes"]
    assert "已被更正" in page.text and "第 2 版" in page.text


def test_a_correction_needs_a_reason_and_only_the_latest_version_is_corrected(client, alice, update):
    client.force_login(alice)
    assert (
        client.post(correct_url(update), {"text": "新内容", "percent": "30", "reason": ""}).status_code == 400
    )
    client.post(correct_url(update), {"text": "新内容", "percent": "30", "reason": "补充"})
    again = client.post(correct_url(update), {"text": "再改", "percent": "30", "reason": "再补充"})
    assert again.status_code == 400
    assert "请更正最新版本" in again.text
    assert ProgressUpdate.objects.count() == 2


@pytest.mark.parametrize("who", ["leader", "bob"])
def test_leaders_and_other_agencies_cannot_correct(client, request, update, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(correct_url(update), {"text": "篡改", "percent": "90", "reason": "x"})
    assert response.status_code in {403, 404}
    assert ProgressUpdate.objects.count() == 1


def test_the_admin_shows_reports_read_only(client, lead, update):
    client.force_login(lead)
    change = reverse("admin:tasks_progressupdate_change", args=[update.pk])
    page = client.get(change)
    assert page.status_code == 200 and "保存" not in page.text
    response = client.post(change, {"text": "篡改", "percent": "90", "created_at_0": "2020-01-01"})
    assert response.status_code == 403
    update.refresh_from_db()
    assert update.text == "已起草评议办法。"
    task_change = client.get(reverse("admin:tasks_task_change", args=[update.task_id]))
    assert 'name="updates-0-text"' not in task_change.text
