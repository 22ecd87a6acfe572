"""The data stamp under cached aggregates (tasks/changes.py): every write path to the tables the aggregates
read changes it, a rolled-back write does not, and a cached answer is never served across a change."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, Liaison
from tasks import changes
from tasks.models import Measure, Plan, Task
from tasks.status import Light
from workspace import selectors

# Each statement commits, as in a request: inside a transaction that has written, PostgreSQL keeps nothing.
pytestmark = pytest.mark.django_db(transaction=True)


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
    "task saved": lambda task, market: task.save(),
    "tasks bulk created": lambda task, market: Task.objects.bulk_create(
        [Task(measure_id=task.measure_id, agency=market, role="support")]
    ),
    "task status by queryset": lambda task, market: Task.objects.filter(pk=task.pk).update(
        status="in_progress"
    ),
    "task bulk_update": lambda task, market: Task.objects.bulk_update([task], ["percent"]),
    "task deleted": lambda task, market: task.delete(),
    "task by raw SQL": lambda task, market: raw_update(),
    "measure removed": lambda task, market: Measure.objects.filter(pk=task.measure_id).update(
        is_removed=True
    ),
    "plan ended": lambda task, market: Plan.objects.update(is_active=False),
    "plan deleted with its measures and tasks": lambda task, market: Plan.objects.all().delete(),
    "agency renamed": lambda task, market: Agency.objects.filter(pk=task.agency_id).update(name=F("name")),
    "liaison added": lambda task, market: Liaison.objects.create(
        user=get_user_model().objects.create_user("new"), agency_id=task.agency_id, email="new@example.gov.cn"
    ),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_path_changes_the_stamp(task, market, write, request):
    before = changes.stamp()
    assert changes.stamp() == before  # reading changes nothing
    write(task, market)
    after = changes.stamp()
    if request.node.callspec.id.startswith("task"):  # a write to tasks: their agencies' buckets
        assert after.everything == before.everything
        assert after.buckets != before.buckets
    else:
        assert after.everything != before.everything


def test_a_rolled_back_write_leaves_the_stamp_and_the_kept_answers_right(task):
    rows = Task.objects.current()
    compute, asked = by_bucket(rows)
    before = changes.stamp()
    assert sum(changes.cached(rows, "n", compute).values()) == 6
    with pytest.raises(RuntimeError), transaction.atomic():
        task.delete()
        assert sum(changes.cached(rows, "n", compute).values()) == 5  # its own write counted
        raise RuntimeError
    assert changes.stamp() == before
    assert sum(changes.cached(rows, "n", compute).values()) == 6
    if connection.vendor == "postgresql":  # kept nothing inside: a stamp counting its own rows could recur
        assert asked == [None, None]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_truncating_the_tasks_changes_the_stamp(task):
    before = changes.stamp()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tasks_task CASCADE")
    assert changes.stamp().everything != before.everything


def test_each_watched_table_has_its_triggers():
    """A migration that rebuilds a table (SQLite's ALTER TABLE) drops its triggers: this test notices."""
    events = {"insert", "update", "delete"} | ({"truncate"} if connection.vendor == "postgresql" else set())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgtype FROM pg_trigger WHERE tgname LIKE 'ipplan_%'"
            )
            bits = {"insert": 4, "delete": 8, "update": 16, "truncate": 32}
            found = {(table, e) for table, kind in cursor.fetchall() for e, bit in bits.items() if kind & bit}
        else:
            cursor.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ipplan_%'"
            )
            found = {(table, name.rsplit("_", 1)[1]) for table, name in cursor.fetchall()}
    assert found == {(table, event) for table in changes.WATCHED_TABLES for event in events}


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


def by_bucket(rows):
    """A per-bucket count: ``compute`` for ``changes.cached``, recording the buckets it is asked for."""
    asked = []

    def compute(buckets):
        asked.append(buckets)
        counted = {}
        for agency_id in changes.in_buckets(rows, buckets).values_list("agency_id", flat=True):
            counted[agency_id % changes.BUCKETS] = counted.get(agency_id % changes.BUCKETS, 0) + 1
        return counted

    return compute, asked


def test_an_answer_is_computed_again_only_after_a_write_and_only_where(task, finance, science):
    rows = Task.objects.current()
    compute, asked = by_bucket(rows)

    def total():
        return sum(changes.cached(rows, "n", compute).values())

    assert total() == 6
    assert total() == 6
    assert asked == [None]  # once, for every bucket
    task.delete()
    assert total() == 5
    assert asked[1] == [task.agency_id % changes.BUCKETS]  # the deleted task's agency's bucket only
    fewer = rows.filter(agency_id=science.pk)
    fewer_compute, fewer_asked = by_bucket(fewer)
    assert sum(changes.cached(fewer, "n", fewer_compute).values()) == 3  # another query, another key
    assert total() == 5
    assert len(asked) == 2
    Plan.objects.update(period_end=2023)  # not a task: everything again
    assert total() == 5
    assert asked[-1] is None


def test_the_lights_turn_at_midnight_without_a_write(task):
    """Today's date is part of the key: the same tasks, a day later, are counted again."""
    evening = datetime.date(2021, 12, 31)
    tasks = Task.objects.current().with_light(evening)
    assert selectors.counts(tasks, evening).light(Light.RED) == 0
    assert selectors.counts(tasks, evening + datetime.timedelta(days=1)).light(Light.RED) == 6


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

    monkeypatch.setattr(changes.cache, "get_many", down)
    compute, asked = by_bucket(Task.objects.all())
    assert sum(changes.cached(Task.objects.all(), "n", compute).values()) == 6
    assert "cache unreachable" in caplog.text


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_daily_sweep_folds_the_log(task):
    from reminders import jobs

    for percent in (10, 20, 30):
        Task.objects.filter(pk=task.pk).update(percent=percent)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {changes.TABLE}")
        [last] = cursor.fetchone()
        jobs.sweep("2024-09-30")
        cursor.execute(f"SELECT COUNT(*) FROM {changes.TABLE} WHERE id <= %s", [last])
        assert cursor.fetchone()[0] == 0


def test_a_task_write_marks_the_bucket_of_its_agency_only(task, market):
    before = changes.stamp()
    Task.objects.filter(pk=task.pk).update(percent=50)
    after = changes.stamp()
    assert after.everything == before.everything
    changed = [b for b in range(changes.BUCKETS) if after.buckets[b] != before.buckets[b]]
    assert changed == [task.agency_id % changes.BUCKETS]
    Task.objects.filter(pk=task.pk).update(agency=market)  # moved: both agencies' buckets
    moved = changes.stamp()
    changed = {b for b in range(changes.BUCKETS) if moved.buckets[b] != after.buckets[b]}
    assert changed == {task.agency_id % changes.BUCKETS, market.pk % changes.BUCKETS}
    Plan.objects.update(period_end=2023)  # not a task: every agency
    assert changes.stamp().everything != moved.everything


def test_the_dashboard_counts_again_only_the_bucket_that_changed(client, lead, task, monkeypatch):
    """After a liaison's write the per-agency rows of one bucket are computed again; the board says what
    a computation from scratch says."""
    client.force_login(lead)
    url = reverse("workspace:dashboard")
    client.get(url)
    asked = []
    computing = selectors._per_agency
    monkeypatch.setattr(
        selectors,
        "_per_agency",
        lambda rows, aggregates, buckets: asked.append(buckets) or computing(rows, aggregates, buckets),
    )
    client.get(url)
    assert asked == []  # nothing written: every bucket from the cache
    Task.objects.filter(pk=task.pk).update(status="done", acknowledged_at=None)
    board = client.get(url).context["board"]
    assert asked == [[task.agency_id % changes.BUCKETS]]
    today = timezone.localdate()
    scratch = {}
    aggregates = selectors.agency_aggregates(today)
    for part in computing(Task.objects.current().with_light(today).order_by(), aggregates, None).values():
        scratch.update(part)
    assert board.counts == selectors.counts_from_row(
        Task.objects.current().aggregate(**selectors.status_light_counts(today))
    )
    assert {
        row.agency_id: (row.total, row.done, row.overdue, row.unacknowledged) for row in board.agencies
    } == {
        agency_id: (row["total"], row["status_done"], row["light_red"], row["unacknowledged"])
        for agency_id, row in scratch.items()
    }
    Plan.objects.update(title="改名的计划")  # a plan changed: every bucket
    client.get(url)
    assert asked[-1] is None
