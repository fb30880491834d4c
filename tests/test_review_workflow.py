# SPDX-License-Identifier: GPL-3.0-or-later
"""The reviewer workflow end to end: one reviewer-precision figure on /stats, the review page and
the tool card; a reviewed suggestion cannot be decided under its bare content id; one label per
reviewer and computed suggestion; the REVIEWERS setting."""

from __future__ import annotations

import html
import re
import secrets
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from suggest.metrics import aggregates
from suggest.review import ReviewStore
from suggest.store.events import utcnow
from suggest.store.schema import decisions, metadata, review_labels
from suggest.web import create_app
from tests.conftest import app_config

WIKI, TASK = "fixture-ukwiki", "categories"


def issue(client: Any, title: str = "Коло") -> list[str]:
    """The signed ids the suggestion API issued for a page."""
    body = client.get("/api/v1/suggestions", query_string={
        "wiki": WIKI, "title": title, "task": TASK}).get_json()
    return [s["id"] for s in body["suggestions"]]


def content_of(app: Flask, issued_id: str) -> str:
    opened = app.extensions["wiki_suggest"].ids.open(issued_id)
    assert opened is not None
    return str(opened[0])


def signed_in(app: Flask, name: str) -> tuple[Any, str]:
    """A client signed in as ``name`` (the session auth.py keeps after OAuth) and its CSRF token."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = name
        session["csrf"] = token = secrets.token_urlsafe(16)
    return client, token


def label(app: Flask, name: str, suggestion_id: str, chosen: str) -> Any:
    client, token = signed_in(app, name)
    return client.post("/review/label", data={"suggestion_id": suggestion_id, "label": chosen,
                                              "wiki": WIKI, "task": TASK, "csrf_token": token})


def decide(client: Any, suggestion_id: str, decision: str = "skip") -> Any:
    return client.post("/api/v1/decisions", json={"suggestion_id": suggestion_id, "decision": decision})


def counts(app: Flask) -> dict[str, int]:
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


def review_page_figures(page: str) -> tuple[str, str]:
    precision = re.search(r'class="review-precision">([^<]*)<', page)
    interval = re.search(r'class="review-precision-interval">([^<]*)<', page)
    assert precision and interval, page
    return html.unescape(precision.group(1)).strip(), html.unescape(interval.group(1)).strip()


def in_per_cent(rate: Any) -> tuple[str, str]:
    """A Wilson rate as the statistics page and the review page show it."""
    return f"{rate.value * 100:.1f}%", f"{rate.low * 100:.1f}–{rate.high * 100:.1f}%"


# -- defect 1: one reviewer precision ------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_stats_review_page_and_tool_card_show_one_precision(
        backend: str, request: pytest.FixtureRequest) -> None:
    """A labelled correct by 3 reviewers, B incorrect by 1, C correct by one reviewer and
    incorrect by another (a tie: no majority), D unsure: per computed suggestion that is 1
    correct of 2 judged, with the Wilson interval of 1/2, everywhere. Per label it would be
    4 correct of 6."""
    app = create_app(app_config(request.getfixturevalue(f"{backend}_url")))
    client = app.test_client()
    a, b, c, d = [content_of(app, i) for i in (issue(client) + issue(client, "Радіус"))[:4]]
    for reviewer in ("R1", "R2", "R3"):
        assert label(app, reviewer, a, "correct").status_code == 303
    assert label(app, "R1", b, "incorrect").status_code == 303
    assert label(app, "R1", c, "correct").status_code == 303
    assert label(app, "R2", c, "incorrect").status_code == 303
    assert label(app, "R1", d, "unsure").status_code == 303
    expected = aggregates.wilson(1, 2)
    assert (expected.value, expected.total) == (0.5, 2)

    stats = client.get("/api/v1/stats").get_json()
    [row] = [r for r in stats["totals"] if (r["task"], r["wiki"]) == (TASK, WIKI)]
    assert row["review_precision"] == expected.as_dict()

    [card] = client.get("/toolcard.json").get_json()["evaluation"]["reviewer_labels"]
    assert card["precision"] == expected.value
    assert card["precision_interval"] == [expected.low, expected.high]
    assert (card["suggestions"], card["labels"]) == (4, 7)

    viewer, _ = signed_in(app, "R1")
    page = viewer.get(f"/review?wiki={WIKI}&task={TASK}").get_data(as_text=True)
    assert review_page_figures(page) == in_per_cent(expected)
    anonymous = client.get("/review").get_data(as_text=True)
    assert review_page_figures(anonymous) == in_per_cent(expected)
    shown = client.get(f"/stats?wiki={WIKI}").get_data(as_text=True)
    value, interval = in_per_cent(expected)  # the same figure, written the same way
    assert (f'Reviewer-label precision</dt><dd><strong>{value}</strong>\n'
            f'<span class="stats-ci">({interval}') in shown


def test_precision_of_the_brief_example_is_over_suggestions_not_labels(sqlite_url: str) -> None:
    app = create_app(app_config(sqlite_url))
    client = app.test_client()
    a, b = [content_of(app, i) for i in issue(client)[:2]]
    for reviewer in ("R1", "R2", "R3"):
        label(app, reviewer, a, "correct")
    label(app, "R1", b, "incorrect")
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        found = aggregates.review_precision(conn, aggregates.Filters())
    # Per label this was 3 of 4 = 0.75 [0.30, 0.95]; per suggestion it is 1 of 2.
    assert found[(TASK, WIKI)] == aggregates.wilson(1, 2).as_dict()
    [summary] = ReviewStore(app.extensions["wiki_suggest"].store.engine).summary()
    assert (summary["precision"], list(summary["precision_interval"])) == (
        0.5, [found[(TASK, WIKI)]["low"], found[(TASK, WIKI)]["high"]])


# -- defect 2: a bare content id is not a decidable suggestion -----------------------------------
def test_a_reviewed_suggestions_content_id_cannot_be_decided(sqlite_url: str) -> None:
    app = create_app(app_config(sqlite_url, RATE_LIMITS={"enabled": False}))
    client = app.test_client()
    issued = issue(client)[0]
    bare = content_of(app, issued)
    assert label(app, "Reviewer A", bare, "correct").status_code == 303  # stores a row under `bare`
    before = counts(app)
    assert before["suggestions"] == 1
    for _ in range(2):
        response = decide(client, bare, "accept")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "unknown_suggestion"
    assert counts(app) == before  # nothing stored
    # The id the service issued is still decided once, as before.
    assert decide(client, issued, "accept").status_code == 201
    assert decide(client, issued, "skip").status_code == 409
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        assert conn.execute(select(decisions.c.suggestion_id)).scalars().all() == [issued]


def test_a_suggestion_stored_before_ids_were_signed_is_still_decided_once(sqlite_url: str) -> None:
    """Issued before ids were signed: a random id, stored at issue, no content id."""
    app = create_app(app_config(sqlite_url, RATE_LIMITS={"enabled": False}))
    client = app.test_client()
    old = {"id": secrets.token_urlsafe(16), "wiki": WIKI, "task": TASK, "task_version": "1.0",
           "page_title": "Коло", "page_id": 1, "revid": 2, "rank": 0, "label": "Кола",
           "wikitext": "[[Категорія:Кола]]", "score": 0.5, "explanation": "old", "details": "{}",
           "backend": "tfidf", "model_checksum": "x", "config_hash": "y", "app_version": "0.1.0"}
    app.extensions["wiki_suggest"].store.issue([old])
    assert decide(client, old["id"], "skip").status_code == 201
    again = decide(client, old["id"], "accept")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_decided"


# -- defect 3: one label per reviewer and computed suggestion ------------------------------------
def test_issued_ids_cannot_be_labelled_and_a_relabel_replaces(sqlite_url: str) -> None:
    app = create_app(app_config(sqlite_url, RATE_LIMITS={"enabled": False}))
    client = app.test_client()
    first, second = issue(client)[0], issue(client)[0]  # two issues of one computed suggestion
    bare = content_of(app, first)
    assert content_of(app, second) == bare and first != second
    for sid in (first, second):  # decided: each is a stored suggestion row
        assert decide(client, sid, "skip").status_code == 201
    before = counts(app)
    for sid in (first, second):
        assert label(app, "Reviewer A", sid, "correct").status_code == 404
    assert counts(app) == before
    assert label(app, "Reviewer A", bare, "correct").status_code == 303
    assert label(app, "Reviewer A", bare, "incorrect").status_code == 303  # replaces
    engine = app.extensions["wiki_suggest"].store.engine
    with engine.connect() as conn:
        rows = conn.execute(select(review_labels.c.suggestion_id, review_labels.c.reviewer,
                                   review_labels.c.label)).all()
    assert [tuple(r) for r in rows] == [(bare, "Reviewer A", "incorrect")]
    [summary] = ReviewStore(engine).summary()
    assert (summary["labels"], summary["suggestions"], summary["precision"]) == (1, 1, 0.0)
    # Labelled: not offered to the same reviewer again.
    assert bare not in {s["id"] for s in ReviewStore(engine).sample(WIKI, TASK, "Reviewer A", 50)}


def test_labels_stored_earlier_under_issued_ids_count_once(sqlite_url: str) -> None:
    """Labels stored before the fix under issued ids of one computed suggestion count once per
    reviewer (the latest), and a new label replaces them all."""
    app = create_app(app_config(sqlite_url, RATE_LIMITS={"enabled": False}))
    client = app.test_client()
    first, second = issue(client)[0], issue(client)[0]
    bare = content_of(app, first)
    for sid in (first, second):
        decide(client, sid, "skip")
    engine = app.extensions["wiki_suggest"].store.engine
    with engine.begin() as conn:  # what the old /review/label let one reviewer store
        conn.execute(review_labels.insert(), [
            {"suggestion_id": sid, "reviewer": reviewer, "label": chosen, "created_at": utcnow()}
            for sid, reviewer, chosen in ((first, "Reviewer A", "correct"),
                                          (second, "Reviewer A", "correct"),
                                          (second, "Reviewer B", "incorrect"))])
    [summary] = ReviewStore(engine).summary()
    assert (summary["suggestions"], summary["labels"]) == (1, 2)  # A once, B once: a tie
    assert summary["majority"]["unsure"] == 1 and summary["precision"] is None
    with engine.connect() as conn:
        assert aggregates.review_precision(conn, aggregates.Filters())[(TASK, WIKI)]["total"] == 0
    assert bare not in {s["id"] for s in ReviewStore(engine).sample(WIKI, TASK, "Reviewer A", 50)}
    assert label(app, "Reviewer A", bare, "incorrect").status_code == 303
    with engine.connect() as conn:
        mine = conn.execute(select(review_labels.c.suggestion_id, review_labels.c.label)
                            .where(review_labels.c.reviewer == "Reviewer A")).all()
        assert [tuple(r) for r in mine] == [(bare, "incorrect")]
        assert aggregates.review_precision(conn, aggregates.Filters())[(TASK, WIKI)]["value"] == 0.0


# -- defect 4: who may review --------------------------------------------------------------------
def test_only_listed_reviewers_may_label(sqlite_url: str) -> None:
    app = create_app(app_config(sqlite_url, REVIEWERS=["Reviewer_A"]))
    ids = [content_of(app, i) for i in issue(app.test_client())]
    outsider, token = signed_in(app, "Someone Else")
    page = outsider.get(f"/review?wiki={WIKI}&task={TASK}").get_data(as_text=True)
    assert "review-not-reviewer" in page and 'name="suggestion_id"' not in page
    before = counts(app)
    response = outsider.post("/review/label", data={"suggestion_id": ids[0], "label": "correct",
                                                    "csrf_token": token})
    assert response.status_code == 403 and counts(app) == before

    listed, _ = signed_in(app, "reviewer A")  # the same wiki user name, as MediaWiki compares
    page = listed.get(f"/review?wiki={WIKI}&task={TASK}").get_data(as_text=True)
    assert "review-not-reviewer" not in page and 'name="suggestion_id"' in page
    assert label(app, "reviewer A", ids[0], "correct").status_code == 303
    assert counts(app)["review_labels"] == 1


def test_reviewers_from_the_environment_and_empty_means_anyone(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOL_REVIEWERS", '["Reviewer A"]')
    app = create_app(app_config(sqlite_url))
    bare = content_of(app, issue(app.test_client())[0])
    assert label(app, "Reviewer B", bare, "correct").status_code == 403
    assert label(app, "Reviewer A", bare, "correct").status_code == 303
    monkeypatch.setenv("TOOL_REVIEWERS", "[]")
    anyone = create_app(app_config(sqlite_url))
    assert label(anyone, "Reviewer B", bare, "correct").status_code == 303
    assert counts(anyone)["review_labels"] == 2
