"""Statements of the decision path, compiled once per database dialect.

A Core statement executed through SQLAlchemy is compiled (or found in the compiled cache), its
parameters processed and its result wrapped on every call: about 60-90 µs on SQLite here, more
than SQLite's own work for a one-row insert or a primary-key read (under 10 µs). Even
``exec_driver_sql`` builds the result's column metadata on every call (about 40 µs for the
19 columns of a computed suggestion). The few statements that every decision runs are compiled
here once and executed on the DBAPI cursor of the caller's SQLAlchemy connection, inside its
transaction: pooling and transactions stay SQLAlchemy's, and a driver error is raised as
SQLAlchemy would raise it (``IntegrityError``, ``OperationalError`` ...; a lost connection is
invalidated). The engine's cursor events (``before_cursor_execute``) do not see these statements.
The column types' own bind and result processors still convert the values (e.g.
datetimes on SQLite, through the dialect's own type), so rows read and written match what Core
reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

Processor = Callable[[Any], Any] | None


def _execute(conn: Connection, sql: str, params: Any, many: bool = False) -> Any:
    """Run ``sql`` on a DBAPI cursor of ``conn``'s connection; the cursor. A driver error is
    raised as SQLAlchemy's wrapper of it, and a lost connection is invalidated as SQLAlchemy
    does on its own execution paths."""
    dbapi_connection = conn.connection
    cursor = dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except conn.dialect.loaded_dbapi.Error as error:
        disconnected = conn.dialect.is_disconnect(error, dbapi_connection.dbapi_connection, cursor)
        cursor.close()
        if disconnected:
            conn.invalidate(error)
        raise DBAPIError.instance(sql, params, error, conn.dialect.loaded_dbapi.Error,
                                  dialect=conn.dialect,
                                  connection_invalidated=disconnected) from error
    return cursor


class PreparedInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for rows given as mappings (missing keys are
    NULL); the table's autoincrement key is left to the database."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
        compiled = table.insert().values({c.name: bindparam(c.name, type_=c.type)
                                          for c in columns}).compile(dialect=dialect)
        self.sql = compiled.string
        # qmark (SQLite) takes a tuple in the compiled order; pyformat (PyMySQL) a dict by name
        self._positional = compiled.positional
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        self._binds: list[tuple[str, Processor]] = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names or []]

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        params: list[Any] = []
        for row in rows:
            values = [p(row.get(name)) if p else row.get(name) for name, p in self._binds]
            params.append(tuple(values) if self._positional
                          else dict(zip((name for name, _ in self._binds), values, strict=True)))
        if params:
            _execute(conn, self.sql, params, many=True).close()


class PreparedGet:
    """``SELECT columns FROM table WHERE key = ?``: one row as a dict, or None."""

    def __init__(self, table: Table, key: str, columns: Sequence[str], dialect: Dialect) -> None:
        chosen = [table.c[name] for name in columns]
        compiled = select(*chosen).where(table.c[key] == bindparam(key)).compile(dialect=dialect)
        self.sql = compiled.string
        self._key = key
        self._positional = compiled.positional
        self._key_processor = compiled.binds[key].type.dialect_impl(dialect).bind_processor(dialect)
        self._columns: list[tuple[str, Processor]] = [
            (c.name, c.type.dialect_impl(dialect).result_processor(dialect, None)) for c in chosen]

    def get(self, conn: Connection, wanted: Any) -> dict[str, Any] | None:
        value = self._key_processor(wanted) if self._key_processor else wanted
        cursor = _execute(conn, self.sql, (value,) if self._positional else {self._key: value})
        row = cursor.fetchone()
        cursor.close()
        if row is None:
            return None
        return {name: p(v) if p else v for (name, p), v in zip(self._columns, row, strict=True)}
