"""The database connection: the engine for a URL, and what its errors mean.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged decision survives a crash); a
pooled SQLite connection that opened a file since removed or replaced, or that was opened
read-only, is dropped and a new one opens what is at the path now. MariaDB (PyMySQL) gets the
driver's timeouts and a ping before use. :func:`unreachable` tells a database that cannot be
reached now from one lost connection; :func:`named_lock` lets MariaDB workers take turns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL, Engine, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

SQLITE_FILE_ID = "wiki_suggest_file_id"  # connection info: the file a SQLite connection opened
SQLITE_READONLY, SQLITE_CANTOPEN = 8, 14  # SQLite primary result codes
SQLITE_REOPEN = {SQLITE_READONLY, SQLITE_CANTOPEN}  # errors a new connection may not have


def sqlite_file(url: URL) -> str | None:
    """The absolute path of a SQLite database file (as the driver opens it), or None (in memory,
    or a ``file:`` URI)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:") or url.query.get("uri"):
        return None
    return os.path.abspath(database)


def file_id(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path`` now, or None when there is none."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def opened_elsewhere(info: dict[Any, Any], path: str) -> bool:
    """Whether the SQLite connection with this ``info`` opened another file than the one at
    ``path`` now (that file removed, its folder deleted, or replaced)."""
    return bool(info.get(SQLITE_FILE_ID) != file_id(path))


def sqlite_code(error: BaseException | None) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})
        path = sqlite_file(make_url(url))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged decision survives a crash
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            if path is not None:
                record.info[SQLITE_FILE_ID] = file_id(path)

        if path is not None:
            @event.listens_for(engine, "checkout")
            def _sqlite_same_file(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
                # A pooled connection keeps the file it opened: once that file is removed (its
                # folder deleted) or replaced, it would read and write a file nobody will see
                # again. It is dropped, and a new connection opens what is at the path now.
                if opened_elsewhere(record.info, path):
                    raise DisconnectionError("the SQLite file was removed or replaced")

        @event.listens_for(engine, "handle_error")
        def _sqlite_stale(context: ExceptionContext) -> None:
            # A connection opened while the file could not be written (read-only file or
            # folder, full disk at open) stays read-only after the file is writable again: it
            # is dropped with the pool's others, as a lost connection would be.
            if sqlite_code(context.original_exception) in SQLITE_REOPEN:
                context.is_disconnect = True

        return engine
    # The driver's timeouts, unless the URL sets them (``?read_timeout=5``). PyMySQL waits for a
    # server's greeting as long as for a query's answer (read_timeout).
    defaults = {"charset": "utf8mb4", "connect_timeout": 5, "read_timeout": 15, "write_timeout": 15}
    query = make_url(url).query
    connect_args = {k: v for k, v in defaults.items() if k not in query} if url.startswith("mysql") else {}
    return create_engine(url, pool_pre_ping=True, pool_recycle=280, connect_args=connect_args)


CANNOT_CONNECT = {2002, 2003}  # MySQL client errors: no connection could be made (or greeted)


def unreachable(error: SQLAlchemyError) -> bool:
    """Whether the error says the database cannot be reached now: no connection could be made,
    or it stopped answering (a timeout), or every pooled connection is stuck. One connection
    lost (killed, timed out by the server) is not: the pool makes a new one for the next request."""
    if isinstance(error, DisconnectionError):  # the SQLite file was removed or replaced
        return True
    if not isinstance(error, DBAPIError):
        return isinstance(error, PoolTimeout)
    if sqlite_code(error.orig) is not None:
        # No file to open (its folder is gone), a read-only file, or a new empty file where the
        # old one was removed: the schema is checked again (and created in a new file).
        return sqlite_code(error.orig) in SQLITE_REOPEN or "no such table" in str(error.orig)
    args = error.orig.args if error.orig is not None else ()
    return bool(args) and (args[0] in CANNOT_CONNECT or "timed out" in str(args[-1]))


NAMED_LOCK_WAIT = 30  # seconds a MariaDB worker waits for another's schema check


@contextmanager
def named_lock(conn: Connection, purpose: str) -> Iterator[None]:
    """A MariaDB lock held by this connection's session (across DDL's implicit commits) for
    ``purpose`` in this database; nothing on other databases (SQLite's writers queue on a file)."""
    if conn.dialect.name != "mysql":
        yield
        return
    name = f"wiki-suggest.{conn.engine.url.database}.{purpose}"[:64]
    conn.execute(text("SELECT GET_LOCK(:name, :wait)"), {"name": name, "wait": NAMED_LOCK_WAIT})
    try:
        yield
    finally:
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
