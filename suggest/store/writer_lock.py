"""A queue for SQLite's single writer, shared by the threads and worker processes of one machine.

SQLite lets one transaction write at a time. A writer that finds the database locked does not
queue: it sleeps in SQLite's busy handler (1 ms, then 2, 5, 10 ms ...) and tries again, so under
concurrent decisions most of the time goes to sleeping while the database is free. Holding this
lock around a write transaction makes writers wait on a lock that wakes the next one as soon as
the transaction ends: a thread lock within a worker, ``flock`` on a file beside the database
between workers. It only orders writers; SQLite's own locking still guards the data, so writers
that do not take this lock stay correct (they may sleep as before).

For other databases (MariaDB locks rows and queues writers itself) and in-memory SQLite,
:meth:`WriterLock.hold` does nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class WriterLock:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        database = url.database or ""
        self.path: str | None = None
        if url.get_backend_name() == "sqlite" and database and database != ":memory:" \
                and not database.startswith("file:"):
            self.path = database + "-writer.lock"
        # Reentrant: a write that finds the schema unchecked (the database was away) checks it
        # under the same lock, in the same thread.
        self._thread_lock = threading.RLock()
        self._depth = 0  # how many times the thread holding the lock has taken it
        self._fd: int | None = None
        self._fd_pid = 0  # a worker forked from a process that opened the file opens its own

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        with self._thread_lock:
            fd = None if self._depth else self._file(self.path)
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            # Without a lock file (the database's folder is missing or read-only) SQLite reports
            # what is wrong with the database itself.
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def _file(self, path: str) -> int | None:
        pid = os.getpid()
        if self._fd is None or self._fd_pid != pid:
            # flock belongs to the open file: a descriptor inherited across fork would let parent
            # and child hold the lock at once, so each process opens the file itself.
            try:
                self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as error:
                log.warning("no writer lock file (%s); writers wait in SQLite's busy handler",
                            type(error).__name__)
                return None
            self._fd_pid = pid
        return self._fd
