"""The OpenAPI 3 description of /api/v1. It documents the API and validates every request."""

from __future__ import annotations

from typing import Any

from suggest import __version__

ERROR = {"$ref": "#/components/schemas/Error"}
MAX_DATASET_PAGE = 5000  # published decisions in one page (suggest.metrics.dataset)
MAX_BATCH = 20  # decisions in one batch: a panel's worth, far under the body limit without comments
# A wiki user name is the title of a user page: no control character and none of a title's
# illegal characters (and no NUL, which the rate limiter's shared bucket for nameless requests uses).
USER = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": "^[^\\x00-\\x1f\\x7f#<>\\[\\]|{}]+$"}
# Free text may hold tabs and line breaks, not the other control characters.
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"
# A ticket from /confirm (suggest.web.confirm): itsdangerous's URL-safe signed text.
TICKET = {"type": "string", "minLength": 1, "maxLength": 400, "pattern": "^[A-Za-z0-9_.-]+$",
          "description": "From the tool's /confirm page: the signed-in account's ticket. With it "
                         "(naming `user`) the decision is stored as confirmed; a ticket the tool "
                         "did not sign, or naming another user, is a 400 invalid_ticket"}
DECISION_FIELDS: dict[str, Any] = {
    "suggestion_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,32}$"},
    "decision": {"type": "string", "enum": ["accept", "reject", "skip"]},
    "reason": {"type": "string", "pattern": "^[a-z_]{1,32}$"},
    "comment": {"type": "string", "maxLength": 500, "pattern": TEXT_PATTERN},
}


def _error_responses(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid input", 404: "Not found", 409: "Conflict", 413: "Body too large",
            415: "Not JSON", 429: "Rate limited", 502: "The wiki did not answer",
            503: "Database unavailable"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": ERROR}}}
            for c in codes}


def _dataset_filters() -> list[dict[str, Any]]:
    """The filters of a published dataset, as the stats page's filters: empty is not given."""
    return [{"name": name, "in": "query", "description": text, "allowEmptyValue": True,
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{0,64}$"}}
            for name, text in (("wiki", "Only this wiki (database name); empty: all"),
                               ("task", "Only this task; empty: all"))]


DATASET_LIMIT = {"name": "limit", "in": "query", "allowEmptyValue": True,
                 "description": "Records in the page; empty: 1000",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DATASET_PAGE}}
DATASET_RESPONSES = {
    "200": {"description": "A page of records in id order, and the address of the next (null "
                           "after the last)",
            "content": {"application/json": {"schema": {
                "type": "object", "required": ["records", "next", "fields", "licence"],
                "properties": {"records": {"type": "array"},
                               "next": {"type": "string", "nullable": True},
                               "withheld": {"type": "object", "description": "Wikis whose "
                                            "records in this page were left out, with why"},
                               "fields": {"type": "array"}, "licence": {"type": "string"}}}}}},
    **_error_responses(400, 503)}


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "wiki-suggest API",
        "version": __version__,
        "description": "Machine suggestions for Wikipedia editors. Humans decide every edit: the "
                       "API proposes, records decisions, and never edits a wiki.",
        "license": {"name": "GPL-3.0-or-later"},
    },
    "paths": {
        "/api/v1/suggestions": {"get": {
            "operationId": "getSuggestions",
            "summary": "Suggestions of one task for one page",
            "parameters": [
                {"name": "wiki", "in": "query", "required": True,
                 "schema": {"type": "string", "format": "wiki-id"}},
                {"name": "task", "in": "query", "required": True,
                 "schema": {"type": "string", "pattern": "^[a-z_]{1,32}$"}},
                {"name": "title", "in": "query", "schema": {"type": "string", "format": "page-title"}},
                {"name": "revid", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 2**53}},
                {"name": "user", "in": "query",
                 "description": "The editor's wiki user name, for the community's daily cap",
                 "schema": USER},
            ],
            "responses": {"200": {"description": "Suggestions, best first", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Suggestions"}}}},
                **_error_responses(400, 404, 429, 502, 503)},
        }},
        "/api/v1/stats": {"get": {
            "operationId": "getStats",
            "summary": "Edit-acceptance metrics per task and wiki (the numbers of /stats)",
            "parameters": [
                # As the /stats page's filter form sends them, an empty value is one not given.
                {"name": name, "in": "query", "description": text, "allowEmptyValue": True,
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{0,64}$"}}
                for name, text in (("wiki", "Only this wiki (database name); empty: all"),
                                   ("task", "Only this task; empty: all"),
                                   ("model", "Only suggestions of this model backend; empty: all"))
            ] + [{"name": "weeks", "in": "query", "allowEmptyValue": True,
                  "description": "Weeks back from today; empty: the default, 12",
                  "schema": {"type": "integer", "minimum": 1, "maximum": 104}}],
            "responses": {"200": {"description": "Totals and weekly series, with 95% intervals",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "required": ["totals", "weeks", "definitions"],
                                      "properties": {"totals": {"type": "array"},
                                                     "weeks": {"type": "array"},
                                                     "definitions": {"type": "object"}}}}}},
                          **_error_responses(400, 429, 503)},
        }},
        "/api/v1/dataset/decisions": {"get": {
            "operationId": "getDecisionsDataset",
            "summary": "The published decisions, one record each, without user names, comments or "
                       "times of day (the same records as /dataset/decisions.csv); decisions "
                       "appear the day after",
            "parameters": _dataset_filters() + [
                {"name": name, "in": "query", "allowEmptyValue": True, "description": text,
                 "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}
                for name, text in (("since", "First day (UTC, YYYY-MM-DD) of the decisions"),
                                   ("until", "Last day (UTC, YYYY-MM-DD); never later than "
                                             "yesterday"))
            ] + [{"name": "after", "in": "query", "allowEmptyValue": True,
                  "description": "Records after this id (the last id of the page before)",
                  "schema": {"type": "integer", "minimum": 0}}, DATASET_LIMIT],
            "responses": DATASET_RESPONSES,
        }},
        "/api/v1/dataset/reviews": {"get": {
            "operationId": "getReviewsDataset",
            "summary": "The suggestions reviewers labelled, with their label counts and majority, "
                       "never who reviewed or when (the same records as /dataset/reviews.csv)",
            "parameters": _dataset_filters() + [
                {"name": "after", "in": "query", "allowEmptyValue": True,
                 "description": "Records after this suggestion id (the last id of the page before)",
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,32}$"}},
                DATASET_LIMIT],
            "responses": DATASET_RESPONSES,
        }},
        "/api/v1/decisions": {"post": {
            "operationId": "postDecision",
            "summary": "Record an editor's decision on an issued suggestion (once)",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/DecisionRequest"}}}},
            "responses": {"201": {"description": "Stored durably", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                **_error_responses(400, 404, 409, 413, 415, 429, 503)},
        }},
        "/api/v1/decisions/batch": {"post": {
            "operationId": "postDecisions",
            "summary": f"Record up to {MAX_BATCH} decisions of one editor in one request; each is "
                       "checked and stored as the single endpoint would, and all stored ones are "
                       "committed before the answer",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/DecisionBatchRequest"}}}},
            "responses": {"200": {"description": "An outcome per decision", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/DecisionBatchResult"}}}},
                **_error_responses(400, 413, 415, 429, 503)},
        }},
        "/api/v1/edits": {"post": {
            "operationId": "postEdit",
            "summary": "Record the revision in which accepted suggestions were saved",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/EditRequest"}}}},
            "responses": {"201": {"description": "Linked", "content": {"application/json": {
                "schema": {"type": "object", "required": ["linked"],
                           "properties": {"linked": {"type": "integer"}}}}}},
                **_error_responses(400, 409, 413, 415, 429, 503)},
        }},
        "/api/v1/tasks": {"get": {
            "operationId": "getTasks",
            "summary": "The tasks, their versions, definitions and rejection reasons",
            "responses": {"200": {"description": "Tasks", "content": {"application/json": {
                "schema": {"type": "object"}}}}},
        }},
    },
    "components": {"schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "Suggestion": {"type": "object",
                       "required": ["id", "task", "label", "wikitext", "score", "confidence",
                                    "explanation", "insert"],
                       "properties": {
                           "id": {"type": "string"}, "task": {"type": "string"},
                           "label": {"type": "string"}, "wikitext": {"type": "string"},
                           "score": {"type": "number", "minimum": 0, "maximum": 1},
                           "confidence": {"type": "string", "enum": ["high", "medium", "low"]},
                           "explanation": {"type": "string"}, "insert": {"type": "object"},
                           "evidence": {"type": "object", "description": "The explanation's "
                                        "numbers, e.g. {\"linked\": [4, 7]}, to localize it",
                                        "additionalProperties": {
                                            "type": "array", "items": {"type": "integer"},
                                            "minItems": 2, "maxItems": 2}}}},
        "Suggestions": {"type": "object", "required": ["suggestions", "page", "meta", "pause"],
                        "properties": {
                            "suggestions": {"type": "array",
                                            "items": {"$ref": "#/components/schemas/Suggestion"}},
                            "page": {"type": "object"},
                            "pause": {"type": "object", "nullable": True},
                            "meta": {"type": "object", "required": [
                                "app_version", "task", "backend", "config_hash", "hosting_tier",
                                "paused", "cache"]}}},
        "DecisionRequest": {
            "type": "object", "additionalProperties": False,
            "required": ["suggestion_id", "decision"],
            "properties": {**DECISION_FIELDS, "user": USER, "ticket": TICKET}},
        "DecisionBatchRequest": {
            "type": "object", "additionalProperties": False, "required": ["decisions"],
            "properties": {
                "user": USER,
                "ticket": TICKET,
                "decisions": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["suggestion_id", "decision"], "properties": DECISION_FIELDS}},
            }},
        "DecisionBatchResult": {
            "type": "object", "required": ["results"], "properties": {"results": {
                "type": "array", "description": "One per decision, in the order sent",
                "items": {"type": "object", "required": ["suggestion_id", "status"], "properties": {
                    "suggestion_id": {"type": "string"},
                    "status": {"type": "integer", "description": "201: stored durably; else "
                               "the status the single endpoint would give, with its error (500: "
                               "not stored, by a fault of the service; 503: not stored, the "
                               "database went away after others of the batch were; send either "
                               "again later)"},
                    "decision": {"type": "string"},
                    "reason": {"type": "string", "nullable": True},
                    "confirmed": {"type": "boolean"},
                    "error": {"$ref": "#/components/schemas/Error/properties/error"}}}}}},
        "Decision": {"type": "object", "required": ["suggestion_id", "decision"],
                     "properties": {"suggestion_id": {"type": "string"},
                                    "decision": {"type": "string"},
                                    "reason": {"type": "string", "nullable": True},
                                    "confirmed": {"type": "boolean", "description": "A ticket "
                                                  "named the user (false: none, or expired)"}}},
        "EditRequest": {
            "type": "object", "additionalProperties": False, "required": ["suggestion_ids", "revid"],
            "properties": {
                "suggestion_ids": {"type": "array", "minItems": 1, "maxItems": 50,
                                   "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,32}$"}},
                "revid": {"type": "integer", "minimum": 1, "maximum": 2**53},
                "user": USER,
            }},
    }},
}
