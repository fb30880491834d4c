# SPDX-License-Identifier: GPL-3.0-or-later
"""The API page source against a real local MediaWiki 1.39 of its own: its maxlag answer, an answer
cut at the API's result size, and a revision asked for without parameters the API warns about."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from suggest.wiki.api_source import ApiSource, make_session
from suggest.wiki.registry import Wiki
from suggest.wiki.source import WikiUnavailable
from tests.conftest_mediawiki import MediaWikiFactory
from tests.support.mediawiki import LocalMediaWiki

pytestmark = pytest.mark.mediawiki

RESULT_SIZE = 20_000  # bytes ($wgAPIMaxResultSize; 8 MB on Wikimedia wikis)
TITLES = [f"Long article {n}" for n in range(6)]


@pytest.fixture(scope="module")
def wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    wiki = mediawiki_factory("en", shared=False)
    wiki.append_settings(f"$wgAPIMaxResultSize = {RESULT_SIZE};\n")
    for n, title in enumerate(TITLES):
        wiki.edit(title, f"'''{title}''' links to [[Long article {(n + 1) % 6}]].\n" + "Some text. " * 500)
    for _ in range(50):  # PHP's opcache may serve the former LocalSettings.php for a few seconds
        if "continue" in all_texts(wiki):
            break
        time.sleep(0.2)
    return wiki


def all_texts(wiki: LocalMediaWiki) -> dict[str, Any]:
    return wiki.api_get(action="query", prop="revisions", rvprop="content", rvslots="main",
                        titles="|".join(TITLES))


def source_for(wiki: LocalMediaWiki, maxlag: int | None = None) -> tuple[ApiSource, list[float]]:
    record = Wiki(id="local", kind="mediawiki", lang="en", name="local", api_url=wiki.api_url)
    sleeps: list[float] = []
    session = make_session(record, "wiki-suggest/test (https://example.org/; a@b.c)", 10.0)
    return ApiSource(record, session, maxlag=maxlag, sleep=sleeps.append), sleeps


def test_texts_cut_at_the_result_size_are_continued(wiki: LocalMediaWiki) -> None:
    assert "continue" in all_texts(wiki)  # the wiki does cut this answer
    source, _ = source_for(wiki)
    texts = source.wikitext_of(TITLES)
    assert sorted(texts) == sorted(TITLES)
    assert all(texts[title].startswith(f"'''{title}'''") for title in TITLES)


def test_the_wikis_own_maxlag_answer_is_not_retried_at_once(wiki: LocalMediaWiki,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A single SQLite server reports a lag of -1: maxlag=-2 gets MediaWiki's real maxlag answer.
    source, sleeps = source_for(wiki, maxlag=-2)
    sent: list[dict[str, Any]] = []
    original = source.session.get

    def counting(**params: Any) -> Any:
        sent.append(params)
        return original(**params)

    monkeypatch.setattr(source.session, "get", counting)
    with pytest.raises(WikiUnavailable, match="maxlag"):
        source.get_page(TITLES[0])
    assert len(sent) == 1 and sleeps == []  # it asked for Retry-After: 5


def test_a_revision_is_asked_for_without_warnings(wiki: LocalMediaWiki,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    source, _ = source_for(wiki)
    page = source.get_page(TITLES[0])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mwapi"):
        assert source.get_page(revid=page.revid).title == TITLES[0]
    assert not [r for r in caplog.records if r.name.startswith("mwapi")], caplog.text
