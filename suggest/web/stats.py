"""The public numbers: /stats (HTML), /api/v1/stats (JSON) and /stats.csv, no login.

All three show the same data for the same filters (wiki, task, model, weeks); the aggregates are
computed by the database (suggest/metrics/aggregates.py) and the charts are server-side SVG.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from suggest import __version__
from suggest.metrics import aggregates
from suggest.metrics.plot import rate_chart
from suggest.services import SuggestionService
from suggest.store.events import utcnow
from suggest.store.schema import pauses
from suggest.web import validation
from suggest.web.errors import ApiError
from suggest.wiki.registry import valid_wiki_id

bp = Blueprint("stats", __name__)

DEFAULT_WEEKS = 12  # at most 104 (the OpenAPI spec of /api/v1/stats)
CHARTS = (("acceptance", "Acceptance rate"), ("verified_acceptance", "Verified edit-acceptance rate"),
          ("rejection", "Rejection rate"), ("revert", "Revert rate of verified edits"))
DEFINITIONS = {
    "shown": "suggestions issued to editors, counted per day by each worker and added to the "
             "database every few seconds (SHOWN_FLUSH_SECONDS)",
    "acceptance": "accepted / decided (decided = accepted + rejected + skipped)",
    "rejection": "rejected / decided",
    "skip": "skipped / decided",
    "verified_acceptance": "verified saved edits / decided; verified = the saved revision exists, "
                           "is on the same page, by the same user, and its diff adds the suggested text",
    "revert": "reverted / (reverted + kept), verified edits checked after VERIFY_DELAY hours",
    "not_saved": "accepted but no saved revision reported within NOT_SAVED_AFTER_HOURS",
    "confirmed": "decisions whose user name a ticket of the tool's login confirmed (the gadget's "
                 "optional \"Confirm your account\"); the others carry the name the client sent",
    "over_acceptance": "share of users with at least 5 decisions in the last 28 days who "
                       "accepted every suggestion they decided on",
    "interval": "Wilson score 95% interval",
    "week": "the Monday (UTC) of the week the suggestion was shown",
}


def _service() -> SuggestionService:
    found: SuggestionService = current_app.extensions["wiki_suggest"]
    return found


def _filters() -> tuple[aggregates.Filters, int]:
    """Filters from the query string, checked as the OpenAPI spec of /api/v1/stats says (each
    given at most once, a strict pattern) and the wiki as a wiki id: 400 otherwise."""
    args = validation.query("/api/v1/stats", request.args)
    values: dict[str, str | None] = {name: args.get(name) for name in ("wiki", "task", "model")}
    if values["wiki"] is not None and not valid_wiki_id(values["wiki"]):
        raise ApiError(400, "invalid_parameter", "'wiki' is not a valid value")
    weeks = int(args.get("weeks", DEFAULT_WEEKS))
    since = utcnow() - dt.timedelta(weeks=weeks)
    return aggregates.Filters(wiki=values["wiki"], task=values["task"], backend=values["model"],
                              since=since), weeks


def collect(filters: aggregates.Filters, weeks: int) -> dict[str, Any]:
    svc = _service()
    config = svc.config
    now = utcnow()
    not_saved = dt.timedelta(hours=float(config["NOT_SAVED_AFTER_HOURS"]))
    svc.shown.flush()  # this worker's counts now; other workers' within SHOWN_FLUSH_SECONDS
    with svc.store.engine.connect() as conn:
        totals = aggregates.totals(conn, filters, now, not_saved)
        series = aggregates.weekly(conn, filters, now, not_saved, by_model=False)
        by_model = aggregates.weekly(conn, filters, now, not_saved, by_model=True)
        precision = aggregates.review_precision(conn, filters)
        models = aggregates.models(conn)
        paused = [dict(r._mapping) for r in conn.execute(select(pauses).order_by(pauses.c.wiki))]
    for row in totals:
        row["review_precision"] = precision.get((row["task"], row["wiki"]))
    return {
        "generated_at": now.isoformat() + "Z",
        "filters": {"wiki": filters.wiki, "task": filters.task, "model": filters.backend,
                    "weeks": weeks, "since": filters.since.isoformat() if filters.since else None},
        "definitions": DEFINITIONS,
        "alarms": {"rules": config["ALARMS"], "min_decisions": config["ALARM_MIN_DECISIONS"],
                   "min_editors": config["ALARM_MIN_EDITORS"],
                   "window_days": config["ALARM_WINDOW_DAYS"],
                   "confirmed_only": bool(config.get("ALARM_CONFIRMED_ONLY"))},
        "totals": totals,
        "weeks": series,
        "weeks_by_model": by_model,
        "models": models,
        "pauses": [{**p, "paused_at": p["paused_at"].isoformat() + "Z"} for p in paused],
        "audit_log": [{**a, "at": a["at"].isoformat() + "Z"} for a in svc.store.audit_entries(50)],
    }


def _week_range(first: str, last: str) -> list[str]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(weeks=i)).isoformat() for i in range((end - start).days // 7 + 1)]


def charts(data: dict[str, Any]) -> dict[tuple[str, str], list[tuple[str, Markup]]]:
    """One SVG per rate for each task and wiki, every week of the period on the x axis."""
    found: dict[tuple[str, str], list[tuple[str, Markup]]] = {}
    weeks = sorted({row["week"] for row in data["weeks"]})
    if not weeks:
        return found
    axis = _week_range(weeks[0], weeks[-1])
    for total in data["totals"]:
        rows = {r["week"]: r for r in data["weeks"]
                if r["task"] == total["task"] and r["wiki"] == total["wiki"]}
        plots = []
        for rate, title in CHARTS:
            points = [{"week": w, **(rows[w]["rates"][rate] if w in rows else {"value": None})}
                      for w in axis]
            # Markup: rate_chart escapes every text it writes into the SVG.
            plots.append((title, Markup(rate_chart(f"{title}, {total['task']} on {total['wiki']}",
                                                   points))))
        found[(total["task"], total["wiki"])] = plots
    return found


@bp.get("/stats")
def stats_page() -> str:
    filters, weeks = _filters()
    data = collect(filters, weeks)
    svc = _service()
    labels = {(task.id, r.id): r.label for task in svc.tasks.values() for r in task.reasons}
    return render_template("stats.html", data=data, charts=charts(data), tasks=sorted(svc.tasks),
                           reason_labels=labels, chart_rates=CHARTS,
                           wikis=sorted({t["wiki"] for t in data["totals"]} | (
                               {filters.wiki} if filters.wiki else set())),
                           version=__version__)


@bp.get("/api/v1/stats")
def stats_json() -> Response:
    filters, weeks = _filters()
    return jsonify(collect(filters, weeks))


CSV_COUNTS = aggregates.COUNTS


@bp.get("/stats.csv")
def stats_csv() -> Response:
    """Weekly rows per model, one line each: counts, then value/low/high of every rate."""
    filters, weeks = _filters()
    data = collect(filters, weeks)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rate_names = list(aggregates.RATES)
    writer.writerow([*aggregates.GROUP_KEYS, *CSV_COUNTS,
                     *(f"{r}_{part}" for r in rate_names for part in ("value", "low", "high")),
                     "rejected_by_reason"])
    for row in data["weeks_by_model"]:
        reasons = ";".join(f"{k}={v}" for k, v in sorted(row["rejected_by_reason"].items()))
        writer.writerow([*(row[k] for k in aggregates.GROUP_KEYS), *(row[c] for c in CSV_COUNTS),
                         *(row["rates"][r][part] if row["rates"][r][part] is not None else ""
                           for r in rate_names for part in ("value", "low", "high")),
                         reasons])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=wiki-suggest-stats.csv"})
