"""The reviewer page: logged-in reviewers label a random sample of suggestions without editing.

Login (Wikimedia OAuth) and CSRF protection come from :mod:`suggest.web.auth`. Without a login the
page offers the login link and shows only the aggregate figures. Who may label is the ``REVIEWERS``
setting (wiki user names, compared as ``MAINTAINERS`` are); an empty list lets any logged-in user
review. Others see the figures only, and their labels are refused (403).

Labels are given to computed suggestions, by content id (what the sample offers); an issued id is
refused (404), so that a reviewer has one label per computed suggestion. Labelling one again
replaces the reviewer's label.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from suggest import __version__
from suggest.review import LABELS, ReviewStore, UnknownSuggestion
from suggest.services import SuggestionService
from suggest.validation import valid_wiki_id
from suggest.web import auth
from suggest.wiki import wikitext as wt
from suggest.wiki.registry import UnknownWiki
from suggest.wiki.source import PageNotFound, WikiUnavailable

bp = Blueprint("review", __name__)
log = logging.getLogger(__name__)

SAMPLE_SIZE = 5
CONTEXT_CHARS = 400


def service() -> SuggestionService:
    found: SuggestionService = current_app.extensions["wiki_suggest"]
    return found


def current_user() -> str | None:
    """The logged-in reviewer's wiki user name, or None."""
    user = auth.current_user()
    return user.name if user is not None else None


def reviewers() -> set[str]:
    """The configured reviewers' normalised names; empty: any logged-in user may review."""
    configured = current_app.config.get("REVIEWERS") or []
    if isinstance(configured, str):  # TOOL_REVIEWERS=Name (not JSON): one name
        configured = [configured]
    return {auth.normalize_name(str(name)) for name in configured if str(name).strip()}


def may_review(user: str | None) -> bool:
    """Whether this logged-in user may label suggestions."""
    if not user:
        return False
    allowed = reviewers()
    return not allowed or auth.normalize_name(user) in allowed


def login_url() -> str | None:
    try:
        return url_for("auth.login", next=request.full_path.rstrip("?"))
    except BuildError:  # the login blueprint is not installed on this instance
        return None


def _context(svc: SuggestionService, wiki_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """The suggestion with its page: a link to the revision and the start of the article."""
    context: dict[str, Any] = {"lead": None, "url": None}
    try:
        wiki = svc.registry.get(wiki_id)
        if wiki.origin and item.get("revid"):
            context["url"] = f"{wiki.origin.rstrip('/')}/w/index.php?oldid={int(item['revid'])}"
        page = svc.source(wiki).get_page(title=item["page_title"], revid=item.get("revid"))
        context["lead"] = wt.plain_text(wt.lead_wikitext(page.wikitext), max_chars=CONTEXT_CHARS)
    except (UnknownWiki, PageNotFound, WikiUnavailable, OSError, ValueError) as error:
        log.info("review context unavailable: %s", type(error).__name__)
    return context


def _language(svc: SuggestionService, wiki_id: str) -> str | None:
    """The language of a wiki's text (WCAG 3.1.2: a screen reader reads it with the right voice),
    or None for a wiki not on the tool's list."""
    try:
        return svc.registry.get(wiki_id).lang or None if wiki_id else None
    except UnknownWiki:
        return None


@bp.get("/review")
def review_page() -> str:
    svc = service()
    user = current_user()
    wiki = request.args.get("wiki", "")
    task = request.args.get("task", svc.config["TASKS"][0] if svc.config["TASKS"] else "")
    if (wiki and not valid_wiki_id(wiki)) or (task and task not in svc.tasks):
        abort(400)
    store = ReviewStore(svc.store.engine)
    reviewer = may_review(user)
    items = []
    if user and reviewer and wiki and task:
        items = [{**row, **_context(svc, wiki, row)}
                 for row in store.sample(wiki, task, user, SAMPLE_SIZE)]
    return render_template("review.html", user=user, reviewer=reviewer, wiki=wiki, task=task,
                           wiki_lang=_language(svc, wiki),
                           tasks=list(svc.tasks), items=items, labels=LABELS,
                           summary=store.summary(wiki or None, task or None),
                           csrf_token=auth.csrf_token() if reviewer else None, login_url=login_url(),
                           version=__version__)


@bp.post("/review/label")
def label() -> Response:
    user = current_user()
    if not user or not may_review(user):
        abort(403)
    auth.check_csrf()
    suggestion_id = request.form.get("suggestion_id", "")
    chosen = request.form.get("label", "")
    if chosen not in LABELS or not suggestion_id or len(suggestion_id) > 32:
        abort(400)
    try:
        ReviewStore(service().store.engine).record(suggestion_id, user, chosen)
    except UnknownSuggestion:
        abort(404)
    wiki, task = request.form.get("wiki", ""), request.form.get("task", "")
    target = url_for("review.review_page", wiki=wiki if valid_wiki_id(wiki) else None,
                     task=task if task in service().tasks else None)
    return redirect(target, code=303)
