"""Fault injection: the wiki misbehaving, Redis stopped or frozen, MariaDB stopped.

Everything runs on 127.0.0.1: a fake MediaWiki API of our own, and a Redis and a MariaDB started
for these tests (the machine's shared servers are never touched).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from suggest.store.schema import computed, decisions, suggestions
from suggest.web import create_app
from suggest.wiki import api_source
from tests.conftest import app_config
from tests.reliability.helpers import ARTICLE, FakeWiki, OwnMariaDB, OwnRedis

URL = "/api/v1/suggestions"
WIKI_TIMEOUT = 0.5
FIXTURE_QUERY = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}


def stored(app: Any, table: Any = decisions) -> int:
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        count: int = conn.execute(select(func.count()).select_from(table)).scalar_one()
        return count


# -- the wiki API --------------------------------------------------------------------------------
@pytest.fixture
def fake_wiki() -> Iterator[FakeWiki]:
    with FakeWiki(slow_seconds=3 * WIKI_TIMEOUT + 2) as wiki:
        yield wiki


@pytest.fixture
def wiki_app(fake_wiki: FakeWiki, sqlite_url: str) -> Any:
    return create_app(app_config(sqlite_url, WIKI_TIMEOUT=WIKI_TIMEOUT,
                                 EXTRA_WIKIS={"fakewiki": {"api_url": fake_wiki.api_url}}))


def ask_fake(client: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.get(URL, query_string={"wiki": "fakewiki", "title": ARTICLE, "task": "categories"})
    return response, time.monotonic() - started


def test_fake_wiki_answers_normally(wiki_app: Any, fake_wiki: FakeWiki) -> None:
    """The control: the same set-up serves suggestions when the wiki behaves."""
    response, _ = ask_fake(wiki_app.test_client())
    assert response.status_code == 200, response.get_json()
    labels = {s["label"] for s in response.get_json()["suggestions"]}
    assert "Geometry" in labels and "Curves" not in labels


# Sleeps between retries: 0.5 s then 1 s.
BACKOFF_TOTAL = sum(min(api_source.MAX_BACKOFF, 0.5 * 2**a) for a in range(api_source.RETRIES))


@pytest.mark.parametrize(("mode", "max_hits"), [
    ("maxlag", api_source.RETRIES + 1),
    ("ratelimited", api_source.RETRIES + 1),
    ("500", api_source.RETRIES + 1),
    ("malformed", 1),  # a broken answer is not retried
    ("shape", 1),  # nor one of another shape
    ("bad-revid", 1),
    ("slow", 1),  # nor is a timeout: the editor would wait RETRIES times longer
])
def test_misbehaving_wiki_gives_bounded_retries_and_a_clear_error(
        wiki_app: Any, fake_wiki: FakeWiki, mode: str, max_hits: int) -> None:
    fake_wiki.mode = mode
    response, elapsed = ask_fake(wiki_app.test_client())
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "wiki_unavailable" and "wiki" in error["message"]
    # Bounded retries of each query; the request gives up at the first query that fails (other
    # single reads, such as the community's configuration page, may come before it).
    assert 1 <= fake_wiki.most_repeated() <= max_hits, fake_wiki.paths
    assert fake_wiki.hits <= max_hits + 2, fake_wiki.paths
    # No hang: at most one timeout per attempt plus the backoff sleeps, with a little slack.
    assert elapsed < (max_hits + 2) * WIKI_TIMEOUT + BACKOFF_TOTAL + 1.0, elapsed
    if mode == "slow":
        assert elapsed < 3 * WIKI_TIMEOUT + 0.5, elapsed
    assert stored(wiki_app, suggestions) == 0


def test_pages_outside_the_articles_and_drafts_get_no_suggestions(sqlite_url: str) -> None:
    """A title that resolves to a user page (an article redirected into user space): refused with
    its own code, nothing computed or stored; a wiki configured to include the namespace gets
    suggestions."""
    with FakeWiki() as wiki:
        wiki.mode = "user-page"
        for namespaces, status in (([0, 118], 400), ([0, 2], 200)):
            app = create_app(app_config(sqlite_url, WIKI_TIMEOUT=WIKI_TIMEOUT, EXTRA_WIKIS={
                "fakewiki": {"api_url": wiki.api_url}}, WIKIS={"fakewiki": {"namespaces": namespaces}}))
            response = app.test_client().get(URL, query_string={"wiki": "fakewiki", "title": ARTICLE,
                                                                "task": "categories"})
            assert response.status_code == status, response.get_json()
            if status == 400:
                assert response.get_json()["error"]["code"] == "unsupported_namespace"
                assert stored(app, computed) == 0
            else:
                assert response.get_json()["suggestions"] and stored(app, computed) > 0


def test_redirect_to_another_host_is_never_followed(sqlite_url: str) -> None:
    with FakeWiki() as other, FakeWiki(redirect_to=None) as allowed:
        allowed.redirect_to = other.api_url + "?action=query&meta=siteinfo"
        allowed.mode = "redirect"
        app = create_app(app_config(sqlite_url, WIKI_TIMEOUT=WIKI_TIMEOUT,
                                    EXTRA_WIKIS={"fakewiki": {"api_url": allowed.api_url}}))
        response, _ = ask_fake(app.test_client())
        assert response.status_code == 502
        assert response.get_json()["error"]["code"] == "wiki_unavailable"
        assert allowed.most_repeated() == 1  # a redirect is an answer, not something to retry
        assert other.hits == 0


# -- Redis -------------------------------------------------------------------------------------
@pytest.mark.redis
@pytest.mark.parametrize("failure", ["stopped", "frozen"])
def test_redis_failure_turns_caching_off_and_keeps_decisions(
        own_redis: OwnRedis, sqlite_url: str, redis_prefix: str, failure: str) -> None:
    app = create_app(app_config(sqlite_url, REDIS_URL=own_redis.url, REDIS_KEY_PREFIX=redis_prefix,
                                REDIS_TIMEOUT=0.3,
                                RATE_LIMITS={"user": {"rate": 0.01, "burst": 3},
                                             "wiki": {"rate": 100, "burst": 1000}}))
    client = app.test_client()
    assert client.get(URL, query_string=FIXTURE_QUERY).get_json()["meta"]["cache"] == "miss"
    assert client.get(URL, query_string=FIXTURE_QUERY).get_json()["meta"]["cache"] == "hit"
    # The user spends two of three tokens while Redis works.
    first = client.get(URL, query_string=FIXTURE_QUERY).get_json()["suggestions"]
    for item in first[:2]:
        assert client.post("/api/v1/decisions", json={"suggestion_id": item["id"], "decision": "skip",
                                                      "user": "Alice"}).status_code == 201

    own_redis.stop() if failure == "stopped" else own_redis.freeze()
    started = time.monotonic()
    response = client.get(URL, query_string=FIXTURE_QUERY)
    assert time.monotonic() - started < 3.0  # a frozen Redis costs its timeout, once
    assert response.status_code == 200
    body = response.get_json()
    assert body["meta"]["cache"] == "unavailable" and body["suggestions"]
    # Decisions are still stored. The documented direction of the rate limiter: per-worker
    # buckets of the same size take over (fail open to local limits, never refuse everyone).
    ids = [s["id"] for s in body["suggestions"]]
    more = [s["id"] for s in client.get(URL, query_string={**FIXTURE_QUERY, "title": "Радіус"})
            .get_json()["suggestions"]]
    statuses = [client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip",
                                                       "user": "Alice"}).status_code
                for sid in (ids + more)[:5]]
    assert statuses[:3] == [201, 201, 201]  # the local bucket starts full
    assert statuses[3] == 429  # and still limits
    assert stored(app) == 2 + 3
    assert app.extensions["wiki_suggest"].cache.get("x")[1] == "unavailable"


# -- a database that hangs ------------------------------------------------------------------------
class HungServer:
    """Accepts connections and never answers: a database server that hangs (or a network that
    drops its packets) rather than refusing."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


def test_a_hung_database_gives_prompt_503s_and_leaves_the_health_check_free() -> None:
    """Each attempt to reach it waits the driver's whole timeout (1 s here, 15 s by default): the
    start makes one attempt, and while the database stays unreachable one request at a time
    tries again; the others get their 503 at once instead of queueing behind it."""
    hung = HungServer()
    try:
        url = f"mysql+pymysql://root@127.0.0.1:{hung.port}/wstest?connect_timeout=1&read_timeout=1"
        started = time.monotonic()
        app = create_app(app_config(url))
        assert time.monotonic() - started < 2.5  # one attempt, not three

        def ask(_: int) -> tuple[int, str, float]:
            began = time.monotonic()
            response = app.test_client().get(URL, query_string=FIXTURE_QUERY)
            return response.status_code, response.get_json()["error"]["code"], time.monotonic() - began

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, range(8)))
        assert {(status, code) for status, code, _ in answers} == {(503, "database_unavailable")}
        assert sum(seconds > 0.5 for _, _, seconds in answers) <= 1, answers  # one tried again
        began = time.monotonic()
        assert app.test_client().get("/healthz").status_code == 200
        assert time.monotonic() - began < 0.5
    finally:
        hung.close()


# -- MariaDB -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def own_mariadb() -> Iterator[OwnMariaDB]:
    server = OwnMariaDB()
    try:
        server.install()
        server.start()
        engine = create_engine(server.url.rsplit("/", 1)[0])
        with engine.begin() as conn:
            conn.execute(text("CREATE DATABASE wstest CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        engine.dispose()
        yield server
    finally:
        server.cleanup()


@pytest.mark.mariadb
def test_mariadb_stopped_gives_503_writes_nothing_and_recovers(own_mariadb: OwnMariaDB) -> None:
    app = create_app(app_config(own_mariadb.url))
    client = app.test_client()
    items = client.get(URL, query_string=FIXTURE_QUERY).get_json()["suggestions"]
    assert len(items) >= 2
    assert client.post("/api/v1/decisions", json={"suggestion_id": items[0]["id"],
                                                  "decision": "accept"}).status_code == 201
    before = (stored(app, suggestions), stored(app))

    own_mariadb.stop()
    try:
        # At once, another page (the last change marks read still count for a second), then
        # the same page, and the pages that read the database directly.
        for path, query in ((URL, {**FIXTURE_QUERY, "title": "Радіус"}), (URL, FIXTURE_QUERY),
                            ("/api/v1/stats", {}), ("/stats", {}), ("/stats.csv", {})):
            down = client.get(path, query_string=query)
            assert down.status_code == 503, (path, query)
            error = down.get_json()["error"]
            assert error["code"] == "database_unavailable" and "nothing was stored" in error["message"]
            assert down.headers["Retry-After"]
        decided = client.post("/api/v1/decisions", json={"suggestion_id": items[1]["id"],
                                                         "decision": "skip"})
        assert decided.status_code == 503
        assert decided.get_json()["error"]["code"] == "database_unavailable"
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
    finally:
        own_mariadb.start()

    # Recovered: nothing was half-written, and the refused decision can now be made (once).
    assert client.get("/readyz").status_code == 200
    assert (stored(app, suggestions), stored(app)) == before
    again = client.post("/api/v1/decisions", json={"suggestion_id": items[1]["id"], "decision": "skip"})
    assert again.status_code == 201
    assert client.get(URL, query_string=FIXTURE_QUERY).status_code == 200
    assert stored(app) == before[1] + 1
