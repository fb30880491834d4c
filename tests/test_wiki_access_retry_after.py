# SPDX-License-Identifier: GPL-3.0-or-later
"""A wiki that asks to wait (Retry-After, with maxlag, 429 or 503) is not asked again sooner: not
by a retry, nor by the next request. A local server replays a real MediaWiki 1.39 maxlag answer
(tests/fixtures/wiki_access/README.md); a real wiki's own answer is in test_wiki_access_mediawiki."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests

from suggest.wiki import api_source
from suggest.wiki.api_source import ApiSource, make_session, query
from suggest.wiki.registry import Wiki
from suggest.wiki.source import PageNotFound, WikiUnavailable
from tests.support.http import LocalServer, QuietHandler, send

RECORDED = Path(__file__).parent / "fixtures" / "wiki_access"
MAXLAG = json.loads((RECORDED / "maxlag.json").read_text(encoding="utf-8"))
MISSING = (RECORDED / "missing.json").read_text(encoding="utf-8")
Answer = tuple[int, str, dict[str, str]]


def lagged() -> Answer:
    return MAXLAG["status"], json.dumps(MAXLAG["body"]), MAXLAG["headers"]


def missing() -> Answer:
    return 200, MISSING, {}


class ScriptedWiki:
    """Answers with ``answers`` in turn (the last one again when they run out); counts requests."""

    def __init__(self, *answers: Callable[[], Answer]) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []
        owner = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                owner.paths.append(self.path)
                answer = owner.answers.pop(0) if len(owner.answers) > 1 else owner.answers[0]
                status, body, headers = answer()
                send(self, status, body, headers)

        self.local = LocalServer(Handler)
        api_url = f"{self.local.url}/w/api.php"
        record = Wiki(id="fake", kind="mediawiki", lang="en", name="fake", api_url=api_url)
        self.session = make_session(record, "wiki-suggest/test (https://example.org/; a@b.c)", 5.0)
        self.sleeps: list[float] = []
        self.source = ApiSource(record, self.session, maxlag=5, sleep=self.sleeps.append)


@pytest.fixture
def wiki() -> Iterator[Callable[..., ScriptedWiki]]:
    made: list[ScriptedWiki] = []

    def make(*answers: Callable[[], Answer]) -> ScriptedWiki:
        made.append(ScriptedWiki(*answers))
        return made[-1]

    yield make
    for server in made:
        server.local.close()


def test_maxlag_is_not_retried_sooner_than_its_retry_after(wiki: Any) -> None:
    lagging = wiki(lagged)
    with pytest.raises(WikiUnavailable):
        lagging.source.get_page("Albedo")
    # Retry-After: 5 is longer than an editor waits: one request, no retry half a second later.
    assert len(lagging.paths) == 1 and lagging.sleeps == []
    assert "maxlag=5" in lagging.paths[0]


def test_the_next_requests_leave_a_lagged_wiki_alone_until_then(wiki: Any) -> None:
    lagging = wiki(lagged)
    with pytest.raises(WikiUnavailable):
        lagging.source.get_page("Albedo")
    for _ in range(3):  # other editors' requests, within the 5 seconds
        with pytest.raises(WikiUnavailable):
            lagging.source.get_page("Albedo")
        with pytest.raises(WikiUnavailable):
            lagging.source.categories_of(["Albedo", "Earth"])
    assert len(lagging.paths) == 1


def test_a_background_job_waits_as_long_as_asked_then_asks_again(wiki: Any) -> None:
    lagging = wiki(lagged, missing)
    sleeps: list[float] = []
    doc = query(lagging.session, {"titles": "No_such_page"}, maxlag=5, sleep=sleeps.append, patient=True)
    assert doc["query"]["pages"][0]["missing"] is True
    assert len(sleeps) == 1 and 4.5 <= sleeps[0] <= 5.0
    assert len(lagging.paths) == 2


def test_a_short_retry_after_is_waited_by_the_editor(wiki: Any) -> None:
    limited = wiki(lambda: (429, "{}", {"Retry-After": "1"}), missing)
    with pytest.raises(PageNotFound):  # the retry's answer was read
        limited.source.get_page("No_such_page")
    assert len(limited.paths) == 2 and len(limited.sleeps) == 1
    assert 0.9 <= limited.sleeps[0] <= api_source.MAX_BACKOFF


def test_retry_after_as_an_http_date(wiki: Any) -> None:
    headers = {"Retry-After": formatdate(time.time() + 60, usegmt=True), "Content-Type": "text/html"}
    unavailable = wiki(lambda: (503, "<html>down</html>", headers))
    with pytest.raises(WikiUnavailable):
        unavailable.source.get_page("Albedo")
    assert len(unavailable.paths) == 1 and unavailable.sleeps == []


@pytest.mark.parametrize(("header", "seconds"), [
    ("5", 5.0), (" 120 ", 120.0), ("0", 0.0), ("99999999", 3600.0),
    ("", None), ("soon", None), ("-5", None), ("1.5", None), ("²", None), ("nan", None), ("inf", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
])
def test_retry_after_values(header: str, seconds: float | None) -> None:
    response = requests.Response()
    response.headers["Retry-After"] = header
    assert api_source.retry_after(response) == seconds
