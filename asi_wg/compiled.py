"""A queryset compiled to SQL once per process, then run again with other values.

Building a queryset with subqueries costs far more than running it: ``_round_to_answer`` (the
round with three ``Exists``) took about 3 ms of Python to build and compile on each autosave,
and 0.2 ms in PostgreSQL. ``Compiled`` builds the queryset once with placeholder values, keeps
its SQL, and runs that SQL as a raw query with the real values in the placeholders' places.
The rules stay where they are written (the selectors' expressions); only their compilation is
kept.

The placeholders are integers no row has (ids are positive); the values must be ids too. The
query is compiled without django-scopes' automatic filters (they would bake the first caller's
tenant into the SQL), so ``build`` must filter by the tenant itself, with an id among its names.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections, router, transaction
from django.db.models import Field, Model, QuerySet, sql
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.signals import post_save, pre_save
from django_scopes import scopes_disabled

M = TypeVar("M", bound=Model)

# Far from any id, and from each other.
_PLACEHOLDER = -7_340_000_000
# Ids are positive 64-bit integers.
_LARGEST_ID = 2**63 - 1


@dataclass(frozen=True)
class _Plan:
    """One database's compiled query: its SQL and parameters, which parameters are the ids, and
    how a row becomes an instance (the model's columns, then the annotations)."""

    sql: str
    params: list[Any]
    slots: dict[int, str]
    attnames: list[str]
    fields: list[int]
    annotations: list[tuple[int, str]]
    converters: dict[int, tuple[list[Any], Any]]
    related: list[Any]


class Compiled(Generic[M]):
    """``build(**ids)``, a queryset of ``model``, compiled once per database; ``rows(**ids)``
    runs it, with ``suffixes[vendor]`` appended to its SQL (a row lock clause the ORM cannot
    write, such as ``FOR SHARE``). The rows are instances of ``model`` with the queryset's
    annotations as attributes and its ``select_related()`` rows attached, made as the
    queryset would make them (the database's values converted by the same converters),
    without the ORM's per-query work."""

    def __init__(
        self,
        model: type[M],
        build: Callable[..., QuerySet[M]],
        *names: str,
        suffixes: dict[str, str] | None = None,
    ) -> None:
        self.model = model
        self.build = build
        self.names = names
        self.suffixes = suffixes or {}
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.Lock()

    def sql(self, alias: str) -> tuple[str, list[Any], dict[int, str]]:
        """The SQL for database ``alias``, its parameters, and which of them are the ids."""
        plan = self._plan(alias)
        return plan.sql, plan.params, plan.slots

    def _plan(self, alias: str) -> _Plan:
        plan = self._plans.get(alias)
        if plan is None:
            placeholders = {name: _PLACEHOLDER - i for i, name in enumerate(self.names)}
            with scopes_disabled():
                queryset = self.build(**placeholders)
                compiler = queryset.query.get_compiler(alias)
                sql, params = compiler.as_sql()
            by_value = {value: name for name, value in placeholders.items()}
            slots = {
                i: by_value[p]
                for i, p in enumerate(params)
                if isinstance(p, int) and not isinstance(p, bool) and p in by_value
            }
            if set(slots.values()) != set(self.names):
                raise ValueError(f"{self.names} are not all parameters of: {sql}")
            klass_info = compiler.klass_info
            if queryset.model is not self.model or klass_info is None:
                raise ValueError(f"not a query of {self.model.__name__}: {sql}")
            columns = [compiler.select[i][0] for i in klass_info["select_fields"]]
            suffix = self.suffixes.get(connections[alias].vendor, "")
            plan = _Plan(
                sql=f"{sql}{suffix}",
                params=list(params),
                slots=slots,
                attnames=[column.target.attname for column in columns],
                fields=list(klass_info["select_fields"]),
                annotations=sorted(
                    (index, name) for name, index in compiler.annotation_col_map.items()
                ),
                converters=compiler.get_converters([column[0] for column in compiler.select]),
                # select_related()'s rows, made as the queryset's iterator makes them.
                related=get_related_populators(klass_info, compiler.select, alias),
            )
            with self._lock:
                self._plans[alias] = plan
        return plan

    def rows(self, **ids: int) -> list[M]:
        values_of = {name: int(ids[name]) for name in self.names}
        if not all(0 < value <= _LARGEST_ID for value in values_of.values()):
            # No row has it, and SQLite cannot even take it (a crafted URL's 20-digit id).
            return []
        alias = router.db_for_read(self.model)
        plan = self._plan(alias)
        values = list(plan.params)
        for index, name in plan.slots.items():
            values[index] = values_of[name]
        connection = connections[alias]  # this thread's, not the compiling thread's
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, values)
            fetched = cursor.fetchall()
        found = []
        for row in fetched:
            row = list(row)
            for index, (converters, expression) in plan.converters.items():
                value = row[index]
                for convert in converters:
                    value = convert(value, expression, connection)
                row[index] = value
            instance = self.model.from_db(alias, plan.attnames, [row[i] for i in plan.fields])
            for index, name in plan.annotations:
                setattr(instance, name, row[index])
            for populator in plan.related:
                populator.populate(row, instance)
            found.append(instance)
        return found


# --- Writes -------------------------------------------------------------------------------------
#
# ``Model.save()`` costs a good deal more Python than the INSERT or UPDATE it sends: the signals,
# the save's bookkeeping and the compiler, all made again for every row. The autosave writes two
# rows on every keystroke pause (the answer and its audit entry). These write a row with SQL kept
# per model, database and columns, and the values prepared as the ORM prepares them. Neither
# sends signals, so a model some receiver listens to is saved the ORM's way.


def column(model: type[Model], name: str) -> str:
    """The database column of ``model``'s field ``name``, for SQL written by hand."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field.column


def _plain(model: type[Model]) -> bool:
    """Whether a row of ``model`` is one row of one table, saved by ``Model.save`` itself, that
    no save receiver listens to."""
    meta = model._meta
    listened = pre_save.has_listeners(model) or post_save.has_listeners(model)
    return not (listened or meta.parents or meta.proxy or model.save is not Model.save)


def _expression(value: Any) -> bool:
    return hasattr(value, "resolve_expression")


@functools.cache
def _insert_plan(model: type[Model], alias: str) -> tuple[str, list[Field[Any, Any]], list[Any]]:
    """The INSERT of one row of ``model`` as the ORM writes it (every local column but a
    database-made one, with RETURNING for those the database makes), and its columns."""
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    query = sql.InsertQuery(model)
    query.insert_values(fields, [model()], raw=False)
    compiler = query.get_compiler(alias)
    returning = list(meta.db_returning_fields)
    if connections[alias].features.can_return_columns_from_insert:
        compiler.returning_fields = returning
    else:
        returning = []
    [(text, params)] = compiler.as_sql()
    if len(params) != len(fields) or text.count("%s") != len(fields):
        raise ValueError(f"not one plain parameter per column: {text}")
    return text, fields, returning


def insert(instance: Model) -> None:
    """Insert ``instance`` as ``instance.save()`` would a new row (its automatic values made,
    its id set from the database), without signals; the ORM's save when a receiver listens."""
    model = type(instance)
    if not _plain(model) or instance.pk is not None:
        instance.save(force_insert=True)
        return
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    text, fields, returning = _insert_plan(model, alias)
    raw = [field.pre_save(instance, True) for field in fields]
    if any(_expression(value) for value in raw):  # F(), Now(): the ORM compiles them
        instance.save(force_insert=True)
        return
    values = [f.get_db_prep_save(value, connection) for f, value in zip(fields, raw, strict=True)]
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(text, values)
        if returning:
            for field, value in zip(returning, cursor.fetchone(), strict=True):
                setattr(instance, field.attname, value)
        elif instance._meta.auto_field is not None:
            auto = instance._meta.auto_field
            setattr(
                instance,
                auto.attname,
                connection.ops.last_insert_id(cursor, instance._meta.db_table, auto.column),
            )
    instance._state.adding = False
    instance._state.db = alias


@functools.cache
def _update_plan(
    model: type[Model], alias: str, names: tuple[str, ...]
) -> tuple[str, list[Field[Any, Any]]] | None:
    """``UPDATE ... SET <columns> WHERE <pk> = %s`` and its columns, or None when one of
    ``names`` is not a plain column (the ORM's save then writes them)."""
    meta = model._meta
    try:
        fields = [meta.get_field(name) for name in names]
    except FieldDoesNotExist:  # an attribute's name ("author_id"): the ORM's save knows it
        return None
    plain = [f for f in fields if isinstance(f, Field) and f.concrete and f.column]
    if len(plain) != len(fields) or any(hasattr(f, "get_placeholder") for f in plain):
        return None
    quote = connections[alias].ops.quote_name
    columns = ", ".join(f"{quote(f.column)} = %s" for f in plain)
    where = quote(meta.pk.column)  # type: ignore[union-attr]
    return f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {where} = %s", plain  # noqa: S608


def update(instance: Model, names: list[str]) -> None:
    """``instance.save(update_fields=names)`` (automatic values such as ``auto_now`` made),
    without signals; the ORM's save when a receiver listens."""
    names = list(dict.fromkeys(names))  # each once
    if not names:
        return  # as save(update_fields=[]): nothing to write
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    plan = _update_plan(model, alias, tuple(names)) if _plain(model) else None
    if plan is None:
        instance.save(update_fields=names)
        return
    text, fields = plan
    instance._prepare_related_fields_for_save(operation_name="save", fields=fields)  # type: ignore[attr-defined]
    connection = connections[alias]
    raw = [field.pre_save(instance, False) for field in fields]
    if any(_expression(value) for value in raw):
        instance.save(update_fields=names)
        return
    values = [f.get_db_prep_save(value, connection) for f, value in zip(fields, raw, strict=True)]
    values.append(instance._meta.pk.get_db_prep_save(instance.pk, connection))  # type: ignore[union-attr]
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(text, values)
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    instance._state.db = alias
