"""Attack tables, each with the negative cases and a positive control: SSRF through wiki ids and
redirects, CORS, decisions on ids the service did not issue (or for another wiki), oversized
bodies, CSRF on every state-changing HTML form (discovered at run time), security headers."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
import urllib3.util.connection
from sqlalchemy import func, select

from suggest.store.schema import metadata
from suggest.web import create_app
from suggest.wiki.registry import UnknownWiki, WikiRegistry, parse_sitematrix
from tests.conftest import app_config

URL = "/api/v1/suggestions"
MAINTAINER = "Maint Tester"


@pytest.fixture
def app(sqlite_url: str) -> Any:
    return create_app(app_config(sqlite_url, MAINTAINERS=[MAINTAINER], RATE_LIMITS={"enabled": False}))


def table_counts(app: Any) -> dict[str, int]:
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


# -- SSRF ----------------------------------------------------------------------------------------
SSRF_IDS = [
    "en.wikipedia.org.evil.com", "evil.com#.wikipedia.org", "evil.com", "user@host", "enwiki@evil.com",
    "127.0.0.1", "2130706433", "0x7f000001", "[::1]", "::1", "localhost", "localhost:6379",
    "http://127.0.0.1/", "https://en.wikipedia.org", "en.wikipedia.org", "//evil.com",
    "enwiki/../../etc/passwd", "enwiki%2F..", "enwiki\n", "enwiki ", " enwiki", "enwiki\x00",
    "еnwiki",  # Cyrillic е
    "ｅｎｗｉｋｉ",  # full-width
    "enwıki",  # dotless ı
    "enwiki\u200b",  # zero-width space
    "ENWIKI", "enwiki.", "metadata.google.internal", "169.254.169.254",
]


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every outbound connection the app tries (then refused, so nothing leaves the machine)."""
    attempts: list[tuple[str, int]] = []

    def refuse(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        raise ConnectionRefusedError("outbound connections are refused in this test")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse)
    monkeypatch.setattr("urllib3.connection.connection.create_connection", refuse)
    return attempts


def test_ssrf_positive_control_reaches_only_the_registered_host(app: Any, outbound: list[Any]) -> None:
    response = app.test_client().get(URL, query_string={"wiki": "enwiki", "title": "Circle",
                                                        "task": "categories"})
    assert response.status_code == 502 and response.get_json()["error"]["code"] == "wiki_unavailable"
    assert outbound and {host for host, _ in outbound} == {"en.wikipedia.org"}


@pytest.mark.parametrize("wiki", SSRF_IDS)
def test_ssrf_wiki_ids_are_refused_before_any_connection(app: Any, outbound: list[Any], wiki: str) -> None:
    response = app.test_client().get(URL, query_string={"wiki": wiki, "title": "Circle",
                                                        "task": "categories"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_wiki"
    assert outbound == []
    with pytest.raises(UnknownWiki):
        app.extensions["wiki_suggest"].registry.get(wiki)


@pytest.mark.parametrize("url", [
    "https://evil.com", "https://en.wikipedia.org.evil.com", "https://en.wikipedia.org@evil.com",
    "http://en.wikipedia.org", "https://en.wikipedia.org:8080", "https://127.0.0.1",
    "https://en.wikipedia.org/evil", "https://en.wikipediа.org", "https://en.wikipedia.org#x",
    "https://evil.com/.wikipedia.org", "javascript:alert(1)//.wikipedia.org",
])
def test_site_matrix_entries_outside_wikimedia_hosts_are_dropped(url: str) -> None:
    matrix = {"0": {"code": "en", "site": [
        {"url": url, "dbname": "evilwiki", "code": "wiki"},
        {"url": "https://en.wikipedia.org", "dbname": "enwiki", "code": "wiki"}]}}
    wikis = parse_sitematrix(matrix)
    assert set(wikis) == {"enwiki"}  # the control entry survives


@pytest.mark.parametrize("api_url", [
    "http://user@127.0.0.1/w/api.php", "http://127.0.0.1/w/api.php?x=1", "http://127.0.0.1/w/api.php#f",
    "file:///etc/passwd", "gopher://127.0.0.1/api.php", "http://127.0.0.1/w/index.php",
    "http://127.0.0.1/../api.php/x", "http://evil.com\\@127.0.0.1/api.php",
])
def test_configured_wikis_need_a_plain_api_url(api_url: str) -> None:
    with pytest.raises(ValueError):
        WikiRegistry(extra_wikis={"localwiki": {"api_url": api_url}})
    assert WikiRegistry(extra_wikis={"localwiki": {"api_url": "http://127.0.0.1:8080/w/api.php"}})


# -- CORS ----------------------------------------------------------------------------------------
CORS_ORIGINS = [
    ("https://uk.wikipedia.org", True), ("https://uk.m.wikipedia.org", True),
    ("https://www.wikidata.org", True),
    ("null", False), ("http://uk.wikipedia.org", False), ("https://uk.wikipedia.org.evil.com", False),
    ("https://evil.com", False), ("https://uk.wikipediа.org", False), ("https://uk.wikipedia.org:443", False),
    ("https://uk.wikipedia.org/", False), ("HTTPS://UK.WIKIPEDIA.ORG", False), ("*", False),
    ("https://evil.com/https://uk.wikipedia.org", False), ("https://xn--uk-wikipedia-org.evil", False),
    ("https://toolforge.org", False), ("", False),
]


@pytest.mark.parametrize(("origin", "allowed"), CORS_ORIGINS)
@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_cors_answers_only_exact_wiki_origins(client: Any, origin: str, allowed: bool, method: str) -> None:
    headers = {"Origin": origin}
    if method == "OPTIONS":  # a preflight for the gadget's JSON POST
        headers.update({"Access-Control-Request-Method": "POST",
                        "Access-Control-Request-Headers": "content-type"})
        response = client.options("/api/v1/decisions", headers=headers)
    else:
        response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200
    assert "Origin" in response.headers.get("Vary", "")
    assert response.headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
    assert response.headers.get("Access-Control-Allow-Origin") != "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    if allowed and method == "OPTIONS":
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_cors_vary_is_set_on_errors_too(client: Any) -> None:
    for response in (client.get(URL, headers={"Origin": "https://uk.wikipedia.org"}),
                     client.get("/api/v1/nothing", headers={"Origin": "https://uk.wikipedia.org"})):
        assert response.status_code in (400, 404)
        assert "Origin" in response.headers["Vary"]
        assert response.headers["Access-Control-Allow-Origin"] == "https://uk.wikipedia.org"


# -- decisions on ids the service did not issue ----------------------------------------------------
def issue(client: Any, title: str = "Коло") -> list[str]:
    body = client.get(URL, query_string={"wiki": "fixture-ukwiki", "title": title,
                                         "task": "categories"}).get_json()
    return [s["id"] for s in body["suggestions"]]


def decide(client: Any, sid: str, origin: str | None = None, **extra: Any) -> Any:
    headers = {"Origin": origin} if origin else {}
    return client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip", **extra},
                       headers=headers)


def test_unknown_forged_and_replayed_ids(client: Any, app: Any) -> None:
    ids = issue(client)
    forged = ids[0][:-1] + ("A" if ids[0][-1] != "A" else "B")
    for bad in (forged, "A" * 22, "0" * 16):
        response = decide(client, bad)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_suggestion"
    assert decide(client, ids[0]).status_code == 201
    for _ in range(3):
        again = decide(client, ids[0], decision="accept")
        assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_decided"
    assert table_counts(app)["decisions"] == 1
    assert app.extensions["wiki_suggest"].store.get_decision(ids[0])["decision"] == "skip"


def test_decision_from_another_wikis_page_is_refused(client: Any, app: Any) -> None:
    """A suggestion issued for one wiki cannot be decided from a page of another wiki."""
    ids = issue(client)
    for origin in ("https://en.wikipedia.org", "https://uk.m.wikipedia.org"):
        response = decide(client, ids[0], origin=origin)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "wrong_wiki"
    assert table_counts(app)["decisions"] == 0
    # Without an Origin (a tool, a test) or from a non-wiki origin the check does not apply.
    assert decide(client, ids[0]).status_code == 201
    assert decide(client, ids[1], origin="https://evil.com").status_code == 201


# -- oversized bodies ------------------------------------------------------------------------------
CHUNKED = {"wsgi.input_terminated": True}  # what gunicorn says of a chunked body it reads to its end


def test_a_valid_decision_padded_past_the_limit_in_chunks_is_refused(client: Any, app: Any) -> None:
    """Sent in chunks without a length, a body is read only up to the limit: a valid decision
    followed by padding must not be taken for the whole body."""
    sid = issue(client)[0]
    body = json.dumps({"suggestion_id": sid, "decision": "accept"}).encode() \
        + b" " * app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/decisions", input_stream=io.BytesIO(body),
                           content_type="application/json", headers={"Transfer-Encoding": "chunked"},
                           environ_overrides=CHUNKED)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"
    assert table_counts(app)["decisions"] == 0
    assert decide(client, sid).status_code == 201  # the same decision, sent whole


@pytest.mark.parametrize("path", ["/api/v1/decisions", "/api/v1/edits"])
def test_bodies_nested_too_deep_for_the_parser_are_refused(client: Any, app: Any, path: str) -> None:
    body = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_body"
    assert table_counts(app)["decisions"] == 0


@pytest.mark.parametrize("field", ["comment", "user"])
def test_a_lone_surrogate_in_a_decision_is_refused(client: Any, app: Any, field: str) -> None:
    sid = issue(client)[0]
    body = json.dumps({"suggestion_id": sid, "decision": "skip", field: "x\ud800"})  # sent as \\ud800
    response = client.post("/api/v1/decisions", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_body"
    assert table_counts(app)["decisions"] == 0
    assert decide(client, sid).status_code == 201
    edit_body = json.dumps({"suggestion_ids": [sid], "revid": 5, "user": "\udfff"})
    edit = client.post("/api/v1/edits", data=edit_body, content_type="application/json")
    assert edit.status_code == 400 and edit.get_json()["error"]["code"] == "invalid_body"



@pytest.mark.parametrize("path", ["/api/v1/decisions", "/api/v1/edits"])
def test_oversized_bodies_are_refused_unread(client: Any, app: Any, path: str) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"suggestion_id": "' + b"A" * limit + b'", "decision": "skip"}'
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"
    # Without a Content-Length (chunked) the limit holds as well.
    chunked = client.post(path, input_stream=io.BytesIO(body), content_type="application/json",
                          headers={"Transfer-Encoding": "chunked"}, environ_overrides=CHUNKED)
    assert chunked.status_code == 413 and chunked.get_json()["error"]["code"] == "payload_too_large"
    many = client.post("/api/v1/edits", json={"suggestion_ids": ["A" * 22] * 51, "revid": 1})
    assert many.status_code == 400
    long_title = client.get(URL, query_string={"wiki": "fixture-ukwiki", "title": "x" * 10_000,
                                               "task": "categories"})
    assert long_title.status_code == 400
    assert table_counts(app)["decisions"] == 0


# -- CSRF ------------------------------------------------------------------------------------------
class Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"method": a.get("method", "get").lower(), "action": a.get("action", ""),
                               "fields": {}})
        elif self.forms and tag in ("input", "textarea", "button") and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value", "") or "x")
        elif self.forms and tag == "select" and a.get("name"):
            self._select = a["name"]
        elif self.forms and tag == "option" and self._select:
            self.forms[-1]["fields"].setdefault(self._select, a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def html_get_routes(app: Any) -> list[str]:
    return sorted(r.rule for r in app.url_map.iter_rules()
                  if "GET" in r.methods and not r.arguments and not r.rule.startswith(("/api/", "/static")))


def post_routes(app: Any) -> list[Any]:
    return [r for r in app.url_map.iter_rules()
            if "POST" in r.methods and not r.rule.startswith("/api/")]


def example_url(app: Any, rule: Any) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        items = getattr(converter, "items", None)
        values[name] = sorted(items)[0] if items else "x"
    url: str = app.url_map.bind("localhost").build(rule.endpoint, values)
    return url


def logged_in(app: Any, token: str = "known-csrf-token") -> Any:
    client = app.test_client()
    with client.session_transaction() as sess:  # the session web/auth.py keeps after OAuth
        sess["user"] = MAINTAINER
        sess["csrf"] = token
    return client


def discovered_forms(app: Any) -> list[dict[str, Any]]:
    client = logged_in(app)
    forms = []
    for route in html_get_routes(app):
        response = client.get(route)
        if response.status_code == 200 and response.mimetype == "text/html":
            parser = Forms()
            parser.feed(response.get_data(as_text=True))
            forms += [dict(f, page=route) for f in parser.forms if f["method"] == "post"]
    return forms


def test_every_post_form_carries_a_csrf_token(app: Any) -> None:
    issue(app.test_client())  # something for the review page to show
    forms = discovered_forms(app)
    if not post_routes(app):
        pytest.skip("no state-changing HTML routes in this build")
    assert forms, "POST routes exist but no page shows a form for them"
    for form in forms:
        assert form["fields"].get("csrf_token") == "known-csrf-token", form


def test_every_state_changing_route_refuses_a_missing_or_wrong_token(app: Any) -> None:
    ids = issue(app.test_client())
    reviewed, _ = app.extensions["wiki_suggest"].ids.open(ids[0])  # the id the review page offers
    routes = post_routes(app)
    if not routes:
        pytest.skip("no state-changing HTML routes in this build")
    forms = {f["action"]: f["fields"] for f in discovered_forms(app)}
    for rule in routes:
        url = example_url(app, rule)
        fields = {"suggestion_id": reviewed, "wiki": "fixture-ukwiki", "task": "categories",
                  "reason": "csrf test", "label": "correct", **forms.get(url, {})}
        fields.pop("csrf_token", None)
        for token in (None, "", "wrong-token", "known-csrf-token "):
            client = logged_in(app)
            before = table_counts(app)
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            response = client.post(url, data=data)
            assert response.status_code in (400, 403), (url, token, response.status_code)
            assert table_counts(app) == before, (url, token)
            with client.session_transaction() as sess:
                assert sess.get("user") == MAINTAINER  # e.g. not logged out
        # The control: the right token gets past the check (whatever the view then decides).
        response = logged_in(app).post(url, data={**fields, "csrf_token": "known-csrf-token"})
        assert response.status_code < 400, (url, response.status_code)


def test_api_posts_refuse_what_a_cross_site_form_can_send(client: Any, app: Any) -> None:
    """A form on another site can POST urlencoded, multipart or text/plain without a preflight;
    the API takes JSON only, so none of those reach a view."""
    sid = issue(client)[0]
    form = {"suggestion_id": sid, "decision": "skip"}
    for kwargs in ({"data": form},
                   {"data": json.dumps(form), "content_type": "text/plain"},
                   {"data": form, "content_type": "multipart/form-data"}):
        response = client.post("/api/v1/decisions", **kwargs)
        assert response.status_code == 415
    assert table_counts(app)["decisions"] == 0


# -- security headers ------------------------------------------------------------------------------
def csp_directives(value: str) -> dict[str, str]:
    return {part.split()[0]: part for part in (p.strip() for p in value.split(";")) if part}


@pytest.mark.parametrize("signed_in", [False, True])
def test_security_headers_and_csp_on_every_html_page(app: Any, signed_in: bool) -> None:
    issue(app.test_client())
    client = logged_in(app) if signed_in else app.test_client()
    pages = 0
    for route in [*html_get_routes(app), "/no-such-page"]:
        response = client.get(route)
        assert response.status_code != 500, route  # 503: e.g. /login without OAuth settings
        assert response.headers["X-Content-Type-Options"] == "nosniff", route
        if response.mimetype != "text/html":
            continue
        pages += 1
        assert response.headers["X-Frame-Options"] == "DENY", route
        assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer",
                                                       "strict-origin-when-cross-origin"), route
        csp = csp_directives(response.headers["Content-Security-Policy"])
        assert csp["default-src"] == "default-src 'self'", route
        assert "frame-ancestors 'none'" in csp["frame-ancestors"], route
        for directive in ("script-src", "style-src", "default-src"):
            assert "'unsafe-inline'" not in csp.get(directive, ""), (route, directive)
            assert "*" not in csp.get(directive, ""), (route, directive)
        assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>\s*\S", response.data), \
            f"{route}: inline script, which the CSP would block"
    assert pages >= 2
