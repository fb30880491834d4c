# SPDX-License-Identifier: GPL-3.0-or-later
"""The published datasets on SQLite and the real MariaDB: the decisions (/api/v1/dataset/decisions,
/dataset/decisions.csv) and the reviews (/api/v1/dataset/reviews, /dataset/reviews.csv). What a
record holds and never holds, the day's delay, filters, pages, the CSV, and bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from suggest.metrics.dataset import FIELDS, REVIEW_FIELDS, Selection, records
from suggest.store.events import EventStore, PendingDecision, decision_row, utcnow
from suggest.store.issued_ids import IssuedIds, content_id
from suggest.store.schema import decisions, edits
from tests.conftest import app_config
from tests.support import plans

# The service's clock stands still here (the clock fixture), so that a run across midnight (UTC)
# sees the same day as the data it stored.
NOW = dt.datetime(2026, 11, 25, 12, 0, 0)
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("suggest.web.dataset.utcnow", lambda: NOW)


def at(day: dt.date, hour: int = 13, minute: int = 37) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, 42))


def suggestion(sid: str, wiki: str = "fixture-enwiki", task: str = "categories",
               title: str = "Page", label: str | None = None) -> dict[str, Any]:
    return {"id": sid, "created_at": at(TODAY - dt.timedelta(days=10)), "wiki": wiki, "task": task,
            "task_version": "2.7", "page_title": title, "page_id": 1, "revid": 10, "rank": 1,
            "label": label or f"Label {sid}", "wikitext": f"[[Category:{sid}]]", "score": 0.123456,
            "explanation": "", "details": "{}", "backend": "tfidf", "model_checksum": "c1",
            "config_hash": "h", "app_version": "0"}


def decided(sid: str, decision: str, day: dt.date, reason: str | None = None,
            user: str | None = "Alice Example", confirmed: bool = False,
            wiki: str = "fixture-enwiki") -> dict[str, Any]:
    """A decisions row as the store writes it (``wiki``: its suggestion's)."""
    return {"suggestion_id": sid, "wiki": wiki, "decision": decision, "reason": reason,
            "created_at": at(day), "user_name": user,
            "comment": "my private note" if decision == "reject" else None, "confirmed": confirmed}


def build(store: EventStore) -> None:
    """In id order: s0-s5 on fixture-enwiki (s3 a references suggestion), s6 on fixture-ukwiki;
    s7 decided today. Dump wikis: no community page to ask."""
    days = [TODAY - dt.timedelta(days=n) for n in (5, 4, 3, 2, 1, 1, 1, 0)]
    store.issue([suggestion(f"s{i}") for i in range(3)]
                + [suggestion("s3", task="references"), suggestion("s4"),
                   suggestion("s5", title="=HYPERLINK(\"http://x.invalid\")", label="-1+1"),
                   suggestion("s6", wiki="fixture-ukwiki", title="Коло", label="Геометрія"),
                   suggestion("s7")])
    rows = [decided("s0", "accept", days[0], confirmed=True),
            decided("s1", "accept", days[1]),
            decided("s2", "accept", days[2]),
            decided("s3", "reject", days[3], reason="not_supporting"),
            decided("s4", "skip", days[4], user=None),
            decided("s5", "reject", days[5], reason="too_general"),
            decided("s6", "accept", days[6], user="Олена", wiki="fixture-ukwiki"),
            decided("s7", "reject", days[7], reason="wrong_topic")]
    with store.engine.begin() as conn:
        for row in rows:  # one by one: ids in this order
            conn.execute(decisions.insert(), row)
        conn.execute(edits.insert(), [
            {"suggestion_id": "s0", "revid": 1001, "user_name": "Alice Example",
             "created_at": at(days[0]), "status": "verified", "survival": "kept"},
            {"suggestion_id": "s1", "revid": 1002, "user_name": "Alice Example",
             "created_at": at(days[1]), "status": None, "survival": None}])


@pytest.fixture(params=["sqlite_url", "mariadb_url"])
def client(request: pytest.FixtureRequest) -> Any:
    from suggest.web import create_app

    app = create_app(app_config(request.getfixturevalue(request.param)))
    build(app.extensions["wiki_suggest"].store)
    return app.test_client()


def everything(client: Any, **query: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/dataset/decisions", query_string={"limit": 5000, **query})
    assert answer.status_code == 200, answer.get_json()
    return list(answer.get_json()["records"])


def test_a_record_says_what_was_decided_and_nothing_about_who_or_when(client: Any) -> None:
    answer = client.get("/api/v1/dataset/decisions")
    body = answer.get_json()
    assert answer.status_code == 200 and body["next"] is None
    assert body["published_until"] == YESTERDAY.isoformat() and body["withheld"] == {}
    assert body["licence"] == "CC BY-SA 4.0" and [f["name"] for f in body["fields"]] == list(FIELDS)
    records = body["records"]
    assert [r["label"] for r in records] == [f"Label s{i}" for i in range(5)] + ["-1+1", "Геометрія"]
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    first = records[0]
    assert set(first) == set(FIELDS)
    assert first == {**first, "day": (TODAY - dt.timedelta(days=5)).isoformat(), "wiki": "fixture-enwiki",
                     "task": "categories", "task_version": "2.7", "backend": "tfidf",
                     "page_title": "Page", "rank": 1, "score": 0.1235, "decision": "accept",
                     "reason": None, "confirmed": True, "edit": "verified", "survival": "kept"}
    assert (records[1]["edit"], records[1]["survival"], records[1]["confirmed"]) == ("pending", None, False)
    assert (records[2]["edit"], records[3]["edit"]) == (None, None)  # accepted, never saved; rejected
    assert (records[3]["task"], records[3]["decision"], records[3]["reason"]) == (
        "references", "reject", "not_supporting")
    for text in (answer.get_data(as_text=True),
                 client.get("/dataset/decisions.csv", query_string={"limit": 5000}).get_data(as_text=True)):
        for private in ("Alice", "Олена", "my private note", "13:37", "1001"):
            assert private not in text


def test_decisions_of_today_appear_tomorrow(client: Any) -> None:
    labels = [r["label"] for r in everything(client)]
    assert "Label s7" not in labels and len(labels) == 7
    # Asking for today, or later, changes nothing.
    assert everything(client, since=TODAY.isoformat()) == []
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert [r["label"] for r in everything(client, until=tomorrow)] == labels


def test_filters(client: Any) -> None:
    assert [r["label"] for r in everything(client, wiki="fixture-ukwiki")] == ["Геометрія"]
    assert [r["label"] for r in everything(client, task="references")] == ["Label s3"]
    assert everything(client, wiki="dewiki") == []
    three_to_two = everything(client, since=(TODAY - dt.timedelta(days=3)).isoformat(),
                              until=(TODAY - dt.timedelta(days=2)).isoformat())
    assert [r["label"] for r in three_to_two] == ["Label s2", "Label s3"]
    # Empty values are values not given, as the stats page's form sends them.
    assert everything(client, wiki="", task="", since="", until="") == everything(client)


def test_pages_follow_each_other_to_the_end(client: Any) -> None:
    whole = everything(client, wiki="fixture-enwiki")
    seen: list[dict[str, Any]] = []
    address: str | None = "/api/v1/dataset/decisions?wiki=fixture-enwiki&limit=2"
    pages = 0
    while address is not None:
        body = client.get(address).get_json()
        seen += body["records"]
        address = body["next"]
        pages += 1
        assert pages <= 4
    assert seen == whole and len(whole) == 6 and pages == 3
    # Parameters outside the spec do not reach the next page's address.
    body = client.get("/api/v1/dataset/decisions", query_string={
        "limit": 2, "_external": "1", "_scheme": "javascript", "_anchor": "x"}).get_json()
    assert body["next"].startswith("/api/v1/dataset/decisions?") and "javascript" not in body["next"]
    assert "_anchor" not in body["next"] and "#" not in body["next"]


def test_csv_holds_the_same_records_and_no_formulas(client: Any) -> None:
    records = everything(client)
    answer = client.get("/dataset/decisions.csv", query_string={"limit": 4})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    first_page = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    link = answer.headers["Link"]
    assert link.startswith("</dataset/decisions.csv?") and link.endswith('>; rel="next"')
    second = client.get(link[1:link.index(">")])
    assert "Link" not in second.headers
    rows = first_page + list(csv.DictReader(io.StringIO(second.get_data(as_text=True))))
    assert [int(r["id"]) for r in rows] == [r["id"] for r in records]
    for row, record in zip(rows, records, strict=True):
        for name in ("day", "wiki", "task", "decision"):
            assert row[name] == record[name]
        assert row["reason"] == (record["reason"] or "")
        assert row["confirmed"] == ("true" if record["confirmed"] else "false")
    formula = next(r for r in rows if r["reason"] == "too_general")
    assert formula["page_title"] == "'=HYPERLINK(\"http://x.invalid\")" and formula["label"] == "'-1+1"
    as_json = next(r for r in records if r["reason"] == "too_general")
    assert as_json["page_title"] == "=HYPERLINK(\"http://x.invalid\")"


@pytest.mark.parametrize("query", [
    {"wiki": "not a wiki!"}, {"since": "2026-02-31"}, {"until": "yesterday"},
    {"since": "2026-11-02", "until": "2026-11-01"}, {"limit": "0"}, {"limit": "5001"},
    {"after": "-1"}, {"after": "x"}, {"limit": ["2", "3"]},
])
def test_bad_input_is_a_400_with_a_code(sqlite_url: str, query: dict[str, Any]) -> None:
    from suggest.web import create_app

    client = create_app(app_config(sqlite_url)).test_client()
    for path in ("/api/v1/dataset/decisions", "/dataset/decisions.csv"):
        answer = client.get(path, query_string=query, headers={"Accept": "application/json"})
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == "invalid_parameter"


def test_database_down_is_a_503() -> None:
    from suggest.web import create_app

    client = create_app(app_config("mysql+pymysql://root@127.0.0.1:1/none")).test_client()
    for path in ("/api/v1/dataset/decisions", "/dataset/decisions.csv", "/api/v1/dataset/reviews",
                 "/dataset/reviews.csv"):
        answer = client.get(path, headers={"Accept": "application/json"})
        assert answer.status_code == 503
        assert answer.get_json()["error"]["code"] == "database_unavailable"


def test_data_page_tool_card_and_stats_page_describe_and_link_them(sqlite_url: str) -> None:
    from suggest.web import create_app

    client = create_app(app_config(sqlite_url)).test_client()
    page = client.get("/data").get_data(as_text=True)
    assert 'id="published"' in page
    assert "the published decisions dataset (without user names" in page  # the decisions table
    assert "the published reviews dataset show counts only" in page  # the review labels table
    for name, fields in (("decisions", FIELDS), ("reviews", REVIEW_FIELDS)):
        assert f'href="/dataset/{name}.csv"' in page and f'href="/api/v1/dataset/{name}"' in page
        for field in fields:
            assert f'id="published-{name}-{field}"' in page
    card = client.get("/toolcard.json").get_json()["data_flow"]
    flow = card["published_decisions"]
    assert "/api/v1/dataset/decisions" in flow and "never the user name" in flow and "day after" in flow
    assert "can still often be matched with an edit" in flow
    assert "/dataset/reviews.csv" in card["published_reviews"]
    assert "never who reviewed" in card["published_reviews"]
    stats = client.get("/stats", query_string={"wiki": "fixture-enwiki"}).get_data(as_text=True)
    assert 'href="/dataset/decisions.csv?wiki=fixture-enwiki"' in stats and 'href="/data#published"' in stats
    assert 'href="/dataset/reviews.csv?wiki=fixture-enwiki"' in stats
    wikitext = client.get("/toolcard.wikitext").get_data(as_text=True)
    assert "'''published_decisions:'''" in wikitext and "'''published_reviews:'''" in wikitext


# -- a wiki's records, from the decisions' own wiki --------------------------------------------

# The wiki of each decision, in the order they are made: one common wiki, one rare, one between.
DECIDED_ON = ["fixture-enwiki", "fixture-enwiki", "fixture-ukwiki", "fixture-enwiki", "bnwiki",
              "fixture-enwiki", "fixture-ukwiki", "fixture-enwiki", "fixture-enwiki", "fixture-enwiki",
              "fixture-ukwiki", "fixture-enwiki", "fixture-enwiki", "bnwiki"]


@pytest.fixture(params=["sqlite_url", "mariadb_url"])
def store(request: pytest.FixtureRequest) -> EventStore:
    found = EventStore(request.getfixturevalue(request.param))
    found.upgrade()
    return found


def decide_on_wikis(store: EventStore, wikis: list[str]) -> dict[str, str]:
    """A decision on each of ``wikis``, in that order, through the store's write paths: signed
    first decisions in batches of three, every fourth on a suggestion issued before ids were
    signed. The wiki of each decided suggestion id."""
    ids = IssuedIds("secret")
    wiki_of: dict[str, str] = {}
    waiting: list[PendingDecision] = []

    def commit() -> None:
        assert all(isinstance(o, dict) for o in store.record_first_decisions(waiting))
        waiting.clear()

    for n, wiki in enumerate(wikis):
        if n % 4 == 3:
            commit()
            store.issue([suggestion(f"old{n}", wiki=wiki, label=f"L{n}")])
            store.record_decision(f"old{n}", "skip", None, None, None)
            wiki_of[f"old{n}"] = wiki
            continue
        row = {k: v for k, v in suggestion("", wiki=wiki, label=f"L{n}").items() if k != "id"}
        row["id"] = content_id(row)
        store.store_computed([row])
        sid = ids.issue(row["id"])
        waiting.append(PendingDecision(decision_row(sid, "accept", None, None, None), row["id"], utcnow()))
        wiki_of[sid] = wiki
        if len(waiting) == 3:
            commit()
    commit()
    return wiki_of


def test_a_wikis_records_come_in_id_order_page_by_page(store: EventStore) -> None:
    """Filtered by a wiki, common or rare, the records are that wiki's decisions, each once, in
    id order, over pages, on every write path (the filter reads the decisions' own wiki)."""
    wiki_of = decide_on_wikis(store, DECIDED_ON)
    tomorrow = utcnow() + dt.timedelta(days=1)  # today's decisions are published then
    with store.engine.connect() as conn:
        stored = conn.execute(select(decisions.c.id, decisions.c.suggestion_id)
                              .order_by(decisions.c.id)).all()
        assert len(stored) == len(DECIDED_ON)
        for wiki in ("fixture-enwiki", "fixture-ukwiki", "bnwiki", "dewiki"):
            first = Selection(wiki=wiki, limit=3, asked_at=tomorrow)
            page, more = records(conn, first)
            seen = list(page)
            while more:
                assert len(page) == 3
                page, more = records(conn, replace(first, after=page[-1]["id"]))
                seen += page
            assert [r["id"] for r in seen] == [i for i, sid in stored if wiki_of[sid] == wiki], wiki
            assert [r["label"] for r in seen] == [f"L{n}" for n, w in enumerate(DECIDED_ON) if w == wiki]
            assert {r["wiki"] for r in seen} <= {wiki}
            assert records(conn, replace(first, limit=100, task="categories"))[0] == seen
            assert records(conn, replace(first, task="references")) == ([], False)


def test_a_wikis_records_are_read_from_the_decisions_wiki_index_in_id_order(store: EventStore) -> None:
    """The query of a wiki's records reads that wiki's decisions from ix_decisions_wiki_id, in
    id order, whichever wiki: no sort of all its decisions before the page is cut. (Filtered on
    the suggestions' wiki, both databases read the wiki's suggestions first and sorted what they
    found: on SQLite some 200 ms a page for a wiki with 270,000 decisions.)"""
    decide_on_wikis(store, DECIDED_ON)
    sqlite = store.engine.dialect.name == "sqlite"
    tomorrow = utcnow() + dt.timedelta(days=1)
    for chosen in (Selection(wiki="fixture-enwiki", asked_at=tomorrow),
                   Selection(wiki="bnwiki", limit=2, after=3, asked_at=tomorrow),
                   Selection(wiki="fixture-ukwiki", task="categories", since=YESTERDAY, asked_at=tomorrow)):
        with plans.statements(store.engine, "SELECT decisions.id") as read, store.engine.connect() as conn:
            records(conn, chosen)
        [(statement, parameters)] = read
        plan = plans.plan(store.engine, statement, parameters)
        if sqlite:
            steps = [step["detail"] for step in plan]
            assert steps[0] == "SEARCH decisions USING INDEX ix_decisions_wiki_id (wiki=? AND id>?)", steps
            assert not any("TEMP B-TREE" in step for step in steps), steps
        else:
            assert (plan[0]["table"], plan[0]["key"]) == ("decisions", "ix_decisions_wiki_id"), plan
            assert not any("filesort" in (step["Extra"] or "") or "temporary" in (step["Extra"] or "")
                           for step in plan), plan


# -- reviews ------------------------------------------------------------------------------------

def computed_row(cid: str, wiki: str = "fixture-enwiki", task: str = "categories",
                 label: str | None = None) -> dict[str, Any]:
    row = suggestion(cid, wiki=wiki, task=task, label=label)
    return {**row, "created_at": at(YESTERDAY)}


@pytest.fixture(params=["sqlite_url", "mariadb_url"])
def reviewed(request: pytest.FixtureRequest) -> Any:
    """c1: correct x2 (one reviewer changed their mind from incorrect), incorrect x1 -> correct;
    c2: correct x1, incorrect x1 -> a tie, unsure; c3 (fixture-ukwiki): unsure x1; c4 never labelled;
    c5 (references): incorrect x1."""
    from suggest.review import ReviewStore
    from suggest.web import create_app

    app = create_app(app_config(request.getfixturevalue(request.param)))
    store = app.extensions["wiki_suggest"].store
    store.store_computed([computed_row("c1", label="=SUM(A1)"), computed_row("c2"),
                          computed_row("c3", wiki="fixture-ukwiki"), computed_row("c4"),
                          computed_row("c5", task="references")])
    reviews = ReviewStore(store.engine)
    for cid, reviewer, label in [("c1", "Rita Reviewer", "incorrect"), ("c1", "Rita Reviewer", "correct"),
                                 ("c1", "Sam", "correct"), ("c1", "Tom", "incorrect"),
                                 ("c2", "Rita Reviewer", "correct"), ("c2", "Sam", "incorrect"),
                                 ("c3", "Олег", "unsure"), ("c5", "Sam", "incorrect")]:
        reviews.record(cid, reviewer, label)
    return app.test_client()


def test_reviews_count_each_reviewer_once_and_name_nobody(reviewed: Any) -> None:
    answer = reviewed.get("/api/v1/dataset/reviews")
    body = answer.get_json()
    assert answer.status_code == 200 and body["next"] is None
    assert [f["name"] for f in body["fields"]] == list(REVIEW_FIELDS)
    records = {r["id"]: r for r in body["records"]}
    assert list(records) == ["c1", "c2", "c3", "c5"]
    assert all(set(r) == set(REVIEW_FIELDS) for r in records.values())
    counts = {cid: (r["correct"], r["incorrect"], r["unsure"], r["majority"]) for cid, r in records.items()}
    assert counts == {"c1": (2, 1, 0, "correct"), "c2": (1, 1, 0, "unsure"),
                      "c3": (0, 0, 1, "unsure"), "c5": (0, 1, 0, "incorrect")}
    assert records["c1"] == {**records["c1"], "wiki": "fixture-enwiki", "task": "categories",
                             "task_version": "2.7", "backend": "tfidf", "page_title": "Page",
                             "label": "=SUM(A1)", "score": 0.1235}
    csv_text = reviewed.get("/dataset/reviews.csv").get_data(as_text=True)
    for text in (answer.get_data(as_text=True), csv_text):
        for private in ("Rita", "Sam", "Tom", "Олег"):
            assert private not in text
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    assert rows["c1"]["label"] == "'=SUM(A1)" and rows["c2"]["majority"] == "unsure"
    assert (rows["c1"]["correct"], rows["c1"]["incorrect"]) == ("2", "1")


def test_reviews_filter_and_page(reviewed: Any) -> None:
    def ids(**query: Any) -> list[str]:
        return [r["id"] for r in reviewed.get("/api/v1/dataset/reviews", query_string=query)
                .get_json()["records"]]

    assert ids(wiki="fixture-ukwiki") == ["c3"] and ids(task="references") == ["c5"]
    assert ids(wiki="fixture-enwiki", task="categories") == ["c1", "c2"]
    first = reviewed.get("/api/v1/dataset/reviews", query_string={"limit": 3}).get_json()
    assert [r["id"] for r in first["records"]] == ["c1", "c2", "c3"]
    assert first["next"] == "/api/v1/dataset/reviews?limit=3&after=c3"
    assert ids(limit=3, after="c3") == ["c5"]
    link = reviewed.get("/dataset/reviews.csv", query_string={"limit": 2}).headers["Link"]
    assert link == '</dataset/reviews.csv?limit=2&after=c2>; rel="next"'
    for bad in ({"after": "c3;drop"}, {"after": "x" * 33}, {"limit": "0"}, {"wiki": "a b"}):
        answer = reviewed.get("/api/v1/dataset/reviews", query_string=bad)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_parameter"


def test_records_of_a_wiki_whose_community_cannot_be_asked_are_withheld(sqlite_url: str) -> None:
    from suggest.web import create_app
    from tests.support.mediawiki import free_port

    api_url = f"http://127.0.0.1:{free_port()}/api.php"  # nothing listens there
    app = create_app(app_config(sqlite_url, EXTRA_WIKIS={"gone-wiki": {"api_url": api_url}},
                                WIKI_TIMEOUT=1.0))
    store = app.extensions["wiki_suggest"].store
    store.issue([suggestion("g0", wiki="gone-wiki"), suggestion("g1"),
                 suggestion("g2", wiki="removedwiki")])
    with store.engine.begin() as conn:
        for sid, wiki in (("g0", "gone-wiki"), ("g1", "fixture-enwiki"), ("g2", "removedwiki")):
            conn.execute(decisions.insert(), decided(sid, "accept", YESTERDAY, wiki=wiki))
    body = app.test_client().get("/api/v1/dataset/decisions").get_json()
    assert [r["label"] for r in body["records"]] == ["Label g1"]
    assert set(body["withheld"]) == {"gone-wiki", "removedwiki"}
    assert "could not be read" in body["withheld"]["gone-wiki"]
    assert "no longer on the tool's list" in body["withheld"]["removedwiki"]
    # The reviews name no editor: no community is asked for them.
    assert app.test_client().get("/api/v1/dataset/reviews").get_json()["withheld"] == {}


def three_wikis_decided(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                        fetch: Callable[[Any], object]) -> Any:
    """The app with three wikis of their own community pages, a decision on each, and
    ``fetch(wiki)`` called as each page is read from its wiki: wiki1's community withholds its
    records, the others publish them."""
    from suggest.web import create_app

    wikis = {f"wiki{n}": {"api_url": f"http://127.0.0.1:9/wiki{n}/api.php"} for n in range(3)}
    app = create_app(app_config(sqlite_url, EXTRA_WIKIS=wikis))
    svc = app.extensions["wiki_suggest"]

    def read(wiki: Any) -> tuple[int | None, str | None]:
        fetch(wiki)
        return 7, json.dumps({"publish_decisions": wiki.id != "wiki1"})

    monkeypatch.setattr(svc.community, "_fetch", read)
    svc.store.issue([suggestion(f"w{n}", wiki=f"wiki{n}") for n in range(3)])
    with svc.store.engine.begin() as conn:
        for n in range(3):
            conn.execute(decisions.insert(), decided(f"w{n}", "accept", YESTERDAY, wiki=f"wiki{n}"))
    return app


def test_the_community_pages_of_a_page_of_records_are_read_at_once(sqlite_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of records over three wikis whose community pages are not cached reads the three
    at the same time: each read here answers only once all three are waiting (else it fails
    after 5 s, and its wiki's records are withheld as unreadable)."""
    together = threading.Barrier(3, timeout=5)
    app = three_wikis_decided(sqlite_url, monkeypatch, lambda wiki: together.wait())
    body = app.test_client().get("/api/v1/dataset/decisions").get_json()
    assert [r["wiki"] for r in body["records"]] == ["wiki0", "wiki2"]
    assert list(body["withheld"]) == ["wiki1"]
    assert "publish_decisions" in body["withheld"]["wiki1"]


def test_a_page_of_records_reads_only_the_community_pages_not_cached(sqlite_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a page of records has read its wikis' community pages, the next one reads none and
    starts no threads for them; with one page gone from the cache, it reads that one alone, in
    the request's own thread."""
    from suggest.web import dataset as dataset_pages

    read: list[str] = []
    app = three_wikis_decided(sqlite_url, monkeypatch, lambda wiki: read.append(wiki.id))
    svc = app.extensions["wiki_suggest"]
    first = app.test_client().get("/api/v1/dataset/decisions").get_json()
    assert sorted(read) == ["wiki0", "wiki1", "wiki2"]

    pools: list[int] = []
    real_pool = dataset_pages.ThreadPoolExecutor

    def counted_pool(*args: Any, **kwargs: Any) -> Any:
        pools.append(1)
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(dataset_pages, "ThreadPoolExecutor", counted_pool)
    read.clear()
    again = app.test_client().get("/api/v1/dataset/decisions").get_json()
    assert (read, pools) == ([], [])
    assert again["records"] == first["records"] and again["withheld"] == first["withheld"]
    assert [r["wiki"] for r in again["records"]] == ["wiki0", "wiki2"]
    assert list(again["withheld"]) == ["wiki1"]

    svc.community.invalidate(svc.registry.get("wiki1"))
    third = app.test_client().get("/api/v1/dataset/decisions").get_json()
    assert (read, pools) == (["wiki1"], [])
    assert third["records"] == first["records"] and third["withheld"] == first["withheld"]
