"""Response headers that keep browsers and other sites from misusing the tool.

A small WSGI middleware around the Flask app adds them to the plain header list of every response,
errors included. That is a few list operations per response; the same work through werkzeug's
``Headers`` in after-request hooks cost about 25 µs of each cached suggestion request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from suggest.wiki.registry import WikiRegistry

Headers = list[tuple[str, str]]

ALLOWED_HEADERS = "Content-Type, Api-User-Agent"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
)
CORS_HEADERS = (
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", ALLOWED_HEADERS),
    ("Access-Control-Max-Age", "600"),
    # A 429 or 503 says when to try again; the gadget's outbox waits that long (a browser hides
    # every other header of a cross-origin answer from the script).
    ("Access-Control-Expose-Headers", "Retry-After"),
)


def add_headers(environ: WSGIEnvironment, headers: Headers, registry: WikiRegistry) -> None:
    """Add to a response's header list, in place.

    Every response gets the security headers it does not set itself: no framing (clickjacking),
    no MIME sniffing, no referrer leaks to other sites, and a CSP that allows only the tool's own
    scripts, styles and images.

    The gadget runs on wiki pages and calls the API with fetch(). So API responses answer CORS for
    the origins of allowlisted wikis only. They echo the exact origin (never ``*``, never
    credentials), and say ``Vary: Origin`` so that no cache serves one wiki's answer to another
    origin."""
    present = {name.lower(): i for i, (name, _) in enumerate(headers)}
    if environ.get("PATH_INFO", "").startswith("/api/"):
        at = present.get("vary")
        if at is None:
            headers.append(("Vary", "Origin"))
        elif "origin" not in {v.strip().lower() for v in headers[at][1].split(",")}:
            headers[at] = (headers[at][0], f"{headers[at][1]}, Origin")
        origin = environ.get("HTTP_ORIGIN")
        if origin and registry.wiki_for_origin(origin) is not None:
            headers.append(("Access-Control-Allow-Origin", origin))
            headers.extend(CORS_HEADERS)
    headers.extend(h for h in SECURITY_HEADERS if h[0].lower() not in present)


class ResponseHeaders:
    """The WSGI middleware that calls :func:`add_headers` on every response of ``app``."""

    def __init__(self, app: WSGIApplication, registry: WikiRegistry) -> None:
        self.app = app
        self.registry = registry

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: Headers, exc_info: Any = None) -> Any:
            add_headers(environ, headers, self.registry)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def register(app: Flask) -> None:
    registry = app.extensions["wiki_suggest"].registry
    app.wsgi_app = ResponseHeaders(app.wsgi_app, registry)  # type: ignore[method-assign]
