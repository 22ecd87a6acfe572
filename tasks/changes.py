"""Aggregates over every current task, reused until the data under them changes.

The dashboard's per-agency table and the task list's counts aggregate every current task (100,000 in a
city): tens of milliseconds of SQL on each view although the tasks change far less often than they are
looked at. This module keeps each aggregate's answer in the cache under a key made of the query itself
(its SQL and parameters, today's date among them, so the lights turn at midnight) and a *data stamp* that
changes whenever a write to the tables the aggregates read becomes visible. A write is never missed,
whatever path it takes (ORM, bulk SQL, COPY, the admin, a migration): the database records it.

The stamp has parts. A write to a task marks the *bucket* of its agency (``agency_id % BUCKETS``, before
and after the write); any other write (a measure removed, a plan ended, an agency renamed, a liaison added)
marks everything. Aggregates are kept bucket by bucket (``cached``): after a liaison's report, the
dashboard and the lists count again the tasks of one bucket's agencies only (an index on the agency finds
them) and add the other buckets' kept answers.

- **PostgreSQL**: statement-level triggers append rows to ``ipplan_data_change`` — for tasks one per bucket
  the statement touched (read from its transition tables), for the other tables one with no bucket. Insert
  only: no row lock shared between writers, so no waiting and no deadlock. A part of the stamp is the
  (count, min id, max id) of its rows that the reader's snapshot sees. Ids are not committed in order, but a
  newly visible commit always adds a row, so a count grows; a rolled-back writer's rows never become
  visible. ``compact()`` (the daily sweep) folds the log into one new row, which changes every part.
- **SQLite** (one writer at a time): row-level triggers set a random token in the row of each part; a
  rolled-back write restores the old tokens together with the old data.

Reading the stamp first and the data second, a cached answer is never older than its stamp: a later
reader with the same stamp sees the same data (or newer, if a commit lands between its two statements,
which the next view then counts). Inside a PostgreSQL transaction that has written, nothing is read from
or kept in the cache: its stamp would count its own rows, which a rollback takes back (SQLite's tokens are
random, so such a stamp never comes again). A random epoch per database (renewed by ``compact()``) keeps
two databases sharing one cache apart.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connections
from django.db.models import F

logger = logging.getLogger(__name__)

TABLE = "ipplan_data_change"
# PostgreSQL: one random value per database, new at each compaction, so that two databases (a test run, a
# restored copy) sharing one cache never share a stamp.
EPOCH_TABLE = "ipplan_data_epoch"
# What the cached aggregates read (tasks/migrations/0013_data_change_stamp.py puts triggers on each): tasks
# with their measure and plan, and the agencies a liaison belongs to.
WATCHED_TABLES = ("tasks_task", "tasks_measure", "tasks_plan", "agencies_agency", "agencies_liaison")
BUCKETS = 32  # the migration's triggers use the same number
TIMEOUT = 60 * 60  # an answer nobody asks for again leaves the cache within the hour
NO_TASKS = "no tasks"  # what a bucket without tasks keeps (the cache cannot tell a stored None from a miss)


@dataclass(frozen=True)
class Stamp:
    everything: str  # writes that concern every agency
    buckets: tuple[str, ...]  # writes to the tasks of each bucket's agencies

    def of_bucket(self, bucket: int) -> str:
        return f"{self.everything}/{self.buckets[bucket]}"


def stamp(using: str = "default") -> Stamp | None:
    """The data stamp: some part of it changes whenever a write to a watched table becomes visible.
    ``None`` on PostgreSQL inside a transaction that has written: a stamp counting its own rows could come
    back, after it rolls back, for other data (the cache is not used then)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT bucket, COUNT(*), MIN(id), MAX(id), (SELECT epoch FROM {EPOCH_TABLE}), "
                f"pg_current_xact_id_if_assigned() IS NOT NULL FROM {TABLE} GROUP BY bucket"
            )
            rows = cursor.fetchall()
            if not rows or rows[0][5]:
                return None
            parts = {bucket: f"{count}.{low}.{high}" for bucket, count, low, high, _epoch, _wrote in rows}
            everything = f"{rows[0][4]}.{parts.get(None, '-')}"
            return Stamp(everything, tuple(parts.get(b, "-") for b in range(BUCKETS)))
        cursor.execute(f"SELECT id, hex(token) FROM {TABLE}")
        parts = dict(cursor.fetchall())
        return Stamp(parts[0], tuple(parts[b + 1] for b in range(BUCKETS)))


def _digest(queryset, kind: str) -> str:
    sql, params = queryset.query.sql_with_params()
    return hashlib.sha256(repr((kind, queryset.db, sql, params)).encode()).hexdigest()


def _get_many(keys: list[str], kind: str) -> dict[str, Any] | None:
    try:
        return cache.get_many(keys)
    except Exception:  # the cache (Redis) unreachable: slower pages, not broken ones
        logger.warning("cache unreachable: aggregate %s computed without it", kind, exc_info=True)
        return None


def _set_many(answers: dict[str, Any], kind: str) -> None:
    try:
        cache.set_many(answers, TIMEOUT)
    except Exception:
        logger.warning("cache unreachable: aggregate %s not kept", kind, exc_info=True)


def in_buckets(queryset, buckets: list[int] | None):
    """The tasks of ``queryset`` whose agency is in ``buckets`` (``None``: all), found by agency id so that
    an index on the agency serves them."""
    if buckets is None:
        return queryset
    from agencies.models import Agency

    agencies = Agency.objects.annotate(bucket=F("pk") % BUCKETS).filter(bucket__in=buckets)
    return queryset.filter(agency_id__in=list(agencies.values_list("pk", flat=True)))


def cached(queryset, kind: str, compute: Callable[[list[int] | None], dict[int, Any]]) -> dict[int, Any]:
    """An aggregate over the tasks of ``queryset``, kept bucket by bucket of agencies while the stamp of each
    bucket holds. ``compute(buckets)`` answers for the tasks of those buckets' agencies (``None``: of every
    agency) as ``{bucket: answer}``; ``kind`` names what it computes (two aggregates of one queryset differ).
    Returns ``{bucket: answer}`` for every bucket with tasks. After a write to some agencies' tasks, only
    their buckets are computed again; after any other write, all of them in one go."""
    current = stamp(queryset.db)  # first: an answer is never older than its stamp
    if current is None:
        return compute(None)
    digest = _digest(queryset, kind)
    keys = {b: f"ipplan:aggregate:{digest}:{b}:{current.of_bucket(b)}" for b in range(BUCKETS)}
    found = _get_many(list(keys.values()), kind)
    if found is None:
        return compute(None)
    stale = [b for b, key in keys.items() if key not in found]
    answer = {b: found[key] for b, key in keys.items() if key in found and found[key] != NO_TASKS}
    if stale:
        fresh = compute(None if len(stale) == BUCKETS else stale)
        _set_many({keys[b]: fresh.get(b, NO_TASKS) for b in stale}, kind)
        answer.update(fresh)
    return answer


def compact(using: str = "default") -> None:
    """Fold PostgreSQL's change log into one new row (a new stamp); nothing to do on SQLite."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH fresh AS (INSERT INTO {TABLE} DEFAULT VALUES RETURNING id) "
            f"DELETE FROM {TABLE} WHERE id < (SELECT id FROM fresh)"
        )
        cursor.execute(f"UPDATE {EPOCH_TABLE} SET epoch = gen_random_uuid()")
