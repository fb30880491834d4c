"""The suggestion and decision API, end to end through the WSGI app on a real SQLite store."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from suggest.store.schema import computed, decisions, edits, shown, suggestions

URL = "/api/v1/suggestions"


def counts(app: Any) -> tuple[int, int, int]:
    """(issued suggestions stored, decisions, edits)."""
    store = app.extensions["wiki_suggest"].store
    with store.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (suggestions, decisions, edits))  # type: ignore[return-value]


def computed_and_shown(app: Any) -> tuple[int, int]:
    """(computed suggestions stored, suggestions counted as shown in the database)."""
    store = app.extensions["wiki_suggest"].store
    with store.engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(computed)).scalar_one(),
                int(conn.execute(select(func.coalesce(func.sum(shown.c.shown), 0))).scalar_one()))


def get_suggestions(client: Any, title: str = "Коло", wiki: str = "fixture-ukwiki") -> dict[str, Any]:
    response = client.get(URL, query_string={"wiki": wiki, "title": title, "task": "categories"})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_suggestions_are_issued_stored_and_explained(client: Any, app: Any) -> None:
    body = get_suggestions(client)
    assert 1 <= len(body["suggestions"]) <= 3
    present = {"Планіметрія", "Конічні перетини", "Алгебричні криві", "Стереометрія", "Криві", "Кола"}
    for item in body["suggestions"]:
        assert item["label"] not in present  # already on the page
        assert item["wikitext"] == f"[[Категорія:{item['label']}]]"  # localized namespace
        assert 0.0 <= item["score"] <= 1.0
        assert "of the" in item["explanation"]
        for kind, (count, total) in item["evidence"].items():  # the same numbers, to localize
            assert f"in {count} of the {total} " in item["explanation"] and kind in item["explanation"]
    meta = body["meta"]
    assert meta["task"]["id"] == "categories" and meta["backend"]["id"] == "tfidf"
    assert meta["backend"]["checksum"].startswith("sha256:")
    assert meta["paused"] == {"categories": False}
    assert len(set(s["id"] for s in body["suggestions"])) == len(body["suggestions"])
    # What was computed is stored before it is shown; the issue itself is counted, not stored.
    assert computed_and_shown(app) == (len(body["suggestions"]), 0)
    assert counts(app) == (0, 0, 0)
    service = app.extensions["wiki_suggest"]
    assert service.shown.pending() == len(body["suggestions"])
    assert service.shown.flush() and service.shown.pending() == 0
    assert computed_and_shown(app) == (len(body["suggestions"]), len(body["suggestions"]))


def test_second_request_is_cached_but_gets_fresh_ids(client: Any, app: Any) -> None:
    first, second = get_suggestions(client), get_suggestions(client)
    assert [s["label"] for s in first["suggestions"]] == [s["label"] for s in second["suggestions"]]
    assert not {s["id"] for s in first["suggestions"]} & {s["id"] for s in second["suggestions"]}
    assert second["meta"]["cache"] == "hit"
    # The cached answer wrote nothing: the same computed rows, no issued rows.
    assert computed_and_shown(app)[0] == len(first["suggestions"])
    assert counts(app) == (0, 0, 0)
    app.extensions["wiki_suggest"].shown.flush()
    assert computed_and_shown(app)[1] == 2 * len(first["suggestions"])


def test_first_decision_stores_the_suggestion_as_issued(client: Any, app: Any) -> None:
    item = get_suggestions(client)["suggestions"][1]
    assert client.post("/api/v1/decisions", json={"suggestion_id": item["id"],
                                                  "decision": "accept"}).status_code == 201
    stored = app.extensions["wiki_suggest"].store.get_suggestion(item["id"])
    assert (stored["label"], stored["wikitext"], stored["rank"]) == (item["label"], item["wikitext"], 1)
    assert stored["score"] == pytest.approx(item["score"])
    assert stored["content_id"] and stored["wiki"] == "fixture-ukwiki" and stored["page_title"] == "Коло"
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        content = conn.execute(select(computed).where(computed.c.id == stored["content_id"])).one()
    assert content.label == item["label"] and content.revid == stored["revid"]
    assert abs((stored["created_at"] - content.created_at).total_seconds()) < 60


def test_ids_that_were_not_signed_here_are_unknown(client: Any, app: Any) -> None:
    sid = get_suggestions(client)["suggestions"][0]["id"]
    forged = sid[:-1] + ("A" if sid[-1] != "A" else "B")  # the signature no longer matches
    other_key = app.extensions["wiki_suggest"].ids.__class__("another secret").issue(
        app.extensions["wiki_suggest"].ids.open(sid)[0])
    never_computed = app.extensions["wiki_suggest"].ids.issue("00" * 10)
    for bad in (forged, other_key, never_computed):
        response = client.post("/api/v1/decisions", json={"suggestion_id": bad, "decision": "skip"})
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_suggestion"
    assert counts(app) == (0, 0, 0)


def test_decision_flow_accept_reject_skip_and_edit(client: Any, app: Any) -> None:
    ids = [s["id"] for s in get_suggestions(client, title="Коло")["suggestions"]]
    ids += [s["id"] for s in get_suggestions(client, title="Радіус")["suggestions"]]
    assert len(ids) >= 3
    accept, reject, skip = ids[:3]
    ok = client.post("/api/v1/decisions", json={"suggestion_id": accept, "decision": "accept",
                                                "user": "Editor"})
    assert ok.status_code == 201 and ok.get_json()["decision"] == "accept"
    assert client.post("/api/v1/decisions", json={
        "suggestion_id": reject, "decision": "reject", "reason": "too_general",
        "comment": "broad"}).status_code == 201
    assert client.post("/api/v1/decisions", json={
        "suggestion_id": skip, "decision": "skip"}).status_code == 201
    store = app.extensions["wiki_suggest"].store
    assert store.get_decision(reject)["reason"] == "too_general"
    linked = client.post("/api/v1/edits", json={"suggestion_ids": [accept], "revid": 777})
    assert linked.status_code == 201 and linked.get_json() == {"linked": 1}
    # the same report again is harmless; a rejected one cannot be linked
    assert client.post("/api/v1/edits", json={"suggestion_ids": [accept], "revid": 777}).status_code == 201
    bad = client.post("/api/v1/edits", json={"suggestion_ids": [reject], "revid": 777})
    assert bad.status_code == 409 and bad.get_json()["error"]["code"] == "not_accepted"
    assert counts(app)[1:] == (3, 1)


def test_replayed_decision_is_refused_and_not_stored(client: Any, app: Any) -> None:
    sid = get_suggestions(client)["suggestions"][0]["id"]
    first = client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip"})
    assert first.status_code == 201
    again = client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "accept"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_decided"
    assert app.extensions["wiki_suggest"].store.get_decision(sid)["decision"] == "skip"


BAD_QUERIES = [
    ({"wiki": "nosuchwiki", "title": "Коло", "task": "categories"}, 400, "unknown_wiki"),
    ({"wiki": "en.wikipedia.org.evil.com", "title": "X", "task": "categories"}, 400, "unknown_wiki"),
    ({"wiki": "127.0.0.1", "title": "X", "task": "categories"}, 400, "unknown_wiki"),
    ({"wiki": "[::1]", "title": "X", "task": "categories"}, 400, "unknown_wiki"),
    ({"wiki": "https://en.wikipedia.org", "title": "X", "task": "categories"}, 400, "unknown_wiki"),
    ({"wiki": "ENWIKI", "title": "X", "task": "categories"}, 400, "unknown_wiki"),
    ({"wiki": "fixture-ukwiki", "title": "a|b", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "a#b", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "<script>", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "[[x]]", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "{{x}}", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "я" * 128, "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "a%20b", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "../x", "task": "categories"}, 400, "invalid_title"),
    # str.split() would take these for spaces; to the wiki's API, U+001F first is a list of titles
    ({"wiki": "fixture-ukwiki", "title": "\x1fКоло\x1fX", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "Ко\tло", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "Коло\n", "task": "categories"}, 400, "invalid_title"),
    ({"wiki": "fixture-ukwiki", "title": "Коло"}, 400, "missing_parameter"),
    ({"wiki": "fixture-ukwiki", "task": "categories"}, 400, "missing_parameter"),
    ({"title": "Коло", "task": "categories"}, 400, "missing_parameter"),
    ({"wiki": "fixture-ukwiki", "title": "Коло", "revid": "5", "task": "categories"}, 400,
     "missing_parameter"),
    ({"wiki": "fixture-ukwiki", "revid": "-3", "task": "categories"}, 400, "invalid_parameter"),
    ({"wiki": "fixture-ukwiki", "revid": "١٢", "task": "categories"}, 400, "invalid_parameter"),
    ({"wiki": "fixture-ukwiki", "title": "Коло", "task": "nope"}, 400, "unknown_task"),
    ({"wiki": "fixture-ukwiki", "title": "Коло", "task": "references"}, 400, "task_disabled"),
    ({"wiki": "fixture-ukwiki", "title": "No such page here", "task": "categories"}, 404,
     "page_not_found"),
]


@pytest.mark.parametrize(("query", "status", "code"), BAD_QUERIES)
def test_bad_queries_get_stable_codes_and_store_nothing(client: Any, app: Any, query: dict[str, str],
                                                        status: int, code: str) -> None:
    response = client.get(URL, query_string=query)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert counts(app) == (0, 0, 0)


def test_repeated_parameter_is_refused(client: Any) -> None:
    response = client.get(URL + "?wiki=fixture-ukwiki&wiki=enwiki&title=X&task=categories")
    assert response.get_json()["error"]["code"] == "invalid_parameter"


@pytest.fixture
def issued(client: Any) -> str:
    sid: str = get_suggestions(client)["suggestions"][0]["id"]
    return sid


BAD_DECISIONS = [
    ({"suggestion_id": "A" * 22, "decision": "accept"}, 404, "unknown_suggestion"),
    ({"decision": "accept"}, 400, "invalid_body"),
    ({"suggestion_id": "{issued}", "decision": "maybe"}, 400, "invalid_body"),
    ({"suggestion_id": "{issued}", "decision": "reject"}, 400, "invalid_reason"),
    ({"suggestion_id": "{issued}", "decision": "reject", "reason": "ugly"}, 400, "invalid_reason"),
    ({"suggestion_id": "{issued}", "decision": "accept", "reason": "too_general"}, 400, "invalid_reason"),
    ({"suggestion_id": "{issued}", "decision": "accept", "extra": 1}, 400, "invalid_body"),
    ({"suggestion_id": "{issued}", "decision": "skip", "comment": "x" * 501}, 400, "invalid_body"),
    ({"suggestion_id": "'; DROP TABLE decisions; --", "decision": "skip"}, 400, "invalid_body"),
    (["not", "an", "object"], 400, "invalid_body"),
    # A user name is a user page's title: no control character, none of a title's illegal ones
    # (a NUL would name the rate limiter's shared bucket of nameless decisions).
    ({"suggestion_id": "{issued}", "decision": "skip", "user": "\x00anonymous"}, 400, "invalid_body"),
    ({"suggestion_id": "{issued}", "decision": "skip", "user": "Example\n"}, 400, "invalid_body"),
    ({"suggestion_id": "{issued}", "decision": "skip", "user": "a[[b]]"}, 400, "invalid_body"),
    ({"suggestion_id": "{issued}", "decision": "skip", "comment": "a\x00b"}, 400, "invalid_body"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_DECISIONS)
def test_bad_decisions_are_refused_and_store_nothing(client: Any, app: Any, issued: str, body: Any,
                                                     status: int, code: str) -> None:
    if isinstance(body, dict):
        body = {k: (issued if v == "{issued}" else v) for k, v in body.items()}
    response = client.post("/api/v1/decisions", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert counts(app)[1] == 0


def test_oversized_body_non_json_and_broken_json(client: Any, app: Any, issued: str) -> None:
    big = client.post("/api/v1/decisions", data=b'{"x": "' + b"a" * 100_000 + b'"}',
                      content_type="application/json")
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "payload_too_large"
    form = client.post("/api/v1/decisions", data={"suggestion_id": issued, "decision": "accept"})
    assert form.status_code == 415 and form.get_json()["error"]["code"] == "unsupported_media_type"
    broken = client.post("/api/v1/decisions", data=b"{nope", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "invalid_body"
    assert counts(app)[1] == 0


def test_unknown_route_and_method_are_json(client: Any) -> None:
    assert client.get("/api/v1/nothing").get_json()["error"]["code"] == "not_found"
    assert client.delete("/api/v1/decisions").get_json()["error"]["code"] == "method_not_allowed"


def test_tasks_and_openapi(client: Any) -> None:
    tasks = client.get("/api/v1/tasks").get_json()["tasks"]
    categories = next(t for t in tasks if t["id"] == "categories")
    assert [r["id"] for r in categories["reasons"]] == [
        "wrong_topic", "too_general", "too_specific", "already_covered", "other"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/suggestions", "/api/v1/decisions", "/api/v1/edits"} <= set(spec["paths"])


def test_paused_task_issues_nothing(client: Any, app: Any) -> None:
    app.extensions["wiki_suggest"].store.pause("fixture-ukwiki", "categories", "rejection rate", "monitor")
    body = get_suggestions(client)
    assert body["suggestions"] == [] and body["pause"]["reason"] == "rejection rate"
    assert body["meta"]["paused"]["categories"] is True
    assert counts(app)[0] == 0


@pytest.mark.parametrize(("origin", "allowed"), [
    ("https://uk.wikipedia.org", True),
    ("https://uk.m.wikipedia.org", True),
    ("https://uk.wikipedia.org.evil.com", False),
    ("http://uk.wikipedia.org", False),
    ("null", False),
    ("https://evil.com", False),
])
def test_cors_echoes_only_allowlisted_wiki_origins(client: Any, origin: str, allowed: bool) -> None:
    response = client.get("/api/v1/tasks", headers={"Origin": origin})
    assert "Origin" in response.headers["Vary"]
    assert response.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_health_and_readiness(client: Any) -> None:
    assert client.get("/healthz").get_json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["database"] == "ok"


def test_database_down_gives_503_with_clear_message(tmp_path: Any) -> None:
    from suggest.web import create_app
    from tests.conftest import app_config

    # A database on a port where nothing listens: the app starts, the API answers 503.
    app = create_app(app_config("mysql+pymysql://root@127.0.0.1:1/none"))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get(URL, query_string={"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"
    decision = client.post("/api/v1/decisions", json={"suggestion_id": "A" * 22, "decision": "skip"})
    assert decision.status_code == 503
    assert client.get("/readyz").status_code == 503


def test_daily_user_cap_stops_suggestions_for_that_user_only(sqlite_url: str) -> None:
    from suggest.web import create_app
    from tests.conftest import app_config

    app = create_app(app_config(sqlite_url, WIKIS={"fixture-ukwiki": {"DAILY_USER_CAP": 2}}))
    client = app.test_client()
    query = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories", "user": "Ann"}
    for _ in range(2):
        sid = client.get(URL, query_string=query).get_json()["suggestions"][0]["id"]
        assert client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip",
                                                      "user": "Ann"}).status_code == 201
    capped = client.get(URL, query_string=query).get_json()
    assert capped["suggestions"] == [] and capped["limit"]["cap"] == 2
    assert capped["limit"]["reason"] == "daily_user_cap"
    assert client.get(URL, query_string={**query, "user": "Bob"}).get_json()["suggestions"]
    # Another wiki has no cap.
    other = client.get(URL, query_string={"wiki": "fixture-bnwiki", "title": "দার্শনিক",
                                          "task": "categories", "user": "Ann"})
    assert other.status_code == 200 and "limit" not in other.get_json()


def test_stats_count_what_was_shown_and_decided(client: Any) -> None:
    """Shown comes from the per-worker counts (written when /stats is read), decided from the
    stored decisions: both end to end through the API."""
    first, second = get_suggestions(client), get_suggestions(client)
    n = len(first["suggestions"])
    assert client.post("/api/v1/decisions", json={"suggestion_id": second["suggestions"][0]["id"],
                                                  "decision": "reject", "reason": "too_general"}
                       ).status_code == 201
    data = client.get("/api/v1/stats", query_string={"wiki": "fixture-ukwiki"}).get_json()
    [total] = data["totals"]
    assert (total["shown"], total["decided"], total["rejected"]) == (2 * n, 1, 1)
    assert "shown" in data["definitions"]


def test_the_wiki_is_asked_for_the_title_its_answer_is_cached_under(client: Any, app: Any) -> None:
    """Spaces and underscores as sent are normalised before the wiki is asked, as for the key
    under which its answer is kept: two spellings of one title cannot get different pages."""
    svc = app.extensions["wiki_suggest"]
    asked: list[str | None] = []
    source_of = svc.source

    def recording(wiki: Any) -> Any:
        source = source_of(wiki)
        get_page = source.get_page

        def get(title: str | None = None, revid: int | None = None) -> Any:
            asked.append(title)
            return get_page(title=title, revid=revid)

        source.get_page = get
        return source

    svc.source = recording
    first = client.get(URL, query_string={"wiki": "fixture-ukwiki", "task": "categories",
                                          "title": "  Коло__ "})
    again = client.get(URL, query_string={"wiki": "fixture-ukwiki", "task": "categories",
                                          "title": "Коло"})
    assert first.status_code == again.status_code == 200
    assert first.get_json()["page"] == again.get_json()["page"]
    assert asked and set(asked) == {"Коло"}


def test_head_on_suggestions_does_no_work(client: Any, app: Any) -> None:
    """HEAD would run the GET view (Flask's default): the page read, the model, suggestions counted
    as shown that nobody sees. It is refused before any of that, with the methods allowed."""
    query = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}
    response = client.head(URL, query_string=query)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert app.extensions["wiki_suggest"].shown.pending() == 0
    assert computed_and_shown(app) == (0, 0) and counts(app) == (0, 0, 0)
    assert client.get(URL, query_string=query).status_code == 200
    assert app.extensions["wiki_suggest"].shown.pending() > 0


def test_user_names_and_comments_as_editors_write_them(client: Any, app: Any, issued: str) -> None:
    """What the pattern lets through: names with spaces, underscores and any script; comments
    over several lines."""
    body = {"suggestion_id": issued, "decision": "skip", "user": "Зоя_Editor (WMF)",
            "comment": "first line\n\tsecond"}
    assert client.post("/api/v1/decisions", json=body).status_code == 201
    query = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}
    assert client.get(URL, query_string={**query, "user": "Зоя Editor"}).status_code == 200
    refused = client.get(URL, query_string={**query, "user": "Зоя\x01"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_parameter"
