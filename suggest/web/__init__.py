"""The web layer: the Flask app factory, blueprints, errors and security headers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from suggest.config import load_config
from suggest.logging_setup import configure as configure_logging
from suggest.services import SuggestionService, user_agent
from suggest.store.cache import ResultCache
from suggest.store.events import EventStore, StoreUnavailable
from suggest.web.fast_json import FastJSONProvider
from suggest.wiki.api_source import make_session
from suggest.wiki.registry import META_API, WikiRegistry, sitematrix_fetcher

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(Path(__file__).parent / "static"))
    app.json = FastJSONProvider(app)
    load_config(app.config, test_config)
    configure_logging()
    registry = WikiRegistry(extra_wikis=app.config["EXTRA_WIKIS"],
                            dump_wikis=app.config["DUMP_WIKIS"],
                            fetch_sitematrix=_live_sitematrix(app.config),
                            ttl=float(app.config["SITEMATRIX_TTL"]))
    store = EventStore(app.config["DATABASE_URL"])
    try:
        store.upgrade()
    except StoreUnavailable:
        # Start anyway: /healthz answers, the API says 503 until the database is back.
        log.error("database unavailable at start; the schema will be checked again later")
    app.extensions["wiki_suggest"] = SuggestionService(app.config, registry, store, ResultCache(app))

    from suggest.web import api, errors, pages, ratelimit, security

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    from suggest.web import review, transparency

    app.register_blueprint(transparency.bp)
    app.register_blueprint(review.bp)
    from suggest import cli
    from suggest.web import admin, auth, confirm, dataset, stats

    app.register_blueprint(stats.bp)
    app.register_blueprint(dataset.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(confirm.bp)
    app.register_blueprint(admin.bp)
    cli.register(app)
    from suggest import deploy

    deploy.register(app)
    errors.register(app)
    security.register(app)
    ratelimit.register(app)
    app.session_interface = auth.SessionCookies()
    if int(app.config["PROXIES"]):
        # Behind Toolforge's front proxy the service is reached over HTTPS but spoken to over
        # HTTP: the links it writes (tool card, stats) take the scheme the proxy reports. Only
        # the scheme: the client's address is never read from the headers (nor logged).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=int(app.config["PROXIES"]),  # type: ignore[method-assign]
                                x_host=0, x_port=0, x_prefix=0)
    return app


def _live_sitematrix(config: Any) -> Callable[[], dict[str, Any]] | None:
    """Off by default (the packaged snapshot serves offline); on Toolforge the list of Wikimedia
    wikis is refreshed from Meta-Wiki once per SITEMATRIX_TTL."""
    if not config.get("SITEMATRIX_LIVE"):
        return None
    session = make_session(META_API, user_agent(config), float(config["WIKI_TIMEOUT"]))
    return sitematrix_fetcher(session)
