"""A revision is written in a few statements whatever its size: measures renumbered or reworded, tasks whose
role or deadline changed, agencies no longer listed (tasks/services/importing.py ``_write_measure_changes``,
``_TaskWrites``; tasks/bulkwrite.py). Each keeps what the row-by-row writes kept: history rows, sort keys,
progress, the flag on a dropped task that has history."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from tasks.bulkwrite import can_insert_rows, insert_rows, update_rows
from tasks.models import Measure, ProgressUpdate, Task
from tasks.parsing import parse_text
from tasks.services.importing import import_plan
from tasks.sortkey import stale_sort_keys

# A revision's queries: recognise, read, diff, then a few writes per kind of change (not per measure or task).
MAX_QUERIES = 30
AGENCIES = ["区金融局", "区科技局", "区财政局", "区商务局", "区司法局", "区教育局"]


@pytest.fixture
def agencies(db):
    return Agency.objects.bulk_create([Agency(name=name, jurisdiction="东丽区") for name in AGENCIES])


def item(plan: int, k: int, *, lead: str | None = None, deadline: str = "2025年12月底前完成", drop=()) -> str:
    """Item ``k`` of plan ``plan``: its text does not depend on the number it is printed with."""
    first, second, third = (AGENCIES[(k + i) % len(AGENCIES)] for i in range(3))
    lead = lead or first
    support = [name for name in (first, second, third) if name != lead and name not in drop]
    clause = f"{lead}牵头,{'、'.join(support)}按职责分工负责" if support else f"{lead}负责"
    return f"推进第{plan}号计划第{k}项知识产权重点工作,健全机制,确保实效。({clause};{deadline})"


def document(lines: list[str], plan: int) -> str:
    body = [f"{number}.{line}" for number, line in enumerate(lines, start=1)]
    return "\n".join([f"东丽区知识产权工作要点(第{plan}号)", "一、重点任务", *body]) + "\n"


def load(text: str, **options):
    return import_plan(parsed=parse_text(text), data=text.encode(), jurisdiction="东丽区", **options)


def revise(plan: int, size: int, lines: list[str], within=None):
    """Import plan ``plan`` with ``size`` items, progress on every task, then ``lines`` as its revision
    (inside ``within``, a query-counting context, if given). Returns both results, the first version's task
    ids and the revision's number of queries."""
    first = load(document([item(plan, k) for k in range(1, size + 1)], plan))
    tasks = Task.objects.filter(measure__plan=first.plan)
    ProgressUpdate.objects.bulk_create(ProgressUpdate(task=t, text="进展", percent=10) for t in tasks)
    ids = set(tasks.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        if within is None:
            second = load(document(lines, plan))
        else:
            with within:
                second = load(document(lines, plan))
    assert second.plan == first.plan and not second.created
    return first, second, ids, len(captured)


@pytest.mark.parametrize("size", [12, 48])
def test_renumbering_a_revision_costs_the_same_queries_whatever_its_size(
    agencies, size, django_assert_max_num_queries
):
    # Item 1 goes, so every other item is renumbered and moves up a line; every fifth is reworded.
    lines = [item(size, k) for k in range(2, size + 1)]
    lines = [
        line.replace("健全机制", "完善机制,压实责任") if n % 5 == 0 else line for n, line in enumerate(lines)
    ]
    first, second, ids, _queries = revise(
        size, size, lines, within=django_assert_max_num_queries(MAX_QUERIES)
    )
    assert len(second.diff.removed) == 1 and len(second.diff.renumbered) == size - 1
    assert len(second.diff.changed) == len(range(0, size - 1, 5))
    plan = first.plan
    assert ids <= set(Task.objects.filter(measure__plan=plan).values_list("pk", flat=True)), "no task lost"
    assert ProgressUpdate.objects.filter(task__measure__plan=plan).count() == len(ids)
    assert stale_sort_keys(Task.objects.filter(measure__plan=plan)) == []
    live = Measure.objects.filter(plan=plan, is_removed=False).order_by("position")
    assert list(live.values_list("number", flat=True)) == [str(n) for n in range(1, size)]
    # each changed measure has one "~" history row holding what the row holds now
    changed = Measure.history.filter(id__in=live.values("pk"), history_type="~")
    assert changed.count() == second.measures_updated == size - 1
    for row in changed:
        stored = live.get(pk=row.id)
        assert (row.number, row.position, row.text, row.match_key) == (
            stored.number,
            stored.position,
            stored.text,
            stored.match_key,
        )
        assert row.updated_at == stored.updated_at and row.history_change_reason == ""


def test_revision_queries_are_the_same_at_12_and_48_items(agencies):
    counts = []
    for size in (12, 48):
        lines = [item(100 + size, k) for k in range(2, size + 1)]  # item 1 goes: all the others renumbered
        lines = [line.replace("健全机制", "完善机制") if n % 5 == 0 else line for n, line in enumerate(lines)]
        counts.append(revise(100 + size, size, lines)[3])
    assert counts[0] == counts[1]


@pytest.mark.parametrize("size", [10, 40])
def test_changed_roles_and_deadlines_are_written_in_bulk(agencies, size, django_assert_max_num_queries):
    # Every measure gets another lead agency (a role change on two of its tasks) and another deadline.
    lines = [
        item(200 + size, k, lead=AGENCIES[(k + 1) % 6], deadline="2026年6月30日前")
        for k in range(1, size + 1)
    ]
    first, second, ids, _queries = revise(
        200 + size, size, lines, within=django_assert_max_num_queries(MAX_QUERIES)
    )
    plan = first.plan
    tasks = Task.objects.filter(measure__plan=plan)
    assert set(tasks.values_list("pk", flat=True)) == ids
    assert second.tasks_updated == len(ids) and second.tasks_created == second.tasks_removed == 0
    assert set(tasks.values_list("due_date", flat=True)) == {datetime.date(2026, 6, 30)}
    for task in tasks.select_related("measure", "agency"):
        k = int(task.measure.text.split("第")[2].split("项")[0])
        wanted = Task.Role.LEAD if task.agency.name == AGENCIES[(k + 1) % 6] else Task.Role.SUPPORT
        assert task.role == wanted
        last = task.history.order_by("-history_id").first()
        assert last.history_type == "~" and last.role == task.role and last.due_date == task.due_date
        assert last.updated_at == task.updated_at
    assert stale_sort_keys(tasks) == []


def drop_an_agency(plan: int, size: int, gone: str):
    """Import plan ``plan``, progress on every other supporting task of ``gone``, then a revision that no
    longer lists ``gone`` as supporting. Returns the revision, the tasks kept, those deleted, its queries."""
    first = load(document([item(plan, k) for k in range(1, size + 1)], plan))
    tasks = Task.objects.filter(measure__plan=first.plan, agency__name=gone)
    with_progress = [t for t in tasks.order_by("pk") if t.role != Task.Role.LEAD][::2]
    ProgressUpdate.objects.bulk_create(ProgressUpdate(task=t, text="进展", percent=10) for t in with_progress)
    dropping = {t.pk for t in tasks if t.role != Task.Role.LEAD}
    with CaptureQueriesContext(connection) as captured:
        second = load(document([item(plan, k, drop=(gone,)) for k in range(1, size + 1)], plan))
    kept = {t.pk for t in with_progress}
    assert set(tasks.filter(dropped_from_plan=True).values_list("pk", flat=True)) == kept
    return second, kept, dropping - kept, len(captured)


def test_agencies_no_longer_listed_are_flagged_or_deleted_in_bulk(agencies):
    runs = {size: drop_an_agency(300 + size, size, AGENCIES[2]) for size in (12, 36)}
    for second, kept, deleted, queries in runs.values():
        assert kept and deleted and not Task.objects.filter(pk__in=deleted).exists()
        assert second.tasks_removed == len(deleted) and second.tasks_updated == len(kept)
        assert sum("予以保留并标记" in warning for warning in second.warnings) == len(kept)
        assert Task.history.filter(id__in=deleted, history_type="-").count() == len(deleted)
        flagged = Task.history.filter(id__in=kept, history_type="~")
        assert flagged.count() == len(kept) and all(row.dropped_from_plan for row in flagged)
        assert queries <= MAX_QUERIES + 10 + len(deleted)
    # the same queries at both sizes but for simple-history's "-" rows, one INSERT per deleted task (signals)
    (_s, _k, small_deleted, small), (_s, _k, large_deleted, large) = runs.values()
    assert small - len(small_deleted) == large - len(large_deleted)


def test_update_rows_writes_each_rows_own_values(agencies):
    plan = load(document([item(400, k) for k in range(1, 6)], 400)).plan
    measures = list(Measure.objects.filter(plan=plan).order_by("pk"))
    for n, measure in enumerate(measures):
        measure.raw_deadline = f"第{n}季度"
        measure.deadline_date = datetime.date(2027, 1, 1) + datetime.timedelta(days=n) if n % 2 else None
    assert update_rows(Measure, measures, ["raw_deadline", "deadline_date"]) == 5
    stored = list(
        Measure.objects.filter(plan=plan).order_by("pk").values_list("raw_deadline", "deadline_date")
    )
    assert stored == [(m.raw_deadline, m.deadline_date) for m in measures]


AWKWARD = ["", "含\x1e分隔符", "含\x1d标记", "普通文字", "'引号'与\\反斜杠", "{花括号,逗号}", "NULL"]


def test_insert_rows_and_update_rows_keep_awkward_values(agencies):
    """Columns go as one split string or as a list (tasks/bulkwrite.py ``_array``); either way each row gets
    exactly its own value: empty strings, separators, quotes, NULL dates, flags, one row alone."""
    plan = load(document([item(500, 1)], 500)).plan
    if not can_insert_rows(Measure):
        pytest.skip("insert_rows is PostgreSQL's")
    day = datetime.date(2027, 3, 1)
    measures = [
        Measure(
            plan=plan,
            number=f"#{n}",
            text=text,
            position=100 + n,
            raw_deadline=text,
            deadline_date=None if n % 2 else day + datetime.timedelta(days=n),
            is_ongoing=bool(n % 3),
        )
        for n, text in enumerate(AWKWARD)
    ]
    insert_rows(Measure, measures)
    alone = insert_rows(Measure, [Measure(plan=plan, number="#单", text="", position=0)])[0]
    fields = ("number", "text", "position", "raw_deadline", "deadline_date", "is_ongoing")

    def stored(objs):
        rows = Measure.objects.in_bulk([m.pk for m in objs])
        return [tuple(getattr(rows[m.pk], name) for name in fields) for m in objs]

    assert stored(measures) == [tuple(getattr(m, name) for name in fields) for m in measures]
    assert stored([alone]) == [("#单", "", 0, "", None, False)]
    assert all(m.created_at and m.created_at == measures[0].created_at for m in measures)
    for n, measure in enumerate(measures):
        measure.text = AWKWARD[-1 - n]
        measure.deadline_date = None if n % 3 else day
    assert update_rows(Measure, measures, ["text", "deadline_date"]) == len(AWKWARD)
    assert stored(measures) == [tuple(getattr(m, name) for name in fields) for m in measures]


def test_insert_rows_refuses_an_unsaved_related_object_and_takes_one_saved_since(agencies):
    plan = load(document([item(600, 1)], 600)).plan
    if not can_insert_rows(Task):
        pytest.skip("insert_rows is PostgreSQL's")
    measure = Measure(plan=plan, number="#新", text="新措施", position=99)
    task = Task(measure=measure, agency=agencies[0], sort_key="键")
    with pytest.raises(ValueError, match="unsaved related object 'measure'"):
        insert_rows(Task, [task])
    insert_rows(Measure, [measure])  # saved after the assignment: the task takes its key, as bulk_create does
    insert_rows(Task, [task])
    assert Task.objects.get(pk=task.pk).measure_id == measure.pk


def test_a_revision_moving_measures_to_a_new_section_writes_their_section(
    agencies, django_assert_max_num_queries
):
    lines = [f"{n}.{item(700, n)}" for n in range(1, 7)]
    first = load("\n".join(["东丽区知识产权工作要点(第700号)", "一、重点任务", *lines]) + "\n")
    # a section alone is not content (the fingerprint would call it the same plan): item 5 is reworded too
    moved = [lines[4].replace("健全机制", "完善机制"), lines[5]]
    text = (
        "\n".join(["东丽区知识产权工作要点(第700号)", "一、重点任务", *lines[:4], "二、保障措施", *moved])
        + "\n"
    )
    with django_assert_max_num_queries(MAX_QUERIES):
        second = load(text)
    assert second.plan == first.plan and not second.created
    measures = Measure.objects.filter(plan=first.plan).select_related("section").order_by("position")
    assert [m.section.heading for m in measures] == ["一、重点任务"] * 4 + ["二、保障措施"] * 2
    moved = Measure.history.filter(id__in=[m.pk for m in measures[4:]], history_type="~")
    assert {row.section_id for row in moved} == {measures[5].section_id}
    assert stale_sort_keys(Task.objects.filter(measure__plan=first.plan)) == []
