"""Transparency pages: the live tool card (HTML, JSON, wikitext for Meta) and the data page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from suggest import __version__, backends
from suggest.services import SuggestionService
from suggest.store.schema import metadata
from suggest.toolcard import (
    BROWSER_OUTBOX,
    build_card,
    cell,
    load_evaluations,
    misses_by_wiki,
    plain_value,
    reviewer_precision,
    target_text,
    to_wikitext,
)
from suggest.web.dataset import DATASETS

bp = Blueprint("transparency", __name__)

# What the service writes to its logs (the access-log format in the Procfile says the same).
LOGGED = [
    "For each request: the method, the path without its query string, the status, the response "
    "size and the duration.",
    "Warnings and errors with the type of the problem (never request bodies or user names).",
    "Never: IP addresses, user agents, cookies, query strings or the text of pages.",
]
EVALUATION_DATA = [
    "Wikipedia XML dumps from dumps.wikimedia.org (the articles' text and categories); licence "
    "CC BY-SA 4.0 (and GFDL), attribution to the articles' authors through their page histories.",
    "The test fixtures are small excerpts of those dumps; tests/fixtures/dumps/ATTRIBUTION.md names "
    "their sources.",
    "Committed results under eval/ record the checksum of every dump they were computed from.",
]


def service() -> SuggestionService:
    found: SuggestionService = current_app.extensions["wiki_suggest"]
    return found


def card() -> dict[str, Any]:
    return build_card(service(), base_url=request.url_root.rstrip("/"))


@bp.get("/toolcard")
def toolcard_html() -> str:
    return render_template("toolcard.html", card=card(), version=__version__, cell=cell,
                           target_text=target_text, misses_by_wiki=misses_by_wiki, plain=plain_value,
                           reviewer_precision=reviewer_precision)


@bp.get("/toolcard.json")
def toolcard_json() -> Response:
    return jsonify(card())


@bp.get("/toolcard.wikitext")
def toolcard_wikitext() -> Response:
    # mimetype gets the charset added by Werkzeug; content_type is sent as given.
    return Response(to_wikitext(card()), content_type="text/plain; charset=utf-8")


def stored_fields() -> list[dict[str, Any]]:
    """Every table and column of the schema, with their documented purpose and retention."""
    return [{
        "name": table.name,
        "purpose": table.info.get("purpose", "not documented"),
        "retention": table.info.get("retention", "not documented"),
        "columns": [{"name": c.name, "type": str(c.type), "required": not c.nullable,
                     "comment": c.comment or "not documented"} for c in table.columns],
    } for table in metadata.sorted_tables]


@bp.get("/data")
def data_page() -> str:
    svc = service()
    info = svc.backend.info
    flows = [{"id": info.id, "model": info.model, "hosting_tier": info.hosting_tier,
              "data_flow": info.data_flow, "in_use": True}]
    flows += [{"id": name, "in_use": False} for name in backends.available() if name != info.id]
    evaluations = load_evaluations(svc.config.get("EVAL_DIR") or "eval")
    return render_template("data.html", tables=stored_fields(), flows=flows, logged=LOGGED,
                           evaluation_data=EVALUATION_DATA, evaluations=evaluations,
                           browser=BROWSER_OUTBOX, datasets=DATASETS, version=__version__)
