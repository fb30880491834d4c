"""Rate limits: token buckets per user and per wiki in Redis (secret prefix, TTLs), 429 with
Retry-After and the code ``rate_limited``; nothing is keyed by IP address."""

from __future__ import annotations

from typing import Any

import pytest
import redis as redis_lib

from suggest.web import create_app
from tests.conftest import REDIS_URL, app_config

URL = "/api/v1/suggestions"
QUERY = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}


def make_app(sqlite_url: str, redis_prefix: str | None, **limits: Any) -> Any:
    extra: dict[str, Any] = {"RATE_LIMITS": {"user": {"rate": 0.01, "burst": 3},
                                             "wiki": {"rate": 0.01, "burst": 4}, **limits}}
    if redis_prefix is not None:
        extra.update(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix)
    return create_app(app_config(sqlite_url, **extra))


def suggest(client: Any, ip: str = "198.51.100.1", **query: str) -> Any:
    return client.get(URL, query_string={**QUERY, **query}, environ_base={"REMOTE_ADDR": ip})


def assert_limited(response: Any) -> None:
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["redis", "in-process"])
def test_wiki_bucket_limits_suggestions_whatever_the_address(sqlite_url: str, redis_prefix: str,
                                                             backend: str) -> None:
    app = make_app(sqlite_url, redis_prefix if backend == "redis" else None)
    client = app.test_client()
    # Four different client addresses share the wiki's four tokens: no per-IP allowance.
    for i in range(4):
        assert suggest(client, ip=f"198.51.100.{i + 1}").status_code == 200
    assert_limited(suggest(client, ip="203.0.113.9"))
    # Another wiki has its own bucket.
    assert suggest(client, wiki="fixture-enwiki", title="Circle").status_code in (200, 404)


@pytest.mark.redis
def test_user_bucket_limits_decisions_and_is_per_user(sqlite_url: str, redis_prefix: str) -> None:
    app = make_app(sqlite_url, redis_prefix, wiki={"rate": 100, "burst": 100})
    client = app.test_client()
    ids = [s["id"] for t in ("Коло", "Радіус", "Діаметр") for s in
           suggest(client, title=t).get_json().get("suggestions", [])]
    assert len(ids) >= 5
    # One editor, however the client spells the name: MediaWiki's form is one bucket.
    spellings = ("Alice", "alice", "Alice_", " Alice ")
    statuses = [client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip",
                                                       "user": spellings[n]},
                            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code
                for n, sid in enumerate(ids[:4])]
    assert statuses == [201, 201, 201, 429]
    assert app.extensions["wiki_suggest"].store.get_decision(ids[1])["user_name"] == "Alice"
    limited = client.post("/api/v1/decisions", json={"suggestion_id": ids[3], "decision": "skip",
                                                     "user": "Alice"})
    assert_limited(limited)
    # Bob, from the same address as Alice, is not limited by Alice's bucket.
    bob = client.post("/api/v1/decisions", json={"suggestion_id": ids[4], "decision": "skip",
                                                 "user": "Bob"}, environ_base={"REMOTE_ADDR": "192.0.2.0"})
    assert bob.status_code == 201
    # A refused decision was not stored: it can be made once the bucket refills.
    assert app.extensions["wiki_suggest"].store.get_decision(ids[3]) is None


@pytest.mark.redis
def test_decisions_naming_no_user_share_one_bucket(sqlite_url: str, redis_prefix: str) -> None:
    """Leaving the user name out is not a way around the limit: such decisions, from any
    address, share one bucket; a named editor keeps their own."""
    app = make_app(sqlite_url, redis_prefix, wiki={"rate": 100, "burst": 100})
    client = app.test_client()
    ids = [s["id"] for t in ("Коло", "Радіус", "Діаметр") for s in
           suggest(client, title=t).get_json().get("suggestions", [])]
    assert len(ids) >= 5
    statuses = [client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip"},
                            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code
                for n, sid in enumerate(ids[:4])]
    assert statuses == [201, 201, 201, 429]
    assert client.post("/api/v1/decisions", json={"suggestion_id": ids[4], "decision": "skip",
                                                  "user": "Carol"}).status_code == 201
    # Reading suggestions without a user name spends only the wiki's bucket.
    assert all(suggest(client, title="Коло").status_code == 200 for _ in range(5))


@pytest.mark.redis
def test_buckets_in_redis_have_the_prefix_a_ttl_and_no_plain_text(sqlite_url: str,
                                                                   redis_prefix: str) -> None:
    app = make_app(sqlite_url, redis_prefix)
    client = app.test_client()
    sid = suggest(client).get_json()["suggestions"][0]["id"]
    client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip", "user": "Zoë Editor"})
    redis = redis_lib.Redis.from_url(REDIS_URL)
    keys = [k.decode() for k in redis.scan_iter(f"{redis_prefix}wiki-suggest:rl:*")]
    assert len(keys) == 2  # one wiki bucket, one user bucket
    limiter = app.extensions["wiki_suggest_ratelimit"]
    assert set(keys) == {limiter.key("wiki", "fixture-ukwiki"), limiter.key("user", "Zoë Editor")}
    for key in keys:
        assert 0 < redis.ttl(key) <= limiter.limits["wiki"].ttl + limiter.limits["user"].ttl
        assert "ukwiki" not in key and "Zo" not in key and "198.51" not in key
        assert redis.type(key) == b"hash"


def test_free_endpoints_and_preflight_spend_nothing(sqlite_url: str) -> None:
    app = make_app(sqlite_url, None, wiki={"rate": 0.01, "burst": 1})
    client = app.test_client()
    for _ in range(10):
        assert client.get("/api/v1/tasks").status_code == 200
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert client.options(URL, headers={"Origin": "https://uk.wikipedia.org",
                                            "Access-Control-Request-Method": "GET"}).status_code == 200
    assert suggest(client).status_code == 200
    assert_limited(suggest(client))


def test_disabled_limits_never_answer_429(sqlite_url: str) -> None:
    app = make_app(sqlite_url, None, enabled=False)
    client = app.test_client()
    assert [suggest(client).status_code for _ in range(6)] == [200] * 6
