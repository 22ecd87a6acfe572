import datetime

import pytest
import time_machine
from django.urls import reverse

from agencies.models import Agency
from tasks.models import Measure, Task

from .conftest import NOW

URL = reverse("workspace:task_list")


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_liaison_sees_only_their_agencys_tasks(client, alice, finance_task, science_task, frozen):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    assert "我的任务" in response.text
    assert list(response.context["page"]) == [finance_task]
    assert reverse("workspace:task_detail", args=[science_task.pk]) not in response.text


def test_an_outsider_sees_nothing_and_is_told_why(client, charlie, finance_task, frozen):
    client.force_login(charlie)
    response = client.get(URL)
    assert list(response.context["page"]) == []
    assert "尚未关联任何单位" in response.text


def test_a_leader_sees_every_task(client, leader, finance_task, science_task, frozen):
    client.force_login(leader)
    response = client.get(URL)
    assert set(response.context["page"]) == {finance_task, science_task}
    assert "任务清单" in response.text


def test_counts_per_status_and_light(client, alice, finance_task, ongoing_task, frozen):
    ongoing_task.next_report_due = datetime.date(2021, 6, 10)  # missed: red
    ongoing_task.save()
    client.force_login(alice)
    counts = client.get(URL).context["counts"]
    assert counts.total == 2
    assert dict((v, n) for v, _, n in counts.by_light) == {"red": 1, "yellow": 0, "green": 1, "grey": 0}
    assert dict((v, n) for v, _, n in counts.by_status)["not_started"] == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("overdue=on", {"finance_task"}),
        ("ongoing=on", {"ongoing_task"}),
        ("light=red", {"finance_task"}),
        ("q=质押融资", {"ongoing_task"}),
        ("due_before=2021-12-31&role=lead", {"finance_task"}),
    ],
)
def test_filters_live_in_the_url(client, alice, finance_task, ongoing_task, params, expected):
    finance_task.due_date = datetime.date(2021, 6, 1)
    finance_task.save()
    client.force_login(alice)
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"{URL}?{params}")
    names = {"finance_task": finance_task, "ongoing_task": ongoing_task}
    assert set(response.context["page"]) == {names[n] for n in expected}


def test_sort_links_and_pages_keep_the_filter(client, alice, finance_task, frozen):
    client.force_login(alice)
    response = client.get(f"{URL}?status=not_started&ordering=due_date")
    assert "?status=not_started&amp;ordering=-due_date" in response.text
    assert list(response.context["page"]) == [finance_task]


def test_a_liaison_cannot_filter_into_another_agency(client, alice, science, science_task, finance_task):
    client.force_login(alice)
    response = client.get(f"{URL}?agency={science.pk}")
    assert list(response.context["page"]) == [finance_task]
    assert "agency" in response.context["filter"].errors


def make_tasks(plan, agencies, n, prefix):
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, number=f"{prefix}{i}", text=f"第{i}项措施。", position=1000 + i) for i in range(n)
    )
    Task.objects.bulk_create(
        Task(measure=m, agency=agencies[i % len(agencies)], due_date=datetime.date(2021, 1 + i % 12, 1))
        for i, m in enumerate(measures)
    )


@pytest.mark.parametrize("actor", ["alice", "lead"])
def test_the_list_uses_a_fixed_number_of_queries(
    client, request, plan, finance, science, actor, django_assert_max_num_queries, frozen
):
    user = request.getfixturevalue(actor)
    client.force_login(user)
    make_tasks(plan, [finance, science], 10, "a")
    with django_assert_max_num_queries(14) as small:
        client.get(URL + "?ordering=status")
    make_tasks(
        plan,
        [finance, science, *Agency.objects.bulk_create([Agency(name=f"单位{i}") for i in range(3)])],
        500,
        "b",
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL + "?ordering=status")
    assert len(response.context["page"]) == 50


def test_each_row_says_its_light_deadline_role_status_and_last_report(
    client, alice, finance_task, ongoing_task, frozen
):
    """The rows are joined in Python (workspace_tags.task_rows): what each cell says, escaped."""
    finance_task.original_due_date = datetime.date(2021, 9, 30)  # moved by an approved 延期
    finance_task.measure.text = "推进<b>评议</b>机制。其余内容。"
    finance_task.measure.save()
    finance_task.save()
    client.force_login(alice)
    page = client.get(URL).text
    row = page[page.index(reverse("workspace:task_detail", args=[finance_task.pk])) :]
    row = row[: row.index("</tr>")]
    assert "推进&lt;b&gt;评议&lt;/b&gt;机制" in row  # the measure's text, escaped, up to its first 。
    assert "2021-12-31" in row and "原定 2021-09-30" in row
    assert finance_task.get_role_display() in row and "未签收" in row and "0%" in row
    ongoing = page[page.index(reverse("workspace:task_detail", args=[ongoing_task.pk])) :]
    ongoing = ongoing[: ongoing.index("</tr>")]
    assert "持续推进" in ongoing
    assert f"{ongoing_task.next_report_due:%Y-%m-%d} 前报送" in ongoing
    finance_task.acknowledged_at = finance_task.last_reported_at = datetime.datetime(
        2021, 6, 30, 20, tzinfo=datetime.UTC
    )
    finance_task.save()
    row = client.get(URL).text
    row = row[row.index(reverse("workspace:task_detail", args=[finance_task.pk])) :]
    row = row[: row.index("</tr>")]
    assert "未签收" not in row
    assert "2021-07-01" in row  # the last report's day in Asia/Shanghai, not UTC
