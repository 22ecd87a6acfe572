"""The lead bureau's pages and an agency's own list make exactly the same queries at two sizes (the
benchmark's 100,000 and 1,000,000 tasks rely on it): counts, page and dashboard never loop over rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.models import Agency, Liaison
from tasks.models import Measure, Plan, Task

PAGES = [
    ("lead", "workspace:task_list", ""),
    ("lead", "workspace:task_list", "?overdue=on"),
    ("lead", "workspace:task_list", "?light=yellow"),
    ("lead", "workspace:task_list", "?scope=all&page=3"),
    ("lead", "workspace:task_list", "?scope=all&ordering=-due_date&page=2"),
    ("lead", "workspace:dashboard", ""),
    ("alice", "workspace:task_list", ""),
]


def grow(n: int, agencies: list[Agency], prefix: str) -> None:
    """``n`` measures on a new plan, each with a task for two agencies, due dates spread over a year."""
    plan = Plan.objects.create(title=f"计划{prefix}", period_start=2021, period_end=2022)
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, number=f"{prefix}{i}", text=f"第{i}项措施。", position=i) for i in range(n)
    )
    Task.objects.bulk_create(
        Task(
            measure=m,
            agency=agencies[(i + k) % len(agencies)],
            role="lead" if k == 0 else "support",
            status=["not_started", "in_progress", "done"][i % 3],
            is_ongoing=i % 5 == 0,
            due_date=None if i % 5 == 0 else datetime.date(2021, 1, 1) + datetime.timedelta(days=i * 7 % 365),
            next_report_due=datetime.date(2021, 7, 10) if i % 5 == 0 else None,
        )
        for i, m in enumerate(measures)
        for k in range(2)
    )


def touch() -> None:
    Plan.objects.filter(title="计划a").update(period_end=2022)


@pytest.mark.django_db(transaction=True)  # each write commits, as in use: PostgreSQL keeps answers then
@pytest.mark.parametrize(("actor", "name", "query"), PAGES)
def test_the_same_queries_at_two_sizes(
    client, request, finance, science, actor, name, query, django_assert_num_queries, frozen
):
    user = request.getfixturevalue(actor)
    agencies = [finance, science, *Agency.objects.bulk_create(Agency(name=f"单位{i}") for i in range(8))]
    grow(80, agencies, "a")
    client.force_login(user)
    url = reverse(name) + query
    client.get(url)  # warm per-process caches (session, groups)
    touch()  # a write: the counts are computed again (tasks/changes.py), as after the growth below
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as again:
        client.get(url)  # nothing written since: the counts are the cached ones
    # The lead bureau's aggregates come from the cache; an agency's own few tasks are simply counted.
    assert len(again.captured_queries) == len(small.captured_queries) - (actor == "lead")
    grow(600, agencies + list(Agency.objects.bulk_create(Agency(name=f"新单位{i}") for i in range(40))), "b")
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    if name == "workspace:task_list" and actor == "lead" and "light" not in query:
        assert len(response.context["page"].object_list) == 50


def test_the_keyset_page_costs_what_a_numbered_page_costs(client, lead, finance, science, frozen):
    grow(200, [finance, science], "a")
    client.force_login(lead)
    url = reverse("workspace:task_list") + "?scope=all"
    first = client.get(url)
    cursor = first.context["page"].next_after
    with CaptureQueriesContext(connection) as numbered:
        client.get(url + "&page=2")
    with CaptureQueriesContext(connection) as keyset:
        response = client.get(url + f"&page=2&after={cursor}")
    assert len(keyset.captured_queries) == len(numbered.captured_queries)
    assert response.context["page"].object_list[0].sort_key >= first.context["page"].object_list[-1].sort_key


def test_liaison_list_in_the_liaisons_agency_only(client, alice, finance, science, frozen):
    grow(30, [finance, science], "a")
    assert Liaison.objects.filter(user=alice, agency=finance).exists()
    client.force_login(alice)
    page = client.get(reverse("workspace:task_list") + "?scope=all").context["page"]
    assert page.paginator.count == Task.objects.filter(agency=finance).count()
    assert {t.agency_id for t in page.object_list} == {finance.pk}
