"""Many rows written in one statement, each row with its own values, without Django's per-value machinery.

On PostgreSQL both helpers send one array per column and let the database pair them up with ``UNNEST``:

- ``insert_rows`` inserts unsaved instances (``INSERT … SELECT * FROM UNNEST(…)``) and, in the same statement,
  copies the inserted rows into another table (a data-modifying CTE: the django-simple-history rows of
  tasks/services/bulk_history.py); it sets each instance's primary key;
- ``update_rows`` writes some fields of saved instances (``UPDATE … FROM UNNEST(…)``): a value per row, where
  Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per field and row, slow to build and to run.

Elsewhere (SQLite) ``update_rows`` is the plain ``QuerySet.bulk_update`` and ``insert_rows`` is not offered
(``can_insert_rows``). Neither sends signals nor keeps derived columns: callers do (``sort_key``: tasks/sortkey.py).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence

from django.db import connections, models, router
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin

BATCH = 5000


class Blueprint:
    """Unsaved instances of ``model`` built as Django builds the rows it reads: every concrete field's value
    passed by position to ``__init__`` (a third of the cost of keyword arguments, which go through each field's
    descriptor). Fields not given take their defaults; ``related`` objects set the key and the cache that
    ``instance.<relation>`` reads, as assigning them would."""

    def __init__(self, model: type[Model]):
        self.model = model
        fields = model._meta.concrete_fields
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.callables = [f for f in fields if f.has_default() and callable(f.default)]
        self.relations = {f.name: f.attname for f in fields if f.is_relation}

    def __call__(self, related: dict[str, Model | None] | None = None, **values) -> Model:
        row = self.defaults.copy()
        for field in self.callables:
            row[field.attname] = field.get_default()
        for name, obj in (related or {}).items():
            row[self.relations[name]] = None if obj is None else obj.pk
        if not values.keys() <= row.keys():
            raise TypeError(f"{self.model.__name__} has no field {sorted(values.keys() - row.keys())}")
        row.update(values)
        instance = self.model(*row.values())
        for name, obj in (related or {}).items():
            instance._state.fields_cache[name] = obj
        return instance


@functools.cache
def blueprint(model: type[Model]) -> Blueprint:
    return Blueprint(model)


def _is_postgresql(model: type[Model]) -> bool:
    return connections[router.db_for_write(model)].vendor == "postgresql"


def can_insert_rows(model: type[Model]) -> bool:
    return _is_postgresql(model)


def _array_type(field: Field, connection) -> str:
    # Without the length (varchar[], not varchar(30)[]), as Django's own UNNEST insert: never truncate.
    return field.db_type(connection).split("(")[0] + "[]"


_SEP, _NULL = "\x1e", "\x1d"  # separator and NULL marker of a column sent as one string
_AS_TEXT = {
    int: str,
    bool: lambda value: "t" if value else "f",
    datetime.date: datetime.date.isoformat,
}


def _array(field: Field, values: list, connection) -> tuple[str, list]:
    """The SQL and parameters of one column's values as an array. Numbers, flags, dates and text without
    control characters go as one string that ``string_to_array`` splits (quoting one string is ten times
    cheaper than quoting each element of a list); anything else as a list."""
    array_type = _array_type(field, connection)
    if len(values) > 1:  # one empty string would split into no element at all
        kinds = {type(value) for value in values if value is not None}
        text = None
        if len(kinds) == 1 and (kind := kinds.pop()) in _AS_TEXT:
            to_text = _AS_TEXT[kind]
            text = _SEP.join(_NULL if value is None else to_text(value) for value in values)
        elif kinds and all(
            isinstance(value, str) and _SEP not in value and _NULL not in value for value in values
        ):
            text = _SEP.join(values)
        if text is not None:
            return f"string_to_array(%s, %s, %s)::{array_type}", [text, _SEP, _NULL]
    return f"%s::{array_type}", [values]


# Values PostgreSQL's adaptation takes as they are, by the field's internal type (and dates, aware datetimes):
# for these ``get_db_prep_save`` returns the value itself (``str`` subclasses: TextChoices members), so calling it per value only costs time.
_AS_IS = {
    "CharField": str,
    "TextField": str,
    "BooleanField": bool,
    "IntegerField": int,
    "SmallIntegerField": int,
    "BigIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "PositiveBigIntegerField": int,
    "AutoField": int,
    "BigAutoField": int,
}


def _as_is(field: Field, values: list) -> bool:
    target = field.target_field if field.is_relation else field
    kind = target.get_internal_type()
    if kind == "DateField":  # a datetime would be cut to its date
        return all(value is None or type(value) is datetime.date for value in values)
    if kind == "DateTimeField":  # a naive one would be made aware (with a warning)
        return all(value is None or (type(value) is datetime.datetime and value.tzinfo) for value in values)
    wanted = _AS_IS.get(kind)
    if wanted is None:
        return False
    if wanted is str:
        return all(value is None or isinstance(value, str) for value in values)
    return all(value is None or type(value) is wanted for value in values)


def _column(field: Field, objs: Sequence[Model], connection, *, add: bool | None) -> list:
    """The database values of ``field`` for ``objs``, through ``get_db_prep_save`` as ``save`` does unless they
    are plain values it would return unchanged (``_AS_IS``). With ``add`` (an insert) ``Field.pre_save`` runs
    where a class overrides it (auto_now dates, files), as in ``bulk_create``; an update writes the values as
    they are, as ``bulk_update`` does."""
    prep = field.get_db_prep_save
    if (
        add is not None
        and getattr(field, "auto_now", False)
        or (add and getattr(field, "auto_now_add", False))
    ):
        now = field.pre_save(objs[0], add)  # one time for the statement, as an UPDATE … SET = now() would
        for obj in objs:
            setattr(obj, field.attname, now)
        values = [now] * len(objs)
    elif add is not None and type(field).pre_save is not Field.pre_save:
        values = [field.pre_save(obj, add) for obj in objs]
    else:
        attname = field.attname
        values = [getattr(obj, attname) for obj in objs]
    if _as_is(field, values):
        return values
    return [prep(value, connection) for value in values]


def _prepare_related(model: type[Model], objs: Sequence[Model]) -> None:
    """Django's check before a ``bulk_create`` (a related object assigned unsaved, or saved since), run only for
    the instances whose cached related objects disagree with their keys: it walks every field of each one."""
    relations = [
        (f.name, f.attname, f.target_field.attname) for f in model._meta.concrete_fields if f.is_relation
    ]
    always = bool(model._meta.private_fields)
    for obj in objs:
        cache = obj._state.fields_cache
        if always or any(
            (related := cache.get(name)) is not None
            and ((key := getattr(related, target)) is None or key != getattr(obj, attname))
            for name, attname, target in relations
        ):
            obj._prepare_related_fields_for_save(operation_name="bulk_create")


def _insert_sql(model: type[Model], fields: list[Field], columns: list[list], connection) -> tuple[str, list]:
    """``INSERT … SELECT`` of the rows whose ``columns`` (values per field) are given: a column holding one
    value for every row (a status, a flag, the creation time) is sent once, the others as one array each."""
    quote = connection.ops.quote_name
    arrays, names, selected, params, scalars = [], [], [], [], []
    for field, values in zip(fields, columns, strict=True):
        first = values[0]
        if arrays and all(value == first and type(value) is type(first) for value in values):
            selected.append(f"%s::{field.db_type(connection).split('(')[0]}")
            scalars.append(first)
        else:
            array, array_params = _array(field, values, connection)
            arrays.append(array)
            names.append(quote(field.column))
            selected.append(f"v.{quote(field.column)}")
            params += array_params
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(selected)} FROM UNNEST({', '.join(arrays)}) AS v({', '.join(names)})"
    )
    return sql, [*scalars, *params]


def insert_rows(
    model: type[Model],
    objs: Sequence[Model],
    *,
    copy_to: str = "",
    copy_columns: Sequence[tuple[str, str]] = (),
    copy_values: Sequence[tuple[str, object]] = (),
) -> list[Model]:
    """Insert unsaved ``objs`` (PostgreSQL only) and set their primary keys; returns them.

    With ``copy_to`` (a table) the same statement also copies the inserted rows there, in primary key order:
    ``copy_columns`` are ``(target column, column of model)`` pairs, ``copy_values`` ``(target column, value)``
    pairs, the same value for every row."""
    if not objs:
        return []
    if not can_insert_rows(model):
        raise NotImplementedError("insert_rows needs PostgreSQL")
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = model._meta.pk
    fields = [f for f in model._meta.local_concrete_fields if f is not pk]
    pk_column = quote(pk.column)
    copy_sql, extra = "", []
    if copy_to:
        sources = dict.fromkeys([pk.column, *(source for _target, source in copy_columns)])
        targets = [target for target, _source in copy_columns] + [target for target, _value in copy_values]
        selected = [quote(source) for _target, source in copy_columns] + ["%s"] * len(copy_values)
        extra = [value for _target, value in copy_values]
        copy_sql = (
            f" RETURNING {', '.join(quote(c) for c in sources)}), "
            f"copied AS (INSERT INTO {quote(copy_to)} ({', '.join(quote(t) for t in targets)}) "
            f"SELECT {', '.join(selected)} FROM inserted ORDER BY {pk_column}) "
            f"SELECT {pk_column} FROM inserted"
        )
    _prepare_related(model, objs)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            chunk = objs[start : start + BATCH]
            columns = [_column(f, chunk, connection, add=True) for f in fields]
            insert, params = _insert_sql(model, fields, columns, connection)
            if copy_to:
                cursor.execute(f"WITH inserted AS ({insert}{copy_sql}", [*params, *extra])
            else:
                cursor.execute(f"{insert} RETURNING {pk_column}", params)
            ids = [row[0] for row in cursor.fetchall()]
            if isinstance(pk, AutoFieldMixin):  # one statement takes them from the sequence in row order
                ids.sort()
            for obj, value in zip(chunk, ids, strict=True):
                setattr(obj, pk.attname, value)
                obj._state.adding = False
                obj._state.db = connection.alias
    return list(objs)


def update_rows(model: type[Model], objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write ``fields`` (names) of saved ``objs``, each row its own values; returns how many rows."""
    if not objs:
        return 0
    if not _is_postgresql(model):
        return models.QuerySet(model).bulk_update(objs, fields)
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = model._meta.pk
    chosen = [model._meta.get_field(name) for name in fields]
    table = quote(model._meta.db_table)
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in chosen)
    names = ", ".join(quote(f.column) for f in [pk, *chosen])
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            chunk = objs[start : start + BATCH]
            columns = [[obj.pk for obj in chunk]]
            columns += [_column(f, chunk, connection, add=None) for f in chosen]
            arrays, params = [], []
            for field, values in zip([pk, *chosen], columns, strict=True):
                array, array_params = _array(field, values, connection)
                arrays.append(array)
                params += array_params
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM UNNEST({', '.join(arrays)}) AS v({names}) "
                f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}",
                params,
            )
            written += cursor.rowcount
    return written
