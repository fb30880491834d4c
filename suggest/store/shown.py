"""The "shown" counts: how many suggestions were issued per day, wiki, task and model.

Issuing a suggestion writes nothing to the database (its id is signed: ``issued_ids``). Each worker
counts what it issued in memory and adds the counts to the ``shown`` table every few seconds, at
exit, and before the statistics are read. A worker killed without warning loses at most its last
few seconds of counts; decisions are never counted this way (each is committed before the API
answers).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from suggest.store.schema import shown

log = logging.getLogger(__name__)

ShownKey = tuple[dt.datetime, str, str, str, str]  # day, wiki, task, backend, model checksum
SHOWN_KEYS = ("day", "wiki", "task", "backend", "model_checksum")
MAX_PENDING_KEYS = 100_000  # counts kept while the database is down; then the oldest are dropped


def shown_key(at: dt.datetime, wiki: str, task: str, backend: str, checksum: str) -> ShownKey:
    return at.replace(hour=0, minute=0, second=0, microsecond=0), wiki, task, backend, checksum


def add_shown(conn: Connection, counts: dict[ShownKey, int]) -> None:
    """Add ``counts`` to the table in one statement (an atomic upsert: workers add concurrently)."""
    rows = [{**dict(zip(SHOWN_KEYS, key, strict=True)), "shown": n} for key, n in counts.items() if n]
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        insert = sqlite_insert(shown)
        conn.execute(insert.on_conflict_do_update(
            index_elements=list(SHOWN_KEYS), set_={"shown": shown.c.shown + insert.excluded.shown}),
            rows)
    elif conn.dialect.name in ("mysql", "mariadb"):
        upsert = mysql_insert(shown)
        conn.execute(upsert.on_duplicate_key_update(shown=shown.c.shown + upsert.inserted.shown), rows)
    else:  # no atomic upsert known: update, then insert what was not there
        for row in rows:
            keys = [shown.c[k] == row[k] for k in SHOWN_KEYS]
            if not conn.execute(shown.update().where(*keys)
                                .values(shown=shown.c.shown + row["shown"])).rowcount:
                conn.execute(shown.insert(), row)


class ShownCounter:
    """Counts in memory; ``write`` (the event store's ``add_shown``) stores them. A daemon thread
    writes every ``interval`` seconds once something was counted; counts that fail to be written
    are kept for the next attempt."""

    def __init__(self, write: Callable[[dict[ShownKey, int]], None], interval: float = 5.0) -> None:
        self._write = write
        self.interval = interval
        self._counts: dict[ShownKey, int] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._today = (-1, dt.datetime(1970, 1, 1))  # (days since 1970, that day at midnight)

    def add_today(self, wiki: str, task: str, backend: str, checksum: str, n: int) -> None:
        """Count ``n`` suggestions shown now (UTC day)."""
        day_number = int(time.time() // 86400)
        if self._today[0] != day_number:
            self._today = (day_number, dt.datetime(1970, 1, 1) + dt.timedelta(days=day_number))
        self.add((self._today[1], wiki, task, backend, checksum), n)

    def add(self, key: ShownKey, n: int) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + n
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shown-counter", daemon=True)
                self._thread.start()
                atexit.register(self.flush)

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def flush(self) -> bool:
        """Write what was counted; True when nothing is left pending."""
        with self._flush_lock:
            with self._lock:
                counts, self._counts = self._counts, {}
            if not counts:
                return True
            try:
                self._write(counts)
                return True
            except Exception as error:  # noqa: BLE001 - kept and written on the next attempt
                log.warning("shown counts not written (%s); kept for the next attempt",
                            type(error).__name__)
                with self._lock:
                    for key, n in counts.items():
                        if key in self._counts or len(self._counts) < MAX_PENDING_KEYS:
                            self._counts[key] = self._counts.get(key, 0) + n
                return False

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()
