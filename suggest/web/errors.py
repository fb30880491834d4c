"""JSON errors with stable codes. Clients branch on ``error.code``; messages are for people."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template_string, request
from markupsafe import escape
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from suggest import __version__
from suggest.store.events import StoreUnavailable

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
              413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


# A page for people: the same message as the JSON error, inside the site's frame.
ERROR_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }} · wiki-suggest{% endblock %}
{% block content %}
<h1>{{ title }}</h1>
<div class="cdx-message cdx-message--block cdx-message--error" role="alert">
  <span class="cdx-message__icon"></span>
  <div class="cdx-message__content">{{ message }}</div>
</div>
<p><a href="{{ url_for('pages.index') }}">Back to the start page</a></p>
{% endblock %}"""
DATA_SUFFIXES = (".json", ".csv", ".wikitext")  # pages that are files for programs


def wants_html() -> bool:
    """Whether the error goes to a person's browser: a page outside the API (and not one of the
    data files) asked for by a client that prefers HTML to JSON. Programs, and clients that
    name no preference, get the JSON error."""
    if request.path.startswith("/api/") or request.path.endswith(DATA_SUFFIXES):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_page(status: int, code: str, title: str, message: str) -> Response:
    """The error as an HTML page (the JSON error's code in a header). If the site's frame cannot
    be drawn (the error may be in it), a bare page says the same."""
    try:
        body = render_template_string(ERROR_PAGE, title=title, message=message, version=__version__)
    except Exception:  # noqa: BLE001 - an error page must not fail in turn
        log.warning("error page without the site's frame (%s)", code)
        body = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}"
                f"</title></head><body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>")
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Error-Code"] = code
    return response


def error_answer(status: int, code: str, message: str, title: str | None = None) -> Response:
    """The error in the form its client reads: a page for a person's browser (``wants_html``),
    else the JSON error."""
    if wants_html():
        return error_page(status, code, title or HTTP_STATUS_CODES.get(status, "Error"), message)
    return error_response(status, code, message)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        # A page's own check (/stats?weeks=0) seen in a browser is a page.
        return error_answer(error.status, error.code, error.message)

    @app.errorhandler(StoreUnavailable)
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _store_down(error: Exception) -> Response:
        # The store says StoreUnavailable; pages reading the database themselves (stats, admin)
        # get the driver's connection errors as SQLAlchemy raises them.
        if not isinstance(error, StoreUnavailable):
            log.error("database error: %s", type(error).__name__)
        response = error_answer(503, "database_unavailable",
                                "The database is not available right now; nothing was stored. "
                                "Please try again in a minute.", title="Temporarily unavailable")
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        status = error.code or 500
        code = HTTP_CODES.get(status, "http_error")
        if not request.path.startswith("/api/") and status != 413:
            if not wants_html():
                return error
            response = error_page(status, code, error.name, error.description or error.name)
        else:
            response = error_response(status, code, error.description or "HTTP error")
        for name, value in error.get_headers():  # e.g. Allow on a 405 (RFC 9110)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Never a stack trace or exception text to the client; the log has the type and trace.
        log.exception("unexpected error on %s", request.path)
        return error_answer(500, "internal_error", "Something went wrong on our side.",
                            title="Something went wrong")
