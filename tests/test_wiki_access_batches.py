# SPDX-License-Identifier: GPL-3.0-or-later
"""Batched title queries stay within the request-line length Wikimedia's API servers accept, also
for wikis whose titles are long once percent-encoded (Bengali: 9 characters a letter). Checked against
a real local MediaWiki (the Bengali sample imported) behind a proxy that answers as those servers
do: 414 and an HTML page beyond 8190 bytes."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from suggest.wiki.api_source import ApiSource, make_session
from suggest.wiki.dump_source import DumpSource
from suggest.wiki.registry import Wiki
from tests.conftest_mediawiki import MediaWikiFactory
from tests.support.http import LocalServer, QuietHandler, send

pytestmark = pytest.mark.mediawiki

DUMP = Path(__file__).parent / "fixtures" / "dumps" / "bnwiki-sample.xml"
TOO_LONG = (Path(__file__).parent / "fixtures" / "wiki_access" / "414.html").read_text(encoding="utf-8")
LIMIT_REQUEST_LINE = 8190  # Apache's default, in bytes
BIDI = re.compile("[\u200e\u200f\u202a-\u202e]")


class LimitedProxy:
    """Forwards GET requests to ``api_url``, except those with a request line over the limit."""

    def __init__(self, api_url: str) -> None:
        self.lines: list[int] = []
        owner = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                owner.lines.append(len(self.requestline.encode()))
                if owner.lines[-1] > LIMIT_REQUEST_LINE:
                    send(self, 414, TOO_LONG, content_type="text/html; charset=iso-8859-1")
                    return
                query = self.path.partition("?")[2]
                try:
                    with urllib.request.urlopen(f"{api_url}?{query}", timeout=30) as answer:
                        send(self, answer.status, answer.read(), content_type=answer.headers["Content-Type"])
                except urllib.error.HTTPError as error:
                    send(self, error.code, error.read(), content_type=error.headers.get("Content-Type"))

        self.local = LocalServer(Handler)
        self.api_url = f"{self.local.url}/w/api.php"


@pytest.fixture(scope="module")
def proxy(mediawiki_factory: MediaWikiFactory) -> Iterator[LimitedProxy]:
    wiki = mediawiki_factory("bn")
    if "missing" in wiki.api_get(action="query", titles="ক্লড শ্যানন")["query"]["pages"][0]:
        wiki.import_xml(DUMP)
    limited = LimitedProxy(wiki.api_url)
    yield limited
    limited.local.close()


def source_for(proxy: LimitedProxy) -> ApiSource:
    proxy.lines.clear()
    record = Wiki(id="localbn", kind="mediawiki", lang="bn", name="localbn", api_url=proxy.api_url)
    return ApiSource(record, make_session(record, "wiki-suggest/test (https://example.org/; a@b.c)", 30.0),
                     maxlag=None)


def test_category_sizes_of_bengali_candidates(proxy: LimitedProxy) -> None:
    dump = DumpSource(DUMP)
    members = dump.categories_of(list(dump.articles))
    names = sorted({name for found in members.values() for name in found})
    assert len(names) > 100
    sizes = source_for(proxy).category_sizes(names, "কোনো নিবন্ধ নয়")
    assert max(proxy.lines) <= LIMIT_REQUEST_LINE, "a query the wiki's servers would refuse"
    counts = {name: sum(name in found for found in members.values()) for name in names}
    assert sizes == counts


@pytest.mark.parametrize("title", ["ক্লড শ্যানন", "এডওয়ার্ড উইটেন"])  # 9071 and 8223 bytes in 50s
def test_categories_of_the_links_of_bengali_articles(proxy: LimitedProxy, title: str) -> None:
    dump = DumpSource(DUMP)
    # Its links (most lead out of the sample), then every article of the sample.
    titles = [*dump.get_page(title).links[:300], *dump.articles]
    found = source_for(proxy).categories_of(titles)
    assert max(proxy.lines) <= LIMIT_REQUEST_LINE
    expected = dump.categories_of(titles)
    assert found.keys() == expected.keys() and found
    # (the wiki adds its tracking categories, not hidden on this fresh wiki, to some pages; and
    # removes the direction marks a link may carry, as every title)
    assert all({BIDI.sub("", name) for name in expected[title]} <= set(found[title]) for title in found)
