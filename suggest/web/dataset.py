"""The published datasets (suggest/metrics/dataset.py), each as JSON under /api/v1/dataset/ and as
CSV under /dataset/: the same records for the same query string, a page at a time, no login."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy import Connection

from suggest.metrics import dataset
from suggest.services import SuggestionService
from suggest.store.events import utcnow
from suggest.web import validation
from suggest.web.errors import ApiError
from suggest.wiki.registry import UnknownWiki, Wiki, valid_wiki_id

bp = Blueprint("dataset", __name__)

DEFAULT_LIMIT = 1000
COMMUNITY_READERS = 8  # community pages of a page's wikis read at once, at most
# A spreadsheet program runs a cell that starts with one of these as a formula; such a text is
# written with a leading apostrophe in the CSV (the JSON has it as stored).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_FIELDS = ("page_title", "label")

Records = Callable[[Connection, dataset.Selection], tuple[list[dict[str, Any]], bool]]


@dataclass(frozen=True)
class Published:
    """A published dataset: its records, its fields, what it holds, and whether a wiki's
    community can withhold its records (``publish_decisions`` on its community page)."""

    records: Records
    fields: dict[str, str]
    holds: str
    community_may_withhold: bool


DATASETS: dict[str, Published] = {
    "decisions": Published(dataset.records, dataset.FIELDS, dataset.PUBLISHED, True),
    "reviews": Published(dataset.review_records, dataset.REVIEW_FIELDS, dataset.PUBLISHED_REVIEWS,
                         False),
}
WITHHELD_HEADER = "X-Withheld-Wikis"  # the CSV's list of the wikis whose records were left out


def _selection(name: str) -> tuple[dataset.Selection, dict[str, Any]]:
    """The query string, checked as the OpenAPI spec of /api/v1/dataset/<name> says (400
    otherwise), and its parameters as given (the spec's only)."""
    args = validation.query(f"/api/v1/dataset/{name}", request.args)
    wiki = args.get("wiki")
    if wiki is not None and not valid_wiki_id(wiki):
        raise ApiError(400, "invalid_parameter", "'wiki' is not a valid value")
    since, until = _day(args, "since"), _day(args, "until")
    if since is not None and until is not None and since > until:
        raise ApiError(400, "invalid_parameter", "'since' is after 'until'")
    chosen = dataset.Selection(wiki=wiki, task=args.get("task"), since=since, until=until,
                               after=args.get("after"), limit=int(args.get("limit", DEFAULT_LIMIT)),
                               asked_at=utcnow())
    return chosen, args


def _day(args: dict[str, Any], name: str) -> dt.date | None:
    if name not in args:
        return None
    try:
        return dt.date.fromisoformat(args[name])
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"'{name}' is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    following: str | None  # the next page's address, None after the last
    last_day: dt.date  # the last day whose decisions are published
    withheld: dict[str, str]  # wiki -> why its records in this page were left out


def _page(name: str) -> Page:
    chosen, args = _selection(name)
    svc: SuggestionService = current_app.extensions["wiki_suggest"]
    published = DATASETS[name]
    with svc.store.engine.connect() as conn:
        found, more = published.records(conn, chosen)
    following = None
    if more:  # after the last record read, whether it is shown or withheld
        following = url_for(str(request.endpoint), **{**args, "after": found[-1]["id"]})
    # Asked once the database connection is back in the pool: a wiki may take seconds to answer.
    withheld = _withheld(svc, {r["wiki"] for r in found}) if published.community_may_withhold else {}
    return Page([r for r in found if r["wiki"] not in withheld], following,
                dataset.last_published_day(chosen.asked_at), withheld)


def _withheld(svc: SuggestionService, wikis: set[str]) -> dict[str, str]:
    """Of ``wikis``, those whose records are not published, with why (each wiki's community
    page, read as for suggestions: cached for COMMUNITY_CONFIG_TTL). The pages not cached are
    read at the same time, so a page of records waits for the slowest wiki, not for all in turn;
    threads are started only for those."""
    reasons: dict[str, str | None] = {}
    unread = []
    for wiki_id in sorted(wikis):
        try:
            wiki = svc.registry.get(wiki_id)
        except UnknownWiki:
            reasons[wiki_id] = "the wiki is no longer on the tool's list, so its community cannot be asked"
            continue
        state = svc.community.known(wiki)
        if state is None:
            unread.append(wiki)
        else:
            reasons[wiki_id] = state.withholds_decisions()

    def why(wiki: Wiki) -> str | None:
        return svc.community.get(wiki).withholds_decisions()

    if len(unread) == 1:
        reasons[unread[0].id] = why(unread[0])
    elif unread:
        with ThreadPoolExecutor(max_workers=min(len(unread), COMMUNITY_READERS)) as pool:
            reasons.update(zip([w.id for w in unread], pool.map(why, unread), strict=True))
    return {wiki_id: reason for wiki_id, reason in sorted(reasons.items()) if reason is not None}


def _json(name: str) -> Response:
    page = _page(name)
    published = DATASETS[name]
    return jsonify({"records": page.records, "next": page.following,
                    "published_until": page.last_day.isoformat(), "withheld": page.withheld,
                    "holds": published.holds,
                    "fields": [{"name": field, "description": text}
                               for field, text in published.fields.items()],
                    "licence": dataset.LICENCE, "attribution": dataset.ATTRIBUTION})


def _csv(name: str) -> Response:
    """The same records as CSV; the next page's address is in the ``Link`` header (rel=next), the
    wikis whose records were withheld in ``X-Withheld-Wikis``."""
    page = _page(name)
    found, following = page.records, page.following
    fields = DATASETS[name].fields
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for record in found:
        writer.writerow([_cell(field, record[field]) for field in fields])
    response = Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=wiki-suggest-{name}.csv"})
    if following is not None:
        response.headers["Link"] = f'<{following}>; rel="next"'
    if page.withheld:
        response.headers[WITHHELD_HEADER] = ", ".join(page.withheld)
    return response


@bp.get("/api/v1/dataset/decisions")
def decisions_json() -> Response:
    return _json("decisions")


@bp.get("/dataset/decisions.csv")
def decisions_csv() -> Response:
    return _csv("decisions")


@bp.get("/api/v1/dataset/reviews")
def reviews_json() -> Response:
    return _json("reviews")


@bp.get("/dataset/reviews.csv")
def reviews_csv() -> Response:
    return _csv("reviews")


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if name in TEXT_FIELDS and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
