"""Privacy: a full request cycle logs no IP address, user agent or user name; every Redis key the
app writes carries the secret prefix and a TTL; access logs are configured without them."""

from __future__ import annotations

import io
import logging
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from suggest import logging_setup
from suggest.web import create_app
from tests.conftest import app_config
from tests.reliability.helpers import ARTICLE, FakeWiki, OwnRedis

ROOT = Path(__file__).resolve().parents[2]
CLIENT_IP = "203.0.113.77"
FORWARDED_IP = "2001:db8:85a3::8a2e:370:7334"
AGENT = "PrivacyProbe/9.9 (secret-agent-marker)"
USER = "Privacy Tester Qwyjibo"
PREFIX = "test-privacy-secret-0123456789abcdef:"


def full_cycle(app: Any) -> None:
    client = app.test_client()
    env = {"REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": AGENT, "HTTP_X_FORWARDED_FOR": FORWARDED_IP,
           "HTTP_API_USER_AGENT": AGENT}
    query = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}
    ids = [s["id"] for s in client.get("/api/v1/suggestions", query_string=query,
                                       environ_base=env).get_json()["suggestions"]]
    client.get("/api/v1/suggestions", query_string=query, environ_base=env)  # cached
    assert client.post("/api/v1/decisions", json={"suggestion_id": ids[0], "decision": "accept",
                                                  "user": USER}, environ_base=env).status_code == 201
    assert client.post("/api/v1/decisions", json={"suggestion_id": ids[1], "decision": "reject",
                                                  "reason": "too_general", "comment": f"{USER} says no",
                                                  "user": USER}, environ_base=env).status_code == 201
    assert client.post("/api/v1/edits", json={"suggestion_ids": [ids[0]], "revid": 5, "user": USER},
                       environ_base=env).status_code == 201
    # Error paths: replay, unknown id, invalid body, bad wiki, a failing wiki, unknown routes.
    errors = [
        client.post("/api/v1/decisions", json={"suggestion_id": ids[0], "decision": "skip", "user": USER},
                    environ_base=env),
        client.post("/api/v1/decisions", json={"suggestion_id": "A" * 22, "decision": "skip", "user": USER},
                    environ_base=env),
        client.post("/api/v1/decisions", json={"suggestion_id": ids[2], "decision": "maybe", "user": USER},
                    environ_base=env),
        client.post("/api/v1/edits", json={"suggestion_ids": [ids[1]], "revid": 5, "user": USER},
                    environ_base=env),
        client.get("/api/v1/suggestions", query_string={**query, "wiki": "nosuchwiki"}, environ_base=env),
        client.get("/api/v1/suggestions", query_string={"wiki": "fakewiki", "title": ARTICLE,
                                                        "task": "categories"}, environ_base=env),
        client.get(f"/nothing/{USER}", environ_base=env),
        client.get("/", environ_base=env),
        client.get("/readyz", environ_base=env),
    ]
    assert [r.status_code for r in errors] == [409, 404, 400, 409, 400, 502, 404, 200, 200]


@pytest.mark.redis
def test_logs_hold_no_address_agent_or_user_name(caplog: pytest.LogCaptureFixture, own_redis: OwnRedis,
                                                 sqlite_url: str) -> None:
    with FakeWiki() as wiki:
        wiki.mode = "500"
        app = create_app(app_config(sqlite_url, REDIS_URL=own_redis.url, REDIS_KEY_PREFIX=PREFIX,
                                    EXTRA_WIKIS={"fakewiki": {"api_url": wiki.api_url}}, WIKI_TIMEOUT=1))
        with caplog.at_level(logging.DEBUG):
            full_cycle(app)
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "nothing was logged: the capture is not working"
    for secret in (CLIENT_IP, FORWARDED_IP, "2001:db8", AGENT, "secret-agent-marker", USER, "Qwyjibo"):
        assert secret not in text, secret
    assert logging_setup.redact(text.replace("127.0.0.1", "")) == text.replace("127.0.0.1", ""), text


@pytest.mark.redis
def test_every_redis_key_has_the_prefix_and_a_ttl(own_redis: OwnRedis, sqlite_url: str) -> None:
    """Our own Redis holds only what the app wrote: every key is checked, not a sample."""
    with FakeWiki() as wiki:
        wiki.mode = "500"
        app = create_app(app_config(sqlite_url, REDIS_URL=own_redis.url, REDIS_KEY_PREFIX=PREFIX,
                                    EXTRA_WIKIS={"fakewiki": {"api_url": wiki.api_url}}, WIKI_TIMEOUT=1))
        full_cycle(app)
    client = redis_lib.Redis.from_url(own_redis.url)
    keys = list(client.scan_iter("*"))
    assert len(keys) >= 4  # page revision, suggestions, wiki bucket, user bucket
    for key in keys:
        assert key.decode().startswith(PREFIX), key
        assert client.ttl(key) > 0, key
        dumped = (client.dump(key) or b"") + key
        # (Page titles may be cached: they are public wiki data, not about the editor.)
        for secret in (USER.encode(), CLIENT_IP.encode(), b"secret-agent-marker"):
            assert secret not in dumped, (key, secret)


@pytest.mark.parametrize(("line", "expected"), [
    ("client 203.0.113.7 asked", "client [ip] asked"),
    ("from 2001:db8::1 and ::1", "from [ip] and [ip]"),
    ("proxied for 10.0.0.1, 192.168.1.20", "proxied for [ip], [ip]"),
    ("v0.1.0 at 08:12:26, sha256:ab:cd, 1.2.3.4.5", "v0.1.0 at 08:12:26, sha256:ab:cd, 1.2.3.4.5"),
    ("mapped ::ffff:192.0.2.1 and fe80::1%eth0", "mapped [ip] and [ip]"),
    ("ends with ::1. Or 10.1.2.3.", "ends with [ip]. Or [ip]."),
    ("page Коло revision 12345", "page Коло revision 12345"),
])
def test_redacting_filter(line: str, expected: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (line,), None)
    assert logging_setup.RedactingFilter().filter(record)
    assert record.getMessage() == expected


def test_redacting_filter_cleans_a_logged_traceback_too() -> None:
    handler_output = io.StringIO()
    handler = logging.StreamHandler(handler_output)
    handler.addFilter(logging_setup.RedactingFilter())
    logger = logging.getLogger("test-redacting-traceback")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ConnectionError(f"Can't connect to MySQL server on '{CLIENT_IP}' ({FORWARDED_IP})")
        except ConnectionError:
            logger.exception("unexpected error on %s", "/api/v1/stats")
    finally:
        logger.removeHandler(handler)
    written = handler_output.getvalue()
    assert "ConnectionError: Can't connect to MySQL server on '[ip]' ([ip])" in written
    assert CLIENT_IP not in written and FORWARDED_IP not in written


def test_access_logs_are_configured_without_addresses_or_agents() -> None:
    fmt = logging_setup.GUNICORN_ACCESS_FORMAT
    assert not any(p in fmt for p in logging_setup.GUNICORN_FORBIDDEN)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["access_log_format"] == fmt
    makefile = (ROOT / "Makefile").read_text()
    formats = re.findall(r"--access-logformat\s+'([^']*)'", makefile)
    for found in formats:
        assert not any(p in found for p in logging_setup.GUNICORN_FORBIDDEN), found
    procfile = ROOT / "Procfile"
    if procfile.exists():
        assert "%(h)s" not in procfile.read_text() and "%(a)s" not in procfile.read_text()
    assert conf["logger_class"] == "suggest.access_log.AccessLogger"


def test_access_logger_offers_no_field_about_the_client(tmp_path: Path) -> None:
    """Even a format asking for the address, agent, referer, query string, user or any header or
    environ variable gets ``-``; the configured format gets the request's own fields."""
    import datetime as dt

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from suggest.access_log import AccessLogger

    class Request:
        headers = [("USER-AGENT", "secret-agent-marker"), ("X-FORWARDED-FOR", CLIENT_IP),
                   ("REFERER", "https://secret.example/marker")]

    class Response:
        status, sent, headers = "201 CREATED", 87, [("X-Echo", CLIENT_IP)]

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/decisions",
               "RAW_URI": "/api/v1/decisions?user=secret-query-marker",
               "QUERY_STRING": "user=secret-query-marker", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": CLIENT_IP, "HTTP_USER_AGENT": "secret-agent-marker",
               "HTTP_REFERER": "https://secret.example/marker", "HTTP_X_FORWARDED_FOR": CLIENT_IP,
               "HTTP_AUTHORIZATION": "Basic c2VjcmV0LXVzZXI6cHc="}  # secret-user:pw
    greedy = " ".join([*logging_setup.GUNICORN_FORBIDDEN, "%(u)s", "%(t)s", "%({user-agent}i)s",
                       "%({referer}i)s", "%({x-echo}o)s", "%({remote_addr}e)s",
                       "%({query_string}e)s"])
    lines = {}
    for cls in (Logger, AccessLogger):
        for name, fmt in (("greedy", greedy), ("configured", logging_setup.GUNICORN_ACCESS_FORMAT)):
            path = tmp_path / f"{cls.__name__}-{name}.log"
            config = Config()
            config.set("accesslog", str(path))
            config.set("access_log_format", fmt)
            cls(config).access(Response, Request, environ, dt.timedelta(milliseconds=4, microseconds=200))
            lines[cls.__name__, name] = path.read_text(encoding="utf-8").strip()
    # gunicorn's own logger would write them: the test can see a leak
    assert CLIENT_IP in lines["Logger", "greedy"] and "secret-agent-marker" in lines["Logger", "greedy"]
    assert lines["AccessLogger", "greedy"] == " ".join(["-"] * len(greedy.split()))
    assert lines["AccessLogger", "configured"] == "POST /api/v1/decisions 201 87 4ms"
    assert lines["AccessLogger", "configured"] == lines["Logger", "configured"]


# -- retention: the purge job removes what the data page says it removes ---------------------------
PHRASES = {"user name": "user_name", "comment": "comment"}


def promised_removals() -> dict[str, tuple[int, set[str]]]:
    """table -> (days, columns) from each table's documented retention."""
    from suggest.store.schema import metadata

    promised = {}
    for table in metadata.sorted_tables:
        text = str(table.info.get("retention", ""))
        found = re.search(r"(.*)\bremoved after (\d+) days", text)
        if found:
            columns = {col for phrase, col in PHRASES.items() if phrase in found.group(1)}
            assert columns and columns <= set(table.c.keys()), (table.name, text)
            promised[table.name] = (int(found.group(2)), columns)
    return promised


def test_purge_removes_what_the_data_page_promises(sqlite_url: str) -> None:
    import datetime as dt

    from sqlalchemy import select, update

    from suggest.metrics import purge
    from suggest.store.schema import metadata

    app = create_app(app_config(sqlite_url))
    promised = promised_removals()
    assert {"decisions", "edits"} <= set(promised)
    client = app.test_client()
    page = client.get("/data").get_data(as_text=True)
    for name, (days, _) in promised.items():
        assert days == app.config["RETENTION_DAYS"], name
        assert str(metadata.tables[name].info["retention"]) in page, name

    query = {"wiki": "fixture-ukwiki", "task": "categories"}
    ids = [s["id"] for t in ("Коло", "Радіус") for s in
           client.get("/api/v1/suggestions", query_string={**query, "title": t}).get_json()["suggestions"]]
    old, new = ids[0], ids[1]
    for sid in (old, new):
        assert client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "accept",
                                                      "comment": "fine", "user": USER}).status_code == 201
        assert client.post("/api/v1/edits", json={"suggestion_ids": [sid], "revid": 9,
                                                  "user": USER}).status_code == 201
    engine = app.extensions["wiki_suggest"].store.engine
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for name in promised:
            table = metadata.tables[name]
            conn.execute(update(table).where(table.c.suggestion_id == old)
                         .values(created_at=now - dt.timedelta(days=app.config["RETENTION_DAYS"] + 1)))
    purge.run(app.extensions["wiki_suggest"].store, app.config["RETENTION_DAYS"])
    with engine.connect() as conn:
        for name, (_, columns) in promised.items():
            table = metadata.tables[name]
            rows = {r.suggestion_id: r._mapping for r in conn.execute(select(table))}
            assert set(rows) == {old, new}, name  # rows (and so counts) are kept
            for column in columns:
                assert rows[old][column] is None, (name, column)
                assert rows[new][column] is not None, (name, column)
