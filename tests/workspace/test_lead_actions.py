"""The lead bureau changes due dates and reassigns tasks; each change is recorded."""

import datetime

import pytest
from django.urls import reverse

from agencies.models import Agency


def change_due(client, task, date="2022-06-30", reason="市里统一调整时限"):
    return client.post(
        reverse("workspace:change_due_date", args=[task.pk]), {"due-due_date": date, "due-reason": reason}
    )


def test_the_lead_bureau_changes_a_due_date(client, lead, finance_task, frozen):
    client.force_login(lead)
    assert change_due(client, finance_task).status_code == 302
    finance_task.refresh_from_db()
    assert finance_task.due_date == datetime.date(2022, 6, 30)
    assert finance_task.original_due_date == datetime.date(2021, 12, 31)
    record = finance_task.history.order_by("-history_id").first()
    assert (record.history_user, record.history_change_reason) == (lead, "调整截止日期:市里统一调整时限")
    page = client.get(reverse("workspace:task_detail", args=[finance_task.pk])).text
    assert "调整截止日期:市里统一调整时限" in page


@pytest.mark.parametrize(("actor", "status"), [("alice", 403), ("bob", 404), ("leader", 403)])
def test_others_cannot_change_due_dates(client, request, finance_task, actor, status):
    client.force_login(request.getfixturevalue(actor))
    assert change_due(client, finance_task).status_code == status
    finance_task.refresh_from_db()
    assert finance_task.due_date == datetime.date(2021, 12, 31)


def test_a_reason_is_required(client, lead, finance_task, frozen):
    client.force_login(lead)
    response = change_due(client, finance_task, reason="")
    assert "调整原因" in client.get(response.url).text
    finance_task.refresh_from_db()
    assert finance_task.original_due_date is None


def test_reassigning_moves_the_task_and_asks_for_a_new_acknowledgement(
    client, lead, alice, market, finance_task, frozen
):
    finance_task.acknowledged_at = datetime.datetime(2021, 5, 1, tzinfo=datetime.UTC)
    finance_task.save()
    client.force_login(lead)
    url = reverse("workspace:reassign", args=[finance_task.pk])
    client.post(url, {"reassign-agency": market.pk, "reassign-reason": "职能调整"})
    finance_task.refresh_from_db()
    assert finance_task.agency == market
    assert finance_task.acknowledged_at is None
    history = client.get(reverse("workspace:task_detail", args=[finance_task.pk])).context["page"].history
    assert any(c["field"] == "单位" and c["new"] == str(market) for c in history[0]["changes"])
    client.force_login(alice)
    assert client.get(reverse("workspace:task_detail", args=[finance_task.pk])).status_code == 404


def test_reassigning_to_an_agency_already_on_the_measure_is_refused(
    client, lead, science, finance_task, science_task
):
    client.force_login(lead)
    client.post(
        reverse("workspace:reassign", args=[finance_task.pk]),
        {"reassign-agency": science.pk, "reassign-reason": "调整"},
    )
    finance_task.refresh_from_db()
    assert finance_task.agency.name == "区金融局"


@pytest.mark.parametrize(("actor", "status"), [("alice", 403), ("bob", 404), ("leader", 403)])
def test_others_cannot_reassign(client, request, market, finance_task, actor, status):
    client.force_login(request.getfixturevalue(actor))
    url = reverse("workspace:reassign", args=[finance_task.pk])
    assert client.post(url, {"reassign-agency": market.pk, "reassign-reason": "调整"}).status_code == status
    assert Agency.objects.get(tasks=finance_task).name == "区金融局"
