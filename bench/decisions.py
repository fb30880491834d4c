"""Figure 3, decisions: acknowledged (201, committed) decisions/s from concurrent clients through
gunicorn, divided by raw inserts of the same rows from one process with one commit per row and the
same durability setting (SQLite WAL with synchronous=FULL; MariaDB as configured on the server)."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import secrets
import sqlite3
import threading
import time
import uuid
from typing import Any

from bench.common import VAR, Server, log, median

CLIENTS = 8


def _suggestion_rows(count: int) -> list[dict[str, Any]]:
    return [{"id": secrets.token_urlsafe(16), "wiki": "bench-enwiki", "task": "categories",
             "task_version": "bench", "page_title": f"Bench {i % 50}", "page_id": i, "revid": i,
             "rank": 0, "label": "Bench", "wikitext": "[[Category:Bench]]", "score": 0.5,
             "explanation": "bench", "details": "{}", "backend": "tfidf", "model_checksum": "bench",
             "config_hash": "bench", "app_version": "bench"} for i in range(count)]


def _decision_rows(ids: list[str]) -> list[tuple[Any, ...]]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return [(i, "accept", None, None, None, now) for i in ids]


def _sqlite_floor(path: str, ids: list[str]) -> float:
    connection = sqlite3.connect(path, isolation_level=None, timeout=15)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    rows = _decision_rows(ids)
    started = time.perf_counter()
    for row in rows:
        connection.execute("BEGIN")
        connection.execute("INSERT INTO decisions (suggestion_id, decision, reason, comment, "
                           "user_name, created_at) VALUES (?, ?, ?, ?, ?, ?)", row)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows) / elapsed


def _mysql_floor(url: str, ids: list[str]) -> float:
    import pymysql

    database = url.rsplit("/", 1)[1]
    connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database,
                                 autocommit=False, charset="utf8mb4")
    rows = _decision_rows(ids)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute("INSERT INTO decisions (suggestion_id, decision, reason, comment, "
                           "user_name, created_at) VALUES (%s, %s, %s, %s, %s, %s)", row)
            connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows) / elapsed


def _clients(url: str, ids: list[str], limit_seconds: float) -> tuple[float, int, int]:
    """POST one decision per id from CLIENTS threads; (acknowledged/s, acknowledged, failed)."""
    port = int(url.rsplit(":", 1)[1])
    queue = list(ids)
    lock = threading.Lock()
    ok = [0]
    bad = [0]
    deadline = time.monotonic() + limit_seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(len(ids)):
            with lock:
                if not queue or time.monotonic() > deadline:
                    break
                sid = queue.pop()
            body = json.dumps({"suggestion_id": sid, "decision": "accept"})
            try:
                conn.request("POST", "/api/v1/decisions", body,
                             {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                good = response.status == 201
            except (OSError, http.client.HTTPException):
                good = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                (ok if good else bad)[0] += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(limit_seconds + 120)
    elapsed = time.perf_counter() - started
    return ok[0] / elapsed, ok[0], bad[0]


def run(kind: str = "sqlite", rounds: int = 3, per_round: int = 300) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    from suggest.store.events import EventStore

    VAR.mkdir(parents=True, exist_ok=True)
    admin = None
    if kind == "sqlite":
        path = VAR / "decisions.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        name = f"ws_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine("mysql+pymysql://root@127.0.0.1:3306")
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 "
                              "COLLATE utf8mb4_unicode_ci"))
        url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    store = EventStore(url)
    store.upgrade()
    env = {"TOOL_DATABASE_URL": url, "TOOL_BACKEND": "tfidf",
           "WIKI_SUGGEST_CONFIG": str(VAR / "no-config.yaml"),
           "TOOL_RATE_LIMITS": json.dumps({"enabled": True, "user": {"rate": 1e9, "burst": 10**9},
                                           "wiki": {"rate": 1e9, "burst": 10**9}})}
    server = Server("app:app", env, f"decisions-{kind}")
    try:
        server.wait("/healthz")
        service_rates, floor_rates, ratios, failed = [], [], [], 0
        for i in range(rounds):
            rows = _suggestion_rows(2 * per_round)
            for start in range(0, len(rows), 100):
                store.issue(rows[start:start + 100])
            ids = [r["id"] for r in rows]
            floor = (_sqlite_floor(str(path), ids[:per_round]) if kind == "sqlite"
                     else _mysql_floor(url, ids[:per_round]))
            rate, _, bad = _clients(server.url, ids[per_round:], limit_seconds=60)
            failed += bad
            service_rates.append(rate)
            floor_rates.append(floor)
            ratios.append(rate / floor)
            log(f"decisions {kind} round {i + 1}/{rounds}: service {rate:.0f}/s, "
                f"raw {floor:.0f}/s, ratio {ratios[-1]:.2f}")
        return {"ratio": round(median(ratios), 3), "service_per_s": round(median(service_rates), 1),
                "raw_per_s": round(median(floor_rates), 1), "rounds": [round(r, 3) for r in ratios],
                "failed": failed, "clients": CLIENTS}
    finally:
        server.stop()
        store.engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}"))
            admin.dispose()
