"""POST /api/v1/decisions/batch: several decisions of one editor in one request, each checked and
stored as the single endpoint would, all stored ones committed before the answer. Through the WSGI
app on real SQLite and MariaDB stores (and real Redis for the rate limit)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from suggest.store.schema import decisions
from suggest.web import create_app
from suggest.web.openapi import MAX_BATCH
from tests.conftest import REDIS_URL, app_config

BATCH = "/api/v1/decisions/batch"
TITLES = ("Коло", "Радіус", "Діаметр")


def issued_ids(client: Any, titles: tuple[str, ...] = TITLES) -> list[str]:
    ids = []
    for title in titles:
        response = client.get("/api/v1/suggestions", query_string={
            "wiki": "fixture-ukwiki", "title": title, "task": "categories"})
        assert response.status_code == 200, response.get_json()
        ids += [s["id"] for s in response.get_json()["suggestions"]]
    return ids


def stored(app: Any) -> dict[str, tuple[str, str | None, str | None]]:
    """suggestion id -> (decision, reason, user) of every stored decision."""
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        return {r.suggestion_id: (r.decision, r.reason, r.user_name)
                for r in conn.execute(select(decisions))}


@pytest.fixture(params=["sqlite", "mariadb"])
def app(request: pytest.FixtureRequest) -> Any:
    return create_app(app_config(request.getfixturevalue(f"{request.param}_url")))


def test_each_decision_gets_its_own_outcome_and_only_the_good_ones_are_stored(app: Any) -> None:
    client = app.test_client()
    ids = issued_ids(client)
    assert len(ids) >= 6
    accept, reject, skip, decided, bad_reason, twice = ids[:6]
    assert client.post("/api/v1/decisions", json={"suggestion_id": decided,
                                                  "decision": "skip"}).status_code == 201
    unknown = app.extensions["wiki_suggest"].ids.issue("00" * 10)  # signed, never computed
    response = client.post(BATCH, json={"user": "Ann", "decisions": [
        {"suggestion_id": accept, "decision": "accept"},
        {"suggestion_id": reject, "decision": "reject", "reason": "too_general", "comment": "broad"},
        {"suggestion_id": skip, "decision": "skip"},
        {"suggestion_id": decided, "decision": "accept"},
        {"suggestion_id": unknown, "decision": "accept"},
        {"suggestion_id": bad_reason, "decision": "reject", "reason": "ugly"},
        {"suggestion_id": twice, "decision": "accept"},
        {"suggestion_id": twice, "decision": "reject", "reason": "too_general"},
        {"suggestion_id": "A" * 22, "decision": "skip"},  # not signed, not stored: unknown
    ]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["suggestion_id"], r["status"], (r.get("error") or {}).get("code")) for r in results] == [
        (accept, 201, None), (reject, 201, None), (skip, 201, None),
        (decided, 409, "already_decided"), (unknown, 404, "unknown_suggestion"),
        (bad_reason, 400, "invalid_reason"), (twice, 201, None), (twice, 409, "already_decided"),
        ("A" * 22, 404, "unknown_suggestion")]
    assert results[1]["reason"] == "too_general" and results[0]["decision"] == "accept"
    assert stored(app) == {
        accept: ("accept", None, "Ann"), reject: ("reject", "too_general", "Ann"),
        skip: ("skip", None, "Ann"), decided: ("skip", None, None), twice: ("accept", None, "Ann")}
    # Each stored decision came with its issued suggestion; a replay of the batch stores nothing.
    store = app.extensions["wiki_suggest"].store
    assert all(store.get_suggestion(sid)["content_id"] for sid in (accept, reject, skip, twice))
    again = client.post(BATCH, json={"decisions": [{"suggestion_id": accept, "decision": "skip"}]})
    assert again.get_json()["results"][0]["status"] == 409
    assert len(stored(app)) == 5


BAD_BATCHES = [
    {},
    {"decisions": []},
    {"decisions": "skip"},
    {"decisions": [{"suggestion_id": "{id}", "decision": "skip"}] * (MAX_BATCH + 1)},
    {"decisions": [{"suggestion_id": "{id}", "decision": "skip", "user": "Ann"}]},  # user: once
    {"decisions": [{"suggestion_id": "{id}", "decision": "skip"}, {"suggestion_id": "{id}"}]},
    {"decisions": [{"suggestion_id": "{id}", "decision": "maybe"}]},
    {"decisions": [{"suggestion_id": "{id}", "decision": "skip"}], "extra": 1},
    {"decisions": [{"suggestion_id": "{id}", "decision": "skip", "comment": "\ud800"}]},
    {"user": "", "decisions": [{"suggestion_id": "{id}", "decision": "skip"}]},
]


@pytest.mark.parametrize("body", BAD_BATCHES)
def test_a_malformed_batch_is_refused_whole_and_stores_nothing(app: Any, body: dict[str, Any]) -> None:
    client = app.test_client()
    sid = issued_ids(client, TITLES[:1])[0]

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return sid if node == "{id}" else node

    response = client.post(BATCH, json=fill(body))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_body"
    assert stored(app) == {}


def test_a_suggestion_of_another_wiki_is_refused_by_origin(app: Any) -> None:
    client = app.test_client()
    sid = issued_ids(client, TITLES[:1])[0]
    assert app.extensions["wiki_suggest"].registry.wiki_for_origin("https://uk.wikipedia.org").id == "ukwiki"
    response = client.post(BATCH, json={"decisions": [{"suggestion_id": sid, "decision": "skip"}]},
                           headers={"Origin": "https://uk.wikipedia.org"})  # not fixture-ukwiki
    assert response.get_json()["results"][0]["error"]["code"] == "wrong_wiki"
    assert stored(app) == {}


def test_concurrent_batches_decide_each_id_once(app: Any) -> None:
    """Eight clients send overlapping batches at once: every id ends with exactly one decision,
    and it is the one the only 201 for that id acknowledged."""
    client = app.test_client()
    ids = issued_ids(client)
    answers: list[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        own = app.test_client()
        batch = [{"suggestion_id": sid, "decision": ("accept", "skip")[n % 2]}
                 for sid in ids[n % 3:] + ids[:n % 3]]
        response = own.post(BATCH, json={"user": f"Editor {n}", "decisions": batch})
        assert response.status_code == 200
        with lock:
            answers.append(response.get_json()["results"])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 8
    acknowledged: dict[str, list[str]] = {}
    for results in answers:
        for result in results:
            assert result["status"] in (201, 409)
            if result["status"] == 201:
                acknowledged.setdefault(result["suggestion_id"], []).append(result["decision"])
    assert sorted(acknowledged) == sorted(ids) and all(len(v) == 1 for v in acknowledged.values())
    assert {sid: row[0] for sid, row in stored(app).items()} == {k: v[0] for k, v in acknowledged.items()}


def test_database_down_gives_503_for_the_whole_batch() -> None:
    app = create_app(app_config("mysql+pymysql://root@127.0.0.1:1/none"))
    response = app.test_client().post(BATCH, json={"decisions": [
        {"suggestion_id": "A" * 22, "decision": "skip"}]})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["redis", "in-process"])
def test_a_batch_takes_a_token_per_decision(sqlite_url: str, redis_prefix: str, backend: str) -> None:
    extra: dict[str, Any] = {"RATE_LIMITS": {"user": {"rate": 0.01, "burst": 5},
                                             "wiki": {"rate": 100, "burst": 100}}}
    if backend == "redis":
        extra.update(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix)
    app = create_app(app_config(sqlite_url, **extra))
    client = app.test_client()
    ids = issued_ids(client)
    assert len(ids) >= 6

    def batch(user: str, chosen: list[str]) -> Any:
        return client.post(BATCH, json={"user": user, "decisions": [
            {"suggestion_id": sid, "decision": "skip"} for sid in chosen]})

    assert batch("Ann", ids[:4]).status_code == 200  # 4 of Ann's 5 tokens
    limited = batch("Ann", ids[4:6])  # 2 more than she has left
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert batch("Bob", ids[4:6]).status_code == 200  # his own bucket
    assert len(stored(app)) == 6


def test_an_unexpected_failure_of_one_decision_is_its_own_500_and_the_others_are_stored(
        app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from suggest.web import api

    client = app.test_client()
    ids = issued_ids(client, TITLES[:2])
    broken = ids[1]
    real_checker = api._checker

    def checker(svc: Any) -> Any:
        check = real_checker(svc)

        def failing(item: dict[str, Any], issued: dict[str, Any]) -> None:
            if item["suggestion_id"] == broken:
                raise RuntimeError("a bug")
            check(item, issued)

        return failing

    monkeypatch.setattr(api, "_checker", checker)
    response = client.post(BATCH, json={"decisions": [
        {"suggestion_id": sid, "decision": "skip"} for sid in ids[:3]]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 500, 201]
    assert results[1]["error"]["code"] == "internal_error" and "a bug" not in response.get_data(as_text=True)
    assert set(stored(app)) == {ids[0], ids[2]}
    assert "a decision of a batch failed" in caplog.text


def test_a_batch_split_over_commits_says_which_were_stored_when_the_database_goes(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With many decisions waiting, one request's decisions can go out in several commits. If the
    database goes after the first, the answer says per decision what was stored (201) and what
    was not (503, to send again): not a 503 claiming that nothing was stored."""
    from suggest.store.events import StoreUnavailable

    client = app.test_client()
    ids = issued_ids(client, TITLES[:2])[:3]
    store = app.extensions["wiki_suggest"].store
    monkeypatch.setattr(store._decisions, "_max_batch", 1)  # as behind 64 waiting decisions
    real, commits = store._decide_batch, []

    def database_goes_after_the_first_commit(batch: Any) -> Any:
        commits.append(len(batch))
        if len(commits) > 1:
            raise StoreUnavailable("the database is not available")
        return real(batch)

    monkeypatch.setattr(store._decisions, "_commit_batch", database_goes_after_the_first_commit)
    response = client.post(BATCH, json={"decisions": [
        {"suggestion_id": sid, "decision": "skip"} for sid in ids]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 503, 503]
    assert results[1]["error"]["code"] == "database_unavailable"
    assert set(stored(app)) == {ids[0]}
    # Sent again once the database is back, the others are stored and the first is a 409.
    monkeypatch.setattr(store._decisions, "_commit_batch", real)
    again = client.post(BATCH, json={"decisions": [
        {"suggestion_id": sid, "decision": "skip"} for sid in ids]}).get_json()["results"]
    assert [r["status"] for r in again] == [409, 201, 201]
    assert set(stored(app)) == set(ids)


def test_a_single_decision_is_a_503_when_nothing_was_stored(app: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from suggest.store.events import StoreUnavailable

    client = app.test_client()
    sid = issued_ids(client, TITLES[:1])[0]
    store = app.extensions["wiki_suggest"].store

    def unavailable(batch: Any) -> Any:
        raise StoreUnavailable("the database is not available")

    monkeypatch.setattr(store._decisions, "_commit_batch", unavailable)
    for path, body in (("/api/v1/decisions", {"suggestion_id": sid, "decision": "skip"}),
                       (BATCH, {"decisions": [{"suggestion_id": sid, "decision": "skip"}]})):
        response = client.post(path, json=body)
        assert response.status_code == 503, path
        assert response.get_json()["error"]["code"] == "database_unavailable"
    assert stored(app) == {}
