# SPDX-License-Identifier: GPL-3.0-or-later
"""Signed suggestion ids, computed suggestions stored once, issued ones stored at their first
decision, and the "shown" counts: on real SQLite and the real MariaDB on 127.0.0.1:3306."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from suggest.metrics import aggregates
from suggest.store.events import AlreadyDecided, EventStore, StoreUnavailable
from suggest.store.issued_ids import ID_LENGTH, IssuedIds, content_id
from suggest.store.schema import computed, decisions, shown, suggestions
from suggest.store.shown import ShownCounter, ShownKey, shown_key
from tests.support.concurrency import race


@pytest.fixture(params=["sqlite", "mariadb"])
def store(request: pytest.FixtureRequest) -> EventStore:
    events = EventStore(request.getfixturevalue(f"{request.param}_url"))
    events.upgrade()
    return events


def computed_row(rank: int = 0, label: str = "Кола") -> dict[str, Any]:
    row: dict[str, Any] = {
        "wiki": "ukwiki", "task": "categories", "task_version": "1.0", "page_title": "Коло",
        "page_id": 12, "revid": 345, "rank": rank, "label": label,
        "wikitext": f"[[Категорія:{label}]]", "score": 0.8, "explanation": "in 2 of the 5 linked articles",
        "details": "{}", "backend": "tfidf", "model_checksum": "sha256:x", "config_hash": "abc",
        "app_version": "0.1.0"}
    row["id"] = content_id(row)
    return row


def count(store: EventStore, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_ids_are_signed_dated_and_fresh() -> None:
    ids = IssuedIds("secret")
    content = computed_row()["id"]
    issued = [ids.issue(content, at=1_800_000_000) for _ in range(20_000)]
    # The random part: issues of one suggestion in one second differ (a clash among 20,000 has a
    # chance of 2e-4 with 40 random bits; 24 bits would give about 12 clashes).
    assert len(set(issued)) == 20_000
    assert all(len(i) == ID_LENGTH and i.replace("-", "").replace("_", "").isalnum() for i in issued)
    opened = ids.open(issued[0])
    assert opened == (content, dt.datetime(2027, 1, 15, 8, 0))
    assert IssuedIds("other secret").open(issued[0]) is None
    for position in range(ID_LENGTH):  # any changed character breaks the signature
        changed = "A" if issued[0][position] != "A" else "B"
        assert ids.open(issued[0][:position] + changed + issued[0][position + 1:]) is None
    for bad in ("", "x" * 31, issued[0] + "A", "é" * 32, "=" * 32):
        assert ids.open(bad) is None
    with_dash = next(i for i in issued if "-" in i or "_" in i)
    other_spelling = with_dash.replace("-", "+").replace("_", "/")  # decodes to the same bytes
    assert ids.open(other_spelling) is None and ids.open(with_dash) is not None


def test_content_id_names_the_content() -> None:
    row = computed_row()
    same = computed_row()
    assert row["id"] == same["id"]
    for key, value in (("label", "Інше"), ("revid", 346), ("model_checksum", "sha256:y"), ("rank", 1)):
        changed = {k: v for k, v in row.items() if k != "id"}
        changed[key] = value
        assert content_id(changed) != row["id"]


def test_computed_rows_are_stored_once(store: EventStore) -> None:
    rows = [computed_row(0, "Кола"), computed_row(1, "Криві")]
    store.store_computed(rows)
    store.store_computed(rows)

    def again(_: int) -> str:
        store.store_computed([*rows, computed_row(2, "Геометрія")])
        return "stored"

    assert race(8, again) == {"stored": 8}
    assert count(store, computed) == 3
    assert store.get_computed(rows[1]["id"])["label"] == "Криві"  # type: ignore[index]
    assert store.get_computed("0" * 20) is None


def test_concurrent_first_decisions_on_one_issued_id(store: EventStore) -> None:
    """Twenty clients decide on one issued id that is not stored yet: one decision and one
    stored suggestion, the others are told it is decided; nothing half-written."""
    content = computed_row()
    store.store_computed([content])
    ids = IssuedIds("secret")
    sid = ids.issue(content["id"])
    issued_at = ids.open(sid)[1]  # type: ignore[index]

    def decide(n: int) -> str:
        try:
            store.record_first_decision(sid, content["id"], issued_at, "accept", None, None, f"user{n}")
        except AlreadyDecided:
            return "already"
        return "won"

    assert race(20, decide) == {"won": 1, "already": 19}
    assert count(store, decisions) == 1 and count(store, suggestions) == 1
    assert store.get_suggestion(sid)["content_id"] == content["id"]  # type: ignore[index]


def test_shown_counts_add_up_under_concurrency(store: EventStore) -> None:
    day = dt.datetime(2026, 11, 23, 14, 5)
    keys = [shown_key(day, "ukwiki", "categories", "tfidf", "sha256:x"),
            shown_key(day + dt.timedelta(days=1), "ukwiki", "categories", "tfidf", "sha256:x")]

    def add(_: int) -> str:
        for _ in range(25):
            store.add_shown({keys[0]: 2, keys[1]: 1})
        return "added"

    assert race(6, add) == {"added": 6}
    with store.engine.connect() as conn:
        rows = conn.execute(select(shown.c.day, shown.c.shown).order_by(shown.c.day)).all()
    assert [(r.day, r.shown) for r in rows] == [(dt.datetime(2026, 11, 23), 300),
                                                (dt.datetime(2026, 11, 24), 150)]


def test_metrics_count_shown_from_the_counts(store: EventStore) -> None:
    """A week with suggestions shown and none decided still has its row; a decided suggestion
    adds to decided, not to shown."""
    monday = dt.datetime(2026, 11, 23, 9)
    store.add_shown({shown_key(monday, "ukwiki", "categories", "tfidf", "sha256:x"): 7,
                     shown_key(monday + dt.timedelta(days=6), "ukwiki", "categories", "tfidf",
                               "sha256:x"): 3,
                     shown_key(monday + dt.timedelta(days=7), "ukwiki", "categories", "tfidf",
                               "sha256:x"): 4})
    content = computed_row()
    store.store_computed([content])
    store.record_first_decision("x" * 32, content["id"], monday, "accept", None, None, "A")
    now = dt.datetime(2026, 12, 10)
    with store.engine.connect() as conn:
        weeks = aggregates.weekly(conn, aggregates.Filters(), now, by_model=False)
        [total] = aggregates.totals(conn, aggregates.Filters(), now)
        only_second = aggregates.totals(conn, aggregates.Filters(since=dt.datetime(2026, 11, 30)), now)
    assert [(w["week"], w["shown"], w["decided"], w["accepted"]) for w in weeks] == [
        ("2026-11-23", 10, 1, 1), ("2026-11-30", 4, 0, 0)]
    assert (total["shown"], total["decided"], total["rates"]["acceptance"]["value"]) == (14, 1, 1.0)
    assert [(t["shown"], t["decided"]) for t in only_second] == [(4, 0)]


def test_counter_keeps_what_it_could_not_write() -> None:
    written: list[dict[ShownKey, int]] = []
    failing = [True]

    def write(counts: dict[ShownKey, int]) -> None:
        if failing[0]:
            raise StoreUnavailable("down")
        written.append(dict(counts))

    counter = ShownCounter(write, interval=3600)
    key = shown_key(dt.datetime(2026, 11, 27, 10), "ukwiki", "categories", "tfidf", "sha256:x")
    counter.add(key, 3)
    assert counter.flush() is False and counter.pending() == 3
    counter.add(key, 2)
    failing[0] = False
    assert counter.flush() is True and counter.pending() == 0
    assert written == [{key: 5}]
    assert counter.flush() is True and written == [{key: 5}]  # nothing twice


def test_counter_writes_in_the_background(store: EventStore) -> None:
    counter = ShownCounter(store.add_shown, interval=0.05)
    key = shown_key(dt.datetime(2026, 11, 27, 10), "ukwiki", "categories", "tfidf", "sha256:x")
    for _ in range(10):
        counter.add(key, 1)
    deadline = time.monotonic() + 10
    total = None
    while total != 10 and time.monotonic() < deadline:
        time.sleep(0.02)
        with store.engine.connect() as conn:
            total = conn.execute(select(func.sum(shown.c.shown))).scalar_one()
    assert total == 10 and counter.pending() == 0


def test_counted_today_is_keyed_by_the_utc_day() -> None:
    written: list[dict[ShownKey, int]] = []
    counter = ShownCounter(lambda counts: written.append(dict(counts)), interval=3600)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counter.add_today("ukwiki", "categories", "tfidf", "sha256:x", 2)
    counter.add_today("ukwiki", "categories", "tfidf", "sha256:x", 1)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert counter.flush()
    [(key, n)] = written[0].items()
    assert n == 3 and key[1:] == ("ukwiki", "categories", "tfidf", "sha256:x")
    assert key[0] in {shown_key(before, *key[1:])[0], shown_key(after, *key[1:])[0]}
    assert (key[0].hour, key[0].minute, key[0].second) == (0, 0, 0)
