# SPDX-License-Identifier: GPL-3.0-or-later
"""The event store on real SQLite and the real MariaDB on 127.0.0.1:3306."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, inspect, select, text

from suggest.metrics.dataset import Selection, records
from suggest.store import events as events_module
from suggest.store.events import (
    AlreadyDecided,
    EventStore,
    NotAccepted,
    StoreUnavailable,
    UnknownSuggestion,
)
from suggest.store.schema import audit_log, decisions, edits, metadata, pauses, suggestions
from tests.support import plans
from tests.support.concurrency import race


@pytest.fixture(params=["sqlite", "mariadb"])
def url(request: pytest.FixtureRequest) -> str:
    value: str = request.getfixturevalue(f"{request.param}_url")
    return value


@pytest.fixture
def store(url: str) -> EventStore:
    events = EventStore(url)
    events.upgrade()
    return events


def row(**extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": secrets.token_urlsafe(16), "wiki": "ukwiki", "task": "categories", "task_version": "1.0",
        "page_title": "Коло", "page_id": 12, "revid": 345, "rank": 0, "label": "Кола",
        "wikitext": "[[Категорія:Кола]]", "score": 0.8, "explanation": "in 2 of the 5 linked articles",
        "details": "{}", "backend": "tfidf", "model_checksum": "sha256:x", "config_hash": "abc",
        "app_version": "0.1.0"}
    values.update(extra)
    return values


def count(store: EventStore, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_upgrade_is_idempotent_and_adds_new_columns(url: str) -> None:
    engine = create_engine(url)
    # An "old" database: the suggestions table as a first version had it, with one row in it.
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE suggestions (id VARCHAR(32) NOT NULL PRIMARY KEY, created_at DATETIME NOT NULL, "
            "wiki VARCHAR(64) NOT NULL, task VARCHAR(32) NOT NULL, task_version VARCHAR(16) NOT NULL, "
            "page_title VARCHAR(512) NOT NULL, rank INTEGER NOT NULL, label VARCHAR(512) NOT NULL, "
            "wikitext TEXT NOT NULL, score FLOAT NOT NULL, explanation TEXT NOT NULL)"))
        conn.execute(text(
            "INSERT INTO suggestions VALUES ('old1', '2024-01-01 00:00:00', 'ukwiki', 'categories', "
            "'0.9', 'Коло', 0, 'Кола', '[[Категорія:Кола]]', 0.5, 'old')"))
    store = EventStore(url)
    store.upgrade()
    store.upgrade()  # a second run changes nothing and does not fail
    columns = {c["name"] for c in inspect(engine).get_columns("suggestions")}
    assert columns == {c.name for c in suggestions.columns}
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)
    old = store.get_suggestion("old1")
    assert old is not None and old["label"] == "Кола" and old["revid"] is None
    # The upgraded table takes new rows and decisions.
    new = row()
    store.issue([new])
    store.record_decision(new["id"], "accept", None, None, None)
    store.record_decision("old1", "skip", None, None, None)
    engine.dispose()


def test_upgrade_adds_the_confirmed_flag_to_old_decisions(url: str) -> None:
    """Decisions stored before account confirmation existed keep their rows, unconfirmed."""
    engine = create_engine(url)
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(text("ALTER TABLE decisions DROP COLUMN confirmed"))
    store = EventStore(url)
    store.upgrade()  # creates nothing new but the column
    old, new = row(), row()
    store.issue([old, new])
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE decisions DROP COLUMN confirmed"))
        conn.execute(text("INSERT INTO decisions (suggestion_id, decision, user_name, created_at) "
                          "VALUES (:sid, 'accept', 'Editor', '2026-11-01 00:00:00')"), {"sid": old["id"]})
    store = EventStore(url)
    store.upgrade()
    assert "confirmed" in {c["name"] for c in inspect(engine).get_columns("decisions")}
    store.record_decision(new["id"], "reject", "other", None, "Editor", confirmed=True)
    with engine.connect() as conn:
        flags = dict(conn.execute(select(decisions.c.suggestion_id, decisions.c.confirmed)).all())
    assert flags == {old["id"]: None, new["id"]: True}
    engine.dispose()


def test_upgrade_gives_old_decisions_their_suggestions_wiki(url: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """Decisions stored before they carried their suggestion's wiki get it at the upgrade (and
    the index on it), so that the published dataset filtered by wiki still has them; one
    stored afterwards without it (by a process of the older version) at the next upgrade."""
    engine = create_engine(url)
    with engine.begin() as conn:  # the decisions table as it was: no wiki, no index on it
        metadata.create_all(conn)
        next(i for i in decisions.indexes if i.name == "ix_decisions_wiki_id").drop(conn)
        conn.execute(text("ALTER TABLE decisions DROP COLUMN wiki"))
    wikis = ("ukwiki", "bnwiki", "ukwiki", "enwiki", "ukwiki", "bnwiki")
    rows = [row(wiki=wiki, label=f"L{n}", created_at=dt.datetime(2026, 10, 1))
            for n, wiki in enumerate(wikis)]
    with engine.begin() as conn:
        conn.execute(suggestions.insert(), rows)
        for n, r in enumerate(rows[:5]):  # one by one: ids in this order
            conn.execute(text("INSERT INTO decisions (suggestion_id, decision, created_at) "
                              "VALUES (:sid, 'skip', :at)"),
                         {"sid": r["id"], "at": f"2026-10-0{n + 1} 12:00:00"})
    caplog.set_level(logging.INFO, logger="suggest.store.events")
    EventStore(url).upgrade()
    assert "filled decisions.wiki: 5 rows" in caplog.messages
    assert "ix_decisions_wiki_id" in {i["name"] for i in inspect(engine).get_indexes("decisions")}
    with engine.connect() as conn:
        assert conn.execute(select(decisions.c.wiki).order_by(decisions.c.id)).scalars().all() == [
            "ukwiki", "bnwiki", "ukwiki", "enwiki", "ukwiki"]
        later = Selection(wiki="ukwiki", limit=2, asked_at=dt.datetime(2026, 11, 1))
        page, more = records(conn, later)
        assert [r["label"] for r in page] == ["L0", "L2"] and more
        page, more = records(conn, replace(later, after=page[-1]["id"]))
        assert [r["label"] for r in page] == ["L4"] and not more
        conn.execute(text("INSERT INTO decisions (suggestion_id, decision, created_at) "
                          "VALUES (:sid, 'accept', '2026-10-06 12:00:00')"), {"sid": rows[5]["id"]})
        conn.commit()
    caplog.clear()
    EventStore(url).upgrade()
    assert "filled decisions.wiki: 1 rows" in caplog.messages
    caplog.clear()
    EventStore(url).upgrade()  # nothing left to fill: nothing said
    assert not [m for m in caplog.messages if "filled" in m]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(decisions.c.wiki.is_(None))).scalar_one() == 0
    engine.dispose()


def test_issue_and_get(store: EventStore) -> None:
    rows = [row(rank=i, label=f"Кола {i}") for i in range(3)]
    store.issue(rows)
    store.issue([])
    got = store.get_suggestion(rows[1]["id"])
    assert got is not None
    assert {k: got[k] for k in rows[1]} == rows[1]
    assert got["created_at"] is not None
    assert store.get_suggestion("nope") is None
    assert count(store, suggestions) == 3


def test_decisions_once_each(store: EventStore) -> None:
    first, second = row(), row()
    store.issue([first, second])
    saved = store.record_decision(first["id"], "reject", "too_general", "broad", "Editor")
    assert (saved["suggestion_id"], saved["decision"], saved["reason"]) == (
        first["id"], "reject", "too_general")
    with pytest.raises(AlreadyDecided):
        store.record_decision(first["id"], "accept", None, None, None)
    with pytest.raises(UnknownSuggestion):
        store.record_decision("A" * 22, "accept", None, None, None)
    decided = store.get_decision(first["id"])
    assert decided is not None
    assert (decided["decision"], decided["reason"], decided["comment"], decided["user_name"]) == (
        "reject", "too_general", "broad", "Editor")
    assert store.get_decision(second["id"]) is None
    assert count(store, decisions) == 1



def test_the_daily_cap_counts_a_users_decisions_of_the_day_from_their_index(store: EventStore) -> None:
    """The daily cap's count (asked on every suggestion request of a user when a community sets
    a cap) reads that user's decisions since midnight from ix_decisions_user_day, not all of the
    wiki's decisions (on SQLite, 42 ms for a wiki with 270,000 of them: every request's cost)."""
    rows = [row(), row(), row(wiki="bnwiki"), row()]
    store.issue(rows)
    for suggestion, user in zip(rows, ["Editor", "Editor", "Editor", "Other"], strict=True):
        store.record_decision(suggestion["id"], "accept", None, None, user)
    with store.engine.begin() as conn:  # one of them yesterday
        conn.execute(decisions.update().where(decisions.c.suggestion_id == rows[1]["id"])
                     .values(created_at=events_module.utcnow() - dt.timedelta(days=1)))
    with plans.statements(store.engine, "SELECT count(*)") as counts:
        assert store.decisions_today("ukwiki", "Editor") == 1
        assert store.decisions_today("bnwiki", "Editor") == 1
        assert store.decisions_today("ukwiki", "Nobody") == 0
    plan = plans.plan(store.engine, *counts[0])
    sqlite = store.engine.dialect.name == "sqlite"
    if sqlite:
        assert [step["detail"] for step in plan] == [
            "SEARCH decisions USING INDEX ix_decisions_user_day (user_name=? AND created_at>?)"], plan
    else:
        used = [(step["table"], step["key"]) for step in plan]
        assert used == [("decisions", "ix_decisions_user_day")], plan


def test_concurrent_decisions_exactly_one_wins(store: EventStore) -> None:
    target = row()
    store.issue([target])

    def decide(n: int) -> str:
        try:
            store.record_decision(target["id"], "accept" if n % 2 else "reject",
                                  None if n % 2 else "other", None, f"user{n}")
        except AlreadyDecided:
            return "already"
        return "won"

    assert race(20, decide) == {"won": 1, "already": 19}
    assert count(store, decisions) == 1


def test_record_edit_is_all_or_nothing(store: EventStore) -> None:
    accepted, other, rejected, undecided = row(), row(), row(), row()
    store.issue([accepted, other, rejected, undecided])
    store.record_decision(accepted["id"], "accept", None, None, "Editor")
    store.record_decision(other["id"], "accept", None, None, "Editor")
    store.record_decision(rejected["id"], "reject", "other", None, "Editor")
    with pytest.raises(NotAccepted):
        store.record_edit([accepted["id"], rejected["id"]], 1000, "Editor")
    with pytest.raises(NotAccepted):
        store.record_edit([accepted["id"], undecided["id"]], 1000, "Editor")
    assert count(store, edits) == 0  # the accepted one was not linked either
    assert store.record_edit([accepted["id"], accepted["id"]], 1000, "Editor") == 1
    assert store.record_edit([accepted["id"]], 1000, "Editor") == 1  # a retry is harmless
    with pytest.raises(NotAccepted):  # the same suggestion in another revision, with a new one
        store.record_edit([other["id"], accepted["id"]], 1001, "Editor")
    assert count(store, edits) == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(edits.c.suggestion_id, edits.c.revid)).all() == [(accepted["id"], 1000)]


def test_pause_resume_and_audit(store: EventStore) -> None:
    assert store.pauses_for("ukwiki") == {}
    store.pause("ukwiki", "categories", "rejection rate 35%", "monitor")
    store.pause("ukwiki", "categories", "still high", "Maintainer")  # pausing again replaces
    paused = store.pauses_for("ukwiki")
    assert list(paused) == ["categories"]
    assert (paused["categories"]["reason"], paused["categories"]["paused_by"]) == ("still high", "Maintainer")
    assert store.pauses_for("enwiki") == {}
    store.resume("ukwiki", "categories", "fixed", "Maintainer")
    assert store.pauses_for("ukwiki") == {}
    entries = store.audit_entries()
    assert [(e["action"], e["actor"], e["reason"]) for e in entries] == [
        ("resume", "Maintainer", "fixed"), ("pause", "Maintainer", "still high"),
        ("pause", "monitor", "rejection rate 35%")]
    assert len(store.audit_entries(limit=1)) == 1


def test_utf8mb4_round_trip(store: EventStore) -> None:
    titles = ["🦒 Жирафа", "東京都", "বাংলা ভাষা", "Hà Nội", "𠮷野家"]
    rows = [row(page_title=t, label=f"{t} 🏷", explanation="😀 in 1 of the 1 linked articles")
            for t in titles]
    store.issue(rows)
    for original in rows:
        got = store.get_suggestion(original["id"])
        assert got is not None
        assert (got["page_title"], got["label"], got["explanation"]) == (
            original["page_title"], original["label"], original["explanation"])
    store.record_decision(rows[0]["id"], "reject", "other", "Не та тема 🙅", "Користувач 🐱")
    decided = store.get_decision(rows[0]["id"])
    assert decided is not None and decided["comment"] == "Не та тема 🙅"
    assert decided["user_name"] == "Користувач 🐱"


@pytest.mark.parametrize("down_url", [
    "mysql+pymysql://root@127.0.0.1:1/none",
    "sqlite:////nonexistent-directory/for/sure/events.sqlite3",
])
def test_unreachable_database_is_store_unavailable(down_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_module.time, "sleep", lambda _seconds: None)  # no retry pauses
    store = EventStore(down_url)
    with pytest.raises(StoreUnavailable):
        store.upgrade()
    for call in (lambda: store.issue([row()]), lambda: store.get_suggestion("x"),
                 lambda: store.record_decision("x", "skip", None, None, None),
                 lambda: store.pauses_for("ukwiki"), store.ping):
        with pytest.raises(StoreUnavailable):
            call()


def test_connection_lost_mid_transaction_writes_nothing(mariadb_url: str) -> None:
    """The server drops the connection between the statements of one write."""
    store = EventStore(mariadb_url)
    store.upgrade()
    target = row()
    store.issue([target])
    killer = create_engine(mariadb_url)
    armed = {"table": "audit_log"}

    def kill(conn: Any) -> None:
        armed["table"] = "-"  # once
        with killer.begin() as other:
            other.execute(text(f"KILL CONNECTION {conn.connection.dbapi_connection.thread_id()}"))

    @event.listens_for(store.engine, "before_cursor_execute")
    def _kill_before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith(f"INSERT INTO {armed['table']}"):
            kill(conn)

    @event.listens_for(store.engine, "after_cursor_execute")
    def _kill_after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if armed["table"] == "decisions" and statement.startswith("SELECT suggestions.wiki"):
            kill(conn)  # the decision's insert is a prepared statement: the engine's events miss it

    # pause = delete + insert pause + insert audit: the lost audit insert takes the pause with it.
    with pytest.raises(StoreUnavailable):
        store.pause("ukwiki", "categories", "reason", "monitor")
    assert count(store, pauses) == 0 and count(store, audit_log) == 0
    armed["table"] = "decisions"  # lost after the suggestion's wiki is read (it exists)
    with pytest.raises(StoreUnavailable):
        store.record_decision(target["id"], "accept", None, None, None)
    assert armed["table"] == "-" and store.get_decision(target["id"]) is None
    # The pool recovers: the next write works.
    store.record_decision(target["id"], "accept", None, None, None)
    assert store.get_decision(target["id"]) is not None
    killer.dispose()


def test_issue_is_one_transaction(url: str, tmp_path: Path) -> None:
    store = EventStore(url)
    store.upgrade()
    good, clash = row(), row()
    store.issue([clash])
    with pytest.raises(Exception):  # noqa: B017 - the duplicate id fails; which error is the driver's
        store.issue([good, dict(clash)])
    assert store.get_suggestion(good["id"]) is None
    assert count(store, suggestions) == 1


def _start_worker(url: str, barrier: Any, results: Any) -> None:
    """A worker's start: the schema check, at the same moment as the others'; what it logged."""
    errors: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.getMessage())

    logging.getLogger("suggest").addHandler(Keep(logging.WARNING))
    store = EventStore(url)
    barrier.wait(30)
    try:
        store.upgrade()
    except StoreUnavailable as error:
        errors.append(f"not ready: {error}")
    results.put(errors)


def test_workers_starting_together_on_a_new_database_take_turns(url: str) -> None:
    """gunicorn's workers check the schema of a new database at the same moment. They take turns
    (the SQLite writer lock file, a MariaDB named lock), so none fails on the others' DDL and
    logs a database error at start, as all but one did before."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_start_worker, args=(url, barrier, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    logged = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert logged == [[]] * 4
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)
    engine.dispose()
