"""The response headers added to every response's header list (suggest/web/security.py)."""

from __future__ import annotations

import pytest

from suggest.web.security import SECURITY_HEADERS, add_headers
from suggest.wiki.registry import WikiRegistry

ALLOWED = "https://uk.wikipedia.org"


@pytest.fixture(scope="module")
def registry() -> WikiRegistry:
    return WikiRegistry()


def added(registry: WikiRegistry, path: str, headers: list[tuple[str, str]],
          origin: str | None = None) -> dict[str, str]:
    environ = {"PATH_INFO": path, **({"HTTP_ORIGIN": origin} if origin else {})}
    add_headers(environ, headers, registry)
    names = [name.lower() for name, _ in headers]
    assert len(names) == len(set(names)), f"a header twice: {headers}"
    return dict(headers)


def test_every_response_gets_the_security_headers(registry: WikiRegistry) -> None:
    for path in ("/", "/stats", "/api/v1/tasks", "/static/x.css"):
        got = added(registry, path, [("Content-Type", "text/html")])
        for name, value in SECURITY_HEADERS:
            assert got[name] == value


def test_a_header_the_app_set_is_kept(registry: WikiRegistry) -> None:
    own = "default-src 'none'"
    got = added(registry, "/", [("content-security-policy", own)])
    assert got["content-security-policy"] == own
    assert got["X-Frame-Options"] == "DENY"


def test_api_responses_vary_on_origin_and_merge_an_existing_vary(registry: WikiRegistry) -> None:
    assert added(registry, "/api/v1/tasks", [])["Vary"] == "Origin"
    assert added(registry, "/api/v1/tasks", [("Vary", "Cookie")])["Vary"] == "Cookie, Origin"
    assert added(registry, "/api/v1/tasks", [("Vary", "Cookie, origin")])["Vary"] == "Cookie, origin"
    # "Origin" only as part of another name does not count
    assert added(registry, "/api/v1/tasks", [("Vary", "X-Origin-Hint")])["Vary"] == "X-Origin-Hint, Origin"
    assert "Vary" not in added(registry, "/stats", [])


@pytest.mark.parametrize(("path", "origin", "allowed"), [
    ("/api/v1/suggestions", ALLOWED, True),
    ("/api/v1/decisions", "https://evil.example", False),
    ("/api/v1/decisions", "https://uk.wikipedia.org.evil.example", False),
    ("/api/v1/decisions", None, False),
    ("/stats", ALLOWED, False),  # the tool's own pages answer no CORS
])
def test_cors_only_for_allowlisted_wikis_on_the_api(registry: WikiRegistry, path: str,
                                                    origin: str | None, allowed: bool) -> None:
    got = added(registry, path, [], origin)
    assert got.get("Access-Control-Allow-Origin") == (origin if allowed else None)
    assert ("Access-Control-Allow-Methods" in got) is allowed
    assert got.get("Access-Control-Expose-Headers") == ("Retry-After" if allowed else None)
    assert "Access-Control-Allow-Credentials" not in got
