"""The published decisions (suggest/metrics/dataset.py): /api/v1/dataset (JSON) and /dataset.csv,
the same records for the same query string, a page at a time, no login."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from suggest.metrics import dataset
from suggest.services import SuggestionService
from suggest.store.events import utcnow
from suggest.web import validation
from suggest.web.errors import ApiError
from suggest.wiki.registry import valid_wiki_id

bp = Blueprint("dataset", __name__)

DEFAULT_LIMIT = 1000
# A spreadsheet program runs a cell that starts with one of these as a formula; such a text is
# written with a leading apostrophe in the CSV (the JSON has it as stored).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_FIELDS = ("page_title", "label")


def _selection() -> tuple[dataset.Selection, dict[str, Any]]:
    """The query string, checked as the OpenAPI spec of /api/v1/dataset says (400 otherwise), and
    its parameters as given (the spec's only)."""
    args = validation.query("/api/v1/dataset", request.args)
    wiki = args.get("wiki")
    if wiki is not None and not valid_wiki_id(wiki):
        raise ApiError(400, "invalid_parameter", "'wiki' is not a valid value")
    since, until = _day(args, "since"), _day(args, "until")
    if since is not None and until is not None and since > until:
        raise ApiError(400, "invalid_parameter", "'since' is after 'until'")
    chosen = dataset.Selection(wiki=wiki, task=args.get("task"), since=since, until=until,
                               after=int(args.get("after", 0)),
                               limit=int(args.get("limit", DEFAULT_LIMIT)))
    return chosen, args


def _day(args: dict[str, Any], name: str) -> dt.date | None:
    if name not in args:
        return None
    try:
        return dt.date.fromisoformat(args[name])
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"'{name}' is not a date (YYYY-MM-DD)") from None


def _page() -> tuple[list[dict[str, Any]], str | None, dt.date]:
    """The records, the link to the next page (None after the last) and the last day published."""
    chosen, args = _selection()
    svc: SuggestionService = current_app.extensions["wiki_suggest"]
    now = utcnow()
    with svc.store.engine.connect() as conn:
        found, more = dataset.records(conn, chosen, now)
    following = None
    if more:
        following = url_for(str(request.endpoint), **{**args, "after": found[-1]["id"]})
    return found, following, dataset.last_published_day(now)


@bp.get("/api/v1/dataset")
def dataset_json() -> Response:
    found, following, last_day = _page()
    return jsonify({"records": found, "next": following, "published_until": last_day.isoformat(),
                    "fields": [{"name": name, "description": text} for name, text in dataset.FIELDS.items()],
                    "licence": dataset.LICENCE,
                    "attribution": dataset.ATTRIBUTION})


@bp.get("/dataset.csv")
def dataset_csv() -> Response:
    """The same records as CSV; the next page's address is in the ``Link`` header (rel=next)."""
    found, following, _ = _page()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(dataset.FIELDS)
    for record in found:
        writer.writerow([_cell(name, record[name]) for name in dataset.FIELDS])
    response = Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=wiki-suggest-decisions.csv"})
    if following is not None:
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if name in TEXT_FIELDS and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
