"""The JSON API (/api/v1): suggestions, decisions, edits, tasks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from suggest.services import SuggestionService, TaskDisabled
from suggest.store.events import AlreadyDecided, NotAccepted, UnknownSuggestion
from suggest.web import validation
from suggest.web.errors import ApiError
from suggest.web.openapi import SPEC
from suggest.wiki.registry import UnknownWiki
from suggest.wiki.source import PageNotFound, UnsupportedNamespace, WikiUnavailable

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def service() -> SuggestionService:
    found: SuggestionService = current_app.extensions["wiki_suggest"]
    return found


def json_body() -> Any:
    return validation.request_json(request)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(SPEC)


@bp.get("/suggestions")
def suggestions() -> Response:
    args = validation.query("/api/v1/suggestions", request.args)
    if ("title" in args) == ("revid" in args):
        raise ApiError(400, "missing_parameter", "give exactly one of 'title' or 'revid'")
    svc = service()
    try:
        body = svc.suggest(args["wiki"], args["task"], title=args.get("title"),
                           revid=args.get("revid"), user=args.get("user"))
    except UnknownWiki:
        raise ApiError(400, "unknown_wiki", "this wiki is not on the tool's list of wikis") from None
    except TaskDisabled:
        raise ApiError(400, "task_disabled", "this task is not enabled on this tool") from None
    except KeyError:
        raise ApiError(400, "unknown_task", "no such task; see /api/v1/tasks") from None
    except UnsupportedNamespace:
        raise ApiError(400, "unsupported_namespace",
                       "suggestions are made for articles and drafts only; see /toolcard") from None
    except PageNotFound:
        raise ApiError(404, "page_not_found", "no such page or revision on this wiki") from None
    except WikiUnavailable:
        raise ApiError(502, "wiki_unavailable", "the wiki did not answer usably; try again later") from None
    return jsonify(body)


@bp.post("/decisions")
def decisions() -> tuple[Response, int]:
    data = validation.body("/api/v1/decisions", json_body())
    svc = service()
    reason = data.get("reason")
    if data["decision"] == "reject" and reason is None:
        raise ApiError(400, "invalid_reason", "a rejection needs a reason")
    if data["decision"] != "reject" and reason is not None:
        raise ApiError(400, "invalid_reason", "only a rejection has a reason")
    # A browser on one wiki's page deciding on another wiki's suggestion is a confused (or
    # malicious) client: the Origin names the wiki the gadget runs on.
    origin_wiki = svc.registry.wiki_for_origin(request.headers.get("Origin", ""))

    def check(issued: dict[str, Any]) -> None:  # may run in another request's thread
        if origin_wiki is not None and origin_wiki.id != issued["wiki"]:
            raise ApiError(400, "wrong_wiki", "this suggestion was issued for another wiki")
        if reason is not None:
            task = svc.tasks.get(issued["task"])
            if task is None or reason not in {r.id for r in task.reasons}:
                raise ApiError(400, "invalid_reason", "not one of this task's rejection reasons")

    try:
        row = svc.decide(data["suggestion_id"], data["decision"], reason, data.get("comment"),
                         data.get("user"), check)
    except UnknownSuggestion:
        raise ApiError(404, "unknown_suggestion", "the service did not issue this suggestion id") from None
    except AlreadyDecided:
        raise ApiError(409, "already_decided", "this suggestion already has a decision") from None
    return jsonify({"suggestion_id": row["suggestion_id"], "decision": row["decision"],
                    "reason": row["reason"]}), 201


@bp.post("/edits")
def edits() -> tuple[Response, int]:
    data = validation.body("/api/v1/edits", json_body())
    try:
        linked = service().store.record_edit(data["suggestion_ids"], data["revid"], data.get("user"))
    except NotAccepted as error:
        raise ApiError(409, "not_accepted",
                       f"not accepted suggestions, or linked to another revision: {error}") from None
    return jsonify({"linked": linked}), 201


@bp.get("/tasks")
def tasks() -> Response:
    svc = service()
    return jsonify({"tasks": [
        {"id": t.id, "version": t.version, "definition": t.definition,
         "enabled": t.id in svc.config["TASKS"],
         "reasons": [{"id": r.id, "label": r.label} for r in t.reasons]}
        for t in svc.tasks.values()]})
