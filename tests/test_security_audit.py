# SPDX-License-Identifier: GPL-3.0-or-later
"""Attacks found by a security review of the login, the maintainer and reviewer checks and the
statistics page, each tried against the running app (the wiki's OAuth steps are played by the
fake Special:OAuth of tests/test_auth.py)."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from suggest.web import auth
from tests.conftest import app_config
from tests.test_auth import VERIFIER, FakeMediaWiki, consumer, log_in, provider

__all__ = ["provider"]  # the OAuth fake, a fixture of test_auth

TOOL = "https://wiki-suggest.toolforge.org/login"


def oauth_app(sqlite_url: str, mw_uri: str, **extra: Any) -> Any:
    from suggest.web import create_app

    return create_app(app_config(sqlite_url, OAUTH=consumer(mw_uri), **extra))


def as_a_browser_reads_it(location: str) -> str:
    """The host a browser goes to: the URL standard drops tabs and line breaks first."""
    return urlsplit(urljoin(TOOL, re.sub(r"[\t\n\r]", "", location))).netloc


@pytest.mark.parametrize("next_path", ["/\t/evil.example/x", "/\n/evil.example/x",
                                       "/\r\n/evil.example/x", "/admin\x00"])
def test_login_never_redirects_off_site_through_a_tab_or_line_break(
        sqlite_url: str, provider: FakeMediaWiki, next_path: str) -> None:
    client = oauth_app(sqlite_url, provider.mw_uri).test_client()
    done = log_in(client, next_path=next_path)
    assert done.status_code == 302
    assert done.headers["Location"] == "/"
    assert as_a_browser_reads_it(done.headers["Location"]) == urlsplit(TOOL).netloc


def test_a_callback_naming_another_request_token_logs_nobody_in(
        sqlite_url: str, provider: FakeMediaWiki) -> None:
    client = oauth_app(sqlite_url, provider.mw_uri).test_client()
    assert client.get("/login").status_code == 302  # a login of this browser is in progress
    forged = client.get(f"/oauth-callback?oauth_token=someone-elses&oauth_verifier={VERIFIER}")
    assert forged.status_code == 502 and "Special:OAuth/token" not in provider.calls
    with client.session_transaction() as session:
        assert "user" not in session and "oauth_request" not in session


@pytest.fixture
def silent_wiki() -> Iterator[str]:
    """A wiki that takes the connection and never answers."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/index.php"
    listener.close()


def answered_within(seconds: float, call: Any) -> Any:
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert answers, f"no answer within {seconds} s: the request is still waiting for the wiki"
    return answers[0]


def test_a_wiki_that_does_not_answer_cannot_hold_a_login(
        sqlite_url: str, provider: FakeMediaWiki, silent_wiki: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "OAUTH_TIMEOUT", 0.5, raising=False)
    app = oauth_app(sqlite_url, silent_wiki)
    assert answered_within(10, lambda: app.test_client().get("/login")).status_code == 502

    app.config["OAUTH"]["mw_uri"] = provider.mw_uri  # starts, then the wiki goes silent
    client = app.test_client()
    start = client.get("/login")
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False,
                                 timeout=5).headers["Location"])
    app.config["OAUTH"]["mw_uri"] = silent_wiki
    answer = answered_within(10, lambda: client.get(f"{back.path}?{back.query}"))
    assert answer.status_code == 502
    with client.session_transaction() as session:
        assert "user" not in session


def test_stats_links_take_only_the_checked_filters(sqlite_url: str) -> None:
    from suggest.web import create_app

    client = create_app(app_config(sqlite_url)).test_client()
    html = {"Accept": "text/html"}
    assert client.get("/stats?endpoint=x", headers=html).status_code == 200
    page = client.get("/stats?wiki=fixture-enwiki&_external=1&_anchor=x&_method=GET",
                      headers=html).get_data(as_text=True)
    links = re.findall(r'href="([^"]*/(?:api/v1/stats|stats\.csv)[^"]*)"', page)
    assert links == ["/api/v1/stats?wiki=fixture-enwiki&amp;weeks=12",
                     "/stats.csv?wiki=fixture-enwiki&amp;weeks=12"]


@pytest.mark.parametrize(("listed", "logged_in"), [("SSob", "ßob"), ("FIxer", "ﬁxer")])
def test_a_name_the_wiki_keeps_apart_is_not_a_maintainer_or_reviewer(
        sqlite_url: str, provider: FakeMediaWiki, listed: str, logged_in: str) -> None:
    app = oauth_app(sqlite_url, provider.mw_uri, MAINTAINERS=[listed], REVIEWERS=[listed])
    provider.identity["username"] = logged_in  # another account on the wiki
    other = app.test_client()
    log_in(other)
    assert other.get("/admin").status_code == 403
    page = other.get("/review?wiki=fixture-enwiki&task=categories").get_data(as_text=True)
    assert "review-not-reviewer" in page

    provider.identity["username"] = listed
    owner = app.test_client()
    log_in(owner)
    assert owner.get("/admin").status_code == 200
