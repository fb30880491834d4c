# SPDX-License-Identifier: GPL-3.0-or-later
"""The MediaWiki API page source against a real local MediaWiki 1.39 (en and uk dumps imported),
end to end through the Flask app, and against small local HTTP servers that misbehave."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests

from suggest import __version__
from suggest.config import DEFAULTS
from suggest.services import user_agent
from suggest.wiki import api_source
from suggest.wiki import wikitext as wt
from suggest.wiki.api_source import ApiSource, make_session
from suggest.wiki.registry import Wiki
from suggest.wiki.source import PageNotFound, WikiUnavailable
from tests.conftest import app_config
from tests.conftest_mediawiki import MediaWikiFactory
from tests.support.http import LocalServer, QuietHandler, send
from tests.support.mediawiki import LocalMediaWiki

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
UA = user_agent(DEFAULTS)
HIDDEN = "Статті без джерел"
# A tracking category MediaWiki itself adds (broken file links); hidden, as on the real ukwiki.
TRACKING = "Сторінки, що посилаються на неіснуючі файли"
# Wikimedia User-Agent policy: tool/version (contact URL; email) library/version.
UA_POLICY = re.compile(r"wiki-suggest/[\w.+-]+ \(https?://\S+; [^\s@;]+@[^\s@;)]+\) python-requests/[\d.]+")


def source_for(wiki: LocalMediaWiki, wiki_id: str, timeout: float = 10.0) -> ApiSource:
    record = Wiki(id=wiki_id, kind="mediawiki", lang=wiki.lang, name=wiki_id, api_url=wiki.api_url,
                  origin=wiki.url)
    return ApiSource(record, make_session(record, UA, timeout), maxlag=None)


@pytest.fixture(scope="module")
def uk_wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    wiki = mediawiki_factory("uk")
    if not imported(wiki, "Коло"):  # the session's uk wiki may be shared with other modules
        wiki.import_xml(DUMPS / "ukwiki-sample.xml")
    # A maintenance category, hidden, on the article and on some of its neighbours.
    wiki.edit(f"Категорія:{HIDDEN}", "__HIDDENCAT__")
    wiki.edit(f"Категорія:{TRACKING}", "__HIDDENCAT__")
    for title in ("Легені", "Трахея"):
        text = wiki.api_get(action="query", prop="revisions", rvprop="content", rvslots="main",
                            titles=title)["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"]
        wiki.edit(title, f"{text}\n[[Категорія:{HIDDEN}]]")
    wiki.edit("Окружність", "#REDIRECT [[Коло]]")
    return wiki


@pytest.fixture(scope="module")
def en_wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    wiki = mediawiki_factory("en")
    if not imported(wiki, "Albedo"):
        wiki.import_xml(DUMPS / "enwiki-sample.xml")
    return wiki


def imported(wiki: LocalMediaWiki, title: str) -> bool:
    return "missing" not in wiki.api_get(action="query", titles=title)["query"]["pages"][0]


def wait_for_categories(wiki: LocalMediaWiki, title: str, expected: set[str]) -> None:
    # Category links are written by a deferred update after a save: poll briefly.
    wiki.run_jobs()
    found: set[str] = set()
    for _ in range(30):
        doc = wiki.api_get(action="query", prop="categories", titles=title, cllimit="max")
        found = {c["title"].split(":", 1)[1] for c in doc["query"]["pages"][0].get("categories", [])}
        if found == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"{title}: categories are {found}, not {expected}")


@pytest.mark.mediawiki
def test_page_text_revision_categories_and_hidden_flags(uk_wiki: LocalMediaWiki) -> None:
    source = source_for(uk_wiki, "localuk")
    page = source.get_page("Легені")
    assert page.title == "Легені" and page.namespace == 0
    assert "'''Леге́ні'''" in page.wikitext
    latest = uk_wiki.api_get(action="query", prop="revisions", titles="Легені")
    assert page.revid == latest["query"]["pages"][0]["revisions"][0]["revid"]
    assert set(page.categories) == {"Пульмонологія", "Органи", "Анатомія людини", "Легені",
                                    "Дихальна система"}
    assert set(page.hidden_categories) == {HIDDEN, TRACKING}
    assert {"Плевра", "Трахея", "Бронхи"} <= set(page.links)
    assert HIDDEN in source.get_page("Трахея").hidden_categories
    assert source.get_page("Глотка").hidden_categories == [TRACKING]  # HIDDEN is not on that page
    assert not any(":" in link for link in page.links)
    assert source.get_page(revid=page.revid).title == "Легені"
    with pytest.raises(PageNotFound):
        source.get_page("Такої статті немає")
    with pytest.raises(PageNotFound):
        source.get_page(revid=10**9)
    assert source.get_page("Окружність").title == "Коло"  # redirects are followed on the wiki


@pytest.mark.mediawiki
def test_localized_namespaces(uk_wiki: LocalMediaWiki, en_wiki: LocalMediaWiki) -> None:
    uk = source_for(uk_wiki, "localuk")
    assert uk.category_prefixes()[0] == "Категорія"
    assert "Category" in uk.category_prefixes()
    assert {"Файл", "File", "Шаблон", "Template", "Категорія"} <= set(uk.namespace_prefixes())
    en = source_for(en_wiki, "localen")
    assert en.category_prefixes() == ["Category"]
    assert "Image" in en.namespace_prefixes()  # an alias


@pytest.mark.mediawiki
def test_categories_of_in_batches_with_redirects_and_missing_titles(
        uk_wiki: LocalMediaWiki, monkeypatch: pytest.MonkeyPatch) -> None:
    source = source_for(uk_wiki, "localuk")
    articles = [p["title"] for p in uk_wiki.api_get(
        action="query", list="allpages", apnamespace="0", apfilterredir="nonredirects",
        aplimit="max")["query"]["allpages"]]
    assert len(articles) >= 40
    missing = [f"Немає такої статті {n}" for n in range(15)]
    titles = [*articles, "Окружність", "окружність", *missing, "Категорія:Кола", articles[0]]
    assert len(titles) > api_source.BATCH
    calls: list[int] = []
    original = source.session.get

    def counting(**params: Any) -> Any:
        calls.append(len(str(params.get("titles", "")).split("|")))
        return original(**params)

    monkeypatch.setattr(source.session, "get", counting)
    found = source.categories_of(titles)
    assert max(calls) <= api_source.BATCH and len(calls) >= 2
    assert set(found) == set(articles) - {"Головна сторінка"} | ({"Головна сторінка"} & set(found))
    assert found["Коло"] == [c for c in found["Коло"] if c != HIDDEN]
    assert "Планіметрія" in found["Коло"]
    assert HIDDEN not in found["Легені"] and "Дихальна система" in found["Легені"]
    assert not any(t.startswith(("Немає", "Категорія:")) for t in found)


@pytest.mark.mediawiki
def test_similar_is_empty_without_cirrussearch(uk_wiki: LocalMediaWiki) -> None:
    source = source_for(uk_wiki, "localuk")
    assert "CirrusSearch" not in {e.get("name") for e in source.siteinfo().get("extensions", [])}
    assert source.similar(source.get_page("Коло"), 10) == []


@pytest.mark.mediawiki
def test_end_to_end_suggestions_from_the_local_wiki(uk_wiki: LocalMediaWiki, sqlite_url: str) -> None:
    from suggest.web import create_app

    source = source_for(uk_wiki, "localuk")
    original = source.get_page("Легені").wikitext
    prefixes = source.category_prefixes()
    removed = set(wt.category_links(original, prefixes)) - {"Органи", HIDDEN}
    assert removed == {"Пульмонологія", "Анатомія людини", "Легені", "Дихальна система"}
    stripped = wt.remove_categories(original, prefixes)
    uk_wiki.edit("Легені", f"{stripped}\n[[Категорія:Органи]]\n[[Категорія:{HIDDEN}]]")
    try:
        wait_for_categories(uk_wiki, "Легені", {"Органи", HIDDEN, TRACKING})
        app = create_app(app_config(sqlite_url, THRESHOLD=0.0, MAX_SUGGESTIONS=10, EXTRA_WIKIS={
            "localuk": {"api_url": uk_wiki.api_url, "lang": "uk"}}))
        response = app.test_client().get("/api/v1/suggestions", query_string={
            "wiki": "localuk", "title": "Легені", "task": "categories"})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        labels = [s["label"] for s in body["suggestions"]]
        assert 1 <= len(labels) <= 10
        assert set(labels) & removed, (labels, removed)
        assert not {"Органи", HIDDEN, TRACKING} & set(labels)
        for suggestion in body["suggestions"]:
            assert suggestion["wikitext"] == f"[[Категорія:{suggestion['label']}]]"
            assert "linked articles" in suggestion["explanation"]
        assert body["page"]["revid"] == source.get_page("Легені").revid
    finally:
        uk_wiki.edit("Легені", original)


# -- misbehaving servers ------------------------------------------------------------------------

class FakeWiki:
    """A tiny HTTP server on 127.0.0.1 that answers every request with ``respond(handler)``."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                owner.requests.append({"path": self.path, **dict(self.headers)})
                respond(self)

        self.local = LocalServer(Handler)
        self.port = self.local.port
        self.api_url = f"{self.local.url}/w/api.php"

    def close(self) -> None:
        self.local.close()


@pytest.fixture
def fake() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], FakeWiki]]:
    servers: list[FakeWiki] = []

    def make(respond: Callable[[BaseHTTPRequestHandler], None]) -> FakeWiki:
        servers.append(FakeWiki(respond))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def fake_source(server: FakeWiki, sleeps: list[float], timeout: float = 2.0) -> ApiSource:
    record = Wiki(id="fake", kind="mediawiki", lang="en", name="fake", api_url=server.api_url)
    return ApiSource(record, make_session(record, UA, timeout), maxlag=5, sleep=sleeps.append)


MAXLAG = json.dumps({"error": {"code": "maxlag", "info": "Waiting for a database server: 7 seconds lagged"}})


@pytest.mark.parametrize(("name", "respond", "attempts"), [
    # maxlag asks for 5 s, longer than an editor waits: not asked again at once
    ("maxlag", lambda h: send(h, 200, MAXLAG, {"Retry-After": "5", "X-Database-Lag": "7"}), 1),
    ("ratelimited", lambda h: send(h, 200, json.dumps({"error": {"code": "ratelimited"}})),
     api_source.RETRIES + 1),
    ("503", lambda h: send(h, 503, "<html>Service Unavailable</html>", {"Content-Type": "text/html"}),
     api_source.RETRIES + 1),
    ("500 json", lambda h: send(h, 500, json.dumps({"error": {"code": "internal_api_error"}})),
     api_source.RETRIES + 1),
    ("429", lambda h: send(h, 429, "{}", {"Retry-After": "1"}), api_source.RETRIES + 1),
    ("malformed", lambda h: send(h, 200, "{not json"), 1),
    ("html", lambda h: send(h, 200, "<html>login</html>", {"Content-Type": "text/html"}), 1),
    ("list", lambda h: send(h, 200, "[1, 2]"), 1),
    ("badtoken", lambda h: send(h, 200, json.dumps({"error": {"code": "badtoken"}})), 1),
])
def test_bad_answers_give_wiki_unavailable_after_bounded_retries(fake: Any, name: str, respond: Any,
                                                                 attempts: int) -> None:
    server = fake(respond)
    sleeps: list[float] = []
    with pytest.raises(WikiUnavailable):
        fake_source(server, sleeps).get_page("Albedo")
    assert len(server.requests) == attempts, name
    assert len(sleeps) == attempts - 1
    assert all(0 < s <= api_source.MAX_BACKOFF for s in sleeps)
    assert all("maxlag=5" in r["path"] for r in server.requests)


def test_recovers_when_a_retry_succeeds(fake: Any) -> None:
    # (a maxlag error is retried by background jobs only: tests/test_wiki_access_retry_after.py)
    answers = [json.dumps({"error": {"code": "ratelimited"}}), json.dumps({"batchcomplete": True, "query": {
        "pages": [{"ns": 0, "title": "Albedo", "missing": True}]}})]
    server = fake(lambda h: send(h, 200, answers.pop(0)))
    with pytest.raises(PageNotFound):  # the second answer arrived and was understood
        fake_source(server, []).get_page("Albedo")
    assert len(server.requests) == 2


def test_timeouts_are_bounded(fake: Any) -> None:
    release = threading.Event()

    def slow(handler: BaseHTTPRequestHandler) -> None:
        release.wait(10)

    server = fake(slow)
    started = time.monotonic()
    try:
        with pytest.raises(WikiUnavailable):
            fake_source(server, [], timeout=0.3).get_page("Albedo")
        elapsed = time.monotonic() - started
    finally:
        release.set()
    # Each attempt waits at most the timeout; there are at most RETRIES + 1 of them.
    assert 1 <= len(server.requests) <= api_source.RETRIES + 1
    assert elapsed < len(server.requests) * 0.3 + 1.0


def test_a_redirect_is_not_followed(fake: Any) -> None:
    elsewhere = fake(lambda h: send(h, 200, json.dumps({"query": {"pages": []}})))
    server = fake(lambda h: send(h, 302, "", {"Location": elsewhere.api_url + "?action=query"}))
    sleeps: list[float] = []
    with pytest.raises(WikiUnavailable):
        fake_source(server, sleeps).get_page("Albedo")
    assert len(server.requests) == 1 and sleeps == []
    assert elsewhere.requests == []
    for status in (301, 307, 308):
        redirecting = fake(lambda h, s=status: send(h, s, "", {"Location": elsewhere.api_url}))
        with pytest.raises(WikiUnavailable):
            fake_source(redirecting, []).get_page("Albedo")
    assert elsewhere.requests == []


def test_user_agent_follows_the_wikimedia_policy(fake: Any, sqlite_url: str) -> None:
    from suggest.web import create_app

    server = fake(lambda h: send(h, 200, "{not json"))
    app = create_app(app_config(sqlite_url, EXTRA_WIKIS={"fakewiki": {"api_url": server.api_url}}))
    response = app.test_client().get("/api/v1/suggestions", query_string={
        "wiki": "fakewiki", "title": "Albedo", "task": "categories"})
    assert response.status_code in (502, 503, 504), response.get_json()
    assert response.get_json()["error"]["code"] == "wiki_unavailable"
    assert server.requests
    for request in server.requests:
        agent = request["User-Agent"]
        assert UA_POLICY.fullmatch(agent), agent
        assert agent.startswith(f"wiki-suggest/{__version__} (")
        assert agent.endswith(f"python-requests/{requests.__version__}")
        assert app.config["CONTACT_EMAIL"] in agent and app.config["CONTACT_URL"] in agent
