"""The JSON API (/api/v1): suggestions, decisions, edits, tasks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import MethodNotAllowed

from suggest.services import ItemCheck, SuggestionService, TaskDisabled
from suggest.store.events import AlreadyDecided, NotAccepted, StoreUnavailable, UnknownSuggestion
from suggest.web import confirm, validation
from suggest.web.errors import ApiError
from suggest.web.openapi import SPEC
from suggest.wiki.registry import UnknownWiki
from suggest.wiki.source import PageNotFound, UnsupportedNamespace, WikiUnavailable

bp = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)


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
    if request.method == "HEAD":
        # Flask answers HEAD with the GET view: it would read the page, run the model and count
        # suggestions as shown that nobody sees, outside the rate limit (which limits GET).
        raise MethodNotAllowed(valid_methods=["GET", "OPTIONS"])
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


def _reason_error(decision: str, reason: str | None) -> ApiError | None:
    if decision == "reject" and reason is None:
        return ApiError(400, "invalid_reason", "a rejection needs a reason")
    if decision != "reject" and reason is not None:
        return ApiError(400, "invalid_reason", "only a rejection has a reason")
    return None


def _checker(svc: SuggestionService) -> ItemCheck:
    """The checks of a decision against the suggestion as issued (they may run in another
    request's thread, in its group commit)."""
    # A browser on one wiki's page deciding on another wiki's suggestion is a confused (or
    # malicious) client: the Origin names the wiki the gadget runs on.
    origin_wiki = svc.registry.wiki_for_origin(request.headers.get("Origin", ""))

    def check(item: dict[str, Any], issued: dict[str, Any]) -> None:
        if origin_wiki is not None and origin_wiki.id != issued["wiki"]:
            raise ApiError(400, "wrong_wiki", "this suggestion was issued for another wiki")
        reason = item.get("reason")
        if reason is not None:
            task = svc.tasks.get(issued["task"])
            if task is None or reason not in {r.id for r in task.reasons}:
                raise ApiError(400, "invalid_reason", "not one of this task's rejection reasons")

    return check


def _as_api_error(error: Exception) -> ApiError:
    if isinstance(error, ApiError):
        return error
    if isinstance(error, UnknownSuggestion):
        return ApiError(404, "unknown_suggestion", "the service did not issue this suggestion id")
    if isinstance(error, AlreadyDecided):
        return ApiError(409, "already_decided", "this suggestion already has a decision")
    if isinstance(error, StoreUnavailable):  # in a batch of which others were stored
        return ApiError(503, "database_unavailable",
                        "The database became unavailable before this decision was stored; "
                        "please send it again in a minute.")
    raise error


def _decided(row: dict[str, Any]) -> dict[str, Any]:
    return {"suggestion_id": row["suggestion_id"], "decision": row["decision"],
            "reason": row["reason"], "confirmed": bool(row.get("confirmed"))}


def _confirmed(data: dict[str, Any]) -> bool:
    """Whether the request's ``ticket`` confirms its ``user`` (False without one, or when it
    expired); a ticket this tool did not sign, or one naming another user, refuses the request."""
    ticket = data.get("ticket")
    if ticket is None:
        return False
    try:
        return confirm.confirms(current_app.secret_key or "", ticket, data.get("user"))
    except confirm.InvalidTicket as error:
        raise ApiError(400, "invalid_ticket", f"ticket: {error}; send the decision without it, "
                                              "or confirm the account again") from None


@bp.post("/decisions")
def decisions() -> tuple[Response, int]:
    data = validation.body("/api/v1/decisions", json_body())
    svc = service()
    refused = _reason_error(data["decision"], data.get("reason"))
    if refused is not None:
        raise refused
    confirmed = _confirmed(data)
    check = _checker(svc)
    try:
        row = svc.decide(data["suggestion_id"], data["decision"], data.get("reason"),
                         data.get("comment"), data.get("user"), lambda issued: check(data, issued),
                         confirmed)
    except (UnknownSuggestion, AlreadyDecided) as error:
        raise _as_api_error(error) from None
    return jsonify(_decided(row)), 201


@bp.post("/decisions/batch")
def decisions_batch() -> Response:
    """Several decisions of one editor: each checked and stored as /decisions would, the stored
    ones committed together before the answer; an outcome per decision, in order."""
    data = validation.body("/api/v1/decisions/batch", json_body())
    confirmed = _confirmed(data)
    items: list[dict[str, Any]] = data["decisions"]
    results: list[dict[str, Any] | None] = [None] * len(items)
    valid: list[int] = []
    for i, item in enumerate(items):
        refused = _reason_error(item["decision"], item.get("reason"))
        if refused is None:
            valid.append(i)
        else:
            results[i] = _failed(item, refused)
    svc = service()
    outcomes = svc.decide_many([items[i] for i in valid], data.get("user"), _checker(svc), confirmed)
    for i, outcome in zip(valid, outcomes, strict=True):
        results[i] = (_failed(items[i], _item_error(outcome)) if isinstance(outcome, Exception)
                      else {**_decided(outcome), "status": 201})
    return jsonify({"results": results})


def _item_error(error: Exception) -> ApiError:
    """A batch item's failure as its result. One that is not the client's (a bug) is logged and
    told as that item's 500: the others of the batch may be stored, so the answer is not a 500."""
    try:
        return _as_api_error(error)
    except Exception:  # noqa: BLE001 - the unexpected one, re-raised by _as_api_error
        log.exception("a decision of a batch failed")
        return ApiError(500, "internal_error", "Something went wrong on our side; this decision "
                                               "was not stored. Please try again later.")


def _failed(item: dict[str, Any], error: ApiError) -> dict[str, Any]:
    return {"suggestion_id": item["suggestion_id"], "status": error.status,
            "error": {"code": error.code, "message": error.message}}


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
