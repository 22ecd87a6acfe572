"""Aggregates over every current task, reused until the data under them changes.

The dashboard's per-agency table and the task list's counts aggregate every current task (100,000 in a
city): tens of milliseconds of SQL on each view although the tasks change far less often than they are
looked at. This module keeps each aggregate's answer in the cache under a key made of the query itself
(its SQL and parameters, today's date among them, so the lights turn at midnight) and a *data stamp* that
changes whenever a write to the tables the aggregates read becomes visible. A write is never missed,
whatever path it takes (ORM, bulk SQL, COPY, the admin, a migration): the database records it.

- **PostgreSQL**: a statement-level trigger on each table appends a row to ``ipplan_data_change`` (insert
  only: no row lock shared between writers, so no waiting and no deadlock). The stamp is the (count, min id,
  max id) of the rows the reader's snapshot sees. Ids are not committed in order, but a newly visible
  commit always adds a row, so the count grows; a rolled-back writer's rows never become visible.
  ``compact()`` (the daily sweep) folds the log into one new row, which changes min and max.
- **SQLite** (one writer at a time): a row-level trigger sets a random token in the single row of the same
  table; a rolled-back write restores the old token together with the old data.

Reading the stamp first and the data second, a cached answer is never older than its stamp: a later
reader with the same stamp sees the same data (or newer, if a commit lands between its two statements,
which the next view then counts). A write inside the reader's own transaction changes the stamp it sees.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)

TABLE = "ipplan_data_change"
# What the cached aggregates read (tasks/migrations/0013_data_change_stamp.py puts a trigger on each): tasks
# with their measure and plan, and the agencies a liaison belongs to.
WATCHED_TABLES = ("tasks_task", "tasks_measure", "tasks_plan", "agencies_agency", "agencies_liaison")
TIMEOUT = 60 * 60  # an answer nobody asks for again leaves the cache within the hour


def stamp(using: str = "default") -> str:
    """The data stamp: changes whenever a write to a watched table becomes visible to this connection."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT COUNT(*), MIN(id), MAX(id) FROM {TABLE}")
            count, low, high = cursor.fetchone()
            return f"{count}.{low}.{high}"
        cursor.execute(f"SELECT hex(token) FROM {TABLE} WHERE id = 1")
        return cursor.fetchone()[0]


def cached(queryset, kind: str, compute: Callable[[], Any]) -> Any:
    """``compute()``'s answer for ``queryset`` (the rows it aggregates), reused while the data stamp holds.
    ``kind`` names what ``compute`` makes of the rows (two aggregates of one queryset differ)."""
    using = queryset.db
    current = stamp(using)  # first: an answer is never older than its stamp
    sql, params = queryset.query.sql_with_params()
    digest = hashlib.sha256(repr((kind, using, sql, params)).encode()).hexdigest()
    key = f"ipplan:aggregate:{digest}:{current}"
    try:
        answer = cache.get(key)
    except Exception:  # the cache (Redis) unreachable: slower pages, not broken ones
        logger.warning("cache unreachable: aggregate %s computed without it", kind, exc_info=True)
        return compute()
    if answer is None:
        answer = compute()
        try:
            cache.set(key, answer, TIMEOUT)
        except Exception:
            logger.warning("cache unreachable: aggregate %s not kept", kind, exc_info=True)
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
