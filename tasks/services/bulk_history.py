"""Bulk inserts and updates with their django-simple-history rows written by the database.

``simple_history.utils.bulk_create_with_history`` builds one historical model instance per row in Python and
bulk-inserts them: for an import of 1,000 plans (160,000 tasks) that was about 40 % of the time. Here the
history rows are copied from the rows just written. On PostgreSQL an insert and its history rows are one
statement (tasks/bulkwrite.py ``insert_rows``: a data-modifying CTE); elsewhere one ``INSERT … SELECT`` per
batch follows Django's ``bulk_create``. They hold the same values simple-history would write: every tracked
field, ``history_type`` "+" (a save's "~" for ``record_changed``), one ``history_date``, the user
simple-history would take (``get_default_history_user``: the request's user under ``HistoryRequestMiddleware``)
unless one is given, and no change reason ("" for "~", as ``bulk_history_create`` writes).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.conf import settings
from django.db import connections, router
from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history as simple_history_bulk_create
from simple_history.utils import get_history_manager_for_model

from tasks.bulkwrite import can_insert_rows, insert_rows

BATCH = 2000


@functools.cache
def _history_layout(model: type[Model]):
    """The history model of ``model``, ``(history column, model column)`` of each tracked field, and the columns
    of the history fields by name (the same for the life of the process)."""
    history = get_history_manager_for_model(model).model
    copied = [(history._meta.get_field(field.name).column, field.column) for field in history.tracked_fields]
    names = ("history_date", "history_type", "history_user", "history_change_reason")
    return history, copied, {name: history._meta.get_field(name).column for name in names}


def _history_columns(model: type[Model], objs: Sequence[Model], *, kind: str, user, date):
    """The history model, ``(history column, model column)`` of each tracked field, and ``(history column,
    value)`` of the history fields, for ``objs``' rows of ``kind`` ("+" or "~")."""
    history, copied, columns = _history_layout(model)
    if user is None:
        user = history.get_default_history_user(objs[0])
    connection = connections[router.db_for_write(history)]
    values = {
        "history_date": connection.ops.adapt_datetimefield_value(date or timezone.now()),
        "history_type": kind,
        "history_user": getattr(user, "pk", None),
        "history_change_reason": None if kind == "+" else "",
    }
    return history, copied, [(columns[name], value) for name, value in values.items()]


def record_created(
    model: type[Model], objs: Sequence[Model], *, user=None, date=None, kind: str = "+"
) -> int:
    """Write the "+" history rows of ``objs`` (saved instances of ``model``) from their stored rows; with
    ``kind="~"`` the rows of a change just written (``record_changed``). Returns how many."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return 0
    history, copied, values = _history_columns(model, objs, kind=kind, user=user, date=date)
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    targets = [quote(target) for target, _source in copied] + [quote(target) for target, _value in values]
    sources = [quote(source) for _target, source in copied]
    pk = quote(model._meta.pk.column)
    extra = [value for _target, value in values]
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            pks = [obj.pk for obj in objs[start : start + BATCH]]
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(targets)}) "
                f"SELECT {', '.join(sources)}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(pks))}) ORDER BY {pk}",
                [*extra, *pks],
            )
            written += cursor.rowcount
    return written


def record_changed(model: type[Model], objs: Sequence[Model], *, user=None, date=None) -> int:
    """The "~" history rows of ``objs`` whose change was just written with an UPDATE (a ``save`` writes them
    itself): copied from the stored rows, so they hold what the database holds."""
    return record_created(model, objs, user=user, date=date, kind="~")


def bulk_create_with_history(objs: Sequence[Model], model: type[Model], *, batch_size: int = 500, user=None):
    """``model.objects.bulk_create(objs)`` and their history rows, in the caller's transaction. On PostgreSQL
    one statement per 5,000 rows writes both (``bulkwrite.insert_rows``); derived columns (``Task.sort_key``)
    are filled first, as the model's ``bulk_create`` would."""
    objs = list(objs)
    if not objs:
        return objs
    if can_insert_rows(model):
        prepare = getattr(model._default_manager, "prepare_bulk_create", None)
        if prepare is not None:
            prepare(objs)
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return insert_rows(model, objs)
        history, copied, values = _history_columns(model, objs, kind="+", user=user, date=None)
        return insert_rows(
            model, objs, copy_to=history._meta.db_table, copy_columns=copied, copy_values=values
        )
    if not connections[router.db_for_write(model)].features.can_return_rows_from_bulk_insert:
        return simple_history_bulk_create(objs, model, batch_size=batch_size, default_user=user)
    created = model._default_manager.bulk_create(objs, batch_size=batch_size)
    record_created(model, created, user=user)
    return created
