"""Figure 1, the warm path: cached suggestion requests/s through gunicorn (the `make run`
settings) divided by a bare Flask endpoint answering a constant JSON of the same size.

Each cached request still checks pauses and earlier rejections and stores the freshly issued ids
(SQLite, WAL, synchronous=FULL) before it answers: that is measured, not skipped.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from bench.common import VAR, Server, fixture_dumps, get_json, load, log, median

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


def run(rounds: int = 5, seconds: float = 4.0) -> dict[str, Any]:
    VAR.mkdir(parents=True, exist_ok=True)
    database = VAR / "warm.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    query = urllib.parse.urlencode({"wiki": WIKI, "title": TITLE, "task": "categories"})
    path = f"/api/v1/suggestions?{query}"
    service = Server("app:app", service_env(str(database)), "warm-service")
    floor = None
    try:
        service.wait("/healthz")
        log("warm: service up; first (cold) request, then filling both workers' caches")
        body = get_json(service.url + path, timeout=300)
        for _ in range(40):  # each worker has its own in-process cache (no Redis in `make run`)
            body = get_json(service.url + path)
        statuses = [get_json(service.url + path)["meta"]["cache"] for _ in range(10)]
        body_path = VAR / "floor-body.json"
        body_path.write_text(json.dumps(body), encoding="utf-8")
        floor = Server("bench.floor_app:app", {"BENCH_FLOOR_BODY": str(body_path)}, "warm-floor")
        floor.wait("/healthz")
        size = len(json.dumps(body).encode())
        load(service.url + path, 1.0)  # warm-up rounds, not counted
        load(floor.url + "/api/v1/suggestions", 1.0)
        service_rps, floor_rps, ratios, failed = [], [], [], 0
        for i in range(rounds):
            f = load(floor.url + "/api/v1/suggestions", seconds)
            s = load(service.url + path, seconds)
            failed += int(s["failed"] + f["failed"])
            service_rps.append(s["rps"])
            floor_rps.append(f["rps"])
            ratios.append(s["rps"] / f["rps"])
            log(f"warm round {i + 1}/{rounds}: service {s['rps']:.0f}/s, floor {f['rps']:.0f}/s, "
                f"ratio {ratios[-1]:.3f}")
        return {
            "warm_ratio": round(median(ratios), 3),
            "warm_service_rps": round(median(service_rps), 1),
            "warm_floor_rps": round(median(floor_rps), 1),
            "warm_rounds": [round(r, 3) for r in ratios],
            "warm_failed_requests": failed,
            "warm_cache_status": sorted(set(statuses)),
            "warm_body_bytes": size,
            "warm_seconds_per_round": seconds,
        }
    finally:
        service.stop()
        if floor is not None:
            floor.stop()
