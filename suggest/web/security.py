"""Response headers that keep browsers and other sites from misusing the tool."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

ALLOWED_HEADERS = "Content-Type, Api-User-Agent"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
)


def register(app: Flask) -> None:
    @app.after_request
    def _cors(response: Response) -> Response:
        """The gadget runs on wiki pages and calls us with fetch(): answer CORS for the origins
        of allowlisted wikis only, echoing the exact origin (never ``*``, never credentials), and
        say ``Vary: Origin`` so no cache serves one wiki's answer to another origin."""
        if not request.path.startswith("/api/"):
            return response
        if "Vary" in response.headers:
            response.vary.add("Origin")
        else:
            response.headers["Vary"] = "Origin"
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
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        headers.extend([(n, v) for n, v in SECURITY_HEADERS if n.lower() not in present])
        return response
