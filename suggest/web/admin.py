"""Maintainer controls: pause or resume a task on a wiki, with a reason, in the public audit log.

The same actions exist as ``flask pause`` / ``flask resume`` for the tool's operator; both go
through :func:`change_pause`, so a form and a command can never differ.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from suggest import __version__
from suggest.services import SuggestionService
from suggest.store.schema import pauses, suggestions
from suggest.validation import CONTROL_CHARS
from suggest.web.auth import check_csrf, current_user, maintainer_required
from suggest.wiki.registry import UnknownWiki

bp = Blueprint("admin", __name__)

MAX_REASON = 500


class InvalidControl(ValueError):
    """Unknown wiki or task, or no reason given."""


def change_pause(service: SuggestionService, action: str, wiki: str, task: str, reason: str,
                 actor: str) -> None:
    """Pause or resume ``task`` on ``wiki``; the store writes the audit entry in the same
    transaction. Raises :class:`InvalidControl` for anything not on the tool's lists."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidControl("give a reason: it is shown in the public audit log")
    if len(reason) > MAX_REASON:
        raise InvalidControl(f"the reason is longer than {MAX_REASON} characters")
    if not CONTROL_CHARS.isdisjoint(reason):  # tabs and line breaks are spaces by now
        raise InvalidControl("the reason holds control characters")
    if task not in service.tasks:
        raise InvalidControl(f"no task {task!r}")
    try:
        wiki = service.registry.get(wiki).id
    except UnknownWiki:
        raise InvalidControl(f"{wiki!r} is not on the tool's list of wikis") from None
    if action == "pause":
        service.store.pause(wiki, task, reason, actor)
    elif action == "resume":
        service.store.resume(wiki, task, reason, actor)
    else:
        raise InvalidControl(f"unknown action {action!r}")


def _service() -> SuggestionService:
    found: SuggestionService = current_app.extensions["wiki_suggest"]
    return found


@bp.get("/admin")
@maintainer_required
def admin() -> str:
    svc = _service()
    with svc.store.engine.connect() as conn:
        paused = [dict(r._mapping) for r in conn.execute(select(pauses).order_by(pauses.c.wiki))]
        seen = list(conn.execute(select(suggestions.c.wiki).group_by(suggestions.c.wiki)).scalars())
    wikis = sorted({*seen, *(p["wiki"] for p in paused), *svc.config.get("EXTRA_WIKIS", {}),
                    *svc.config.get("DUMP_WIKIS", {})})
    return render_template("admin.html", paused=paused, wikis=wikis, tasks=sorted(svc.tasks),
                           audit=svc.store.audit_entries(20), version=__version__)


@bp.post("/admin/<any(pause, resume):action>")
@maintainer_required
def control(action: str) -> Any:
    check_csrf()
    user = current_user()
    if user is None:  # pragma: no cover - maintainer_required ran first
        abort(403)
    try:
        change_pause(_service(), action, request.form.get("wiki", ""), request.form.get("task", ""),
                     request.form.get("reason", ""), user.name)
    except InvalidControl as error:
        flash(str(error), "error")
        return redirect(url_for("admin.admin")), 303
    flash(f"{action.capitalize()}d {request.form.get('task')} on {request.form.get('wiki')}.", "success")
    return redirect(url_for("admin.admin")), 303
