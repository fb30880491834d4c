"""Response headers that keep browsers and other sites from misusing the tool."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

ALLOWED_HEADERS = "Content-Type, Api-User-Agent"


def register(app: Flask) -> None:
    @app.after_request
    def _cors(response: Response) -> Response:
        """The gadget runs on wiki pages and calls us with fetch(): answer CORS for the origins
        of allowlisted wikis only, echoing the exact origin (never ``*``, never credentials), and
        say ``Vary: Origin`` so no cache serves one wiki's answer to another origin."""
        if not request.path.startswith("/api/"):
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        registry = current_app.extensions["wiki_suggest"].registry
        if origin and registry.wiki_for_origin(origin) is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        return response

    @app.after_request
    def _security_headers(response: Response) -> Response:
        """No framing (clickjacking), no MIME sniffing, no referrer leaks to other sites, and a
        CSP that allows only the tool's own scripts, styles and images."""
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
        return response
