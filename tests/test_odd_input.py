"""Odd filter input (NUL bytes, bad dates, huge or malformed page numbers, unknown choices) answers 400 or
the admin's own ``?e=1`` redirect, never 500 — on PostgreSQL too, which refuses NUL in any query."""

import pytest
from django.urls import reverse

ODD = [
    {"status__exact": "\x00"},
    {"q": "\x00"},
    {"due_date__gte": "2024-13-45"},
    {"due_date__year": "99999"},
    {"due_date__month": "13", "due_date__year": "2024"},
    {"due_date__day": "x", "due_date__month": "2", "due_date__year": "2024"},
    {"p": "99999999999999999999"},
    {"p": "-1"},
    {"o": "99.x"},
    {"measure__plan__id__exact": "abc"},
    {"overdue": "\x00"},
]
WORKSPACE_ODD = [
    {"status": "\x00"},
    {"q": "\x00"},
    {"due_after": "2024-02-30"},
    {"due_before": "not a date"},
    {"plan": "abc"},
    {"page": "99999999999999999999"},
    {"page": "1e100"},
    {"ordering": "\x00"},
    {"light": "purple"},
]


@pytest.mark.parametrize("params", ODD, ids=repr)
@pytest.mark.parametrize(
    "name",
    ["tasks_task", "tasks_measure", "tasks_progressupdate", "agencies_agency", "reminders_reminderlog"],
)
def test_admin_changelists_never_fail(client, superuser, finance_task, name, params):
    client.force_login(superuser)
    response = client.get(reverse(f"admin:{name}_changelist"), params)
    assert response.status_code in {200, 302, 400}, response.status_code
    if response.status_code == 302:
        assert response.headers["Location"].endswith("?e=1")


@pytest.mark.parametrize("params", WORKSPACE_ODD, ids=repr)
@pytest.mark.parametrize("name", ["workspace:task_list", "workspace:dashboard", "reports:progress_report"])
def test_pages_and_exports_never_fail(client, lead, finance_task, name, params):
    client.force_login(lead)
    response = client.get(reverse(name), params)
    assert response.status_code in {200, 302, 400}, response.status_code


def test_a_nul_byte_gets_the_chinese_400_page(client, superuser):
    client.force_login(superuser)
    response = client.get("/admin/tasks/task/?status__exact=%00")
    assert response.status_code == 400
    assert "请求有误" in response.text
