"""The live site-matrix refresh, against a local server replaying the recorded real answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from suggest.wiki.api_source import make_session
from suggest.wiki.registry import UnknownWiki, Wiki, WikiRegistry, sitematrix_fetcher
from tests.support.http import LocalServer, QuietHandler, send

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "sitematrix.json").read_text())


@pytest.fixture
def meta_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for Meta-Wiki's api.php: the recorded site matrix, minus enwiki."""
    seen: list[dict[str, Any]] = []
    matrix = json.loads(json.dumps(RECORDED.get("sitematrix", RECORDED)))
    for key, group in matrix.items():
        if key.isdigit():
            group["site"] = [s for s in group.get("site", []) if s.get("dbname") != "enwiki"]

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            seen.append({"query": parse_qs(urlsplit(self.path).query),
                         "agent": self.headers.get("User-Agent", "")})
            send(self, 200, {"sitematrix": matrix})

    with LocalServer(Handler) as local:
        yield f"{local.url}/w/api.php", seen


def test_refresh_replaces_the_snapshot_once_per_ttl(meta_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = meta_server
    meta = Wiki(id="metawiki", kind="mediawiki", lang="en", name="Meta", api_url=url)
    session = make_session(meta, "wiki-suggest/test (https://example.org/; x@example.org)", 5.0)
    registry = WikiRegistry(fetch_sitematrix=sitematrix_fetcher(session), ttl=3600)
    # The snapshot has enwiki; the live answer (as served here) does not: the live list wins.
    assert registry.get("bnwiki").api_url == "https://bn.wikipedia.org/w/api.php"
    with pytest.raises(UnknownWiki):
        registry.get("enwiki")
    registry.get("ukwiki")
    assert len(seen) == 1  # cached for the TTL
    assert seen[0]["query"]["action"] == ["sitematrix"]
    assert seen[0]["agent"].startswith("wiki-suggest/")


def test_a_malformed_answer_keeps_the_snapshot() -> None:
    class Broken:
        def get(self, **params: Any) -> Any:
            return {"error": "nothing here"}

    registry = WikiRegistry(fetch_sitematrix=sitematrix_fetcher(Broken()), ttl=3600)
    assert registry.get("enwiki").origin == "https://en.wikipedia.org"


def test_live_refresh_is_off_by_default(app: Any) -> None:
    assert app.extensions["wiki_suggest"].registry._fetch is None
