# SPDX-License-Identifier: GPL-3.0-or-later
"""The categories task on real articles of the committed dumps, with the real TF-IDF backend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from suggest import backends
from suggest.backends.base import Backend
from suggest.tasks.base import TaskSettings
from suggest.tasks.categories import MAX_LINKS, SIMILAR_ARTICLES, CategoriesTask
from suggest.wiki import wikitext as wt
from suggest.wiki.dump_source import DumpSource
from suggest.wiki.source import Page

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
# (language, article) pairs with linked or similar neighbours in the samples.
ARTICLES = [("uk", "Трахея"), ("en", "Aardwolf"), ("vi", None), ("bn", None), ("ja", None)]
EXPLANATION = re.compile(r"in (\d+) of the (\d+) (linked|most similar) articles")
ALL = TaskSettings(threshold=0.0, max_suggestions=1000)


@pytest.fixture(scope="module")
def sources() -> dict[str, DumpSource]:
    return {lang: DumpSource(DUMPS / f"{lang}wiki-sample.xml") for lang in ("en", "uk", "vi", "bn", "ja")}


@pytest.fixture(scope="module")
def backend() -> Backend:
    return backends.create("tfidf")


def stripped(source: DumpSource, title: str) -> Page:
    """The article with its categories removed, as an editor would find an uncategorised one."""
    text = wt.remove_categories(source.articles[title].text, source.category_prefixes())
    return source.page_from_text(title, text)


def article_title(source: DumpSource, title: str | None) -> str:
    # The longest article of a sample has plenty of neighbours.
    return title or max(source.articles, key=lambda t: len(source.articles[t].text))


@pytest.mark.parametrize(("lang", "title"), ARTICLES)
def test_present_and_hidden_categories_are_never_suggested(sources: dict[str, DumpSource],
                                                          backend: Backend, lang: str,
                                                          title: str | None) -> None:
    source = sources[lang]
    page = source.get_page(article_title(source, title))
    assert page.categories
    # Flag one neighbour category as hidden on the page: it must not come back either.
    everything = CategoriesTask().suggest(page, source, backend, ALL)
    assert everything, "the article has neighbours with categories"
    assert not {s.label for s in everything} & set(page.categories)
    hidden = everything[0].label
    page.hidden_categories = [hidden]
    again = CategoriesTask().suggest(page, source, backend, ALL)
    assert hidden not in {s.label for s in again}
    assert {s.label for s in again} == {s.label for s in everything} - {hidden}


@pytest.mark.parametrize(("lang", "title"), ARTICLES)
def test_wikitext_uses_the_localized_namespace(sources: dict[str, DumpSource], backend: Backend,
                                              lang: str, title: str | None) -> None:
    source = sources[lang]
    page = stripped(source, article_title(source, title))
    prefix = source.category_prefixes()[0]
    found = CategoriesTask().suggest(page, source, backend, ALL)
    assert found
    for suggestion in found:
        assert suggestion.wikitext == f"[[{prefix}:{suggestion.label}]]"
        assert wt.category_links(suggestion.wikitext, source.category_prefixes()) == [suggestion.label]
        assert 0.0 <= suggestion.score <= 1.0


def test_removed_categories_come_back(sources: dict[str, DumpSource], backend: Backend) -> None:
    uk = sources["uk"]
    page = stripped(uk, "Трахея")
    labels = [s.label for s in CategoriesTask().suggest(page, uk, backend,
                                                         TaskSettings(0.0, 10))]
    assert set(labels) & {"Оториноларингологія", "Анатомія дихальної системи"}, labels


def test_never_suggest_list_is_respected(sources: dict[str, DumpSource], backend: Backend) -> None:
    uk = sources["uk"]
    page = stripped(uk, "Коло")
    everything = [s.label for s in CategoriesTask().suggest(page, uk, backend, ALL)]
    blocked = frozenset(everything[:2]) | {"надпопулярні_статті"}  # any spelling of a title
    kept = CategoriesTask().suggest(page, uk, backend, TaskSettings(0.0, 1000, blocked))
    labels = {s.label for s in kept}
    assert not labels & set(everything[:2])
    assert "Надпопулярні статті" in everything and "Надпопулярні статті" not in labels
    assert labels == set(everything) - set(everything[:2]) - {"Надпопулярні статті"}


def test_max_suggestions_and_threshold(sources: dict[str, DumpSource], backend: Backend) -> None:
    uk = sources["uk"]
    page = stripped(uk, "Коло")
    everything = CategoriesTask().suggest(page, uk, backend, ALL)
    assert len(everything) > 3
    scores = [s.score for s in everything]
    assert scores == sorted(scores, reverse=True)
    top = CategoriesTask().suggest(page, uk, backend, TaskSettings(0.0, 3))
    assert [s.label for s in top] == [s.label for s in everything[:3]]
    middle = sorted(set(scores))[len(set(scores)) // 2]
    above = CategoriesTask().suggest(page, uk, backend, TaskSettings(middle, 1000))
    assert [s.label for s in above] == [s.label for s in everything if s.score >= middle]
    assert 0 < len(above) < len(everything)
    assert CategoriesTask().suggest(page, uk, backend, TaskSettings(1.01, 1000)) == []


@pytest.mark.parametrize(("lang", "title"), ARTICLES)
def test_explanation_counts_match_the_evidence(sources: dict[str, DumpSource], backend: Backend,
                                              lang: str, title: str | None) -> None:
    source = sources[lang]
    page = stripped(source, article_title(source, title))
    linked = source.categories_of(page.links[:MAX_LINKS])
    similar = source.similar(page, SIMILAR_ARTICLES)
    similar_categories = source.categories_of([t for t, _ in similar])
    found = CategoriesTask().suggest(page, source, backend, ALL)
    assert found
    for suggestion in found:
        carriers_linked = [t for t, cats in linked.items()
                           if suggestion.label in {wt.normalize_title(c) for c in cats}]
        carriers_similar = [t for t, cats in similar_categories.items()
                            if suggestion.label in {wt.normalize_title(c) for c in cats}]
        claims = {kind: (int(n), int(total))
                  for n, total, kind in EXPLANATION.findall(suggestion.explanation)}
        assert claims, suggestion.explanation
        if carriers_linked:
            assert claims["linked"] == (len(carriers_linked), len(linked))
        else:
            assert "linked" not in claims
        if carriers_similar:
            assert claims["most similar"] == (len(carriers_similar), len(similar))
        else:
            assert "most similar" not in claims
        assert suggestion.features["link_votes"] == len(carriers_linked)
        assert suggestion.features["similar_votes"] == len(carriers_similar)


def test_the_article_itself_is_no_evidence(sources: dict[str, DumpSource], backend: Backend) -> None:
    uk = sources["uk"]
    page = stripped(uk, "Діаметр")
    # The same article linking to itself: its own categories must not count as votes.
    self_linked = uk.page_from_text("Діаметр", page.wikitext + "\n[[Діаметр]]")
    assert "Діаметр" in self_linked.links and "Діаметр" not in page.links
    before = {s.label: s.features["link_votes"] for s in CategoriesTask().suggest(page, uk, backend, ALL)}
    after = {s.label: s.features["link_votes"]
             for s in CategoriesTask().suggest(self_linked, uk, backend, ALL)}
    assert before and after == before


def test_a_georgian_category_keeps_its_first_letter() -> None:
    """On kawiki "ისტორია" and "Ისტორია" (Mtavruli, which Python's upper() gives) are two
    categories: the one the neighbours carry is suggested, under its own name, and the one the
    page has is recognised as present."""
    page = Page(wiki="kawiki", title="ქუთაისი", wikitext="", categories=["საქართველოს ქალაქები"])
    linked = {"ბათუმი": ["საქართველოს ქალაქები", "აჭარა"], "თბილისი": ["საქართველოს ქალაქები"]}
    candidates = CategoriesTask().candidates(page, linked, [], {}, ALL)
    assert [c.name for c in candidates] == ["აჭარა"]
    assert candidates[0].linked == ["ბათუმი"]
