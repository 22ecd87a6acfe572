"""Task.sort_key — the list's default order stored in one indexed column — stays in step with the plan,
measure, role and agency it is made of, on every write path (tasks/sortkey.py)."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from agencies.models import Agency
from agencies.services import fan_out_collective, merge_agencies, set_collective_members
from tasks.models import Measure, Plan, Task
from tasks.services.importing import import_file
from tasks.sortkey import stale_sort_keys

SEEDS = settings.BASE_DIR / "seeds"
DONGLI = SEEDS / "dongli-2020-2021-protection-plan.txt"


def fresh():
    assert Task.objects.exists()
    assert stale_sort_keys() == []


def test_created_tasks_get_their_key(finance_task, science_task):
    fresh()
    # Lead before support within a measure, as the old four-table order had it.
    assert list(Task.objects.all()) == [finance_task, science_task]


def test_the_stored_order_is_the_old_four_table_order(plan, finance, science, market):
    older = Plan.objects.create(title="甲计划", period_start=2018, period_end=2019)
    same_year = Plan.objects.create(title="乙计划", period_start=2020, period_end=2021)
    undated = Plan.objects.create(title="无期限计划")
    tasks = []
    for p in (plan, older, same_year, undated):
        for position in (30, 5):
            measure = Measure.objects.create(
                plan=p, number=str(position), text=f"措施{position}。", position=position
            )
            for agency, role in ((science, "support"), (market, "support"), (finance, "lead")):
                tasks.append(Task.objects.create(measure=measure, agency=agency, role=role))
    expected = sorted(
        tasks,
        key=lambda t: (
            t.measure.plan.period_start is not None,  # PostgreSQL: DESC puts NULL first
            -(t.measure.plan.period_start or 0),
            t.measure.plan.title,
            t.measure.position,
            t.role,
            t.agency.name,
        ),
    )
    assert list(Task.objects.all()) == expected


def test_bulk_create_fills_keys(plan, finance, science):
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, number=str(i), text=f"第{i}项。", position=i) for i in range(20)
    )
    Task.objects.bulk_create(Task(measure=m, agency=finance if m.position % 2 else science) for m in measures)
    fresh()


def test_the_import_writes_keys(db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)
    plan = import_file(DONGLI).plan
    assert plan.measures.count() == 42
    fresh()


def test_renaming_or_redating_a_plan_refreshes_its_tasks(plan, finance_task, science_task):
    plan.title = "更名后的计划"
    plan.save()
    fresh()
    plan.period_start = 2019
    plan.save(update_fields=["period_start"])
    fresh()
    Plan.objects.filter(pk=plan.pk).update(title="再次更名")
    fresh()


def test_moving_a_measure_refreshes_its_tasks(plan, measure, finance_task):
    measure.position = 7
    measure.save()
    fresh()
    Measure.objects.filter(pk=measure.pk).update(position=9)
    fresh()
    measure.refresh_from_db()
    measure.position = 11
    Measure.objects.bulk_update([measure], ["position"])
    fresh()
    other = Plan.objects.create(title="另一计划", period_start=2022, period_end=2023)
    measure.plan = other
    measure.save()
    fresh()


def test_changing_role_or_agency_refreshes_the_task(finance_task, science, market):
    finance_task.role = Task.Role.SUPPORT
    finance_task.save()
    fresh()
    finance_task.agency = market
    finance_task.save(update_fields=["agency"])
    fresh()
    Task.objects.filter(pk=finance_task.pk).update(role=Task.Role.RESPONSIBLE)
    fresh()
    finance_task.refresh_from_db()
    finance_task.agency = science
    Task.objects.bulk_update([finance_task], ["agency"])
    fresh()


def test_renaming_an_agency_refreshes_its_tasks(finance, finance_task, science_task):
    finance.name = "区金融工作局"
    finance.save()
    fresh()
    finance.short_name = "金融局"
    finance.save(update_fields=["short_name"])
    fresh()


def test_merging_agencies_and_fanning_out_a_group(plan, measure, finance, science, finance_task):
    group = Agency.objects.create(name="各成员单位", is_group=True, kind=Agency.Kind.GROUP)
    Task.objects.create(measure=measure, agency=group, collective=group)
    set_collective_members(group=group, members=[science])
    fan_out_collective(group=group)
    fresh()
    merge_agencies(source=science, target=finance)
    fresh()


def test_saving_unrelated_fields_costs_no_query(finance_task, django_assert_num_queries):
    finance_task = Task.objects.get(pk=finance_task.pk)
    finance_task.percent = 40
    with django_assert_num_queries(2):  # the UPDATE and its history row: no lookup for the key
        finance_task.save(update_fields=["percent"])
    finance_task.status = Task.Status.IN_PROGRESS
    with django_assert_num_queries(2):
        finance_task.save()


@pytest.mark.parametrize("path", ["/tasks/?scope=all", "/tasks/?scope=all&ordering=agency"])
def test_pages_in_order_by_keyset_and_by_number_agree(client, lead, plan, finance, science, path):
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, number=str(i), text=f"第{i}项。", position=i % 7) for i in range(60)
    )
    Task.objects.bulk_create(
        Task(measure=m, agency=a, due_date=datetime.date(2021, 1, 1))
        for m in measures
        for a in (finance, science)
    )
    client.force_login(lead)
    first = client.get(path)
    second_by_number = client.get(path + "&page=2")
    following = first.context["page"].next_after
    if "ordering" in path:
        assert following is None  # sorted by a column: page numbers only
    else:
        assert following == first.context["page"].object_list[-1].pk
        by_cursor = client.get(path + f"&page=2&after={following}")
        assert list(by_cursor.context["page"]) == list(second_by_number.context["page"])
        assert f"after={following}" in first.text
    seen = list(first.context["page"]) + list(second_by_number.context["page"])
    third = client.get(path + "&page=3")
    seen += list(third.context["page"])
    assert len(seen) == len(set(seen)) == 120
    # Past the end: the last page, not an error.
    assert client.get(path + "&page=500").context["page"].number == 3
    assert client.get(reverse("workspace:task_list") + "?page=abc").status_code == 200
