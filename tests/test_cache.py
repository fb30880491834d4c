# SPDX-License-Identifier: GPL-3.0-or-later
"""The suggestion cache against the real Redis on 127.0.0.1:6379, and a Redis that goes away."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis as redis_lib

from suggest.store import cache as cache_module
from suggest.web import create_app
from tests.conftest import REDIS_URL, app_config
from tests.support.mediawiki import free_port

URL = "/api/v1/suggestions"
TITLES = ("Коло", "Трахея")


def ask(client: Any, title: str) -> dict[str, Any]:
    response = client.get(URL, query_string={"wiki": "fixture-ukwiki", "title": title,
                                             "task": "categories"})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def decide(client: Any, body: dict[str, Any]) -> int:
    sid = body["suggestions"][0]["id"]
    status: int = client.post("/api/v1/decisions", json={"suggestion_id": sid,
                                                         "decision": "skip"}).status_code
    return status


def test_keys_carry_the_prefix_and_a_ttl_and_no_title(sqlite_url: str, redis_prefix: str) -> None:
    app = create_app(app_config(sqlite_url, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix))
    client = app.test_client()
    first = {title: ask(client, title) for title in TITLES}
    assert all(body["meta"]["cache"] == "miss" for body in first.values())
    redis = redis_lib.Redis.from_url(REDIS_URL)
    keys = list(redis.scan_iter(f"{redis_prefix}*"))
    assert len(keys) >= 2 * len(TITLES)  # at least title -> revision and the suggestions, per page
    for key in keys:
        assert key.startswith(redis_prefix.encode())
        assert 0 < redis.ttl(key) <= app.config["CACHE_TTL"]
        for title in TITLES:
            for form in (title.encode(), quote(title).encode(), title.encode("unicode_escape")):
                assert form not in key
    second = {title: ask(client, title) for title in TITLES}
    for title in TITLES:
        assert second[title]["meta"]["cache"] == "hit"
        assert [s["label"] for s in second[title]["suggestions"]] == [
            s["label"] for s in first[title]["suggestions"]]
    assert len(list(redis.scan_iter(f"{redis_prefix}*"))) == len(keys)


def test_unreachable_redis_serves_uncached_and_stores_decisions(sqlite_url: str) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(app_config(sqlite_url, REDIS_URL=closed, REDIS_KEY_PREFIX="x:"))
    client = app.test_client()
    started = time.monotonic()
    body = ask(client, "Коло")
    assert body["suggestions"] and body["meta"]["cache"] == "unavailable"
    assert decide(client, body) == 201
    assert ask(client, "Коло")["meta"]["cache"] == "unavailable"
    assert time.monotonic() - started < 10
    ready = client.get("/readyz")
    assert ready.status_code != 200 or ready.get_json().get("cache") != "ok"


@pytest.fixture
def own_redis() -> Iterator[dict[str, Any]]:
    """A redis-server of our own on a free port, which the test may stop and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed")
    state: dict[str, Any] = {"port": free_port(), "process": None}

    def start() -> None:
        state["process"] = subprocess.Popen(
            [binary, "--port", str(state["port"]), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_lib.Redis(port=state["port"], socket_timeout=0.5)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop() -> None:
        process = state["process"]
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(10)

    state.update(start=start, stop=stop)
    start()
    yield state
    stop()


def test_redis_stopped_mid_run_then_back_after_backoff(sqlite_url: str, own_redis: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    offset = [0.0]
    real = time.monotonic
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: real() + offset[0])
    app = create_app(app_config(sqlite_url, REDIS_URL=f"redis://127.0.0.1:{own_redis['port']}/0",
                                REDIS_KEY_PREFIX="own:"))
    client = app.test_client()
    assert ask(client, "Коло")["meta"]["cache"] == "miss"
    assert ask(client, "Коло")["meta"]["cache"] == "hit"

    own_redis["stop"]()
    down = ask(client, "Коло")
    assert down["meta"]["cache"] == "unavailable" and down["suggestions"]
    assert decide(client, down) == 201

    own_redis["start"]()  # back, but the service leaves it alone until the back-off is over
    assert ask(client, "Коло")["meta"]["cache"] == "unavailable"
    offset[0] += cache_module.BACKOFF_SECONDS + 1
    assert ask(client, "Коло")["meta"]["cache"] == "miss"  # a fresh, empty Redis
    assert ask(client, "Коло")["meta"]["cache"] == "hit"
    keys = redis_lib.Redis(port=own_redis["port"]).keys("*")
    assert keys and all(k.startswith(b"own:") for k in keys)


def test_in_process_cache_keeps_objects_redis_keeps_copies(sqlite_url: str, redis_prefix: str) -> None:
    """Without Redis, values are kept as they are (no pickling on the warm path); with Redis each
    read is a fresh copy. Either way the answers are the same."""
    local = create_app(app_config(sqlite_url)).extensions["wiki_suggest"].cache
    shared = create_app(app_config(sqlite_url, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix)
                        ).extensions["wiki_suggest"].cache
    value = {"title": "Коло", "items": [{"label": "Кола", "evidence": {"linked": [2, 3]}}]}
    for cache, same_object in ((local, True), (shared, False)):
        key = cache.key("test", redis_prefix)
        assert cache.set(key, value)
        found, status = cache.get(key)
        assert status == "hit" and found == value and (found is value) is same_object
    local_client = create_app(app_config(sqlite_url)).test_client()
    first, second = ask(local_client, "Коло"), ask(local_client, "Коло")
    assert second["meta"]["cache"] == "hit"
    assert [s["label"] for s in first["suggestions"]] == [s["label"] for s in second["suggestions"]]
    assert all("content_id" not in s for s in second["suggestions"])  # the cached list is intact
    third = ask(local_client, "Коло")
    assert [s["evidence"] for s in third["suggestions"]] == [s["evidence"] for s in first["suggestions"]]


def test_a_new_database_is_not_given_results_cached_for_another(tmp_path: Path, redis_prefix: str) -> None:
    """The database restored from a backup, or lost and made anew, with the same Redis: results
    cached for the old database name computed suggestions the new one does not have, so every
    decision on them would be refused (404) for as long as the cache keeps them (hours). The
    result cache's keys carry the database's generation (a random id made with it)."""
    def service(name: str) -> Any:
        return create_app(app_config(f"sqlite:///{tmp_path / name}", REDIS_URL=REDIS_URL,
                                     REDIS_KEY_PREFIX=redis_prefix)).test_client()

    old, new = service("old.sqlite3"), service("new.sqlite3")
    assert ask(old, TITLES[0])["meta"]["cache"] == "miss"
    assert ask(old, TITLES[0])["meta"]["cache"] == "hit"
    body = ask(new, TITLES[0])
    assert body["meta"]["cache"] == "miss"  # computed again, and stored in the new database
    assert decide(new, body) == 201
    assert ask(new, TITLES[0])["meta"]["cache"] == "hit"
    again = service("new.sqlite3")  # the same database, another worker: the same generation
    assert ask(again, TITLES[0])["meta"]["cache"] == "hit"


def test_a_database_restored_in_place_is_seen_by_running_workers(mariadb_url: str,
                                                                 redis_prefix: str) -> None:
    """MariaDB restored in place while the service runs: the workers kept the old generation in
    memory, and were handed results naming suggestions the restored database lacks. The
    generation is read with the change marks, so a restored dump of another database is seen;
    a backup of this one gets a new generation from ``flask new-generation``."""
    from sqlalchemy import create_engine, text

    app = create_app(app_config(mariadb_url, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix,
                                CHANGES_SEEN_WITHIN=0.0))
    client = app.test_client()
    assert ask(client, TITLES[0])["meta"]["cache"] == "miss"
    assert ask(client, TITLES[0])["meta"]["cache"] == "hit"
    engine = create_engine(mariadb_url)
    with engine.begin() as conn:  # what a dump of another database brings with it
        conn.execute(text("UPDATE store_info SET value = 'restored' WHERE name = 'generation'"))
        conn.execute(text("DELETE FROM computed"))
    engine.dispose()
    body = ask(client, TITLES[0])
    assert body["meta"]["cache"] == "miss"  # computed again, and stored in the restored database
    assert decide(client, body) == 201
    assert ask(client, TITLES[0])["meta"]["cache"] == "hit"
    result = app.test_cli_runner().invoke(args=["new-generation"])  # a backup of this database
    assert result.exit_code == 0, result.output
    assert '"action": "new-generation"' in result.output
    other = create_app(app_config(mariadb_url, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix,
                                  CHANGES_SEEN_WITHIN=0.0)).test_client()
    assert ask(other, TITLES[0])["meta"]["cache"] == "miss"  # another worker sees it too
    assert ask(client, TITLES[0])["meta"]["cache"] == "hit"


class Planted:
    """A pickle that creates a file when it is loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Path.touch, (str(self.path),))  # type: ignore[return-value]


def test_values_others_wrote_under_the_tools_keys_are_misses(sqlite_url: str, redis_prefix: str,
                                                             tmp_path: Path) -> None:
    """Toolforge's Redis is shared by every tool. A value written under the tool's keys by anyone
    without its secret key was unpickled (cachelib's default: the pickle ran) or served (its
    suggestions shown to editors). Values are JSON signed with the secret key now: those are
    misses, and the service computes the page itself."""
    import pickle

    app = create_app(app_config(sqlite_url, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix))
    client = app.test_client()
    first = ask(client, TITLES[0])
    redis = redis_lib.Redis.from_url(REDIS_URL)
    keys = list(redis.scan_iter(f"{redis_prefix}*"))
    ran = tmp_path / "the-pickle-ran"
    for key in keys:
        redis.set(key, b"!" + pickle.dumps(Planted(ran)), ex=60)  # as cachelib writes a pickle
    again = ask(client, TITLES[0])
    assert not ran.exists()
    assert again["meta"]["cache"] == "miss"
    assert [s["label"] for s in again["suggestions"]] == [s["label"] for s in first["suggestions"]]
    # A JSON value signed with another key (another tool, an old secret): a miss too.
    other = create_app(app_config(sqlite_url, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix,
                                  SECRET_KEY="another secret")).extensions["wiki_suggest"].cache
    key = other.key("test")
    assert other.set(key, {"label": "Planted"})
    assert other.get(key) == ({"label": "Planted"}, "hit")
    assert app.extensions["wiki_suggest"].cache.get(key) == (None, "miss")


def test_a_value_json_cannot_keep_is_not_cached_and_redis_stays_in_use(sqlite_url: str,
                                                                       redis_prefix: str) -> None:
    import datetime as dt

    cache = create_app(app_config(sqlite_url, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix)
                       ).extensions["wiki_suggest"].cache
    key = cache.key("test")
    assert not cache.set(key, {"at": dt.datetime(2026, 1, 1)})  # JSON would give back text
    assert cache.get(key) == (None, "miss")  # not "unavailable": Redis itself is fine
    assert cache.set(key, {"at": "2026-01-01"}) and cache.get(key) == ({"at": "2026-01-01"}, "hit")
