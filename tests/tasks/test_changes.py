"""The data stamp under cached aggregates (tasks/changes.py): every write path to the tables the aggregates
read changes it, a rolled-back write does not, and a cached answer is never served across a change."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse

from agencies.models import Agency, Liaison
from tasks import changes
from tasks.models import Measure, Plan, Task
from tasks.status import Light
from workspace import selectors


@pytest.fixture
def task(plan_with_tasks):
    return Task.objects.order_by("pk").first()


@pytest.fixture
def plan_with_tasks(finance, science):
    plan = Plan.objects.create(title="计划", period_start=2021, period_end=2022)
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, number=str(i), text=f"第{i}项措施。", position=i) for i in range(1, 4)
    )
    Task.objects.bulk_create(
        Task(measure=m, agency=agency, role="lead", due_date=datetime.date(2021, 12, 31))
        for m in measures
        for agency in (finance, science)
    )
    return plan


def raw_update() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tasks_task SET percent = percent")


WRITES = {
    "task saved": lambda task: task.save(),
    "task status by queryset": lambda task: Task.objects.filter(pk=task.pk).update(status="in_progress"),
    "task bulk_update": lambda task: Task.objects.bulk_update([task], ["percent"]),
    "task deleted": lambda task: task.delete(),
    "task by raw SQL": lambda task: raw_update(),
    "measure removed": lambda task: Measure.objects.filter(pk=task.measure_id).update(is_removed=True),
    "plan ended": lambda task: Plan.objects.update(is_active=False),
    "agency renamed": lambda task: Agency.objects.filter(pk=task.agency_id).update(name=F("name")),
    "liaison added": lambda task: Liaison.objects.create(
        user=get_user_model().objects.create_user("new"), agency_id=task.agency_id, email="new@example.gov.cn"
    ),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_path_changes_the_stamp(task, write):
    before = changes.stamp()
    assert changes.stamp() == before  # reading changes nothing
    write(task)
    assert changes.stamp() != before


def test_a_rolled_back_write_leaves_the_stamp_as_it_was(task):
    before = changes.stamp()
    with pytest.raises(RuntimeError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(status="done")
        inside = changes.stamp()
        raise RuntimeError
    assert inside != before  # the writer sees its own write
    assert changes.stamp() == before


def test_each_watched_table_has_its_trigger(db):
    """A migration that rebuilds a table (SQLite's ALTER) would drop its trigger: this test notices."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name = %s",
                ["ipplan_data_change"],
            )
        else:
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ipplan_%'"
            )
        tables = {row[0] for row in cursor.fetchall()}
    assert tables == set(changes.WATCHED_TABLES)


def test_compacting_the_log_changes_the_stamp(task):
    Task.objects.filter(pk=task.pk).update(percent=10)
    before = changes.stamp()
    changes.compact()
    if connection.vendor == "postgresql":
        assert changes.stamp() != before
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {changes.TABLE}")
            assert cursor.fetchone()[0] == 1
    else:
        assert changes.stamp() == before  # nothing to fold


def test_an_answer_is_computed_again_only_after_a_write(task):
    rows = Task.objects.current()
    calls = []

    def compute():
        calls.append(1)
        return rows.count()

    assert changes.cached(rows, "n", compute) == 6
    assert changes.cached(rows, "n", compute) == 6
    assert len(calls) == 1
    task.delete()
    assert changes.cached(rows, "n", compute) == 5
    assert len(calls) == 2
    fewer = rows.filter(agency_id=task.agency_id)
    assert changes.cached(fewer, "n", fewer.count) == 2  # another query, another key
    assert changes.cached(rows, "n", compute) == 5
    assert len(calls) == 2


def test_the_lights_turn_at_midnight_without_a_write(task):
    """Today's date is part of the key: the same data, a day later, counts the overdue tasks again."""
    evening = datetime.date(2021, 12, 31)
    tasks = Task.objects.current()
    assert selectors.counts(tasks.with_light(evening), evening).light(Light.RED) == 0
    morning = evening + datetime.timedelta(days=1)
    assert selectors.counts(tasks.with_light(morning), morning).light(Light.RED) == 6


def test_the_dashboard_shows_a_change_on_the_next_view(client, lead, task):
    client.force_login(lead)
    url = reverse("workspace:dashboard")
    first = client.get(url).context["board"].counts
    assert client.get(url).context["board"].counts == first  # the cached answer
    Task.objects.filter(pk=task.pk).update(status="done")
    after = client.get(url).context["board"].counts
    done = {key: n for key, _label, n in first.by_status}["done"]
    assert {key: n for key, _label, n in after.by_status}["done"] == done + 1
    assert after.light(Light.RED) == first.light(Light.RED) - 1


def test_an_unreachable_cache_slows_the_page_and_breaks_nothing(task, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(changes.cache, "get", down)
    assert changes.cached(Task.objects.all(), "n", lambda: 6) == 6
    assert "cache unreachable" in caplog.text


def test_the_daily_sweep_folds_the_log(task):
    from reminders import jobs

    for percent in (10, 20, 30):
        Task.objects.filter(pk=task.pk).update(percent=percent)
    before = changes.stamp()
    jobs.sweep("2024-09-30")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {changes.TABLE}")
            assert cursor.fetchone()[0] <= 2  # the fresh row, and one if the sweep itself wrote a task
        assert changes.stamp() != before
