"""A diagnostic beside figure 3: the decision's database work in a bare Flask endpoint, through the
same gunicorn settings as the service. Each request opens the signed id, reads the computed
suggestion, inserts the issued suggestion and the decision and commits (SQLite WAL,
synchronous=FULL, raw ``sqlite3``), with nothing else: no validation, rate limit or checks.

``BENCH_QUEUED=0``: a connection per thread and a commit per request, as a plain endpoint would
do it. ``BENCH_QUEUED=1``: the service's queueing (its group commit and writer lock) around the
same statements, so the gap to the service is the service's own CPU (validation, checks,
SQLAlchemy, the rest of the request).

``plain`` is the same endpoint as a WSGI function without Flask (``bench.decisions_floor_app:plain``):
what the WSGI server and the database work cost with no web framework at all."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, jsonify, request
from orjson import dumps, loads

from suggest.store.group_commit import GroupCommit
from suggest.store.issued_ids import IssuedIds
from suggest.store.schema import SUGGESTED_COLUMNS
from suggest.store.writer_lock import WriterLock

app = Flask(__name__)
DATABASE = os.environ["BENCH_DATABASE"]
IDS = IssuedIds(os.environ["BENCH_SECRET"])
COLUMNS = ("id", "created_at", *SUGGESTED_COLUMNS, "content_id")
READ = f"SELECT {', '.join(SUGGESTED_COLUMNS)} FROM computed WHERE id = ?"
INSERT_SUGGESTION = (f"INSERT INTO suggestions ({', '.join(COLUMNS)}) "
                     f"VALUES ({', '.join(['?'] * len(COLUMNS))})")
INSERT_DECISION = ("INSERT INTO decisions (suggestion_id, wiki, decision, reason, comment, user_name, "
                   "created_at) VALUES (?, ?, ?, NULL, NULL, ?, datetime('now'))")
WIKI = SUGGESTED_COLUMNS.index("wiki")  # of a row read with READ
QUEUED = os.environ.get("BENCH_QUEUED") == "1"
WRITER = WriterLock(f"sqlite:///{DATABASE}" if QUEUED else "sqlite://")  # else a no-op
local = threading.local()


def connection() -> sqlite3.Connection:
    found: sqlite3.Connection | None = getattr(local, "connection", None)
    if found is None:  # with QUEUED, only the thread leading a group commit writes at a time
        found = local.connection = sqlite3.connect(DATABASE, isolation_level=None, timeout=15)
        found.execute("PRAGMA journal_mode=WAL")
        found.execute("PRAGMA synchronous=FULL")
    return found


def store(batch: Sequence[tuple[str, str, str | None]]) -> list[int]:
    """Store (suggestion id, decision, user) in one transaction; an HTTP status for each."""
    db = connection()
    statuses = []
    with WRITER.hold():
        db.execute("BEGIN IMMEDIATE")  # a write transaction from the start: it waits for the lock
        try:
            for sid, decision, user in batch:
                opened = IDS.open(sid)
                found = opened and db.execute(READ, (opened[0],)).fetchone()
                if not opened or not found:
                    statuses.append(404)
                    continue
                db.execute(INSERT_SUGGESTION, (sid, opened[1].isoformat(" "), *found, opened[0]))
                db.execute(INSERT_DECISION, (sid, found[WIKI], decision, user))
                statuses.append(201)
            db.execute("COMMIT")
        except sqlite3.IntegrityError:  # a replay: the bench never sends one
            db.execute("ROLLBACK")
            return [409] * len(batch)
    return statuses


GROUP: GroupCommit[tuple[str, str, str | None], int] = GroupCommit(store)


@app.post("/api/v1/decisions")
def decisions() -> tuple[Response, int]:
    data: Any = request.get_json()
    item = (data["suggestion_id"], data["decision"], data.get("user"))
    status = GROUP.submit(item) if QUEUED else store([item])[0]
    if status != 201:
        return jsonify({"error": status}), status
    return jsonify({"suggestion_id": item[0], "decision": item[1], "reason": None}), 201


@app.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


def plain(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """``POST /api/v1/decisions`` and ``GET /healthz`` as a bare WSGI function."""
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "ok"}']
    data = loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    item = (data["suggestion_id"], data["decision"], data.get("user"))
    status = GROUP.submit(item) if QUEUED else store([item])[0]
    body = dumps({"suggestion_id": item[0], "decision": item[1], "reason": None} if status == 201
                 else {"error": status})
    start_response("201 CREATED" if status == 201 else f"{status} ERROR",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
