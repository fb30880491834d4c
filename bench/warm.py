"""Figure 1, the warm path: cached suggestion requests/s through gunicorn (the `make run`
settings) divided by a bare Flask endpoint answering a constant JSON of the same size.

Each cached request still checks pauses and earlier rejections and stores the freshly issued ids
(SQLite, WAL, synchronous=FULL) before it answers: that is measured, not skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from typing import Any

from bench.common import RAM_DISK, VAR, Server, fixture_dumps, fresh_sqlite, get_json, load, log, median

WIKI = "bench-enwiki"
TITLE = "Albedo"


def service_env(database: str, backend: str = "e5-multilingual-offline") -> dict[str, str]:
    dumps = fixture_dumps()
    return {
        "WIKI_SUGGEST_CONFIG": str(VAR / "no-config.yaml"),
        "TOOL_DATABASE_URL": f"sqlite:///{database}",
        "TOOL_BACKEND": backend,
        "TOOL_DUMP_WIKIS": json.dumps({WIKI: {"path": str(dumps["en"]), "lang": "en"}}),
        "TOOL_WIKIS": json.dumps({WIKI: {"THRESHOLD": 0.0}}),
        # The limiter stays on (its cost is part of the path) with limits no benchmark reaches.
        "TOOL_RATE_LIMITS": json.dumps({"enabled": True, "user": {"rate": 1e9, "burst": 10**9},
                                        "wiki": {"rate": 1e9, "burst": 10**9}}),
    }


def _fill(server: Server, path: str) -> list[str]:
    """The first (cold) request, then enough to fill each worker's in-process cache."""
    get_json(server.url + path, timeout=300)
    for _ in range(40):  # each worker has its own in-process cache (no Redis in `make run`)
        get_json(server.url + path)
    return [get_json(server.url + path)["meta"]["cache"] for _ in range(10)]


def run(rounds: int = 5, seconds: float = 4.0, server: str = "gunicorn",
        ram_disk: bool = True) -> dict[str, Any]:
    """Rounds alternate: floor, service, and (diagnostic, with ``ram_disk``) the service with its
    SQLite file on a RAM disk, where fsync costs nothing: the gap between the two services is the
    durable write. ``server``: the WSGI server both run on (``bench.common.server_argv``)."""
    VAR.mkdir(parents=True, exist_ok=True)
    database = VAR / "warm.sqlite3"
    fresh_sqlite(database)
    ram_db = RAM_DISK / f"wiki-suggest-bench-{os.getpid()}.sqlite3" \
        if ram_disk and RAM_DISK.is_dir() else None
    query = urllib.parse.urlencode({"wiki": WIKI, "title": TITLE, "task": "categories"})
    path = f"/api/v1/suggestions?{query}"
    servers: list[Server] = []
    try:
        service = Server("app:app", service_env(str(database)), f"warm-service-{server}", server)
        servers.append(service)
        service.wait("/healthz")
        log("warm: service up; first (cold) request, then filling both workers' caches")
        statuses = _fill(service, path)
        body = get_json(service.url + path)
        body_path = VAR / "floor-body.json"
        body_path.write_text(json.dumps(body), encoding="utf-8")
        floor = Server("bench.floor_app:app", {"BENCH_FLOOR_BODY": str(body_path)}, f"warm-floor-{server}",
                       server)
        servers.append(floor)
        floor.wait("/healthz")
        nofsync = None
        if ram_db is not None:
            fresh_sqlite(ram_db)
            nofsync = Server("app:app", service_env(str(ram_db)), "warm-service-ramdisk", server)
            servers.append(nofsync)
            nofsync.wait("/healthz")
            _fill(nofsync, path)
        size = len(json.dumps(body).encode())
        load(service.url + path, 1.0)  # warm-up rounds, not counted
        load(floor.url + "/api/v1/suggestions", 1.0)
        service_rps, floor_rps, ratios, ram_ratios, failed = [], [], [], [], 0
        cpu_ratios, service_cpu_us, floor_cpu_us = [], [], []

        def measured(target: Server, url: str) -> tuple[dict[str, float], float]:
            before = target.cpu_seconds()
            result = load(url, seconds)
            return result, (target.cpu_seconds() - before) / max(1.0, result["requests"]) * 1e6

        for i in range(rounds):
            # Alternate which goes first, so a change in the machine's load hits both alike.
            if i % 2:
                s, s_cpu = measured(service, service.url + path)
                f, f_cpu = measured(floor, floor.url + "/api/v1/suggestions")
            else:
                f, f_cpu = measured(floor, floor.url + "/api/v1/suggestions")
                s, s_cpu = measured(service, service.url + path)
            failed += int(s["failed"] + f["failed"])
            service_rps.append(s["rps"])
            floor_rps.append(f["rps"])
            ratios.append(s["rps"] / f["rps"])
            service_cpu_us.append(s_cpu)
            floor_cpu_us.append(f_cpu)
            cpu_ratios.append(f_cpu / s_cpu if s_cpu else float("nan"))
            extra = ""
            if nofsync is not None:
                r = load(nofsync.url + path, seconds)
                failed += int(r["failed"])
                ram_ratios.append(r["rps"] / f["rps"])
                extra = f", RAM-disk service {r['rps']:.0f}/s ({ram_ratios[-1]:.3f})"
            log(f"warm round {i + 1}/{rounds}: service {s['rps']:.0f}/s, floor {f['rps']:.0f}/s, "
                f"ratio {ratios[-1]:.3f}{extra}; server CPU per request: service {s_cpu:.0f} us, "
                f"floor {f_cpu:.0f} us (ratio {cpu_ratios[-1]:.3f})")
        return {
            "warm_ratio": round(median(ratios), 3),
            "warm_service_rps": round(median(service_rps), 1),
            "warm_floor_rps": round(median(floor_rps), 1),
            "warm_rounds": [round(r, 3) for r in ratios],
            "warm_ratio_without_fsync": round(median(ram_ratios), 3) if ram_ratios else None,
            "warm_cpu_ratio": round(median(cpu_ratios), 3),
            "warm_cpu_us_per_request": {"service": round(median(service_cpu_us), 1),
                                        "floor": round(median(floor_cpu_us), 1)},
            "warm_failed_requests": failed,
            "warm_cache_status": sorted(set(statuses)),
            "warm_body_bytes": size,
            "warm_seconds_per_round": seconds,
            "warm_client": "wrk -t1 -c8" if shutil.which("wrk") else "python, 8 connections",
        }
    finally:
        for started in servers:
            started.stop()
        if ram_db is not None:
            fresh_sqlite(ram_db)
