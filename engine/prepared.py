"""Hot statements run on the driver's cursor, their SQL and parameter conversions worked out once.

SQLAlchemy's Core pays about 70 µs per statement before the driver sees it (cache key, parameter
construction and conversion, result set-up; 83 against 11 µs for a one-row read by its key on the
bench machine). A completion runs about twelve statements, most of them inside SQLite's writer turn
(engine/sqlite_writers.py), which every other completion of the database waits for: that per-statement
cost was a third of the turn's length and the largest part of a completion left to cut (issue 19).

A :class:`Prepared` wraps a statement built once at import (a module constant, as every hot statement
already is). On a dialect's first use it compiles the statement with SQLAlchemy and keeps what its
execution needs: the SQL, the order of the parameters, each parameter's conversion (the type's own
bind processor: a datetime as SQLite's text, a JSON value serialized) and each result column's
conversion (its result processor). A call then converts the parameters and runs the SQL on the DBAPI
cursor of the caller's connection, inside the caller's transaction; SQLite's writer turn is taken as
for any statement (the connection's cursor class does it).

What SQLAlchemy does at execution and a prepared statement cannot repeat is refused when it compiles:
expanding ``IN`` parameters, Python-side column defaults or ``onupdate`` values (the statement must
name every value it writes), and schema translation. Driver errors come back as SQLAlchemy's
exceptions (``IntegrityError``, ``OperationalError``, ...), as from ``Connection.execute``, and the
engine's ``before_cursor_execute`` / ``after_cursor_execute`` listeners still see each statement (the
tests that spy on statements count these too). Rows come back as named tuples; a test runs each
prepared statement both ways on SQLite and PostgreSQL and compares what they return and write
(tests/engine/test_prepared.py).
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import SelectBase

_Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # (name the driver sees, name the caller gives, conversion, value when the caller gives none)
    params: tuple[tuple[str, str, _Convert | None, Any], ...]
    required: frozenset[str]
    known: frozenset[str]  # every name a caller may give
    positional: bool
    keys: tuple[str, ...] | None  # result column names, None for a statement returning no rows
    types: tuple[Any, ...]


class Ran:
    """What a prepared statement returned: its rows, read at once, and the driver's row count."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows, self.rowcount = rows, rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def all(self) -> list[Any]:
        return self.rows

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:
            raise exc.NoResultFound("no row") if not self.rows else exc.MultipleResultsFound("more than one row")
        return self.rows[0]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [r[0] for r in self.rows]


class Prepared:
    """One statement, compiled once per dialect and run on the driver's cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()
        self._rows: weakref.WeakKeyDictionary[Dialect, tuple[type, tuple[_Convert | None, ...]]] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Ran:
        compiled = self._for(conn.dialect)
        return self._run(conn, compiled, [self._arguments(compiled, params or {})], many=False)

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> Ran:
        """The statement once per mapping of ``rows`` (the driver's ``executemany``)."""
        compiled = self._for(conn.dialect)
        if compiled.keys is not None:
            raise TypeError("a statement returning rows runs once per call, not many times")
        return self._run(conn, compiled, [self._arguments(compiled, r) for r in rows], many=True)

    # ------------------------------------------------------------------------------------------ compiling
    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            found = self._compiled[dialect] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect)
        what = str(self.statement).split("\n", 1)[0][:80]
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise TypeError(f"{what}: expanding or literal-execute parameters cannot be prepared")
        if compiled.insert_prefetch or compiled.update_prefetch:
            names = ", ".join(c.name for c in [*compiled.insert_prefetch, *compiled.update_prefetch])
            raise TypeError(f"{what}: columns with Python-side defaults ({names}) must be given values")
        if compiled.schema_translate_map:
            raise TypeError(f"{what}: schema translation cannot be prepared")
        by_name = {compiled.bind_names[bp]: bp for bp in compiled.binds.values()}
        escaped = compiled.escaped_bind_names or {}
        order = compiled.positiontup if compiled.positional else list(by_name)
        params = []
        required = set()
        for name in order:
            bp = by_name[name]
            convert = bp.type.dialect_impl(dialect).bind_processor(dialect)
            if bp.callable is not None:
                raise TypeError(f"{what}: parameter {bp.key} takes its value from a callable")
            if bp.required:
                required.add(bp.key)
            params.append((escaped.get(name, name), bp.key, convert, bp.value))
        keys = types = None
        selected = _selected(self.statement)
        if selected is not None:
            keys = tuple(getattr(c, "key", None) or getattr(c, "name", None) or f"c{i}" for i, c in enumerate(selected))
            types = tuple(c.type for c in selected)
        return _Compiled(
            sql=compiled.string,
            params=tuple(params),
            required=frozenset(required),
            known=frozenset(key for _name, key, _c, _v in params),
            positional=bool(compiled.positional),
            keys=keys,
            types=types or (),
        )

    @staticmethod
    def _arguments(compiled: _Compiled, given: Mapping[str, Any]) -> Any:
        missing = compiled.required.difference(given)
        if missing:
            raise exc.ArgumentError(f"a value is required for parameter(s) {', '.join(sorted(missing))}")
        unknown = given.keys() - compiled.known
        if unknown:  # a value the statement would drop (a column it does not name): a caller's mistake
            raise exc.ArgumentError(f"the statement takes no parameter(s) {', '.join(sorted(unknown))}")
        if compiled.positional:
            return tuple(
                (convert(given.get(key, fixed)) if convert else given.get(key, fixed))
                for _name, key, convert, fixed in compiled.params
            )
        return {
            name: (convert(given.get(key, fixed)) if convert else given.get(key, fixed))
            for name, key, convert, fixed in compiled.params
        }

    # ------------------------------------------------------------------------------------------- running
    def _run(self, conn: Connection, compiled: _Compiled, arguments: list[Any], *, many: bool) -> Ran:
        dialect = conn.dialect
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        cursor = dbapi_conn.cursor()
        sent: Any = arguments if many else arguments[0]
        spied = bool(conn.dispatch.before_cursor_execute) or bool(conn.dispatch.after_cursor_execute)
        try:
            if spied:
                conn.dispatch.before_cursor_execute(conn, cursor, compiled.sql, sent, None, many)
            try:
                if many:
                    cursor.executemany(compiled.sql, sent)
                else:
                    cursor.execute(compiled.sql, sent)
            except dialect.loaded_dbapi.Error as err:
                raise exc.DBAPIError.instance(
                    compiled.sql,
                    sent,
                    err,
                    dialect.loaded_dbapi.Error,
                    hide_parameters=conn.engine.hide_parameters,
                    dialect=dialect,
                ) from err
            if spied:
                conn.dispatch.after_cursor_execute(conn, cursor, compiled.sql, sent, None, many)
            rows: list[Any] = []
            if compiled.keys is not None:
                fetched = cursor.fetchall()
                if fetched:
                    make, converts = self._row_type(dialect, compiled, cursor.description)
                    if any(converts):
                        rows = [make(*[c(v) if c else v for c, v in zip(converts, r, strict=True)]) for r in fetched]
                    else:
                        rows = [make(*r) for r in fetched]
            return Ran(rows, cursor.rowcount)
        finally:
            cursor.close()

    def _row_type(
        self, dialect: Dialect, compiled: _Compiled, description: Any
    ) -> tuple[type, tuple[_Convert | None, ...]]:
        found = self._rows.get(dialect)
        if found is None:
            assert compiled.keys is not None
            converts = tuple(
                t.dialect_impl(dialect).result_processor(dialect, d[1])
                for t, d in zip(compiled.types, description, strict=True)
            )
            found = self._rows[dialect] = (namedtuple("Row", compiled.keys), converts)
        return found


def _selected(statement: ClauseElement) -> list[Any] | None:
    """The columns a statement returns (a query's, or an ``INSERT``/``UPDATE``'s ``RETURNING``), None for
    a statement that returns no rows."""
    if isinstance(statement, SelectBase):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase) and statement.returning_column_descriptions:
        return [d["expr"] for d in statement.returning_column_descriptions]
    return None
