"""Figure 3, decisions: acknowledged (201, committed) decisions/s from concurrent clients through
gunicorn, divided by raw inserts of the same rows from one process with one commit per decision and
the same durability setting (SQLite WAL with synchronous=FULL; MariaDB as configured on the server).

Each decision is the first on a signed suggestion id, as from the gadget: the service checks the
signature, reads the computed suggestion and commits the issued suggestion and the decision in one
transaction. The floor commits the same two rows per transaction.

Diagnostics (SQLite only), measured in the same rounds: the server's CPU time per decision, the
share of the machine's CPU left idle meanwhile, a bare Flask endpoint doing the same
statements through the same gunicorn settings (``bench/decisions_floor_app.py``), once with a
commit per request and once with the service's group commit and writer lock: what this web stack
reaches before the service's own work; the same queued statements in a WSGI function without
Flask: what the WSGI server reaches before any framework; and the service with its SQLite file
on a RAM disk, where fsync costs nothing (against the same floor on disk): what the service
reaches without waiting for the disk."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from bench.common import RAM_DISK, VAR, Server, fresh_sqlite, idle_share, log, machine_cpu_ticks, median, wrk
from suggest.store.issued_ids import IssuedIds, content_id
from suggest.store.schema import SUGGESTED_COLUMNS, issued_row

if TYPE_CHECKING:
    from suggest.store.events import EventStore

CLIENTS = 8


SECRET = secrets.token_hex(32)  # the server's TOOL_SECRET_KEY: the bench signs ids as it does
COLUMNS = ("id", "created_at", *SUGGESTED_COLUMNS, "content_id")


def _computed_rows(count: int, round_: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        row: dict[str, Any] = {
            "wiki": "bench-enwiki", "task": "categories", "task_version": "bench",
            "page_title": f"Bench {round_} {i}", "page_id": i, "revid": i, "rank": 0,
            "label": "Bench", "wikitext": "[[Category:Bench]]", "score": 0.5, "explanation": "bench",
            "details": "{}", "backend": "tfidf", "model_checksum": "bench", "config_hash": "bench",
            "app_version": "bench"}
        row["id"] = content_id(row)
        rows.append(row)
    return rows


def _issued(rows: list[dict[str, Any]]) -> list[str]:
    ids = IssuedIds(SECRET)
    return [ids.issue(r["id"]) for r in rows]


EDITORS = 50  # the decisions come from this many editors, named as the gadget names them


def editor(n: int) -> str:
    return f"Bench editor {n % EDITORS}"


def _floor_rows(rows: list[dict[str, Any]], ids: list[str]) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(issued suggestion row, decision row) per decision, as the service writes them."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    out = []
    for n, (row, sid) in enumerate(zip(rows, ids, strict=True)):
        issued = issued_row(row, sid, now)
        out.append((tuple(issued[c] for c in COLUMNS),
                    (sid, issued["wiki"], "accept", None, None, editor(n), now)))
    return out


INSERT_SUGGESTION = (f"INSERT INTO suggestions ({', '.join(COLUMNS)}) "
                     f"VALUES ({', '.join(['?'] * len(COLUMNS))})")
INSERT_DECISION = ("INSERT INTO decisions (suggestion_id, wiki, decision, reason, comment, user_name, "
                   "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")


FLOOR_SECONDS = 2.0  # as long as the service's own measurement (WRK_SECONDS): a short run of
# fsyncs on a shared disk swings by 2x, and a longer one meets the same WAL checkpoints
FLOOR_ROWS = 40_000  # more than one process commits in FLOOR_SECONDS here


def _sqlite_floor(path: str, rows: list[tuple[tuple[Any, ...], tuple[Any, ...]]]) -> float:
    """Rows/s, one transaction per decision, for FLOOR_SECONDS (or until the rows run out)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=15)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    done, started = 0, time.perf_counter()
    for suggestion, decision in rows:
        connection.execute("BEGIN")
        connection.execute(INSERT_SUGGESTION, suggestion)
        connection.execute(INSERT_DECISION, decision)
        connection.execute("COMMIT")
        done += 1
        if time.perf_counter() - started >= FLOOR_SECONDS:
            break
    elapsed = time.perf_counter() - started
    connection.close()
    return done / elapsed


def _mysql_floor(url: str, rows: list[tuple[tuple[Any, ...], tuple[Any, ...]]]) -> float:
    """As :func:`_sqlite_floor`, on MariaDB."""
    import pymysql

    database = url.rsplit("/", 1)[1]
    connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database,
                                 autocommit=False, charset="utf8mb4")
    done, started = 0, time.perf_counter()
    with connection.cursor() as cursor:
        for suggestion, decision in rows:
            cursor.execute(INSERT_SUGGESTION.replace("?", "%s"), suggestion)
            cursor.execute(INSERT_DECISION.replace("?", "%s"), decision)
            connection.commit()
            done += 1
            if time.perf_counter() - started >= FLOOR_SECONDS:
                break
    elapsed = time.perf_counter() - started
    connection.close()
    return done / elapsed


WRK_SCRIPT = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  local sid = ids[n] or "unknown-suggestion-id"
  -- As the gadget sends it: with the editor's user name (their rate-limit bucket).
  return wrk.format("POST", "/api/v1/decisions", {["Content-Type"] = "application/json"},
                    '{"suggestion_id": "' .. sid .. '", "decision": "accept", "user": "Bench editor ' ..
                    (n %% %d) .. '"}')
end
"""
WRK_BATCH_SCRIPT = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
local n = 0
request = function()
  local items = {}
  for k = 1, %d do
    n = n + 1
    items[k] = '{"suggestion_id": "' .. (ids[n] or "unknown-suggestion-id") .. '", "decision": "accept"}'
  end
  -- As the gadget's outbox sends them: one editor's waiting decisions, the user named once.
  return wrk.format("POST", "/api/v1/decisions/batch", {["Content-Type"] = "application/json"},
                    '{"user": "Bench editor ' .. (n %% %d) .. '", "decisions": [' ..
                    table.concat(items, ", ") .. ']}')
end
"""
WRK_SECONDS = 2
WRK_IDS = 12_000  # more than 8 connections decide in WRK_SECONDS here; a repeated id would be a 409
BATCH = 5  # decisions per request in the batched diagnostic: a panel's worth
WRK_BATCH_IDS = 40_000


def _wrk_clients(url: str, ids: list[str]) -> tuple[float, int, int]:
    """wrk with CLIENTS connections, each decision on the next id; (acknowledged/s,
    acknowledged, failed). Ids run out only if the service decides faster than WRK_IDS in
    WRK_SECONDS; those answers are 404s and count as failed."""
    id_file, script = VAR / "decision-ids.txt", VAR / "decisions.lua"
    id_file.write_text("\n".join(ids) + "\n", encoding="ascii")
    script.write_text(WRK_SCRIPT % (id_file, EDITORS), encoding="ascii")
    run = wrk(url + "/api/v1/decisions", WRK_SECONDS, CLIENTS, script)
    total, failed, seconds = int(run["requests"]), int(run["failed"]), run["seconds"]
    return (total - failed) / seconds, total - failed, failed


def _wrk_batches(url: str, ids: list[str], size: int) -> tuple[float, int, int]:
    """wrk with CLIENTS connections, each request a batch of ``size`` first decisions; (decisions
    acknowledged/s, acknowledged, failed requests). A 200 acknowledges its whole batch here: every
    id is fresh (the run's stored decisions are counted against it afterwards)."""
    id_file, script = VAR / "decision-batch-ids.txt", VAR / "decisions-batch.lua"
    id_file.write_text("\n".join(ids) + "\n", encoding="ascii")
    script.write_text(WRK_BATCH_SCRIPT % (id_file, size, EDITORS), encoding="ascii")
    run = wrk(url + "/api/v1/decisions/batch", WRK_SECONDS, CLIENTS, script)
    total, failed, seconds = int(run["requests"]), int(run["failed"]), run["seconds"]
    return size * (total - failed) / seconds, size * (total - failed), failed


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
                n = len(queue)
            body = json.dumps({"suggestion_id": sid, "decision": "accept", "user": editor(n)})
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


def _service_env(url: str) -> dict[str, str]:
    return {"TOOL_DATABASE_URL": url, "TOOL_BACKEND": "tfidf", "TOOL_SECRET_KEY": SECRET,
            "WIKI_SUGGEST_CONFIG": str(VAR / "no-config.yaml"),
            "TOOL_RATE_LIMITS": json.dumps({"enabled": True, "user": {"rate": 1e9, "burst": 10**9},
                                            "wiki": {"rate": 1e9, "burst": 10**9}})}


RAM_DISK_DATABASE = RAM_DISK / f"wiki-suggest-bench-decisions-{os.getpid()}.sqlite3"


def _service_on_ram_disk() -> tuple[Server, EventStore] | None:
    """The service with its SQLite file in /dev/shm (None where there is none)."""
    from suggest.store.events import EventStore

    if not RAM_DISK.is_dir():
        return None
    url = fresh_sqlite(RAM_DISK_DATABASE)
    store = EventStore(url)
    store.upgrade()
    server = Server("app:app", _service_env(url), "decisions-service-ramdisk")
    server.wait("/healthz")
    return server, store


def _bare_stack(queued: bool, flask: bool = True) -> tuple[Server, EventStore]:
    """The bare-stack diagnostic (``bench/decisions_floor_app.py``) on its own SQLite file with
    the service's schema; ``queued``: with the service's group commit and writer lock;
    ``flask``: as a Flask endpoint, else as a WSGI function without a framework."""
    from suggest.store.events import EventStore

    name = f"decisions-stack-{int(queued)}{'' if flask else '-wsgi'}"
    path = VAR / f"{name}.sqlite3"
    store = EventStore(fresh_sqlite(path))
    store.upgrade()
    server = Server(f"bench.decisions_floor_app:{'app' if flask else 'plain'}",
                    {"BENCH_DATABASE": str(path), "BENCH_SECRET": SECRET,
                     "BENCH_QUEUED": str(int(queued))}, name)
    server.wait("/healthz")
    return server, store


def _measure(server: Server, store: Any, rows: list[dict[str, Any]], use_wrk: bool, batch: int = 1
             ) -> tuple[float, int, float, float]:
    """Store the computed rows, post a first decision on a fresh id for each (``batch`` > 1: that
    many per request, through the batch endpoint); (acknowledged/s, failed, server CPU µs per
    acknowledged decision, share of the machine's CPU left idle)."""
    for start in range(0, len(rows), 500):
        store.store_computed(rows[start:start + 500])
    ids = _issued(rows)
    before = _decided(store)
    cpu, ticks = server.cpu_seconds(), machine_cpu_ticks()
    if batch > 1:
        rate, ok, bad = _wrk_batches(server.url, ids, batch)
        if _decided(store) - before < ok:
            raise RuntimeError("fewer decisions stored than the batches acknowledged")
    elif use_wrk:
        rate, ok, bad = _wrk_clients(server.url, ids)
    else:
        rate, ok, bad = _clients(server.url, ids, limit_seconds=60)
    idle = idle_share(ticks, machine_cpu_ticks())
    return rate, bad, 1e6 * (server.cpu_seconds() - cpu) / max(ok, 1), idle


def _decided(store: Any) -> int:
    from sqlalchemy import func, select

    from suggest.store.schema import decisions

    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())


def run(kind: str = "sqlite", rounds: int = 3, per_round: int = 300, server: str = "gunicorn",
        diagnostics: bool = True, batched: bool = True) -> dict[str, Any]:
    """``per_round``: decisions per round for the floor and the service when there is no wrk
    (with wrk both run for WRK_SECONDS); ``server``: the WSGI server the service runs on
    (``bench.common.server_argv``);
    ``diagnostics``: also measure the bare stacks and the RAM disk (SQLite only, on gunicorn);
    ``batched``: also the service with BATCH decisions per request (the batch endpoint)."""
    from sqlalchemy import create_engine, text

    from suggest.store.events import EventStore

    VAR.mkdir(parents=True, exist_ok=True)
    admin = None
    if kind == "sqlite":
        path = VAR / "decisions.sqlite3"
        url = fresh_sqlite(path)
    else:
        name = f"ws_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine("mysql+pymysql://root@127.0.0.1:3306")
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 "
                              "COLLATE utf8mb4_unicode_ci"))
        url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    store = EventStore(url)
    store.upgrade()
    service = Server("app:app", _service_env(url), f"decisions-{kind}-{server}", server)
    stacks: dict[str, tuple[Server, EventStore]] = {}  # diagnostics, by their key in the result
    try:
        service.wait("/healthz")
        if kind == "sqlite" and diagnostics:  # (each stopped below once started)
            stacks["bare_stack_plain"] = _bare_stack(False)
            stacks["bare_stack_queued"] = _bare_stack(True)
            stacks["bare_wsgi_queued"] = _bare_stack(True, flask=False)
            on_ram_disk = _service_on_ram_disk()
            if on_ram_disk is not None:
                stacks["service_on_ram_disk"] = on_ram_disk
        use_wrk = shutil.which("wrk") is not None
        if use_wrk and batched:
            stacks["service_batched"] = (service, store)  # the same service, BATCH per request
        service_rates, floor_rates, ratios, cpu, idle, failed = [], [], [], [], [], 0
        stack_runs: dict[str, list[tuple[float, float]]] = {name: [] for name in stacks}
        for i in range(rounds):
            rows = _computed_rows(WRK_IDS if use_wrk else per_round, i)
            floor_rows = _computed_rows(FLOOR_ROWS if use_wrk else per_round, 2000 + i)
            raw = _floor_rows(floor_rows, _issued(floor_rows))
            floor = _sqlite_floor(str(path), raw) if kind == "sqlite" else _mysql_floor(url, raw)
            order = [("service", (service, store)), *stacks.items()]
            if i % 2:
                order.reverse()
            for name, (target, target_store) in order:
                if name == "service_batched":
                    more = _computed_rows(WRK_BATCH_IDS, 1000 + i)
                    rate, bad, per, idle_cpu = _measure(target, target_store, more, use_wrk, BATCH)
                    failed += bad
                    stack_runs[name].append((rate, per))
                    continue
                rate, bad, per, idle_cpu = _measure(target, target_store, rows, use_wrk)
                if name == "service":
                    failed += bad
                    service_rates.append(rate)
                    cpu.append(per)
                    idle.append(idle_cpu)
                else:
                    stack_runs[name].append((rate, per))
            floor_rates.append(floor)
            ratios.append(service_rates[-1] / floor)
            log(f"decisions {kind} round {i + 1}/{rounds}: service {service_rates[-1]:.0f}/s, "
                f"raw {floor:.0f}/s, ratio {ratios[-1]:.2f}"
                + "".join(f"; {n.replace('_', ' ')} {r[-1][0]:.0f}/s" for n, r in stack_runs.items()))
        result = {"ratio": round(median(ratios), 3), "service_per_s": round(median(service_rates), 1),
                  "raw_per_s": round(median(floor_rates), 1), "rounds": [round(r, 3) for r in ratios],
                  "service_cpu_us": round(median(cpu), 1), "idle_cpu_share": round(median(idle), 3),
                  "failed": failed, "clients": CLIENTS,
                  "client": f"wrk -t1 -c{CLIENTS}" if use_wrk else f"python, {CLIENTS} threads",
                  "server": server}
        for name, runs in stack_runs.items():
            rates = [r for r, _ in runs]
            result[name] = {
                "per_s": round(median(rates), 1), "cpu_us": round(median([c for _, c in runs]), 1),
                "ratio": round(median([r / f for r, f in zip(rates, floor_rates, strict=True)]), 3)}
        return result
    finally:
        service.stop()
        store.engine.dispose()
        for stack_server, stack_store in stacks.values():
            stack_server.stop()
            stack_store.engine.dispose()
        if "service_on_ram_disk" in stacks:
            fresh_sqlite(RAM_DISK_DATABASE)
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}"))
            admin.dispose()
