"""Request validation against the OpenAPI spec, so the spec and the code cannot drift apart.

The spec's schemas are compiled to Python functions once (fastjsonschema): a decision's body is
checked in a few microseconds, where interpreting the schema took 50 (and 200 for a batch)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import fastjsonschema
from flask import Request
from werkzeug.datastructures import MultiDict

from suggest.memo import Memo
from suggest.validation import normalize_user_name, valid_title, valid_wiki_id
from suggest.web.errors import ApiError
from suggest.web.openapi import SPEC

FORMATS = {"wiki-id": valid_wiki_id, "page-title": valid_title}
CODES = {"wiki-id": "unknown_wiki", "page-title": "invalid_title"}
VALID_QUERIES_KEPT = 4096  # query strings remembered as valid (editors ask for the same pages)
_valid_queries: Memo[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = Memo(VALID_QUERIES_KEPT)


def _inline(node: Any) -> Any:
    """Replace local ``$ref``s by the schemas they point to (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = SPEC
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _inline(target)
        return {k: _inline(v) for k, v in node.items() if k != "nullable"}
    if isinstance(node, list):
        return [_inline(v) for v in node]
    return node


def _operation(path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = SPEC["paths"][path][method]
    return operation


Validate = Callable[[Any], Any]  # raises fastjsonschema.JsonSchemaValueException


def _compile(schema: dict[str, Any]) -> Validate:
    validate: Validate = fastjsonschema.compile(_inline(schema), formats=FORMATS)
    return validate


@functools.cache
def _validator(path: str, name: str) -> Validate:
    """The validator of one query parameter, built once (the spec does not change at run time)."""
    return _compile(next(p["schema"] for p in _operation(path, "get").get("parameters", [])
                         if p["name"] == name))


def query(path: str, args: MultiDict[str, str]) -> dict[str, Any]:
    """Typed query parameters of a GET operation, or ApiError. The same parameters validate the
    same way every time, so a valid set is remembered (bounded) and not checked again."""
    key = (path, tuple(args.items(multi=True)))
    known = _valid_queries.get(key)
    if known is not None:
        return dict(known)
    values = _check_query(path, args)
    if "user" in values:
        values["user"] = _user_name(values["user"], "invalid_parameter")
    _valid_queries.keep(key, dict(values))
    return values


def _check_query(path: str, args: MultiDict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in _operation(path, "get").get("parameters", []):
        name, schema = param["name"], param["schema"]
        raw = args.getlist(name)
        if len(raw) > 1:
            raise ApiError(400, "invalid_parameter", f"'{name}' was given more than once")
        if not raw or raw[0] == "":
            if param.get("required"):
                raise ApiError(400, "missing_parameter", f"'{name}' is required")
            continue
        value: Any = raw[0]
        if schema["type"] == "integer":
            if not value.isascii() or not value.isdigit() or len(value) > 16:
                raise ApiError(400, "invalid_parameter", f"'{name}' must be a positive integer")
            value = int(value)
        try:
            _validator(path, name)(value)
        except fastjsonschema.JsonSchemaValueException:
            code = CODES.get(schema.get("format", ""), "invalid_parameter")
            raise ApiError(400, code, f"'{name}' is not valid") from None
        values[name] = value
    return values


@functools.cache
def _body_validator(path: str) -> Validate:
    """The validator of one POST body, built once."""
    return _compile(_operation(path, "post")["requestBody"]["content"]["application/json"]["schema"])


def request_json(req: Request) -> Any:
    """The request's JSON document, or ApiError: not JSON or compressed (415), too large, also when sent in
    chunks without a length (413: werkzeug then stops reading at the limit without saying so),
    not parseable or nested too deep for the parser (400)."""
    if not req.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body (Content-Type: application/json)")
    if req.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        # Nothing here decompresses a body: a gzip body would be reported as broken JSON.
        raise ApiError(415, "unsupported_media_type", "send the JSON body uncompressed "
                                                      "(no Content-Encoding)")
    data = req.get_data(cache=True)
    limit = req.max_content_length
    if limit is not None and req.content_length is None and len(data) >= limit:
        raise ApiError(413, "payload_too_large", f"the body must be shorter than {limit} bytes")
    try:
        document = req.get_json(silent=True)
    except RecursionError:
        document = None
    if document is None:
        raise ApiError(400, "invalid_body", _why_not_json(data))
    return document


def _why_not_json(data: bytes) -> str:
    """What is wrong with a body the JSON reader refused (only on that path: no cost otherwise)."""
    try:
        json.loads(data)  # without the check of repeated keys
    except (ValueError, RecursionError):
        return "the body is not valid JSON"
    return "the body names the same key twice in one object; send each key once"


def _has_surrogate(node: Any) -> bool:
    """Whether a string in the document holds a lone UTF-16 surrogate (JSON allows ``"\\ud800"``;
    no database can store it)."""
    if isinstance(node, str):
        try:
            node.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(node, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_surrogate(v) for v in node)
    return False


def body(path: str, document: Any) -> dict[str, Any]:
    """The JSON body of a POST operation, validated, or ApiError."""
    try:
        _body_validator(path)(document)
    except fastjsonschema.JsonSchemaValueException as error:
        where = ".".join(str(p) for p in error.path[1:]) or "body"  # path[0] is "data"
        raise ApiError(400, "invalid_body", f"{where}: {error.rule} check failed") from None
    if _has_surrogate(document):
        raise ApiError(400, "invalid_body", "text must be valid Unicode (a lone surrogate is not)")
    assert isinstance(document, dict)
    if "user" in document:
        document["user"] = _user_name(document["user"], "invalid_body")
    return document


def _user_name(value: str, code: str) -> str:
    """A user name in MediaWiki's form (one editor, one name: for the rate limit, the daily cap
    and the monitor's count of editors)."""
    name = normalize_user_name(value)
    if not name:
        raise ApiError(400, code, "user: not a user name")
    return name
