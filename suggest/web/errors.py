"""JSON errors with stable codes. Clients branch on ``error.code``; messages are for people."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from suggest.store.events import StoreUnavailable

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
              413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(StoreUnavailable)
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _store_down(error: Exception) -> Response:
        # The store says StoreUnavailable; pages reading the database themselves (stats, admin)
        # get the driver's connection errors as SQLAlchemy raises them.
        if not isinstance(error, StoreUnavailable):
            log.error("database error: %s", type(error).__name__)
        response = error_response(503, "database_unavailable",
                                  "The database is not available right now; nothing was stored. "
                                  "Please try again in a minute.")
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/api/") and error.code != 413:
            return error
        status = error.code or 500
        response = error_response(status, HTTP_CODES.get(status, "http_error"),
                                  error.description or "HTTP error")
        for name, value in error.get_headers():  # e.g. Allow on a 405 (RFC 9110)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Never a stack trace or exception text to the client; the log has the type and trace.
        log.exception("unexpected error on %s", request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")
