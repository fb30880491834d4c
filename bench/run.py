"""``make bench``: every figure of the performance issue as a ratio against a floor measured in the
same run on the same machine (medians over rounds), written to bench/results.json and the table in
bench/README.md. Not a test: nothing here asserts; targets are reported as met or not.

    python -m bench.run [--only warm,cold,decisions,eval,scaling] [--quick]
    python -m bench.run --only servers    # `make bench-servers`: figures 1 and 3 on other servers
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import cold, decisions, warm
from bench.common import ROOT, SERVERS, commit, dev_dumps, fixture_dumps, log, machine, server_installed

RESULTS = Path(__file__).with_name("results.json")
README = Path(__file__).with_name("README.md")
DEFAULT_BACKEND = "e5-multilingual-offline"
EVAL_BACKENDS = ("tfidf", "e5-multilingual-offline", "transformers")
TARGETS = {"warm_ratio": (">=", 0.70), "cold_ratio": ("<=", 1.5), "decisions_ratio": (">=", 0.5),
           "rss_mb_multilingual": ("<=", 400.0)}


def evaluation(dumps: dict[str, str], per_wiki: dict[str, int]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in EVAL_BACKENDS:
        argv = [sys.executable, "-m", "bench.evaluation", name, json.dumps(dumps),
                str(per_wiki.get(name, 2))]
        try:
            done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=420,
                                  check=False)
        except subprocess.TimeoutExpired:
            found[name] = {"error": "timed out after 420 s"}
            continue
        if done.returncode != 0:
            found[name] = {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:300]}
        else:
            found[name] = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"eval {name}: {found[name]}")
    return found


def servers(quick: bool) -> dict[str, Any]:
    """Figures 1 and 3 (warm and decisions on SQLite, without their diagnostics) with the service
    and its floors on each WSGI server that is installed: what a change of the Procfile's server
    would do to each. Each ratio is against its own floor on the same server, as in the table."""
    by_server: dict[str, Any] = {}
    for name in SERVERS:
        if not server_installed(name):
            by_server[name] = {"error": "not installed (make bench-servers installs it)"}
            continue
        log(f"servers: {name}")
        w = warm.run(rounds=3 if quick else 5, seconds=3, server=name, ram_disk=False)
        d = decisions.run("sqlite", 2 if quick else 5, 150 if quick else 300, server=name,
                          diagnostics=False, batched=False)
        by_server[name] = {
            "warm_ratio": w["warm_ratio"], "warm_rounds": w["warm_rounds"],
            "warm_service_rps": w["warm_service_rps"], "warm_floor_rps": w["warm_floor_rps"],
            "warm_cpu_us_per_request": w["warm_cpu_us_per_request"],
            "warm_failed_requests": w["warm_failed_requests"],
            "decisions_ratio": d["ratio"], "decisions_rounds": d["rounds"],
            "decisions_per_s": d["service_per_s"], "decisions_raw_per_s": d["raw_per_s"],
            "decisions_cpu_us": d["service_cpu_us"], "decisions_failed": d["failed"]}
    return {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), **commit(),
            "by_server": by_server}


def verdict(key: str, value: float) -> str:
    op, target = TARGETS[key]
    met = value >= target if op == ">=" else value <= target
    return f"{op} {target:g}: {'met' if met else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="warm,cold,decisions,eval,scaling")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and articles")
    parser.add_argument("--fixture-dumps", action="store_true",
                        help="evaluation over tests/fixtures/dumps even when the development dumps "
                             "(../shared/data/dumps) are present (loading those takes about a minute "
                             "per backend); --quick implies it")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    main_figures = parts - {"servers"}  # the servers figure carries its own time and commit
    quick = args.quick
    started = time.time()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if main_figures:
        results.update({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
                        **commit()})
    if "warm" in parts:
        results.update(warm.run(rounds=3 if quick else 9, seconds=3))
    if "cold" in parts:
        by_backend = {DEFAULT_BACKEND: cold.run(DEFAULT_BACKEND, per_wiki=1),
                      "tfidf": cold.run("tfidf", per_wiki=2 if quick else 4)}
        main_run = by_backend[DEFAULT_BACKEND]
        results.update({"cold_backend": DEFAULT_BACKEND, "cold_ratio": main_run["ratio"],
                        "cold_p50_ms": main_run["p50_ms"], "cold_p95_ms": main_run["p95_ms"],
                        "cold_steady_p50_ms": main_run["steady_p50_ms"],
                        "cold_steady_p95_ms": main_run["steady_p95_ms"],
                        "cold_by_backend": by_backend})
    if "decisions" in parts:
        rounds, rows = (2, 150) if quick else (7, 300)  # decisions swing most between rounds
        sqlite_run = decisions.run("sqlite", rounds, rows)
        try:
            mysql_run: dict[str, Any] = decisions.run("mysql", rounds, rows)
        except Exception as error:  # noqa: BLE001 - MariaDB is optional on a fresh machine
            mysql_run = {"error": f"{type(error).__name__}: {error}"[:300]}
        results.update({"decisions_ratio": sqlite_run["ratio"], "decisions_sqlite": sqlite_run,
                        "decisions_mariadb": mysql_run,
                        "decisions_mariadb_ratio": mysql_run.get("ratio")})
    if "eval" in parts:
        use_fixtures = args.fixture_dumps or quick
        dumps, label = (fixture_dumps(), "tests/fixtures/dumps") if use_fixtures else dev_dumps()
        per_wiki = {"tfidf": 5, "e5-multilingual-offline": 1, "transformers": 1} if quick else \
                   {"tfidf": 10, "e5-multilingual-offline": 1, "transformers": 1}
        found = evaluation({k: str(v) for k, v in dumps.items()}, per_wiki)
        results.update({
            "eval_dumps": label,
            "eval": found,
            "eval_articles_per_s": {k: v.get("eval_articles_per_s") for k, v in found.items()},
            "eval_peak_rss_mb": {k: v.get("peak_rss_mb") for k, v in found.items()},
            "rss_mb": {k: v.get("rss_mb") for k, v in found.items()},
        })
    if "scaling" in parts:
        results["scaling"] = cold.scaling("tfidf")
    if "servers" in parts:
        results["servers"] = servers(quick)
    if main_figures:
        results["bench_seconds"] = round(time.time() - started, 1)
    rss = (results.get("rss_mb") or {}).get(DEFAULT_BACKEND)
    checks = {k: results.get(k) for k in ("warm_ratio", "cold_ratio", "decisions_ratio")}
    checks["rss_mb_multilingual"] = rss
    results["targets"] = {k: verdict(k, float(v)) for k, v in checks.items() if v is not None}
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_table(results)
    log(f"done in {time.time() - started:.1f} s: {RESULTS}")


def write_table(r: dict[str, Any]) -> None:
    """Replace the generated table between the markers in bench/README.md."""
    def g(key: str, default: Any = "–") -> Any:
        return r.get(key, default)

    dec_m = r.get("decisions_mariadb") or {}
    dec_s = r.get("decisions_sqlite") or {}
    rss = r.get("rss_mb") or {}
    evals = r.get("eval_articles_per_s") or {}
    peaks = r.get("eval_peak_rss_mb") or {}
    cold_tfidf = (r.get("cold_by_backend") or {}).get("tfidf", {})
    cold_main = (r.get("cold_by_backend") or {}).get(str(r.get("cold_backend")), {})
    targets = r.get("targets") or {}
    lines = [
        f"Measured {g('measured_at')} on {r['machine'].get('cpus')} CPUs "
        f"({r['machine'].get('cpu', '?')}), load {r['machine'].get('load_average')}, "
        f"commit `{str(g('commit'))[:10]}`{' + local changes' if r.get('dirty') else ''}; "
        f"`make bench` took {g('bench_seconds')} s; load generator: {g('warm_client')}.",
        "",
        "| figure | measured | floor | ratio | target |",
        "|---|---|---|---|---|",
        f"| 1. warm path, cached suggestions/s (gunicorn 2×4) | {g('warm_service_rps')}/s | "
        f"{g('warm_floor_rps')}/s (bare Flask, same {g('warm_body_bytes')} B JSON) | "
        f"**{g('warm_ratio')}** | {targets.get('warm_ratio', '')} |",
        f"| 1. (diagnostic) server CPU time per request, service / floor (median of rounds) | "
        f"{(r.get('warm_cpu_us_per_request') or {}).get('service', '–')} µs | "
        f"{(r.get('warm_cpu_us_per_request') or {}).get('floor', '–')} µs | "
        f"{g('warm_cpu_ratio')} | |",
        f"| 1. (diagnostic) the same service with its SQLite file on a RAM disk (no fsync) | "
        f"| same floor | {g('warm_ratio_without_fsync')} | |",
        f"| 2. cold path, {g('cold_backend')} (p50 / p95) | {g('cold_p50_ms')} / {g('cold_p95_ms')} ms"
        f" | model's own time in the request; outside it p50 {cold_main.get('outside_model_p50_ms', '–')}"
        f" / p95 {cold_main.get('outside_model_p95_ms', '–')} ms | **{g('cold_ratio')}** "
        f"(re-run floor: {cold_main.get('ratio_separate_floor', '–')}) | {targets.get('cold_ratio', '')} |",
        f"| 2. cold path, {g('cold_backend')}, steady (name vectors kept) | "
        f"{g('cold_steady_p50_ms')} / {g('cold_steady_p95_ms')} ms | | | |",
        f"| 2. cold path, tfidf (p50 / p95) | {cold_tfidf.get('p50_ms', '–')} / "
        f"{cold_tfidf.get('p95_ms', '–')} ms | model {cold_tfidf.get('model_p50_ms', '–')} ms | "
        f"{cold_tfidf.get('ratio', '–')} | (not targeted: a 5 ms model) |",
        f"| 3. decisions/s, SQLite WAL FULL, 8 clients | "
        f"{dec_s.get('service_per_s', '–')}/s | {dec_s.get('raw_per_s', '–')}/s raw, one process | "
        f"**{g('decisions_ratio')}** | {targets.get('decisions_ratio', '')} |",
        f"| 3. (diagnostic) server CPU time per decision | {dec_s.get('service_cpu_us', '–')} µs | | | |",
        f"| 3. (diagnostic) share of the machine's CPU left idle while the service decides | "
        f"{dec_s.get('idle_cpu_share', '–')} | | | |",
        *[f"| 3. (diagnostic) bare Flask endpoint, same statements, {label} | "
          f"{stack.get('per_s', '–')}/s ({stack.get('cpu_us', '–')} µs CPU each) | same raw | "
          f"{stack.get('ratio', '–')} | |"
          for label, stack in (("a commit per request", dec_s.get("bare_stack_plain")),
                               ("with the service's group commit and writer lock",
                                dec_s.get("bare_stack_queued"))) if stack],
        *[f"| 3. (diagnostic) the same statements, group commit and writer lock in a WSGI function "
          f"without Flask | {stack.get('per_s', '–')}/s ({stack.get('cpu_us', '–')} µs CPU each) | "
          f"same raw | {stack.get('ratio', '–')} | |" for stack in [dec_s.get("bare_wsgi_queued")] if stack],
        *[f"| 3. (diagnostic) the same service with its SQLite file on a RAM disk (no fsync) | "
          f"{ram.get('per_s', '–')}/s ({ram.get('cpu_us', '–')} µs CPU each) | same raw (on disk) | "
          f"{ram.get('ratio', '–')} | |" for ram in [dec_s.get("service_on_ram_disk")] if ram],
        *[f"| 3. (diagnostic) the same service, {decisions.BATCH} decisions per request "
          f"(`/api/v1/decisions/batch`, as the gadget's outbox sends waiting decisions) | "
          f"{b.get('per_s', '–')}/s ({b.get('cpu_us', '–')} µs CPU each) | same raw | "
          f"{b.get('ratio', '–')} | |" for b in [dec_s.get("service_batched")] if b],
        f"| 3. decisions/s, MariaDB, 8 clients | {dec_m.get('service_per_s', '–')}/s | "
        f"{dec_m.get('raw_per_s', '–')}/s raw | {dec_m.get('ratio', dec_m.get('error', '–'))} | "
        "reported |",
        *[f"| 3. MariaDB, {decisions.BATCH} decisions per request | {b.get('per_s', '–')}/s | "
          f"same raw | {b.get('ratio', '–')} | reported |"
          for b in [dec_m.get("service_batched")] if b],
    ]
    for name in EVAL_BACKENDS:
        lines.append(f"| 4./5. {name} | {evals.get(name, '–')} articles/s ({g('eval_dumps')}) | "
                     f"peak {peaks.get(name, '–')} MB | RSS after load **{rss.get(name, '–')} MB** | "
                     f"{targets.get('rss_mb_multilingual', '') if name == DEFAULT_BACKEND else ''} |")
    scaling = r.get("scaling") or {}
    if scaling:
        sizes = ", ".join(f"{s['wikitext_chars'] // 1000} kB {s['ms']} ms"
                          for s in scaling.get("by_size", []))
        cands = ", ".join(f"{s['candidates']} cand. {s['ms']} ms"
                          for s in scaling.get("by_candidates", []))
        lines += ["", f"6. Scaling (page parse and task, {scaling.get('backend')}): "
                      f"by wikitext size: {sizes}.",
                  f"By candidates: {cands}."]
    lines += server_lines(r.get("servers") or {})
    table = "\n".join(lines)
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = README.read_text(encoding="utf-8") if README.is_file() else f"{start}\n{end}\n"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    README.write_text(f"{head}{start}\n{table}\n{end}{tail}", encoding="utf-8")


def server_lines(found: dict[str, Any]) -> list[str]:
    """Figure 7 (when `make bench-servers` has run): figures 1 and 3 on each WSGI server."""
    if not found:
        return []
    lines = ["", f"7. The same service on other WSGI servers (`make bench-servers`, measured "
                 f"{found.get('measured_at')}, commit `{str(found.get('commit'))[:10]}`"
                 f"{' + local changes' if found.get('dirty') else ''}; each ratio "
                 "against its own floor on the same server; 2 processes × 4 threads each):", "",
             "| server | warm ratio | warm service / floor | decisions ratio | decisions/s (CPU each) |",
             "|---|---|---|---|---|"]
    for name, row in (found.get("by_server") or {}).items():
        if "error" in row:
            lines.append(f"| {name} | {row['error']} | | | |")
            continue
        cpu = row.get("warm_cpu_us_per_request") or {}
        lines.append(f"| {name} | {row['warm_ratio']} | {row['warm_service_rps']}/s / "
                     f"{row['warm_floor_rps']}/s ({cpu.get('service', '–')} / {cpu.get('floor', '–')} µs) | "
                     f"{row['decisions_ratio']} | {row['decisions_per_s']}/s against "
                     f"{row['decisions_raw_per_s']}/s raw ({row['decisions_cpu_us']} µs) |")
    return lines


if __name__ == "__main__":
    main()
