"""Failure audit: what the service does when its SQLite file changes under it, how pages for
people say that the database is away, what the readiness check says about the rate limits, and
how a compressed body is refused.

Real SQLite files and a Redis of our own (tests/reliability/helpers.py); nothing is mocked.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from suggest.web import create_app
from suggest.web.ratelimit import ANONYMOUS
from tests.conftest import app_config
from tests.reliability.helpers import OwnRedis

URL = "/api/v1/suggestions"
QUERY = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}
OTHER = {**QUERY, "title": "Радіус"}


def issued(client: Any, query: dict[str, str]) -> list[str]:
    response = client.get(URL, query_string=query)
    assert response.status_code == 200, response.get_json()
    return [s["id"] for s in response.get_json()["suggestions"]]


def decide(client: Any, suggestion_id: str) -> Any:
    return client.post("/api/v1/decisions", json={"suggestion_id": suggestion_id, "decision": "skip"})


def decided_in_file(path: Path) -> set[str]:
    """The decisions a fresh connection finds in the file at ``path`` (what survives the process)."""
    with closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT suggestion_id FROM decisions")}


# -- the SQLite file's folder removed while the service runs ------------------------------------
def test_decisions_are_refused_not_acknowledged_when_the_sqlite_folder_is_removed(tmp_path: Path) -> None:
    """Pooled connections keep the file they opened: after its folder was removed they went on
    writing into a file no one will read again, and the API acknowledged those decisions (201).
    Now the service answers 503 and nothing is acknowledged; when the folder is back, it makes
    its tables again and stores decisions that a fresh connection reads back."""
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "events.sqlite3"
    app = create_app(app_config(f"sqlite:///{path}"))
    client = app.test_client()
    ids = issued(client, QUERY) + issued(client, OTHER)
    assert len(ids) >= 3
    assert decide(client, ids[0]).status_code == 201
    assert decided_in_file(path) == {ids[0]}

    shutil.rmtree(folder)
    refused = decide(client, ids[1])
    assert refused.status_code == 503, refused.get_json()
    assert refused.get_json()["error"]["code"] == "database_unavailable"
    assert client.get("/api/v1/stats").status_code == 503
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200

    folder.mkdir()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    again = decide(client, ids[2])
    assert again.status_code == 201, again.get_json()
    assert decided_in_file(path) == {ids[2]}


def test_a_decision_retried_when_the_sqlite_file_is_back_is_stored_at_once(sqlite_url: str) -> None:
    """A server that cannot be reached is checked again only every few seconds (each check may
    hang for the driver's timeouts); a SQLite file opens or fails at once, so the gadget's retry
    as soon as the file is back (the browser online again) is stored, not refused for seconds."""
    from tests.e2e.helpers import database_unavailable

    app = create_app(app_config(sqlite_url))
    client = app.test_client()
    ids = issued(client, QUERY)
    with database_unavailable(app.extensions["wiki_suggest"].store):
        assert decide(client, ids[0]).status_code == 503
    assert decide(client, ids[0]).status_code == 201


# -- the SQLite file read-only for a while -------------------------------------------------------
def _immutable(path: Path, on: bool) -> None:
    """Make a file unwritable even for root (the tests may run as root, which chmod does not
    stop). Only the database file itself: its -wal and -shm files are mapped into memory, and
    making those immutable would kill the process with SIGBUS, which is not what is tested."""
    subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True, capture_output=True)


@pytest.fixture
def chattr_works(tmp_path: Path) -> Iterator[None]:
    probe = tmp_path / "probe"
    probe.write_text("x")
    try:
        _immutable(probe, True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("chattr +i is not available on this file system")
    _immutable(probe, False)
    yield


def test_the_service_recovers_when_a_read_only_sqlite_file_is_writable_again(
        tmp_path: Path, chattr_works: None) -> None:
    """Connections opened while the file could not be written are read-only for good: before,
    every write was a 503 until the service was restarted. Now they are replaced, and the first
    request after the file is writable again stores its decision."""
    path = tmp_path / "events.sqlite3"
    first = create_app(app_config(f"sqlite:///{path}"))
    ids = issued(first.test_client(), QUERY) + issued(first.test_client(), OTHER)
    first.extensions["wiki_suggest"].store.engine.dispose()
    with closing(sqlite3.connect(path)) as conn:  # back to one file: no -wal to replay on the next open
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _immutable(path, True)
    try:
        app = create_app(app_config(f"sqlite:///{path}"))  # its pool opens the file read-only
        client = app.test_client()
        refused = decide(client, ids[0])
        assert refused.status_code == 503, refused.get_json()
        assert refused.get_json()["error"]["code"] == "database_unavailable"
    finally:
        _immutable(path, False)
    store = app.extensions["wiki_suggest"].store
    store._unavailable_until = 0.0  # not wait out the pause between checks (RECHECK_SECONDS)
    stored = decide(client, ids[1])
    assert stored.status_code == 201, stored.get_json()
    assert decided_in_file(path) == {ids[1]}


# -- pages for people while the database is away ------------------------------------------------
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
MAINTAINER = "Audit Maintainer"


def test_pages_for_people_say_in_html_that_the_database_is_away(tmp_path: Path) -> None:
    """A browser on /stats, /review or /admin (or sending the admin and review forms) got the
    API's JSON error. Now it gets a page saying the same, with the 503 and Retry-After; programs
    and clients that state no preference (and the API, and the data files) still get the JSON
    error with its stable code."""
    missing = tmp_path / "gone" / "events.sqlite3"  # its folder does not exist: SQLite cannot open it
    app = create_app(app_config(f"sqlite:///{missing}", MAINTAINERS=[MAINTAINER],
                                REVIEWERS=[MAINTAINER], RATE_LIMITS={"enabled": False}))
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = MAINTAINER
        sess["csrf"] = "token"
    form = {"csrf_token": "token", "wiki": "fixture-ukwiki", "task": "categories", "reason": "audit",
            "suggestion_id": "abc", "label": "correct"}
    pages = [("GET", "/stats"), ("GET", "/review?wiki=fixture-ukwiki&task=categories"),
             ("GET", "/admin"), ("POST", "/admin/pause"), ("POST", "/review/label")]
    for method, path in pages:
        store = app.extensions["wiki_suggest"].store
        store._unavailable_until = 0.0  # each request tries the database itself
        page = client.open(path, method=method, headers=BROWSER,
                           data=form if method == "POST" else None)
        assert page.status_code == 503, (path, page.status_code)
        assert page.mimetype == "text/html", (path, page.get_data(as_text=True)[:200])
        text = page.get_data(as_text=True)
        assert "The database is not available right now" in text and "<h1>" in text, path
        assert page.headers["Retry-After"] == "60"
        assert page.headers["X-Error-Code"] == "database_unavailable"
        plain = client.open(path, method=method, data=form if method == "POST" else None)
        assert plain.status_code == 503
        assert plain.get_json()["error"]["code"] == "database_unavailable", path
    for path in ("/api/v1/stats", "/stats.csv"):
        data = client.get(path, headers=BROWSER)
        assert data.status_code == 503
        assert data.get_json()["error"]["code"] == "database_unavailable", path


# -- Redis away: the readiness check says where the rate limits are counted ---------------------
@pytest.mark.redis
def test_readiness_says_the_rate_limits_fell_back_to_each_worker(own_redis: OwnRedis, sqlite_url: str,
                                                                  redis_prefix: str) -> None:
    """With Redis away the limiter counts in each worker (limits looser by at most the number of
    workers, nobody refused for the outage). Its log said so; /readyz did not. Now it does, and
    after Redis is back (and the limiter's pause) the buckets are shared again, without a restart."""
    app = create_app(app_config(sqlite_url, REDIS_URL=own_redis.url, REDIS_KEY_PREFIX=redis_prefix,
                                REDIS_TIMEOUT=0.3))
    client = app.test_client()
    limiter = app.extensions["wiki_suggest_ratelimit"]
    ids = issued(client, QUERY)
    assert client.get("/readyz").get_json()["rate_limits"] == "shared"

    own_redis.stop()
    ready = client.get("/readyz").get_json()
    assert ready["cache"] == "unavailable" and ready["rate_limits"] == "per-worker"
    body = client.get(URL, query_string=OTHER).get_json()
    assert body["meta"]["cache"] == "unavailable" and body["suggestions"]
    assert decide(client, ids[0]).status_code == 201  # limited per worker, not refused
    assert client.get("/readyz").get_json()["rate_limits"] == "per-worker"

    own_redis.start()
    assert client.get("/readyz").get_json()["rate_limits"] == "per-worker"  # still in its pause
    limiter._down_until = 0.0  # the pause (BACKOFF_SECONDS) is over
    assert client.get("/readyz").get_json()["rate_limits"] == "shared"
    assert decide(client, ids[1]).status_code == 201
    assert limiter.redis.exists(limiter.key("user", ANONYMOUS))


# -- odd HTTP -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/decisions", "/api/v1/decisions/batch", "/api/v1/edits"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_compressed_body_is_refused_as_such(client: Any, path: str, encoding: str) -> None:
    """A gzip body was refused as "not valid JSON" (400 invalid_body), which sends a client
    looking for a bug in its JSON; it is refused for its encoding, with the code for a body the
    service does not take (415), and nothing is stored."""
    document = {"suggestion_id": "A" * 32, "decision": "skip"}
    body = gzip.compress(json.dumps(document).encode()) if encoding == "gzip" else b"\x00\x01"
    response = client.post(path, data=body, headers={"Content-Type": "application/json",
                                                     "Content-Encoding": encoding})
    assert response.status_code == 415
    error = response.get_json()["error"]
    assert error["code"] == "unsupported_media_type" and "Content-Encoding" in error["message"]


def test_an_identity_encoding_is_accepted(client: Any) -> None:
    ids = issued(client, QUERY)
    response = client.post("/api/v1/decisions", data=json.dumps({"suggestion_id": ids[0],
                                                                 "decision": "skip"}),
                           headers={"Content-Type": "application/json", "Content-Encoding": "identity"})
    assert response.status_code == 201


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/decisions", '{{"suggestion_id": "{sid}", "decision": "accept", "decision": "reject", '
                          '"reason": "wrong_topic"}}'),
    ("/api/v1/decisions/batch", '{{"decisions": [{{"suggestion_id": "{sid}", "decision": "skip", '
                                '"suggestion_id": "{sid}"}}]}}'),
])
def test_a_key_named_twice_is_refused_and_nothing_is_stored(client: Any, path: str, body: str) -> None:
    """RFC 8259 leaves the meaning of a repeated key open; the service took the last one, where a
    proxy or another reader may take the first: an "accept" in one reading is a "reject" in
    another. Such a body is refused with the body's error code and a message that says why."""
    sid = issued(client, QUERY)[0]
    response = client.post(path, data=body.format(sid=sid), content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["message"]) == (
        "invalid_body", "the body names the same key twice in one object; send each key once")
    assert decide(client, sid).status_code == 201  # not decided by the refused body
    broken = client.post(path, data='{"decision": ', content_type="application/json")
    assert broken.get_json()["error"]["message"] == "the body is not valid JSON"
