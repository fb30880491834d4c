# SPDX-License-Identifier: GPL-3.0-or-later
"""Aggregates checked against numbers computed by hand, on SQLite and on the real MariaDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from suggest.metrics import aggregates, purge
from suggest.metrics.aggregates import Filters, wilson
from suggest.store.events import EventStore
from suggest.store.schema import decisions, edits, review_labels, suggestions

NOW = dt.datetime(2026, 11, 25, 12, 0, 0)  # a Wednesday
WEEK_A, WEEK_B = "2026-11-16", "2026-11-23"
T_A = dt.datetime(2026, 11, 17, 10, 0)


def suggestion(sid: str, at: dt.datetime, wiki: str = "enwiki", checksum: str = "c1",
               backend: str = "tfidf") -> dict[str, Any]:
    return {"id": sid, "created_at": at, "wiki": wiki, "task": "categories", "task_version": "1",
            "page_title": "Page", "page_id": 1, "revid": 10, "rank": 0, "label": sid,
            "wikitext": f"[[Category:{sid}]]", "score": 0.5, "explanation": "", "details": "{}",
            "backend": backend, "model_checksum": checksum, "config_hash": "h", "app_version": "0"}


def build_fixture(store: EventStore) -> None:
    """Week A (model c1, enwiki): 10 shown, 6 accepted by Alice, 2 rejected + 1 skipped by Bob,
    one never decided (shown Sunday 23:30, still week A). Edits: s0 verified+kept, s1
    verified+reverted, s2 not verified, s3 pending, s4 and s5 never saved (> 24 h ago).
    Week B (model c2, enwiki, t0 shown Monday 00:00): t0 accepted by Bob 6 h ago and not saved
    (too recent to count as not saved), t1 rejected by Bob, t2 rejected + t3 accepted and
    verified by Carol. dewiki, week B: u0 accepted, u1 skipped by Dora."""
    rows = [suggestion(f"s{i}", T_A) for i in range(9)]
    rows.append(suggestion("s9", dt.datetime(2026, 11, 22, 23, 30)))
    rows += [suggestion("t0", dt.datetime(2026, 11, 23, 0, 0), checksum="c2")]
    rows += [suggestion(f"t{i}", dt.datetime(2026, 11, 24, 9), checksum="c2") for i in (1, 2, 3)]
    rows += [suggestion(f"u{i}", dt.datetime(2026, 11, 24, 9), wiki="dewiki", checksum="c2")
             for i in (0, 1)]
    store.issue(rows)
    later = T_A + dt.timedelta(minutes=5)
    recent = NOW - dt.timedelta(hours=6)
    decided = [(f"s{i}", "accept", None, "Alice", later) for i in range(6)]
    decided += [("s6", "reject", "wrong", "Bob", later), ("s7", "reject", "too_general", "Bob", later),
                ("s8", "skip", None, "Bob", later), ("t0", "accept", None, "Bob", recent),
                ("t1", "reject", "wrong", "Bob", recent), ("t2", "reject", "wrong", "Carol", recent),
                ("t3", "accept", None, "Carol", recent), ("u0", "accept", None, "Dora", recent),
                ("u1", "skip", None, "Dora", recent)]
    saved = [("s0", "verified", "kept"), ("s1", "verified", "reverted"), ("s2", "not_verified", None),
             ("s3", None, None), ("t3", "verified", None)]
    with store.engine.begin() as conn:
        wiki_of = {r["id"]: r["wiki"] for r in rows}
        conn.execute(decisions.insert(), [
            {"suggestion_id": s, "wiki": wiki_of[s], "decision": d, "reason": r, "user_name": u,
             "created_at": at, "comment": "note"} for s, d, r, u, at in decided])
        conn.execute(edits.insert(), [
            {"suggestion_id": s, "revid": 100 + n, "user_name": "Alice", "created_at": later,
             "status": status, "survival": survival}
            for n, (s, status, survival) in enumerate(saved)])


@pytest.fixture(params=["sqlite_url", "mariadb_url"])
def store(request: pytest.FixtureRequest) -> EventStore:
    found = EventStore(request.getfixturevalue(request.param))
    found.upgrade()
    build_fixture(found)
    return found


def test_wilson_interval_matches_hand_computation() -> None:
    rate = wilson(6, 9)  # p = 0.667; by hand: 0.3542 .. 0.8794
    assert rate.value == pytest.approx(0.6667, abs=1e-4)
    assert rate.low == pytest.approx(0.3542, abs=1e-3) and rate.high == pytest.approx(0.8794, abs=1e-3)
    assert wilson(0, 0).value is None and wilson(0, 0).low is None
    full = wilson(50, 50)
    assert full.high == 1.0 and full.low == pytest.approx(0.9287, abs=1e-3)
    assert wilson(0, 50).low == 0.0 and wilson(0, 50).high == pytest.approx(0.0713, abs=1e-3)


def test_weekly_rows_per_model(store: EventStore) -> None:
    with store.engine.connect() as conn:
        rows = aggregates.weekly(conn, Filters(wiki="enwiki"), NOW)
    assert [(r["model_checksum"], r["week"]) for r in rows] == [("c1", WEEK_A), ("c2", WEEK_B)]
    a, b = rows
    assert {k: a[k] for k in aggregates.COUNTS} == {
        "shown": 10, "decided": 9, "accepted": 6, "rejected": 2, "skipped": 1, "saved": 4,
        "verified": 2, "not_verified": 1, "kept": 1, "reverted": 1, "not_saved": 2,
        "confirmed": 0}
    assert a["rejected_by_reason"] == {"wrong": 1, "too_general": 1}
    assert a["rates"]["acceptance"]["value"] == pytest.approx(6 / 9, abs=1e-4)
    assert a["rates"]["verified_acceptance"]["value"] == pytest.approx(2 / 9, abs=1e-4)
    assert a["rates"]["revert"]["value"] == 0.5 and a["rates"]["revert"]["total"] == 2
    assert {k: b[k] for k in aggregates.COUNTS} == {
        "shown": 4, "decided": 4, "accepted": 2, "rejected": 2, "skipped": 0, "saved": 1,
        "verified": 1, "not_verified": 0, "kept": 0, "reverted": 0, "not_saved": 0,
        "confirmed": 0}
    assert b["rejected_by_reason"] == {"wrong": 2}
    assert b["rates"]["revert"]["value"] is None  # nothing checked yet


def test_totals_reasons_and_over_acceptance(store: EventStore) -> None:
    with store.engine.connect() as conn:
        rows = aggregates.totals(conn, Filters(), NOW)
    by_wiki = {r["wiki"]: r for r in rows}
    en, de = by_wiki["enwiki"], by_wiki["dewiki"]
    assert (en["shown"], en["decided"], en["accepted"], en["rejected"], en["skipped"]) == (14, 13, 8, 4, 1)
    assert (en["saved"], en["verified"], en["kept"], en["reverted"], en["not_saved"]) == (5, 3, 1, 1, 2)
    assert en["rejected_by_reason"] == {"wrong": 3, "too_general": 1}
    assert en["rates"]["rejection"]["value"] == pytest.approx(4 / 13, abs=1e-4)
    # Alice (6 decisions, all accepted) and Bob (5, mixed) qualify; Carol has only 2.
    assert en["over_acceptance"]["total"] == 2 and en["over_acceptance"]["successes"] == 1
    assert (de["shown"], de["accepted"], de["skipped"]) == (2, 1, 1)
    assert de["over_acceptance"]["total"] == 0 and de["over_acceptance"]["value"] is None


def test_filters_and_models(store: EventStore) -> None:
    with store.engine.connect() as conn:
        only_c1 = aggregates.totals(conn, Filters(wiki="enwiki", since=dt.datetime(2026, 11, 23)), NOW)
        assert [(r["wiki"], r["shown"], r["decided"]) for r in only_c1] == [("enwiki", 4, 4)]
        assert aggregates.totals(conn, Filters(backend="other"), NOW) == []
        assert aggregates.models(conn) == ["tfidf"]
        series = aggregates.weekly(conn, Filters(), NOW, by_model=False)
    assert [(r["wiki"], r["week"], r["shown"]) for r in series] == [
        ("dewiki", WEEK_B, 2), ("enwiki", WEEK_A, 10), ("enwiki", WEEK_B, 4)]


def test_shown_counts_the_days_that_start_in_the_period(store: EventStore) -> None:
    """Shown is counted per day: a period from a moment in the evening of the 22nd leaves that
    day out (as its suggestions are left out), and one up to noon on the 23rd takes that day in."""
    with store.engine.connect() as conn:
        evening = dt.datetime(2026, 11, 22, 23, 59, 59)
        late = aggregates.totals(conn, Filters(wiki="enwiki", since=evening), NOW)
        early = aggregates.totals(conn, Filters(wiki="enwiki", until=dt.datetime(2026, 11, 23, 12)), NOW)
        midnight = aggregates.totals(conn, Filters(wiki="enwiki", since=dt.datetime(2026, 11, 23)), NOW)
    assert [(r["shown"], r["decided"]) for r in late] == [(4, 4)]  # not s9, shown at 23:30 on the 22nd
    assert [(r["shown"], r["decided"]) for r in early] == [(11, 10)]  # week A and t0, shown at 00:00
    assert [(r["shown"], r["decided"]) for r in midnight] == [(4, 4)]


def test_window_counts_use_decision_time(store: EventStore) -> None:
    with store.engine.connect() as conn:
        recent = aggregates.window_counts(conn, "enwiki", "categories", NOW - dt.timedelta(days=1), NOW)
    assert (recent["decided"], recent["accepted"], recent["rejected"]) == (4, 2, 2)


def test_purge_removes_names_but_keeps_counts(store: EventStore) -> None:
    with store.engine.connect() as conn:
        before = aggregates.totals(conn, Filters(), NOW)
    # 90 days after NOW - 3 days: only the week A decisions (8 days old by then) are older.
    result = purge.run(store, days=90, now=T_A + dt.timedelta(days=91))
    assert result["decisions"] == 9 and result["edits"] == 5
    with store.engine.connect() as conn:
        named = conn.execute(select(decisions.c.suggestion_id).where(
            decisions.c.user_name.is_not(None)).order_by(decisions.c.suggestion_id)).scalars().all()
        comments = conn.execute(select(func.count()).where(decisions.c.comment.is_not(None))).scalar()
        after = aggregates.totals(conn, Filters(), NOW)
    assert named == ["t0", "t1", "t2", "t3", "u0", "u1"] and comments == 6
    strip = ("over_acceptance",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in after] == \
        [{k: v for k, v in r.items() if k not in strip} for r in before]
    assert purge.run(store, days=90, now=T_A + dt.timedelta(days=91))["decisions"] == 0


def test_review_precision_absent_and_present(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    suggestions.create(engine)
    with engine.begin() as conn:
        conn.execute(suggestions.insert(), [suggestion("a", T_A), suggestion("b", T_A), suggestion("c", T_A)])
        assert aggregates.review_precision(conn, Filters()) == {}
        review_labels.create(conn)
        at = dt.datetime(2026, 11, 1)
        conn.execute(review_labels.insert(), [
            {"suggestion_id": "a", "reviewer": "R1", "label": "correct", "created_at": at},
            {"suggestion_id": "a", "reviewer": "R2", "label": "correct", "created_at": at},
            {"suggestion_id": "b", "reviewer": "R1", "label": "incorrect", "created_at": at},
            {"suggestion_id": "c", "reviewer": "R1", "label": "unsure", "created_at": at}])
        found = aggregates.review_precision(conn, Filters())
    # Per suggestion, not per label: a is correct (2 of 2), b incorrect, c unsure (left out).
    assert found[("categories", "enwiki")]["successes"] == 1
    assert found[("categories", "enwiki")]["total"] == 2


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "mariadb_url"])
def test_upgrade_adds_verification_columns_to_an_old_database(
        url_fixture: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(url_fixture)
    engine = create_engine(url)
    with engine.begin() as conn:  # the edits table as the first release made it
        conn.execute(text("CREATE TABLE edits (suggestion_id VARCHAR(32) PRIMARY KEY, "
                          "revid BIGINT NOT NULL, user_name VARCHAR(255), created_at DATETIME NOT NULL)"))
        conn.execute(text("INSERT INTO edits VALUES ('x', 5, 'A', '2026-01-01 00:00:00')"))
    engine.dispose()
    store = EventStore(url)
    store.upgrade()
    columns = {c["name"] for c in inspect(store.engine).get_columns("edits")}
    assert {"status", "reason", "checked_at", "survival", "survival_checked_at"} <= columns
    with store.engine.connect() as conn:
        assert conn.execute(select(edits.c.revid, edits.c.status)).all() == [(5, None)]
