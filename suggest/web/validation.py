"""Request validation against the OpenAPI spec, so the spec and the code cannot drift apart."""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from werkzeug.datastructures import MultiDict

from suggest.memo import Memo
from suggest.validation import valid_title, valid_wiki_id
from suggest.web.errors import ApiError
from suggest.web.openapi import SPEC

FORMATS = FormatChecker()
FORMATS.checks("wiki-id")(valid_wiki_id)
FORMATS.checks("page-title")(valid_title)
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


@functools.cache
def _validator(path: str, name: str) -> Draft7Validator:
    """The validator of one query parameter, built once (the spec does not change at run time)."""
    schema = next(p["schema"] for p in _operation(path, "get").get("parameters", [])
                  if p["name"] == name)
    return Draft7Validator(schema, format_checker=FORMATS)


def query(path: str, args: MultiDict[str, str]) -> dict[str, Any]:
    """Typed query parameters of a GET operation, or ApiError. The same parameters validate the
    same way every time, so a valid set is remembered (bounded) and not checked again."""
    key = (path, tuple(args.items(multi=True)))
    known = _valid_queries.get(key)
    if known is not None:
        return dict(known)
    values = _check_query(path, args)
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
        error = next(_validator(path, name).iter_errors(value), None)
        if error is not None:
            code = CODES.get(schema.get("format", ""), "invalid_parameter")
            raise ApiError(400, code, f"'{name}' is not valid")
        values[name] = value
    return values


@functools.cache
def _body_validator(path: str) -> Draft7Validator:
    """The validator of one POST body, built once."""
    schema = _inline(_operation(path, "post")["requestBody"]["content"]["application/json"]["schema"])
    return Draft7Validator(schema, format_checker=FORMATS)


def body(path: str, document: Any) -> dict[str, Any]:
    """The JSON body of a POST operation, validated, or ApiError."""
    error = next(_body_validator(path).iter_errors(document), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "body"
        raise ApiError(400, "invalid_body", f"{where}: {error.validator} check failed")
    assert isinstance(document, dict)
    return document
