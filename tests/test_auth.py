# SPDX-License-Identifier: GPL-3.0-or-later
"""Login with Wikimedia OAuth (mwoauth), maintainer controls and CSRF.

The OAuth extension cannot run here, so a tiny HTTP server on 127.0.0.1 plays Special:OAuth: it
checks every request's OAuth 1.0a HMAC-SHA1 signature and replays the recorded answers in
tests/fixtures/oauth/, signing the identity JWT with the consumer secret (HS256) as MediaWiki does.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from oauthlib.oauth1.rfc5849 import signature

from tests.conftest import app_config
from tests.support.http import LocalServer, QuietHandler, send

RECORDINGS = Path(__file__).parent / "fixtures" / "oauth"
CONSUMER_KEY = "0b7c3a9e5d1f4e2a8c6b0d9f7e3a1c5b"
CONSUMER_SECRET = "5e1d9c3b7a2f6e0d4c8b2a6f0e4d8c2b6a0f4e8d"
VERIFIER = "6a4d2c0b8e9f7a5c"
CALLBACK = "http://localhost/oauth-callback"


def consumer(mw_uri: str, callback: str | None = CALLBACK) -> dict[str, str]:
    """The tool's OAUTH setting for the test consumer at ``mw_uri`` (without a callback: "oob")."""
    settings = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "mw_uri": mw_uri}
    return settings if callback is None else {**settings, "callback": callback}


def recorded(name: str) -> str:
    return (RECORDINGS / name).read_text(encoding="utf-8")


def form(body: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body).items()}


class FakeMediaWiki:
    """Special:OAuth/initiate, /authenticate, /token and /identify on 127.0.0.1."""

    def __init__(self) -> None:
        self.identity = json.loads(recorded("identify.json"))
        self.jwt_secret = CONSUMER_SECRET
        self.consumer_secret = CONSUMER_SECRET
        self.calls: list[str] = []
        self.request_token = form(recorded("initiate.txt"))
        self.access_token = form(recorded("token.txt"))
        self.callback: str | None = None
        self.replay_nonce = False  # answer with the recorded nonce instead of the request's
        fake = self

        class Handler(QuietHandler):
            def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
                send(self, status, body, headers, content_type=None)  # as the recordings came

            def do_GET(self) -> None:  # noqa: N802 - the browser comes here to authorize
                query = form(urlsplit(self.path).query)
                fake.calls.append(query.get("title", ""))
                expected = fake.request_token["oauth_token"]
                if query.get("title") != "Special:OAuth/authenticate" or \
                        query.get("oauth_token") != expected or fake.callback is None:
                    return self._answer(400, "Error: bad authorize request")
                params = urlencode({"oauth_verifier": VERIFIER, "oauth_token": query["oauth_token"]})
                return self._answer(302, "", {"Location": f"{fake.callback}?{params}"})

            def do_POST(self) -> None:  # noqa: N802 - the tool's server-to-server steps
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                title = form(urlsplit(self.path).query).get("title", "")
                fake.calls.append(title)
                header = self.headers.get("Authorization", "")
                oauth = {k: v for k, v in signature.collect_parameters(
                    headers={"Authorization": header}, exclude_oauth_signature=False)}
                if title == "Special:OAuth/initiate":
                    if oauth.get("oauth_consumer_key") != CONSUMER_KEY:
                        return self._answer(200, recorded("initiate_error.txt"))
                    if not fake.signed(self, body, header, ""):
                        return self._answer(200, "Error: E002: Invalid signature")
                    fake.callback = oauth.get("oauth_callback")
                    return self._answer(200, recorded("initiate.txt"))
                if title == "Special:OAuth/token":
                    if oauth.get("oauth_verifier") != VERIFIER or \
                            not fake.signed(self, body, header, fake.request_token["oauth_token_secret"]):
                        return self._answer(200, "Error: E004: Invalid verifier or signature")
                    return self._answer(200, recorded("token.txt"))
                if title == "Special:OAuth/identify":
                    if oauth.get("oauth_token") != fake.access_token["oauth_token"] or \
                            not fake.signed(self, body, header, fake.access_token["oauth_token_secret"]):
                        return self._answer(200, json.dumps({"error": "mwoauth-invalid-authorization",
                                                             "message": "Invalid signature"}))
                    now = int(time.time())
                    claims = {**fake.identity, "iss": fake.origin, "aud": CONSUMER_KEY, "iat": now,
                              "exp": now + 100}
                    if not fake.replay_nonce:
                        claims["nonce"] = oauth["oauth_nonce"]
                    return self._answer(200, jwt.encode(claims, fake.jwt_secret, algorithm="HS256"))
                return self._answer(404, "Error: unknown title")

        self.local = LocalServer(Handler, poll_interval=0.05)
        self.origin = self.local.url

    def signed(self, handler: BaseHTTPRequestHandler, body: str, header: str, token_secret: str) -> bool:
        """Check the OAuth 1.0a HMAC-SHA1 signature the way the extension does."""
        query = urlsplit(handler.path).query
        params = signature.collect_parameters(uri_query=query, body=body,
                                              headers={"Authorization": header})
        sent = re.search(r'oauth_signature="([^"]+)"', header)
        if sent is None:
            return False
        from urllib.parse import unquote
        request = SimpleNamespace(params=params, uri=f"{self.origin}{handler.path}", http_method="POST",
                                  signature=unquote(sent.group(1)))
        return bool(signature.verify_hmac_sha1(request, self.consumer_secret, token_secret))

    @property
    def mw_uri(self) -> str:
        return f"{self.origin}/index.php"


@pytest.fixture
def provider() -> Iterator[FakeMediaWiki]:
    fake = FakeMediaWiki()
    yield fake
    fake.local.close()


@pytest.fixture
def app(sqlite_url: str, provider: FakeMediaWiki) -> Any:
    from suggest.web import create_app

    return create_app(app_config(sqlite_url, MAINTAINERS=["Example_Maintainer"],
                                 OAUTH=consumer(provider.mw_uri)))


def log_in(client: Any, next_path: str | None = None) -> Any:
    """The whole dance: /login -> the wiki's authorize page -> back to /oauth-callback."""
    start = client.get("/login", query_string={"next": next_path} if next_path else None)
    assert start.status_code == 302, start.get_data(as_text=True)
    authorize = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert authorize.status_code == 302
    back = urlsplit(authorize.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(f"{back.path}?{back.query}")


def csrf(client: Any) -> str:
    page = client.get("/admin").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_maintainer_logs_in_pauses_and_resumes_with_csrf(app: Any, provider: FakeMediaWiki) -> None:
    client = app.test_client()
    anonymous = client.get("/admin")
    assert anonymous.status_code == 302 and "/login?next=/admin" in anonymous.headers["Location"]

    done = log_in(client, next_path="/admin")
    assert done.status_code == 302 and done.headers["Location"] == "/admin"
    assert provider.calls == ["Special:OAuth/initiate", "Special:OAuth/authenticate",
                              "Special:OAuth/token", "Special:OAuth/identify"]
    page = client.get("/admin")
    assert page.status_code == 200 and "Example Maintainer" in page.get_data(as_text=True)
    token = csrf(client)
    store = app.extensions["wiki_suggest"].store

    forged = client.post("/admin/pause", data={"wiki": "fixture-enwiki", "task": "categories",
                                               "reason": "forged", "csrf_token": "x" * 43})
    missing = client.post("/admin/pause", data={"wiki": "fixture-enwiki", "task": "categories",
                                                "reason": "forged"})
    assert forged.status_code == 400 and missing.status_code == 400
    assert store.pauses_for("fixture-enwiki") == {} and store.audit_entries() == []

    no_reason = client.post("/admin/pause", data={"wiki": "fixture-enwiki", "task": "categories",
                                                  "reason": "  ", "csrf_token": token})
    unknown = client.post("/admin/pause", data={"wiki": "evil.example", "task": "categories",
                                                "reason": "x", "csrf_token": token})
    control = client.post("/admin/pause", data={"wiki": "fixture-enwiki", "task": "categories",
                                                "reason": "\x00\x01 bad", "csrf_token": token})
    assert no_reason.status_code == 303 and unknown.status_code == 303 and control.status_code == 303
    assert store.audit_entries() == []  # the public audit log holds none of them

    paused = client.post("/admin/pause", data={"wiki": "fixture-enwiki", "task": "categories",
                                               "reason": "Checking reports of wrong categories",
                                               "csrf_token": token})
    assert paused.status_code == 303
    assert store.pauses_for("fixture-enwiki")["categories"]["paused_by"] == "Example Maintainer"
    api = client.get("/api/v1/suggestions", query_string={
        "wiki": "fixture-enwiki", "title": "Albedo", "task": "categories"}).get_json()
    assert api["pause"]["reason"] == "Checking reports of wrong categories" and api["suggestions"] == []

    resumed = client.post("/admin/resume", data={"wiki": "fixture-enwiki", "task": "categories",
                                                 "reason": "Fixed", "csrf_token": token})
    assert resumed.status_code == 303 and store.pauses_for("fixture-enwiki") == {}
    audit = [(e["actor"], e["action"], e["reason"]) for e in store.audit_entries()]
    assert audit == [("Example Maintainer", "resume", "Fixed"),
                     ("Example Maintainer", "pause", "Checking reports of wrong categories")]
    public = app.test_client().get("/stats").get_data(as_text=True)  # no login needed
    assert "Checking reports of wrong categories" in public and "Example Maintainer" in public

    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and client.get("/admin").status_code == 302


def test_other_users_can_log_in_but_not_control(app: Any, provider: FakeMediaWiki) -> None:
    provider.identity["username"] = "Some Reviewer"
    client = app.test_client()
    assert log_in(client).headers["Location"] == "/"
    assert "Some Reviewer" in client.get("/login-status").get_data(as_text=True)
    assert client.get("/admin").status_code == 403
    with client.session_transaction() as session:
        token = session.get("csrf") or "t"
        session["csrf"] = token
    assert client.post("/admin/pause", data={"wiki": "fixture-enwiki", "task": "categories",
                                             "reason": "x", "csrf_token": token}).status_code == 403
    assert app.extensions["wiki_suggest"].store.audit_entries() == []


@pytest.mark.parametrize("change", ["wrong_secret", "replayed", "blocked", "bad_consumer"])
def test_a_login_the_wiki_does_not_vouch_for_fails(app: Any, provider: FakeMediaWiki, change: str) -> None:
    if change == "wrong_secret":
        provider.jwt_secret = "not-the-consumer-secret-but-long-enough"  # a forged identity
    elif change == "replayed":
        provider.replay_nonce = True  # an identity answer recorded earlier, replayed
    elif change == "blocked":
        provider.identity["blocked"] = True
    else:
        app.config["OAUTH"] = {**app.config["OAUTH"], "consumer_key": "unknown"}
    client = app.test_client()
    start = client.get("/login")
    if change == "bad_consumer":
        assert start.status_code == 502
        return
    authorize = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(authorize.headers["Location"])
    answer = client.get(f"{back.path}?{back.query}")
    assert answer.status_code == (403 if change == "blocked" else 502)
    with client.session_transaction() as session:
        assert "user" not in session
    assert client.get("/admin").status_code == 302


def test_login_never_redirects_off_site(app: Any) -> None:
    client = app.test_client()
    assert log_in(client, next_path="//evil.example/x").headers["Location"] == "/"
    assert log_in(client, next_path="https://evil.example/").headers["Location"] == "/"


def test_logins_the_tool_starts_are_limited_before_the_wiki_is_asked(sqlite_url: str,
                                                                      provider: FakeMediaWiki) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, OAUTH=consumer(provider.mw_uri),
                                RATE_LIMITS={"login": {"rate": 0.01, "burst": 2}}))
    started = [app.test_client().get("/login").status_code for _ in range(2)]
    assert started == [302, 302] and provider.calls == ["Special:OAuth/initiate"] * 2
    # Another browser (no cookie, no user): the bucket is the tool's, not a visitor's.
    refused = app.test_client().get("/login", headers={"Accept": "text/html"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-Error-Code"] == "rate_limited"
    assert "<h1>Please wait</h1>" in refused.get_data(as_text=True)
    assert provider.calls == ["Special:OAuth/initiate"] * 2  # the wiki was not asked again
    assert app.test_client().get("/login", headers={"Accept": "application/json"}).get_json()[
        "error"]["code"] == "rate_limited"
    # The other buckets keep their defaults when only the login one is set.
    assert app.test_client().get("/api/v1/tasks").status_code == 200


def test_callback_without_a_login_in_progress(app: Any) -> None:
    answer = app.test_client().get(f"/oauth-callback?oauth_verifier={VERIFIER}&oauth_token=x")
    assert answer.status_code == 400


def test_login_unconfigured(sqlite_url: str) -> None:
    from suggest.web import create_app

    assert create_app(app_config(sqlite_url)).test_client().get("/login").status_code == 503


def test_cli_pause_and_resume_write_the_audit_log(sqlite_url: str) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["pause", "fixture-enwiki", "categories"]).exit_code != 0  # reason required
    bad = runner.invoke(args=["pause", "nowhere", "categories", "--reason", "x"])
    assert bad.exit_code != 0 and "not on the tool's list" in bad.output
    ok = runner.invoke(args=["pause", "fixture-enwiki", "categories", "--reason", "maintenance"])
    assert ok.exit_code == 0, ok.output
    store = app.extensions["wiki_suggest"].store
    assert store.pauses_for("fixture-enwiki")["categories"]["paused_by"] == "operator"
    assert runner.invoke(args=["resume", "fixture-enwiki", "categories", "--reason", "done"]).exit_code == 0
    assert [(e["action"], e["actor"]) for e in store.audit_entries()] == [
        ("resume", "operator"), ("pause", "operator")]


def test_session_signer_is_made_once_per_secret_key(sqlite_url: str) -> None:
    from itsdangerous import BadSignature

    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, SECRET_KEY="first key"))
    cookies = app.session_interface
    signer = cookies.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signer is not None and cookies.get_signing_serializer(app) is signer  # type: ignore[attr-defined]
    signed = signer.dumps({"user": "Reviewer A"})
    app.secret_key = "second key"
    other = cookies.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert other is not signer
    with pytest.raises(BadSignature):
        other.loads(signed)  # a cookie signed with the old key is not accepted
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = "Reviewer B"
    with client.session_transaction() as session:
        assert session["user"] == "Reviewer B"  # written and read back through the kept signer


def test_a_call_without_cookie_writes_no_cookie(sqlite_url: str) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, SECRET_KEY="key"))
    client = app.test_client()
    response = client.get("/api/v1/suggestions", query_string={
        "wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    with client.session_transaction() as session:  # a signed-in reviewer's cookie
        session["user"] = "Reviewer A"
    page = client.get("/review?wiki=fixture-ukwiki&task=categories")
    assert "Cookie" in page.headers.get("Vary", "")  # their session was read: caches must vary
