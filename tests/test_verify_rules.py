# SPDX-License-Identifier: GPL-3.0-or-later
"""The verification rules against a fake wiki, on real SQLite and the real MariaDB: one saved edit
counts once, the revision must be by the user who decided and newer than the decision, and a
category survives a later change of its sort key or spelling.

Suggestions go through the store as the API stores them: computed once (``store_computed``), then
decided on issued ids (``record_first_decision``) and linked to a revision (``record_edit``)."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from suggest.metrics import aggregates
from suggest.metrics.verify import Verifier, WikiReader, revision_time, still_categorized
from suggest.store.events import EventStore, NotAccepted, utcnow
from suggest.store.schema import decisions, edits
from suggest.wiki.registry import Wiki, WikiRegistry
from tests.support.concurrency import race

WIKI = "fakewiki"
PAGE_ID = 12
PAGE = "Коло"
CATEGORY = "[[Категорія:Кола]]"
BODY = "Коло — геометрична фігура."
SITEINFO = {"query": {
    "namespaces": {"0": {"id": 0, "name": ""},
                   "14": {"id": 14, "name": "Категорія", "canonical": "Category"}},
    "namespacealiases": [{"id": 14, "alias": "К"}, {"id": 4, "alias": "ВП"}]}}


def stamp(at: dt.datetime) -> str:
    """A MediaWiki API timestamp."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeWiki(WikiReader):
    """The reader's answers from a dict of revisions (as WikiReader returns them); the siteinfo
    goes through the real :meth:`WikiReader.category_prefixes`."""

    def __init__(self) -> None:  # no session: nothing is requested
        self._category_prefixes = None
        self.revisions: dict[int, dict[str, Any]] = {}
        self.latest_of: dict[int, int] = {}
        self.queries: list[dict[str, Any]] = []

    def save(self, revid: int, content: str, user: str, at: dt.datetime, parentid: int | None = None,
             pageid: int = PAGE_ID, tags: list[str] | None = None) -> int:
        self.revisions[revid] = {"revid": revid, "parentid": parentid or 0, "user": user,
                                 "timestamp": stamp(at), "tags": tags or [], "content": content,
                                 "pageid": pageid, "title": PAGE}
        self.latest_of[pageid] = revid
        return revid

    def revision(self, revid: int) -> dict[str, Any] | None:
        found = self.revisions.get(revid)
        return dict(found) if found else None

    def latest(self, pageid: int) -> dict[str, Any] | None:
        return self.revision(self.latest_of[pageid]) if pageid in self.latest_of else None

    def _query(self, **params: Any) -> dict[str, Any]:
        self.queries.append(params)
        assert params == {"meta": "siteinfo", "siprop": "namespaces|namespacealiases"}
        return SITEINFO


def computed_row(wikitext: str = CATEGORY, page_revid: int = 100, task: str = "categories") -> dict[str, Any]:
    return {"id": secrets.token_hex(16), "wiki": WIKI, "task": task, "task_version": "1",
            "page_title": PAGE, "page_id": PAGE_ID, "revid": page_revid, "rank": 0, "label": wikitext,
            "wikitext": wikitext, "score": 0.8, "explanation": "", "details": "{}",
            "backend": "tfidf", "model_checksum": "c", "config_hash": "h", "app_version": "0"}


@pytest.fixture(params=["sqlite_url", "mariadb_url"])
def store(request: pytest.FixtureRequest) -> EventStore:
    found = EventStore(request.getfixturevalue(request.param))
    found.upgrade()
    return found


@pytest.fixture
def wiki() -> FakeWiki:
    return FakeWiki()


def verifier(store: EventStore, wiki: FakeWiki) -> Verifier:
    registry = WikiRegistry(extra_wikis={WIKI: {"api_url": "http://127.0.0.1:9/api.php", "lang": "uk"}})

    def reader_for(found: Wiki) -> WikiReader:
        assert found.id == WIKI
        return wiki

    return Verifier(store.engine, registry, "tests", sleep=lambda s: None, reader_for=reader_for)


def shown(store: EventStore, row: dict[str, Any]) -> str:
    """Store a computed suggestion (once) and return a fresh id of it, as each GET issues."""
    store.store_computed([row])
    return secrets.token_urlsafe(16)


def accept(store: EventStore, row: dict[str, Any], user: str | None,
           issued_at: dt.datetime | None = None) -> str:
    sid = shown(store, row)
    store.record_first_decision(sid, row["id"], issued_at or utcnow(), "accept", None, None, user)
    return sid


def states(store: EventStore) -> dict[str, tuple[Any, Any]]:
    with store.engine.connect() as conn:
        return {r.suggestion_id: (r.status, r.reason) for r in conn.execute(select(edits))}


def edit_count(store: EventStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(edits)).scalar_one())


def soon() -> dt.datetime:
    return utcnow() + dt.timedelta(minutes=1)


# -- defect 1: one saved edit is one verified edit --------------------------------------------------
def test_a_revision_is_linked_to_a_computed_suggestion_once(store: EventStore) -> None:
    row, other = computed_row(), computed_row("[[Категорія:Фігури]]")
    a, b, c = (accept(store, row, "Alice") for _ in range(3))  # three GETs, three ids, one suggestion
    d = accept(store, other, "Alice")
    with pytest.raises(NotAccepted, match="ids of the same suggestion"):
        store.record_edit([a, b, c], 500, "Alice")
    assert edit_count(store) == 0  # all or nothing
    assert store.record_edit([a, d], 500, "Alice") == 2
    with pytest.raises(NotAccepted, match="already linked to revision 500 under another id"):
        store.record_edit([b], 500, "Alice")
    with pytest.raises(NotAccepted):  # with an id that may be linked: still all or nothing
        store.record_edit([a, c], 500, "Alice")
    assert store.record_edit([a], 500, "Alice") == 1  # a retry of what was acknowledged
    with store.engine.connect() as conn:
        assert sorted(conn.execute(select(edits.c.suggestion_id, edits.c.revid)).tuples()) == \
            sorted([(a, 500), (d, 500)])


def test_racing_reports_of_one_suggestion_link_one_id(store: EventStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    row = computed_row()
    ids = [accept(store, row, "Alice") for _ in range(8)]
    checked = EventStore._refuse_second_links

    def slow_check(*args: Any) -> None:  # widen the window between the check and the insert
        checked(*args)
        time.sleep(0.2)

    monkeypatch.setattr(EventStore, "_refuse_second_links", staticmethod(slow_check))

    def link(n: int) -> str:
        store.record_edit([ids[n]], 700, "Alice")
        return "linked"

    assert race(8, link) == {"linked": 1, "NotAccepted": 7}
    assert edit_count(store) == 1


def test_the_api_refuses_a_second_id_of_a_suggestion_for_a_revision(client: Any, app: Any) -> None:
    def shown_ids() -> list[str]:
        body = client.get("/api/v1/suggestions", query_string={
            "wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}).get_json()
        return [s["id"] for s in body["suggestions"]]

    first, second, third = shown_ids()[0], shown_ids()[0], shown_ids()[0]
    assert len({first, second, third}) == 3  # new ids of the same computed suggestion
    for sid in (first, second, third):
        assert client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "accept",
                                                      "user": "Alice"}).status_code == 201
    together = client.post("/api/v1/edits", json={"suggestion_ids": [first, second, third],
                                                  "revid": 900, "user": "Alice"})
    assert together.status_code == 409
    assert together.get_json()["error"]["code"] == "not_accepted"
    assert "same suggestion" in together.get_json()["error"]["message"]
    assert client.post("/api/v1/edits", json={"suggestion_ids": [first], "revid": 900,
                                              "user": "Alice"}).status_code == 201
    later = client.post("/api/v1/edits", json={"suggestion_ids": [second], "revid": 900, "user": "Alice"})
    assert later.status_code == 409 and later.get_json()["error"]["code"] == "not_accepted"
    assert "already linked to revision 900" in later.get_json()["error"]["message"]
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        assert conn.execute(select(edits.c.suggestion_id)).scalars().all() == [first]


def test_one_added_category_is_one_verified_edit(store: EventStore, wiki: FakeWiki) -> None:
    """Links stored before the store refused them (inserted here directly), and equal suggestions
    computed for two revisions of the page: one added category verifies one of them."""
    wiki.save(1, BODY, "Alice", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"{BODY}\n{CATEGORY}", "Alice", soon(), parentid=1)
    row = computed_row()
    ids = [accept(store, row, "Alice") for _ in range(3)]
    again = accept(store, computed_row(page_revid=101), "Alice")  # same text, another content id
    store.record_edit([again], 2, "Alice")
    with store.engine.begin() as conn:
        conn.execute(edits.insert(), [{"suggestion_id": sid, "revid": 2, "user_name": "Alice",
                                       "created_at": utcnow()} for sid in ids])
    report = verifier(store, wiki).run()
    assert report.verified == 1 and report.not_verified == {"duplicate": 3}
    with store.engine.connect() as conn:
        totals = aggregates.totals(conn, aggregates.Filters(wiki=WIKI), utcnow())
    assert [(r["accepted"], r["saved"], r["verified"], r["not_verified"]) for r in totals] == [(4, 4, 1, 3)]
    assert verifier(store, wiki).run().verified == 0  # judged once


def test_a_text_added_twice_verifies_two_acceptances(store: EventStore, wiki: FakeWiki) -> None:
    ref = '<ref name="smith" />'
    wiki.save(1, f"Одне.{ref} Друге. Третє.", "Alice", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"Одне.{ref} Друге.{ref} Третє.{ref}", "Alice", soon(), parentid=1)
    first = accept(store, computed_row(ref, task="references"), "Alice")
    second = accept(store, computed_row(ref, page_revid=101, task="references"), "Alice")
    third = accept(store, computed_row(ref, page_revid=102, task="references"), "Alice")
    store.record_edit([first, second, third], 2, "Alice")
    report = verifier(store, wiki).run()
    assert report.verified == 2 and report.not_verified == {"duplicate": 1}


# -- defect 2: the user who decided ----------------------------------------------------------------
@pytest.mark.parametrize(("decided_by", "reported_as", "saved_by", "outcome"), [
    ("Alice", "Bob", "Bob", ("not_verified", "other_reporter")),   # the reported name is not trusted
    ("Alice", "Bob", "Alice", ("not_verified", "other_reporter")),
    ("Alice", None, "Bob", ("not_verified", "other_user")),        # the decider is compared
    ("Alice", "alice", "Alice", ("verified", None)),               # the same name, normalised
    ("Some_user", "Some user", "Some user", ("verified", None)),
    (None, "Bob", "Carol", ("not_verified", "other_user")),        # no name decided: the reported one
    (None, None, "Carol", ("verified", None)),                     # no name at all: not checked
])
def test_the_revision_must_be_by_the_user_who_decided(
        store: EventStore, wiki: FakeWiki, decided_by: str | None, reported_as: str | None,
        saved_by: str, outcome: tuple[str, str | None]) -> None:
    wiki.save(1, BODY, "Someone", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"{BODY}\n{CATEGORY}", saved_by, soon(), parentid=1)
    sid = accept(store, computed_row(), decided_by)
    store.record_edit([sid], 2, reported_as)
    verifier(store, wiki).run()
    assert states(store)[sid] == outcome


# -- defect 4: the revision is newer than the decision ---------------------------------------------
@pytest.mark.parametrize(("saved_after", "outcome"), [
    (dt.timedelta(days=-30), ("not_verified", "before_decision")),   # an old edit linked later
    (dt.timedelta(minutes=-1), ("not_verified", "before_decision")),
    (dt.timedelta(seconds=-2), ("verified", None)),                  # within the clocks' skew
    (dt.timedelta(minutes=3), ("verified", None)),
])
def test_a_revision_older_than_the_decision_is_not_its_edit(
        store: EventStore, wiki: FakeWiki, saved_after: dt.timedelta,
        outcome: tuple[str, str | None]) -> None:
    sid = accept(store, computed_row(), "Alice")
    with store.engine.connect() as conn:
        decided_at = conn.execute(select(decisions.c.created_at)).scalar_one()
    wiki.save(1, BODY, "Alice", decided_at + saved_after - dt.timedelta(days=1))
    wiki.save(2, f"{BODY}\n{CATEGORY}", "Alice", decided_at + saved_after, parentid=1)
    store.record_edit([sid], 2, "Alice")
    verifier(store, wiki).run()
    assert states(store)[sid] == outcome


def test_a_revision_older_than_the_issue_is_not_its_edit(store: EventStore, wiki: FakeWiki) -> None:
    issued = utcnow() + dt.timedelta(hours=1)  # e.g. a decision stored with an issue time ahead
    wiki.save(1, BODY, "Alice", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"{BODY}\n{CATEGORY}", "Alice", soon(), parentid=1)
    sid = accept(store, computed_row(), "Alice", issued_at=issued)
    store.record_edit([sid], 2, "Alice")
    verifier(store, wiki).run()
    assert states(store)[sid] == ("not_verified", "before_decision")


def test_revision_time() -> None:
    assert revision_time({"timestamp": "2026-11-25T12:00:05Z"}) == dt.datetime(2026, 11, 25, 12, 0, 5)
    assert revision_time({"timestamp": "2026-11-25T14:00:05+02:00"}) == dt.datetime(2026, 11, 25, 12, 0, 5)
    assert revision_time({}) is None and revision_time({"timestamp": "yesterday"}) is None


# -- defect 3: a category survives a change of its sort key or spelling ----------------------------
@pytest.mark.parametrize(("latest", "survival"), [
    (f"{BODY}\n{CATEGORY}", ("kept", None)),
    (f"{BODY}\n[[Категорія:Кола|Коло]]", ("kept", None)),             # a sort key added
    (f"{BODY}\n[[Категорія:Кола|*]]\n[[Категорія:Фігури]]", ("kept", None)),
    (f"{BODY}\n[[категорія:кола]]", ("kept", None)),                  # first letters' case
    (f"{BODY}\n[[Категорія: Кола ]]", ("kept", None)),
    (f"{BODY}\n[[Category:Кола|Коло]]", ("kept", None)),              # the canonical name
    (f"{BODY}\n[[К:Кола]]", ("kept", None)),                          # an alias of the namespace
    (BODY, ("reverted", "removed")),
    (f"{BODY}\n[[:Категорія:Кола]]", ("reverted", "removed")),        # a link to it, not in it
    (f"{BODY}\n<!-- [[Категорія:Кола]] -->", ("reverted", "removed")),
    (f"{BODY}\n[[Категорія:Кола геометричні]]", ("reverted", "removed")),
    (f"{BODY}\n[[ВП:Кола]]", ("reverted", "removed")),                # another namespace's alias
])
def test_survival_of_a_category_is_membership(store: EventStore, wiki: FakeWiki, latest: str,
                                              survival: tuple[str, str | None]) -> None:
    wiki.save(1, BODY, "Alice", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"{BODY}\n{CATEGORY}", "Alice", soon(), parentid=1)
    sid = accept(store, computed_row(), "Alice")
    store.record_edit([sid], 2, "Alice")
    job = verifier(store, wiki)
    assert job.run().verified == 1
    wiki.save(3, latest, "Bob", soon() + dt.timedelta(hours=1), parentid=2)
    later = job.run(now=utcnow() + dt.timedelta(hours=49))
    assert (later.kept, later.reverted) == ((1, 0) if survival[0] == "kept" else (0, 1))
    with store.engine.connect() as conn:
        found = conn.execute(select(edits.c.survival, edits.c.survival_reason)).one()
    assert tuple(found) == survival
    assert len(wiki.queries) == 1  # the namespace names read once


def test_a_category_with_underscores_survives(store: EventStore, wiki: FakeWiki) -> None:
    text = "[[Категорія:Великі кола]]"
    wiki.save(1, BODY, "Alice", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"{BODY}\n{text}", "Alice", soon(), parentid=1)
    sid = accept(store, computed_row(text), "Alice")
    store.record_edit([sid], 2, "Alice")
    job = verifier(store, wiki)
    assert job.run().verified == 1
    wiki.save(3, f"{BODY}\n[[Категорія:Великі_кола|Коло]]", "Bob", soon(), parentid=2)
    assert job.run(now=utcnow() + dt.timedelta(hours=49)).kept == 1


def test_survival_of_a_reference_still_counts_its_copies(store: EventStore, wiki: FakeWiki) -> None:
    ref = '<ref name="smith" />'
    wiki.save(1, "Одне. Друге.", "Alice", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"Одне.{ref} Друге.", "Alice", soon(), parentid=1)
    sid = accept(store, computed_row(ref, task="references"), "Alice")
    store.record_edit([sid], 2, "Alice")
    job = verifier(store, wiki)
    assert job.run().verified == 1
    wiki.save(3, f"Одне.{ref.replace(' /', '/')} Друге.", "Bob", soon(), parentid=2)
    assert job.run(now=utcnow() + dt.timedelta(hours=49)).reverted == 1
    assert wiki.queries == []  # no namespace names needed


@pytest.mark.parametrize(("task", "text"), [("categories", CATEGORY), ("references", '<ref name="smith" />')])
@pytest.mark.parametrize("still_there", [True, False])
def test_a_revision_whose_text_was_hidden_later_is_judged_by_the_page(
        store: EventStore, wiki: FakeWiki, task: str, text: str, still_there: bool) -> None:
    """A verified revision whose text is revision-deleted afterwards (copyright clean-ups hide
    whole ranges) is not a revert: the addition survives if the latest text has it."""
    wiki.save(1, BODY, "Alice", utcnow() - dt.timedelta(days=1))
    wiki.save(2, f"{BODY}\n{text}", "Alice", soon(), parentid=1)
    sid = accept(store, computed_row(text, task=task), "Alice")
    store.record_edit([sid], 2, "Alice")
    job = verifier(store, wiki)
    assert job.run().verified == 1
    wiki.save(3, f"{BODY} Більше.\n{text}" if still_there else f"{BODY} Більше.", "Bob", soon(),
              parentid=2)
    wiki.revisions[2]["content"] = None  # as the API answers for hidden text
    later = job.run(now=utcnow() + dt.timedelta(hours=49))
    assert (later.kept, later.reverted) == ((1, 0) if still_there else (0, 1))


def test_still_categorized() -> None:
    prefixes = ["Категорія", "Category"]
    assert still_categorized(CATEGORY, "[[Category:Кола|x]]", prefixes) is True
    assert still_categorized(CATEGORY, "[[Категорія:Фігури]]", prefixes) is False
    assert still_categorized('<ref name="a" />', "", prefixes) is None  # not a category link
