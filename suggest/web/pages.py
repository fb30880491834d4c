"""HTML pages for people: the landing page and the health checks."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from suggest import __version__
from suggest.store.events import StoreUnavailable

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    svc = current_app.extensions["wiki_suggest"]
    return render_template("index.html", version=__version__, tasks=svc.tasks.values(),
                           enabled=svc.config["TASKS"])


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness only: touches no dependency, so a database outage never restarts workers."""
    return jsonify({"status": "ok", "version": __version__})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    svc = current_app.extensions["wiki_suggest"]
    try:
        svc.store.ping()
        database = "ok"
    except StoreUnavailable:
        database = "unavailable"
    cache = svc.cache.check() if svc.cache.redis else "in-process"
    ready = database == "ok"
    body = {"status": "ok" if ready else "unavailable", "database": database,
            "cache": "ok" if cache == "hit" else cache}
    limiter = current_app.extensions.get("wiki_suggest_ratelimit")
    if limiter is not None:  # Redis away: the limits still hold, counted in each worker
        body["rate_limits"] = limiter.mode(None if cache == "in-process" else cache == "hit")
    return jsonify(body), 200 if ready else 503
