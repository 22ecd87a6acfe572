"""The task lists' default order as one stored column, so one B-tree index serves it.

Task lists show tasks by plan (newest period first, then title), measure position, role and agency name:
an order across four tables that no index can serve, so every page sorted every current task (and deep
pages spilled to disk). ``Task.sort_key`` stores that order as one string, kept in step with the rows it
is made of on every write path:

- ``Task.save`` (a new task, or its measure, agency or role changed) and ``TaskQuerySet.bulk_create``
  (fan-out to a group's members, agency merges; the import's own insert, tasks/services/bulk_history.py,
  calls the same ``prepare_bulk_create``) compute it for the rows written;
- the import writes a revision's measures and tasks in bulk (tasks/bulkwrite.py ``update_rows``, which keeps
  no key) and refreshes the keys of the tasks whose measure moved or whose role changed, once;
- ``TaskQuerySet.update`` / ``bulk_update`` of measure, agency or role, ``Measure.save`` and
  ``MeasureQuerySet.update`` / ``bulk_update`` of position or plan, ``Plan.save`` of title or period, and
  an agency's rename (a ``post_save`` receiver in tasks/apps.py) recompute the tasks concerned;
- ``stale_sort_keys()`` lists rows whose key disagrees with their parts (tests assert it stays empty).

The parts are fixed-width numbers and truncated names separated by U+001F (below every printable
character, so a title that is a prefix of another sorts first), compared bytewise under PostgreSQL's C
collation and SQLite's BINARY. The task id breaks ties (``Meta.ordering = ["sort_key", "id"]``).
"""

from __future__ import annotations

SEP = "\x1f"
TITLE_CHARS = 80
AGENCY_CHARS = 60
MAX_LENGTH = 4 + 1 + TITLE_CHARS + 1 + 10 + 1 + 10 + 1 + 12 + 1 + AGENCY_CHARS
# What a task's key is made of, as lookups from Task (one query reads them for many tasks).
PARTS = (
    "measure__plan__period_start",
    "measure__plan__title",
    "measure__plan_id",
    "measure__position",
    "role",
    "agency__name",
)
# Task fields whose change changes the key.
TASK_FIELDS = frozenset({"measure", "measure_id", "agency", "agency_id", "role"})


def plan_prefix(*, period_start: int | None, title: str, plan_id: int) -> str:
    # Newest period first: 9999 - year ascending. A plan without a period comes first, as PostgreSQL's
    # ORDER BY period_start DESC (NULLS FIRST) put it.
    period = "0000" if period_start is None else f"{9999 - period_start:04d}"
    return f"{period}{SEP}{title[:TITLE_CHARS]}{SEP}{plan_id:010d}{SEP}"


def measure_prefix(*, period_start: int | None, title: str, plan_id: int, position: int) -> str:
    return plan_prefix(period_start=period_start, title=title, plan_id=plan_id) + f"{position:010d}{SEP}"


def sort_key(
    *, period_start: int | None, title: str, plan_id: int, position: int, role: str, agency_name: str
) -> str:
    return (
        measure_prefix(period_start=period_start, title=title, plan_id=plan_id, position=position)
        + f"{role}{SEP}{agency_name[:AGENCY_CHARS]}"
    )


def key_from_row(row: dict) -> str:
    """The key of a task from ``queryset.values(*PARTS)``."""
    return sort_key(
        period_start=row["measure__plan__period_start"],
        title=row["measure__plan__title"],
        plan_id=row["measure__plan_id"],
        position=row["measure__position"],
        role=row["role"],
        agency_name=row["agency__name"],
    )


def fill(tasks) -> None:
    """Set ``sort_key`` on unsaved tasks (a bulk_create's rows): from their measure (with its plan) and agency
    when those are in memory, as the import's are; else in two queries, whatever their number."""
    from agencies.models import Agency

    from .models import Measure

    missing = []
    for task in tasks:
        if task.sort_key:
            continue
        measure = task._state.fields_cache.get("measure")
        agency = task._state.fields_cache.get("agency")
        plan = measure._state.fields_cache.get("plan") if measure is not None else None
        if (
            plan is not None
            and plan.pk is not None
            and measure.pk == task.measure_id
            and measure.plan_id == plan.pk
            and agency is not None
            and agency.pk == task.agency_id
        ):
            task.sort_key = sort_key(
                period_start=plan.period_start,
                title=plan.title,
                plan_id=plan.pk,
                position=measure.position,
                role=task.role,
                agency_name=agency.name,
            )
        else:
            missing.append(task)
    if not missing:
        return
    measures = {
        row["pk"]: row
        for row in Measure.objects.filter(pk__in={t.measure_id for t in missing}).values(
            "pk", "position", "plan_id", "plan__period_start", "plan__title"
        )
    }
    names = dict(Agency.objects.filter(pk__in={t.agency_id for t in missing}).values_list("pk", "name"))
    for task in missing:
        measure = measures[task.measure_id]
        task.sort_key = sort_key(
            period_start=measure["plan__period_start"],
            title=measure["plan__title"],
            plan_id=measure["plan_id"],
            position=measure["position"],
            role=task.role,
            agency_name=names[task.agency_id],
        )


def refresh(queryset, batch_size: int = 2000) -> int:
    """Recompute the key of the tasks in ``queryset``; writes only the rows that changed (one UPDATE per
    ``batch_size`` rows, each with its own key: tasks/bulkwrite.py). Returns how many."""
    from .bulkwrite import update_rows
    from .models import Task

    changed = []
    rows = queryset.order_by().values("pk", "sort_key", *PARTS)
    for row in rows.iterator(chunk_size=batch_size):
        key = key_from_row(row)
        if key != row["sort_key"]:
            changed.append(Task(pk=row["pk"], sort_key=key))
    for start in range(0, len(changed), batch_size):
        update_rows(Task, changed[start : start + batch_size], ["sort_key"])
    return len(changed)


def stale_sort_keys(queryset=None) -> list[int]:
    """Ids of tasks whose stored key disagrees with their plan, measure, role and agency."""
    from .models import Task

    queryset = Task.objects.all() if queryset is None else queryset
    return [
        row["pk"]
        for row in queryset.order_by().values("pk", "sort_key", *PARTS).iterator()
        if key_from_row(row) != row["sort_key"]
    ]
