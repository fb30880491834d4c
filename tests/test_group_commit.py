# SPDX-License-Identifier: GPL-3.0-or-later
"""Group commit of first decisions, and the SQLite writers' queue: the batching itself, what a
batch does with replays, unknown ids and refused checks (real SQLite and MariaDB), and the
writer lock between real processes."""

from __future__ import annotations

import datetime as dt
import fcntl
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from suggest.store.events import (
    AlreadyDecided,
    EventStore,
    PendingDecision,
    StoreUnavailable,
    UnknownSuggestion,
    decision_row,
)
from suggest.store.group_commit import GroupCommit
from suggest.store.issued_ids import IssuedIds, content_id
from suggest.store.schema import computed as computed_table
from suggest.store.schema import decisions, suggestions
from suggest.store.writer_lock import WriterLock
from tests.support.concurrency import race

# -- the batching ------------------------------------------------------------------------------


class SlowBatches:
    """A commit_batch that records its batches and takes ``pause`` seconds per batch, so that
    callers arriving meanwhile queue for the next one."""

    def __init__(self, pause: float = 0.05) -> None:
        self.pause = pause
        self.batches: list[list[int]] = []
        self.busy = 0
        self.most_busy = 0
        self.lock = threading.Lock()

    def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        with self.lock:
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
        time.sleep(self.pause)
        with self.lock:
            self.busy -= 1
            self.batches.append(list(items))
        return [ValueError(i) if i % 7 == 0 else i * 10 for i in items]


def test_concurrent_callers_share_batches_and_get_their_own_outcome() -> None:
    slow = SlowBatches()
    group: GroupCommit[int, int] = GroupCommit(slow)

    def submit(n: int) -> str:
        try:
            result = group.submit(n + 1)
        except ValueError as error:
            return "refused" if error.args == (n + 1,) else "wrong error"
        return "ok" if result == (n + 1) * 10 else f"wrong result {result}"

    outcomes = race(24, submit)
    assert outcomes == {"ok": 21, "refused": 3}  # 7, 14 and 21 are refused, each to its caller
    assert sorted(i for b in slow.batches for i in b) == list(range(1, 25))  # each item once
    assert len(slow.batches) < 24  # some were committed together
    assert slow.most_busy == 1  # one batch at a time


def test_a_failed_batch_fails_its_callers_only_and_the_next_caller_leads() -> None:
    calls: list[list[str]] = []

    def commit(items: Sequence[str]) -> list[str | BaseException]:
        calls.append(list(items))
        if "bad" in items:
            raise StoreUnavailable("down")
        return [i.upper() for i in items]

    group: GroupCommit[str, str] = GroupCommit(commit)
    with pytest.raises(StoreUnavailable):
        group.submit("bad")
    assert group.submit("good") == "GOOD"  # the lead was handed back
    assert calls == [["bad"], ["good"]]


def test_a_batch_is_capped() -> None:
    slow = SlowBatches(pause=0.02)
    group: GroupCommit[int, int] = GroupCommit(slow, max_batch=3)

    def submit(n: int) -> str:
        try:
            return "ok" if group.submit(n + 1) == (n + 1) * 10 else "wrong"
        except ValueError:
            return "refused"

    assert race(12, submit) == {"ok": 11, "refused": 1}
    assert max(len(b) for b in slow.batches) == 3
    assert sorted(i for b in slow.batches for i in b) == list(range(1, 13))


def test_items_submitted_together_share_a_batch_and_mix_with_single_callers() -> None:
    slow = SlowBatches(pause=0.02)
    group: GroupCommit[int, int] = GroupCommit(slow, max_batch=4)

    def submit(n: int) -> str:
        if n % 3:
            try:
                return "ok" if group.submit(100 + n) == (100 + n) * 10 else "wrong"
            except ValueError:
                return "refused"
        items = [10 * n + k for k in range(1, 7)]  # six: more than one batch holds
        outcomes = group.submit_many(items)
        expected = [ValueError if i % 7 == 0 else i * 10 for i in items]
        same = all(type(o) is e if isinstance(o, BaseException) else o == e
                   for o, e in zip(outcomes, expected, strict=True))
        return "many ok" if same else f"wrong {outcomes}"

    outcomes = race(9, submit)
    assert outcomes.get("many ok") == 3 and "wrong" not in " ".join(outcomes)
    committed = [i for b in slow.batches for i in b]
    assert sorted(committed) == sorted([100 + n for n in range(9) if n % 3] +
                                       [10 * n + k for n in (0, 3, 6) for k in range(1, 7)])
    assert max(len(b) for b in slow.batches) == 4 and slow.most_busy == 1
    # A caller's items stay in order and together (up to the cap): they are queued at once.
    for n in (0, 3, 6):
        mine = [i for b in slow.batches for i in b if i in range(10 * n + 1, 10 * n + 7)]
        assert mine == sorted(mine)
    assert group.submit_many([]) == []


# -- first decisions in one transaction --------------------------------------------------------


@pytest.fixture(params=["sqlite", "mariadb"])
def store(request: pytest.FixtureRequest) -> EventStore:
    events = EventStore(request.getfixturevalue(f"{request.param}_url"))
    events.upgrade()
    return events


def computed(label: str, wiki: str = "bnwiki") -> dict[str, Any]:
    row: dict[str, Any] = {
        "wiki": wiki, "task": "categories", "task_version": "1.0", "page_title": "নদী",
        "page_id": 7, "revid": 70, "rank": 0, "label": label, "wikitext": f"[[বিষয়শ্রেণী:{label}]]",
        "score": 0.7, "explanation": "x", "details": "{}", "backend": "tfidf",
        "model_checksum": "sha256:x", "config_hash": "abc", "app_version": "0.1.0"}
    row["id"] = content_id(row)
    return row


def pending(ids: IssuedIds, content: dict[str, Any], sid: str | None = None,
            check: Any = None) -> PendingDecision:
    sid = sid or ids.issue(content["id"])
    opened = ids.open(sid)
    assert opened is not None
    return PendingDecision(decision_row(sid, "accept", None, None, "Editor"),
                           content_id=opened[0], issued_at=opened[1], check=check)


def count(store: EventStore, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_one_batch_stores_each_decision_or_says_why_not(store: EventStore) -> None:
    """A batch holding a replay (the same id twice), an unknown computed suggestion and a refused
    check: the others are stored, each failure goes to its own caller, nothing is half-written."""
    ids = IssuedIds("secret")
    rivers, lakes = computed("নদী"), computed("হ্রদ")
    store.store_computed([rivers, lakes])
    store._computed.clear()  # noqa: SLF001 - as in another worker: read in the batch's transaction
    replayed = ids.issue(rivers["id"])

    def refuse(issued: dict[str, Any]) -> None:
        raise PermissionError(issued["wiki"])

    batch = [pending(ids, rivers, replayed), pending(ids, lakes), pending(ids, rivers, replayed),
             pending(ids, computed("not stored")), pending(ids, lakes, check=refuse)]
    outcomes = store._decide_batch(batch)  # noqa: SLF001 - the batch as the group commit runs it
    assert [type(o).__name__ for o in outcomes] == [
        "dict", "dict", "AlreadyDecided", "UnknownSuggestion", "PermissionError"]
    assert outcomes[1]["suggestion_id"] == batch[1].row["suggestion_id"]  # type: ignore[index]
    assert count(store, decisions) == 2 and count(store, suggestions) == 2
    stored = store.get_suggestion(replayed)
    assert stored is not None and (stored["content_id"], stored["label"]) == (rivers["id"], "নদী")


def test_a_decision_failing_on_its_own_fails_alone(store: EventStore) -> None:
    """A row the database driver cannot write (a lone surrogate: the API refuses it, the store
    must not depend on that) fails its own caller only: the others in its batch are stored and
    told so, a replay is still told it is decided."""
    ids = IssuedIds("secret")
    rivers, lakes, hills = computed("নদী"), computed("হ্রদ"), computed("পাহাড়")
    store.store_computed([rivers, lakes, hills])
    replayed = ids.issue(rivers["id"])
    store.record_first_decision(replayed, *ids.open(replayed), "accept", None, None, None)  # type: ignore[misc]
    broken = pending(ids, hills)
    broken.row["comment"] = "\ud800"
    batch = [pending(ids, rivers, replayed), pending(ids, lakes), broken]
    outcomes = store._decide_batch(batch)  # noqa: SLF001 - the batch as the group commit runs it
    assert isinstance(outcomes[0], AlreadyDecided)
    assert isinstance(outcomes[1], dict) and outcomes[1]["suggestion_id"] == batch[1].row["suggestion_id"]
    assert isinstance(outcomes[2], Exception) and not isinstance(outcomes[2], AlreadyDecided)
    assert count(store, decisions) == 2 and count(store, suggestions) == 2
    assert store.get_suggestion(batch[2].row["suggestion_id"]) is None  # nothing half-written


def test_concurrent_first_decisions_through_the_group_commit(store: EventStore) -> None:
    """Thirty editors decide at once, five of them twice on one id: 25 stored, 5 told it is
    decided, every stored decision with its suggestion."""
    ids = IssuedIds("secret")
    contents = [computed(f"শ্রেণী {n}") for n in range(25)]
    store.store_computed(contents)
    sids = [ids.issue(c["id"]) for c in contents]

    def decide(n: int) -> str:
        sid = sids[n % 25]
        opened = ids.open(sid)
        assert opened is not None
        try:
            store.record_first_decision(sid, opened[0], opened[1], "accept", None, None, f"u{n}")
        except AlreadyDecided:
            return "already"
        return "stored"

    assert race(30, decide) == {"stored": 25, "already": 5}
    assert count(store, decisions) == 25 and count(store, suggestions) == 25
    with pytest.raises(UnknownSuggestion):  # an id for content this service never computed
        store.record_first_decision(ids.issue("0" * 20), "0" * 20, dt.datetime(2026, 11, 27),
                                    "accept", None, None, None)
    assert count(store, decisions) == 25


def test_every_decision_is_stored_with_its_suggestions_wiki(store: EventStore) -> None:
    """The decisions' own ``wiki`` (what the published dataset filters on) is the suggestion's,
    on every way a decision is written: a first decision, a batch of them over several wikis,
    a batch stored one by one after a replay in it, and a decision on a suggestion stored
    already (issued before ids were signed). The stored row says so too."""
    ids = IssuedIds("secret")
    contents = [computed("নদী"), computed("Річка", "ukwiki"), computed("Река", "ruwiki"),
                computed("Озеро", "ukwiki"), computed("হ্রদ")]
    store.store_computed(contents)
    first = store.record_first_decision(ids.issue(contents[0]["id"]), contents[0]["id"],
                                        dt.datetime(2026, 11, 27), "accept", None, None, None)
    assert first["wiki"] == "bnwiki"
    batch = store.record_first_decisions([pending(ids, contents[1]), pending(ids, contents[2])])
    assert [o["wiki"] for o in batch] == ["ukwiki", "ruwiki"]  # type: ignore[index]
    replay = pending(ids, contents[0], first["suggestion_id"])
    one_by_one = store._decide_batch([replay, pending(ids, contents[3])])  # noqa: SLF001 - a replay in it
    assert isinstance(one_by_one[0], AlreadyDecided) and one_by_one[1]["wiki"] == "ukwiki"  # type: ignore[index]
    old = {**computed("পুরোনো", "bnwiki"), "id": "o" * 22, "created_at": dt.datetime(2026, 1, 1)}
    store.issue([old])
    assert store.record_decision(old["id"], "reject", "other", None, "Editor")["wiki"] == "bnwiki"
    with store.engine.connect() as conn:
        stored = conn.execute(select(decisions.c.wiki, suggestions.c.wiki)
                              .join_from(decisions, suggestions)).all()
    assert len(stored) == 5 and all(mine == its for mine, its in stored)
    assert sorted(mine for mine, _ in stored) == ["bnwiki", "bnwiki", "ruwiki", "ukwiki", "ukwiki"]


def test_prepared_statements_write_and_read_what_core_does(store: EventStore) -> None:
    """The decision path's precompiled statements: a row written by them reads back through Core
    exactly (datetimes, Unicode, NULLs), and a row written by Core reads back through them."""
    from suggest.store.prepared import PreparedGet, PreparedInsert

    dialect = store.engine.dialect
    by_core, by_prepared = computed("কোর"), computed("প্রস্তুত 🙂")
    by_core["created_at"] = dt.datetime(2026, 11, 27, 9, 30, 5)
    by_prepared.update(created_at=by_core["created_at"], page_id=None, revid=None)
    get = PreparedGet(computed_table, "id", [c.name for c in computed_table.columns], dialect)
    with store.engine.begin() as conn:
        conn.execute(computed_table.insert(), by_core)
        PreparedInsert(computed_table, dialect).execute(conn, [by_prepared])
    with store.engine.connect() as conn:
        read_core = {r.id: dict(r._mapping) for r in conn.execute(select(computed_table))}
        assert get.get(conn, by_core["id"]) == by_core == read_core[by_core["id"]]
        assert get.get(conn, by_prepared["id"]) == by_prepared == read_core[by_prepared["id"]]
        assert get.get(conn, "0" * 20) is None
        stored_as = conn.exec_driver_sql("SELECT DISTINCT created_at FROM computed").all()
        assert len(stored_as) == 1  # the same datetime is stored as the same value either way
    row = {**decision_row("d" * 32, "skip", None, "Κείμενο", None), "wiki": by_core["wiki"]}
    with store.engine.begin() as conn:
        conn.execute(suggestions.insert(), {**{k: v for k, v in by_core.items() if k != "id"},
                                            "id": "d" * 32, "content_id": by_core["id"]})
        PreparedInsert(decisions, dialect).execute(conn, [row])
    decided = store.get_decision("d" * 32)
    assert decided is not None and decided["id"] is not None  # the database numbered it
    assert {k: decided[k] for k in row} == row


def test_prepared_statements_raise_what_sqlalchemy_raises(store: EventStore) -> None:
    """They run on the driver's cursor, yet a driver error reaches the store as SQLAlchemy's own
    (a second decision on an id is an IntegrityError, which the store turns into AlreadyDecided),
    and the transaction is rolled back with nothing of it stored."""
    from sqlalchemy.exc import IntegrityError

    from suggest.store.prepared import PreparedInsert

    first, second = ({**computed(label), "created_at": dt.datetime(2026, 11, 27)}
                     for label in ("দ্বিতীয়", "তৃতীয়"))
    insert = PreparedInsert(computed_table, store.engine.dialect)
    with store.engine.begin() as conn:
        insert.execute(conn, [first])
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        insert.execute(conn, [second])
        insert.execute(conn, [first])
    assert count(store, computed_table) == 1  # the first row of the failed transaction is gone


def test_prepared_statement_on_a_lost_connection_invalidates_it(mariadb_url: str) -> None:
    """A MariaDB connection killed under a prepared read: SQLAlchemy's OperationalError, the
    connection invalidated (not handed back to the pool), and the next transaction works."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from suggest.store.prepared import PreparedGet

    store = EventStore(mariadb_url)
    store.upgrade()
    get = PreparedGet(computed_table, "id", [c.name for c in computed_table.columns],
                      store.engine.dialect)
    with store.engine.connect() as conn:
        own = conn.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        with store.engine.connect() as other:
            other.execute(text(f"KILL {int(own)}"))
        with pytest.raises(OperationalError) as raised:
            get.get(conn, "0" * 20)
        assert raised.value.connection_invalidated and conn.invalidated
    with store.engine.connect() as conn:
        assert get.get(conn, "0" * 20) is None


# -- the writer lock ---------------------------------------------------------------------------


def _hold(path: str, log: str, rounds: int) -> None:
    lock = WriterLock(f"sqlite:///{path}")
    for _ in range(rounds):
        with lock.hold():
            with open(log, "a", encoding="ascii") as handle:
                handle.write(f"in {time.monotonic()}\n")
            time.sleep(0.002)
            with open(log, "a", encoding="ascii") as handle:
                handle.write(f"out {time.monotonic()}\n")


def test_writer_lock_excludes_other_processes(tmp_path: Path) -> None:
    """Three processes (forked after the parent used the lock, as gunicorn workers are) take
    turns: the log never shows two holders at once."""
    database, log = tmp_path / "events.sqlite3", tmp_path / "holders.log"
    parent = WriterLock(f"sqlite:///{database}")
    with parent.hold():
        pass
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_hold, args=(str(database), str(log), 20)) for _ in range(3)]
    for worker in workers:
        worker.start()
    with parent.hold():  # the parent's own descriptor still excludes the children
        with open(log, "a", encoding="ascii") as handle:
            handle.write("in 0\n")
        time.sleep(0.05)
        with open(log, "a", encoding="ascii") as handle:
            handle.write("out 0\n")
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    events = [line.split()[0] for line in log.read_text(encoding="ascii").splitlines()]
    assert len(events) == 2 * (3 * 20 + 1)
    assert events == ["in", "out"] * (3 * 20 + 1)  # strictly alternating: one holder at a time
    assert (tmp_path / "events.sqlite3-writer.lock").exists()


def test_writer_lock_is_a_no_op_where_it_cannot_apply(tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "mysql+pymysql://root@127.0.0.1/x"):
        lock = WriterLock(url)
        assert lock.path is None
        with lock.hold(), lock.hold():  # not even a thread lock: nesting does not block
            pass
    missing = WriterLock(f"sqlite:///{tmp_path}/no/such/folder/events.sqlite3")
    with missing.hold():  # no lock file can be made: SQLite reports the database's own error
        pass


def _can_take(path: Path) -> bool:
    """Whether another open file (as another worker has) could take the lock file now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_writer_lock_taken_again_by_its_holder_does_not_wait(tmp_path: Path) -> None:
    """A write that finds the schema unchecked checks it under the same lock in the same thread:
    the second hold returns at once, and the file stays locked until the first is released."""
    lock = WriterLock(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    seen: list[bool] = []

    def nested() -> None:
        with lock.hold():
            with lock.hold():
                seen.append(_can_take(tmp_path / "events.sqlite3-writer.lock"))
            seen.append(_can_take(tmp_path / "events.sqlite3-writer.lock"))
        seen.append(_can_take(tmp_path / "events.sqlite3-writer.lock"))

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the holder waited for itself"
    assert seen == [False, False, True]
