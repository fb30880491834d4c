# SPDX-License-Identifier: GPL-3.0-or-later
"""What the database plans for a statement the store ran: for tests that a query reads an index."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements(engine: Engine, prefix: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements starting with ``prefix`` that ``engine`` runs meanwhile, with their
    parameters, in order."""
    found: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.startswith(prefix):
            found.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plan(engine: Engine, statement: str, parameters: Any) -> list[Any]:
    """The rows of the database's plan for ``statement``: EXPLAIN QUERY PLAN's on SQLite (each
    with its ``detail``), EXPLAIN's on MariaDB (each with its ``table``, ``key`` and ``Extra``)."""
    explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
    with engine.connect() as conn:
        return [row._mapping for row in conn.exec_driver_sql(f"{explain} {statement}", parameters)]
