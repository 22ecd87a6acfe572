"""Every status change goes through workspace.services, whichever page makes it; after the deadline the
liaison is told why 延期申请 is closed and may ask for a 调整时限申请."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tasks.models import Task
from workspace import services


def test_done_records_the_completion_time_and_reopening_clears_it(lead, finance_task, frozen):
    services.change_status(task=finance_task, user=lead, status=Task.Status.DONE, reason="已核实")
    finance_task.refresh_from_db()
    assert finance_task.completed_at == datetime.datetime(2021, 6, 15, 2, tzinfo=datetime.UTC)
    assert finance_task.percent == 100
    record = finance_task.history.order_by("-history_id").first()
    assert record.history_user == lead and record.history_change_reason == "状态由“未开始”改为“已办结”:已核实"
    services.change_status(task=finance_task, user=lead, status=Task.Status.IN_PROGRESS)
    finance_task.refresh_from_db()
    assert finance_task.completed_at is None


@pytest.mark.parametrize("actor", ["leader", "alice"])
def test_only_the_lead_bureau_sets_a_status(request, finance_task, actor):
    with pytest.raises(PermissionDenied):
        services.change_status(
            task=finance_task, user=request.getfixturevalue(actor), status=Task.Status.DONE
        )


def test_after_the_deadline_the_liaison_reads_why_and_may_ask_for_an_adjustment(
    client, alice, finance_task, frozen
):
    finance_task.due_date = datetime.date(2021, 6, 1)
    finance_task.save()
    client.force_login(alice)
    page = client.get(reverse("workspace:task_detail", args=[finance_task.pk])).text
    assert 'id="extension-closed"' in page and "截止日期 2021-06-01 已过,延期申请须在截止日期前提出" in page
    assert "提交调整时限申请" in page and "提交延期申请" not in page
