"""Load with a crash: gunicorn with three workers on loopback, each on its own socket
(``--reuse-port``, as in the Procfile), a bounded load of suggestions and decisions from several
threads for a fixed time, and ``kill -9`` of one worker in the middle.

Afterwards every decision that got a 201 is in the database exactly once, no decision is stored
that was not acknowledged unless its request was cut off by the kill, and no request outside the
killed ones failed. The numbers are printed (``pytest -s``) and asserted.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select

from suggest.store.schema import decisions, suggestions
from tests.conftest import DUMPS, REDIS_URL, dump_wikis
from tests.reliability.helpers import free_port, wait_for_listeners, worker_pids

ROOT = Path(__file__).resolve().parents[2]
DURATION = 15.0  # seconds of load
KILL_AT = 7.0  # seconds into the load
THREADS = 6
WORKERS = 3
AGENT = "LoadProbe/1.0 (load-agent-marker)"
WIKIS = ("uk",)  # one wiki: a cold worker needs ~9 s (imports, dump, model) per process
REASONS = ["wrong_topic", "too_general", "too_specific", "already_covered", "other"]


def titles(lang: str) -> list[str]:
    text = (DUMPS / f"{lang}wiki-sample.xml").read_text(encoding="utf-8")
    return [t for t in re.findall(r"<title>([^<]+)</title>", text) if ":" not in t]


@dataclass
class Call:
    kind: str  # suggest, decide, replay
    started: float
    ended: float
    status: int | None  # None: no HTTP answer (connection cut)
    sid: str | None = None
    error: str | None = None


class Load:
    def __init__(self, base: str, seed: int) -> None:
        self.base = base
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.rng = random.Random(seed)
        self.pages = [(f"fixture-{lang}wiki", t) for lang in WIKIS for t in titles(lang)]

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def request(self, http: requests.Session, kind: str, method: str, path: str,
                sid: str | None = None, **kwargs: Any) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = http.request(method, self.base + path, timeout=30, **kwargs)
        except requests.RequestException as error:
            self.record(Call(kind, started, time.monotonic(), None, sid, type(error).__name__))
            return None
        self.record(Call(kind, started, time.monotonic(), response.status_code, sid))
        return response

    def worker(self, n: int) -> None:
        rng = random.Random(n)
        http = requests.Session()
        http.headers["User-Agent"] = AGENT
        decided: list[str] = []
        while not self.stop.is_set():
            wiki, title = rng.choice(self.pages)
            response = self.request(http, "suggest", "GET", "/api/v1/suggestions",
                                    params={"wiki": wiki, "title": title, "task": "categories"})
            if response is None or response.status_code != 200:
                continue
            for item in response.json()["suggestions"]:
                decision = rng.choice(["accept", "reject", "skip"])
                body = {"suggestion_id": item["id"], "decision": decision, "user": f"Load user {n}"}
                if decision == "reject":
                    body["reason"] = rng.choice(REASONS)
                answer = self.request(http, "decide", "POST", "/api/v1/decisions", sid=item["id"], json=body)
                if answer is not None and answer.status_code == 201:
                    decided.append(item["id"])
            if decided and rng.random() < 0.2:  # a replay must be refused, never stored twice
                self.request(http, "replay", "POST", "/api/v1/decisions", sid=decided[-1],
                             json={"suggestion_id": decided[-1], "decision": "skip"})


def wait_until_dead(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited (gone, or a zombie its parent has not reaped yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.002)
    return False


EXPECTED = {"suggest": {200, 404}, "decide": {201}, "replay": {409}}


@pytest.mark.load
@pytest.mark.timeout(150)
def test_decisions_survive_a_worker_killed_under_load(tmp_path: Path, redis_prefix: str) -> None:
    db = tmp_path / "events.sqlite3"
    env = {**os.environ,
           "TOOL_DATABASE_URL": f"sqlite:///{db}", "TOOL_BACKEND": "tfidf", "TOOL_THRESHOLD": "0.0",
           "TOOL_DUMP_WIKIS": json.dumps(dump_wikis()), "TOOL_SECRET_KEY": "load-test-secret",
           "TOOL_REDIS_URL": REDIS_URL, "TOOL_REDIS_KEY_PREFIX": redis_prefix,
           "TOOL_RATE_LIMITS": json.dumps({"user": {"rate": 1000, "burst": 100000},
                                           "wiki": {"rate": 1000, "burst": 100000}}),
           "WIKI_SUGGEST_CONFIG": str(tmp_path / "none.yaml")}
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        master = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
             "--workers", str(WORKERS), "--reuse-port", "--bind", f"127.0.0.1:{port}",
             "--graceful-timeout", "5", "app:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    try:
        wait_for_listeners(port, WORKERS)
        load = Load(f"http://127.0.0.1:{port}", seed=8)
        # Warm-up: one request per worker (sync workers take one at a time), so that every worker
        # has read the dump and fitted the model before the clock starts.
        warm = [threading.Thread(target=lambda: requests.get(
            f"{load.base}/api/v1/suggestions", timeout=90,
            params={"wiki": "fixture-ukwiki", "title": titles("uk")[3], "task": "categories"}))
            for _ in range(WORKERS)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        warm_seconds = round(time.monotonic() - t0, 1)

        threads = [threading.Thread(target=load.worker, args=(n,)) for n in range(THREADS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(KILL_AT)
        victims = worker_pids(master.pid)
        assert len(victims) == WORKERS
        victim = victims[1]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        # A process of hundreds of MB takes a while to die under load, and its connections
        # stay open until it has: requests sent meanwhile were in flight when it died.
        assert wait_until_dead(victim, timeout=10)
        dead_at = time.monotonic()
        time.sleep(max(0.0, DURATION - (time.monotonic() - started)))
        load.stop.set()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
        replaced = worker_pids(master.pid)
        assert victim not in replaced and len(replaced) == WORKERS  # the master replaced it
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(30)

    calls = load.calls
    # A request "was killed" if it got no HTTP answer and was in flight when the worker died.
    killed = [c for c in calls if c.status is None and c.started <= dead_at + 0.05 and c.ended >= killed_at]
    errors = [c for c in calls if c not in killed and c.status not in EXPECTED[c.kind]]
    acknowledged = {c.sid for c in calls if c.kind == "decide" and c.status == 201}
    cut_off = {c.sid for c in killed if c.kind == "decide"}

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = Counter(conn.execute(select(decisions.c.suggestion_id)).scalars())
        issued = conn.execute(select(func.count()).select_from(suggestions)).scalar_one()
    engine.dispose()

    by_kind = Counter(c.kind for c in calls)
    numbers = {
        "requests": len(calls), "suggest": by_kind["suggest"], "decide": by_kind["decide"],
        "replay": by_kind["replay"], "killed_requests": len(killed), "errors_outside_kill": len(errors),
        "decisions_acknowledged": len(acknowledged), "decisions_stored": sum(rows.values()),
        "acknowledged_and_stored_once": sum(1 for s in acknowledged if rows.get(s) == 1),
        "stored_not_acknowledged": len(set(rows) - acknowledged), "suggestions_issued": issued,
        "statuses": dict(Counter(str(c.status) for c in calls)),
        "requests_per_second": round(len(calls) / DURATION, 1), "cold_start_seconds": warm_seconds,
    }
    print("\nload with a worker killed:", json.dumps(numbers, ensure_ascii=False))

    assert by_kind["suggest"] >= 30 and len(acknowledged) >= 30, numbers  # the load was real
    assert errors == [], (errors[:5], killed_at, dead_at)
    assert all(rows.get(sid) == 1 for sid in acknowledged), numbers
    assert max(rows.values()) == 1
    assert set(rows) - acknowledged <= cut_off, numbers  # only a cut-off request may be unconfirmed
    assert by_kind["replay"] > 0

    # The access log has lines, and none names the client's address or user agent.
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    access = [ln for ln in lines if re.match(r"(GET|POST) /", ln)]
    assert len(access) >= len(calls) - len(killed) - 5
    assert not [ln for ln in access if "127.0.0.1" in ln or "load-agent-marker" in ln]
    assert not [ln for ln in lines if "load-agent-marker" in ln or "Load user" in ln]
