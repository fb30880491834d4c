# SPDX-License-Identifier: GPL-3.0-or-later
"""The wiki allowlist: SSRF-safe ids, the recorded site matrix, refreshes and configured wikis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from suggest.wiki import registry as reg
from suggest.wiki.registry import UnknownWiki, WikiRegistry, parse_sitematrix

SITEMATRIX = Path(__file__).parent / "fixtures" / "sitematrix.json"


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SITEMATRIX.read_text(encoding="utf-8"))
    matrix: dict[str, Any] = data.get("sitematrix", data)
    return matrix


NEGATIVE_IDS = [
    "en.wikipedia.org.evil.com",
    "en.wikipedia.org",
    "evil.com#.wikipedia.org",
    "enwiki#x",
    "user@host",
    "enwiki@evil.com",
    "127.0.0.1",
    "10.0.0.1",
    "[::1]",
    "::1",
    "0x7f000001",
    "2130706433",  # 127.0.0.1 as an integer: well-formed, but not on the allowlist
    "localhost",
    "enwikі",  # Cyrillic і
    "еnwiki",  # Cyrillic е
    "ｅｎｗｉｋｉ",  # full-width
    "ENWIKI",
    "Enwiki",
    "",
    " enwiki",
    "enwiki\n",
    "enwiki/../x",
    "http://enwiki",
    "a" * 65,
    "enwiki" + "x" * 60,
    "nosuchwiki",
    None,
    42,
    ["enwiki"],
]


@pytest.fixture(scope="module")
def registry() -> WikiRegistry:
    return WikiRegistry(extra_wikis={"localwiki": {"api_url": "http://127.0.0.1:8080/w/api.php"}})


@pytest.mark.parametrize("wiki_id", NEGATIVE_IDS, ids=repr)
def test_anything_but_a_listed_id_is_unknown(registry: WikiRegistry, wiki_id: object) -> None:
    with pytest.raises(UnknownWiki):
        registry.get(wiki_id)


def test_sixty_four_characters_is_the_longest_id() -> None:
    assert reg.valid_wiki_id("a" * 64) and not reg.valid_wiki_id("a" * 65)


@pytest.mark.parametrize("wiki_id", ["enwiki", "ukwiki", "bnwiki", "jawiki", "viwiki",
                                     "commonswiki", "wikidatawiki", "localwiki"])
def test_listed_wikis_resolve(registry: WikiRegistry, wiki_id: str) -> None:
    wiki = registry.get(wiki_id)
    assert wiki.id == wiki_id and wiki.api_url and wiki.api_url.endswith("/api.php")


@pytest.mark.parametrize("wiki_id", ["advisorswiki", "aawiki", "aewikimedia", "advisorywiki",
                                     "chowiki"])
def test_closed_private_and_fishbowl_wikis_are_refused(registry: WikiRegistry, wiki_id: str) -> None:
    flagged = [site for group in recorded().values()
               for site in (group if isinstance(group, list) else
                            group.get("site", []) if isinstance(group, dict) else [])
               if site.get("dbname") == wiki_id]
    assert flagged and set(flagged[0]) & {"closed", "private", "fishbowl"}  # really flagged
    with pytest.raises(UnknownWiki):
        registry.get(wiki_id)


def test_parse_recorded_sitematrix() -> None:
    wikis = parse_sitematrix(recorded())
    expected = {"enwiki": ("en", "https://en.wikipedia.org"), "bnwiki": ("bn", "https://bn.wikipedia.org"),
                "jawiki": ("ja", "https://ja.wikipedia.org"), "ukwiki": ("uk", "https://uk.wikipedia.org"),
                "viwiki": ("vi", "https://vi.wikipedia.org")}
    for dbname, (lang, origin) in expected.items():
        wiki = wikis[dbname]
        assert (wiki.kind, wiki.lang, wiki.origin) == ("wikimedia", lang, origin)
        assert wiki.api_url == f"{origin}/w/api.php"
    assert all(w.api_url and w.api_url.startswith("https://") for w in wikis.values())
    assert all(reg.WIKIMEDIA_URL.fullmatch(w.origin or "") for w in wikis.values())
    assert not {"advisorswiki", "aawiki", "aewikimedia"} & set(wikis)
    assert len(wikis) > 500


@pytest.mark.parametrize(("wiki_id", "lang"), [
    ("commonswiki", "en"), ("metawiki", "en"), ("wikidatawiki", "en"), ("specieswiki", "en"),
    ("mediawikiwiki", "en"), ("incubatorwiki", "en"), ("bdwikimedia", "bn"), ("sewikimedia", "sv"),
    ("uawikimedia", "uk"), ("bnwiki", "bn")])
def test_each_wiki_has_a_language_code(registry: WikiRegistry, wiki_id: str, lang: str) -> None:
    """The site matrix gives some special wikis their project's name as "lang" ("commons")."""
    assert registry.get(wiki_id).lang == lang


def test_parse_sitematrix_drops_foreign_urls() -> None:
    matrix = {"0": {"code": "en", "site": [
        {"url": "https://en.wikipedia.org.evil.com", "dbname": "evilwiki"},
        {"url": "http://en.wikipedia.org", "dbname": "plainwiki"},
        {"url": "https://en.wikipedia.org/path", "dbname": "pathwiki"},
        {"url": "https://en.wikipedia.org", "dbname": "EN.WIKI"},
        {"url": "https://en.wikipedia.org", "dbname": "enwiki"}]}, "count": 5}
    assert list(parse_sitematrix(matrix)) == ["enwiki"]


class Fetcher:
    def __init__(self, answer: dict[str, Any] | None = None, fail: bool = False) -> None:
        self.answer, self.fail, self.calls = answer, fail, 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise ConnectionError("no network")
        assert self.answer is not None
        return self.answer


def test_refresh_once_per_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(reg.time, "monotonic", lambda: now[0])
    answer = recorded()
    answer = {**answer, "0": {"code": "xx", "site": [
        {"url": "https://xx.wikipedia.org", "dbname": "xxnewwiki", "sitename": "New"}]}}
    fetch = Fetcher(answer)
    registry = WikiRegistry(fetch_sitematrix=fetch, ttl=3600)
    assert registry.get("xxnewwiki").origin == "https://xx.wikipedia.org"  # the fresh list is used
    registry.get("enwiki")
    registry.all()
    now[0] += 3599
    registry.get("ukwiki")
    assert fetch.calls == 1
    now[0] += 2
    registry.get("ukwiki")
    assert fetch.calls == 2


def test_failed_refresh_keeps_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(reg.time, "monotonic", lambda: now[0])
    fetch = Fetcher(fail=True)
    registry = WikiRegistry(fetch_sitematrix=fetch, ttl=3600)
    assert registry.get("ukwiki").api_url == "https://uk.wikipedia.org/w/api.php"
    assert registry.get("enwiki").origin == "https://en.wikipedia.org"
    assert fetch.calls == 1  # a failure is not retried on every request
    empty = Fetcher({"count": 0})
    registry = WikiRegistry(fetch_sitematrix=empty, ttl=3600)
    assert registry.get("viwiki").lang == "vi"  # an empty answer does not empty the allowlist


@pytest.mark.parametrize("api_url", [
    "ftp://127.0.0.1/api.php",
    "http://user@127.0.0.1/api.php",
    "http://user:pw@127.0.0.1:8080/w/api.php",
    "http://127.0.0.1/w/api.php?action=query",
    "http://127.0.0.1/w/api.php#x",
    "http://127.0.0.1/w/index.php",
    "http://127.0.0.1/",
    "http://127.0.0.1",
    "",
    "javascript:alert(1)//api.php",
    "http://127.0.0.1/w/api.php/../../etc",
    "http://127.0.0.1:8080/w/api.php\n",
    "http://exämple.org/api.php",
])
def test_configured_wikis_with_bad_urls_are_rejected_at_start(api_url: str) -> None:
    with pytest.raises(ValueError):
        WikiRegistry(extra_wikis={"localwiki": {"api_url": api_url}})


@pytest.mark.parametrize("wiki_id", ["Local", "local wiki", "a" * 65, ""])
def test_configured_wikis_with_bad_ids_are_rejected(wiki_id: str) -> None:
    with pytest.raises(ValueError):
        WikiRegistry(extra_wikis={wiki_id: {"api_url": "http://127.0.0.1:8080/api.php"}})
    with pytest.raises(ValueError):
        WikiRegistry(dump_wikis={wiki_id: {"path": "x.xml"}})


def test_configured_wiki_and_its_origin() -> None:
    registry = WikiRegistry(extra_wikis={
        "localuk": {"api_url": "http://127.0.0.1:8080/w/api.php", "lang": "uk"},
        "other": {"api_url": "https://wiki.example.org/api.php", "origin": "https://edit.example.org"}})
    local = registry.get("localuk")
    assert (local.kind, local.lang, local.origin) == ("mediawiki", "uk", "http://127.0.0.1:8080")
    assert local.mobile_origin is None
    assert registry.wiki_for_origin("http://127.0.0.1:8080") == local
    assert registry.wiki_for_origin("https://edit.example.org") == registry.get("other")
    assert registry.wiki_for_origin("https://wiki.example.org") is None


@pytest.mark.parametrize(("origin", "wiki_id"), [
    ("https://uk.wikipedia.org", "ukwiki"),
    ("https://uk.m.wikipedia.org", "ukwiki"),
    ("https://bn.m.wikipedia.org", "bnwiki"),
    ("https://commons.wikimedia.org", "commonswiki"),
    ("https://commons.m.wikimedia.org", "commonswiki"),
    ("https://www.wikidata.org", "wikidatawiki"),
    ("https://m.wikidata.org", "wikidatawiki"),
    ("https://m.mediawiki.org", "mediawikiwiki"),
    ("https://www.m.wikidata.org", None),
    ("https://uk.wikipedia.org.evil.com", None),
    ("https://uk.wikipedia.org:443", None),
    ("https://uk.wikipedia.org/", None),
    ("http://uk.wikipedia.org", None),
    ("https://UK.wikipedia.org", None),
    ("https://evil.com", None),
    ("null", None),
    ("", None),
])
def test_cors_origin_lookup(registry: WikiRegistry, origin: str, wiki_id: str | None) -> None:
    wiki = registry.wiki_for_origin(origin)
    assert (wiki.id if wiki else None) == wiki_id


def test_origin_index_answers_as_a_scan_and_follows_a_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The origin index gives the same wiki as looking through every wiki in order, for every
    desktop and mobile origin, and is rebuilt when the list of wikis changes."""
    now = [1000.0]
    monkeypatch.setattr(reg.time, "monotonic", lambda: now[0])
    fetch = Fetcher(recorded())
    registry = WikiRegistry(extra_wikis={"mine": {"api_url": "http://127.0.0.1:8080/api.php"}},
                            fetch_sitematrix=fetch, ttl=3600)

    def scan(origin: str) -> Any:
        return next((w for w in registry.all() if origin in (w.origin, w.mobile_origin)), None)

    origins = {o for w in registry.all() for o in (w.origin, w.mobile_origin) if o}
    assert len(origins) > 500
    for origin in origins | {"https://evil.example", "https://en.wikipedia.org.evil.com"}:
        assert registry.wiki_for_origin(origin) == scan(origin)
    assert registry.wiki_for_origin("") is None
    assert registry.wiki_for_origin("https://xx.wikipedia.org") is None
    fetch.answer = {**recorded(), "0": {"code": "xx", "site": [
        {"url": "https://xx.wikipedia.org", "dbname": "xxnewwiki", "sitename": "New"}]}}
    now[0] += 3601
    assert registry.wiki_for_origin("https://xx.wikipedia.org") == registry.get("xxnewwiki")
    assert registry.wiki_for_origin("https://xx.m.wikipedia.org") == registry.get("xxnewwiki")


def test_a_dump_wiki_without_its_file_is_left_out(tmp_path: Path) -> None:
    """The development sample is configured by default but only `make run` fetches it: where it
    is missing (a Toolforge image) the wiki is unknown, not a 500."""
    present = tmp_path / "present.xml"
    present.write_text("<mediawiki/>", encoding="utf-8")
    registry = WikiRegistry(dump_wikis={"gone-wiki": {"path": str(tmp_path / "missing.xml.bz2")},
                                        "here-wiki": {"path": str(present)}})
    assert registry.get("here-wiki").dump_path == str(present)
    with pytest.raises(UnknownWiki):
        registry.get("gone-wiki")
    from suggest.web import create_app
    from tests.conftest import app_config

    app = create_app(app_config(f"sqlite:///{tmp_path / 'events.sqlite3'}",
                                DUMP_WIKIS={"sample-enwiki": {"path": str(tmp_path / "missing.bz2")}}))
    response = app.test_client().get("/api/v1/suggestions", query_string={
        "wiki": "sample-enwiki", "title": "Albedo", "task": "categories"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "unknown_wiki"
