"""Fixed statements of the hottest requests, run on the session's own DBAPI connection.

Around each statement SQLAlchemy spends 40-190 µs of Python (an ORM load; a Core statement
through the Session), where SQLite itself answers a primary-key read in ~7 µs: an SSO flow's
sixteen statements cost more than its RSA signature (bench/README.md, `oidc_flow`, Round 5).
A `Prepared` statement is compiled once per dialect by SQLAlchemy and then run by the DBAPI
cursor of the connection the session already holds: same transaction, same SQL, same type
conversions (each bound value and each column goes through the processors SQLAlchemy would
apply: `UTCDateTime`, JSON, booleans), the same exceptions (the driver's are wrapped as
SQLAlchemy wraps them), and the engine's `before_cursor_execute` listeners still see every
statement (the statement budgets count them). Pending ORM changes are flushed first, as the
session's autoflush would.

Only for static statements: no IN-list ("expanding") parameters, no values computed per call
beyond the bound parameters. Rows come back as named tuples of the selected columns; a SELECT
of ORM entities (`select(Grant, Client.name)`) is run as a SELECT of their columns and each
row comes back as a named tuple with a **snapshot** of each entity: an instance filled with
the row's values that no session knows, so reading it costs nothing and changing it saves
nothing (for reads on hot paths; write with UPDATE statements, as the token endpoint does).
An outer-joined entity that found no row (its primary key all NULL) is None, as the ORM
gives it.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, exc, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Form:
    """A statement compiled for one dialect."""

    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark), or None (named)
    required: frozenset[str]
    fixed: Mapping[str, Any]  # values bound in the statement itself (literals, LIMIT)
    binds: tuple[tuple[str, Processor], ...]  # bound values that need converting
    results: tuple[Processor | None, ...] | None  # per column; None: no column converts


class Prepared:
    """One static statement, compiled once per dialect, run on the session's connection."""

    __slots__ = ("_entities", "_forms", "row", "statement")

    def __init__(self, statement: Executable) -> None:
        statement, self._entities, names = _flatten(statement)
        self.statement = statement
        keys = names or [column.key for column in _columns(statement)]
        self.row: Any = namedtuple("Row", keys, rename=True) if keys else None
        self._forms: dict[str, _Form] = {}

    def first(self, session: Session, params: Mapping[str, Any]) -> Any | None:
        """The first row (a named tuple; entities as snapshots), or None."""
        rows = self._fetch(session, params, _first_row)
        return rows[0] if rows else None

    def all(self, session: Session, params: Mapping[str, Any]) -> list[Any]:
        return self._fetch(session, params, _all_rows)

    def first_joined(
        self,
        session: Session,
        params: Mapping[str, Any],
        then: str,
        then_values: Mapping[str, Any],
    ) -> tuple[Any, tuple[Any, ...]] | None:
        """PostgreSQL: this statement (a write with RETURNING) as the CTE ``w`` of one
        statement whose CTE ``t`` is `then`, a SELECT that may read ``w`` (its parameters
        named ``%(name)s``, none of this statement's names): the first row of ``w`` as
        `first` returns it and the first of ``t`` as the driver does, or None if either has
        none. A data-modifying CTE runs once and to the end whatever reads it; ``t``, if it
        calls a VOLATILE function, at most once (PostgreSQL never inlines it)."""
        connection, form = self._ready(session)
        values = _bind_values(form, params)
        if self._entities or form.positional is not None or set(then_values) & set(values):
            raise ValueError("first_joined: columns, named parameters distinct from the write's")
        # both texts are the code's own statements; every value is bound
        sql = f"WITH w AS ({form.sql}), t AS ({then}) SELECT * FROM w, t LIMIT 1"  # noqa: S608
        rows = execute_on_driver(connection, sql, {**values, **then_values}, _first_row)
        if not rows:
            return None
        width = len(self.row._fields)
        return self._rows(form, [rows[0][:width]])[0], tuple(rows[0][width:])

    def rowcount(self, session: Session, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE: the number of rows it matched."""
        connection, form = self._ready(session)
        return execute_on_driver(connection, form.sql, _bind_values(form, params), _rowcount)

    def _ready(self, session: Session) -> tuple[Connection, _Form]:
        if session.autoflush:
            session.flush()  # returns at once when nothing is pending
        connection = session.connection()
        form = self._forms.get(connection.dialect.name) or self._compile(connection.dialect)
        return connection, form

    def _fetch(
        self, session: Session, params: Mapping[str, Any], fetch: Callable[[Any], list[Any]]
    ) -> list[Any]:
        connection, form = self._ready(session)
        values = _bind_values(form, params)
        return self._rows(form, execute_on_driver(connection, form.sql, values, fetch))

    def _rows(self, form: _Form, rows: Sequence[Sequence[Any]]) -> list[Any]:
        assert self.row is not None, "a statement without columns has no rows"
        results = form.results
        if results is not None:
            rows = [
                [value if p is None else p(value) for p, value in zip(results, row, strict=True)]
                for row in rows
            ]
        make = self.row._make
        if self._entities:
            return [make(_with_snapshots(self._entities, row)) for row in rows]
        return [make(row) for row in rows]

    def _compile(self, dialect: Dialect) -> _Form:
        compiled: Any = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        required: set[str] = set()
        fixed: dict[str, Any] = {}
        converters: dict[str, Processor | None] = {}  # one per name, the last (as SQLAlchemy)
        for bind, name in compiled.bind_names.items():
            if not isinstance(bind, BindParameter) or bind.expanding or bind.callable:
                raise ValueError(f"not a static statement: parameter {name!r}")
            if bind.required:
                required.add(name)
            else:
                fixed[name] = bind.effective_value
            converters[name] = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds = [(name, convert) for name, convert in converters.items() if convert is not None]
        results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _columns(self.statement)
        ]
        form = _Form(
            sql=compiled.string,
            positional=tuple(compiled.positiontup) if compiled.positional else None,
            required=frozenset(required),
            fixed=fixed,
            binds=tuple(binds),
            results=tuple(results) if any(p is not None for p in results) else None,
        )
        self._forms[dialect.name] = form
        return form


def _bind_values(form: _Form, params: Mapping[str, Any]) -> Any:
    missing = form.required.difference(params)
    if missing:
        raise exc.ArgumentError(f"missing parameters: {sorted(missing)}")
    values = {**form.fixed, **params}
    for name, convert in form.binds:
        values[name] = convert(values[name])
    if form.positional is None:
        return values
    return tuple(values[name] for name in form.positional)


def execute_on_driver(
    connection: Connection,
    sql: str,
    values: Any,
    fetch: Callable[[Any], T],
    *,
    many: bool = False,
) -> T:
    """`sql` (in the driver's parameter style) on the DBAPI connection behind `connection`, in
    its transaction: `fetch(cursor)` afterwards. The engine's `before_cursor_execute`
    listeners are told; a driver error is raised wrapped as SQLAlchemy wraps it, without the
    values (which can be personal data)."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if connection.dispatch.before_cursor_execute:
            connection.dispatch.before_cursor_execute(connection, cursor, sql, values, None, many)
        with driver_errors(connection, sql):
            if many:
                cursor.executemany(sql, values)
            else:
                cursor.execute(sql, values)
            return fetch(cursor)
    finally:
        cursor.close()


@contextmanager
def driver_errors(connection: Connection, sql: str) -> Iterator[None]:
    """A driver error of work done with `connection`'s driver directly (`sql`), raised as
    SQLAlchemy raises one (`IntegrityError`, `OperationalError`, ...), without the values,
    which can be personal data."""
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        raise exc.DBAPIError.instance(
            sql, None, error, dbapi_error, hide_parameters=True, dialect=connection.dialect
        ) from error


def _rowcount(cursor: Any) -> int:
    return int(cursor.rowcount)


def no_rows(_cursor: Any) -> None:
    return None


def _first_row(cursor: Any) -> list[Any]:
    return list(cursor.fetchmany(1))


def _all_rows(cursor: Any) -> list[Any]:
    return list(cursor.fetchall())


# -- ORM entities: read as columns, handed back as snapshots -----------------------------
@dataclass(frozen=True, slots=True)
class _Entity:
    start: int
    keys: tuple[str, ...]  # attribute names of the entity's columns, in order
    new: Callable[[], Any]  # a fresh instance that no session knows
    identity: tuple[int, ...]  # where its primary key's columns are among them


def _flatten(
    statement: Executable,
) -> tuple[Executable, tuple[_Entity | int, ...], list[str]]:
    """A SELECT of ORM entities as a SELECT of their columns (same FROM, WHERE, order), where
    each entity's columns start (plain columns stay single values: their index), and the
    names of the row's items (an entity's is its class name)."""
    descriptions = getattr(statement, "column_descriptions", None)
    if not isinstance(statement, Select) or not descriptions:
        return statement, (), []
    if not any(_is_entity(d) for d in descriptions):
        return statement, (), []
    flat: list[Any] = []
    shape: list[_Entity | int] = []
    for description in descriptions:
        if _is_entity(description):
            mapper = inspect(description["entity"])
            attributes = list(mapper.column_attrs)
            key_names = {mapper.get_property_by_column(c).key for c in mapper.primary_key}
            identity = tuple(i for i, a in enumerate(attributes) if a.key in key_names)
            if len(identity) != len(key_names):  # (never: a mapper's key is among its columns)
                raise ValueError(f"{mapper.class_.__name__}: its primary key is not selected")
            shape.append(
                _Entity(
                    start=len(flat),
                    keys=tuple(a.key for a in attributes),
                    new=mapper.class_manager.new_instance,
                    identity=identity,
                )
            )
            flat.extend(a.columns[0] for a in attributes)
        else:
            shape.append(len(flat))
            flat.append(description["expr"])
    names = [str(d.get("name") or f"_{i}") for i, d in enumerate(descriptions)]
    return statement.with_only_columns(*flat, maintain_column_froms=True), tuple(shape), names


def _is_entity(description: Mapping[str, Any]) -> bool:
    entity = description.get("entity")
    return entity is not None and description.get("expr") is entity


def _with_snapshots(shape: tuple[_Entity | int, ...], row: Sequence[Any]) -> list[Any]:
    items: list[Any] = []
    for part in shape:
        if isinstance(part, int):
            items.append(row[part])
            continue
        values = row[part.start : part.start + len(part.keys)]
        if all(values[i] is None for i in part.identity):
            # an outer join that found nothing: None, as SQLAlchemy's ORM hands it back
            items.append(None)
            continue
        obj = part.new()
        obj.__dict__.update(zip(part.keys, values, strict=True))
        items.append(obj)
    return items


def _columns(statement: Executable) -> list[Any]:
    """The columns a statement returns: a SELECT's, or an INSERT/UPDATE/DELETE's RETURNING."""
    if isinstance(statement, Select):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)
    return []
