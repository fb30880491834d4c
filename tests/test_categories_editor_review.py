# SPDX-License-Identifier: GPL-3.0-or-later
"""Categories an editor would refuse: a parent of a category the page has (the page is in it
through the more specific one), a redirected or soft-redirected category, one meant to stay
empty. Real viwiki pages (``fixtures/categories``) and a real local MediaWiki."""

from __future__ import annotations

from pathlib import Path

import mwxml
import pytest

from suggest import backends
from suggest.backends.base import Backend
from suggest.tasks.base import Suggestion, TaskSettings
from suggest.tasks.categories import CategoriesTask
from suggest.wiki import wikitext as wt
from suggest.wiki.dump_source import DumpSource
from tests.conftest_mediawiki import MediaWikiFactory
from tests.test_api_source import source_for, wait_for_categories

FIXTURE = Path(__file__).parent / "fixtures" / "categories" / "viwiki-subcategories.xml"
ALL = TaskSettings(threshold=0.0, max_suggestions=1000)


@pytest.fixture(scope="module")
def source() -> DumpSource:
    return DumpSource(FIXTURE)


@pytest.fixture(scope="module")
def backend() -> Backend:
    return backends.create("tfidf")


def test_no_parent_of_a_category_the_page_has(source: DumpSource, backend: Backend) -> None:
    page = source.get_page("Vật lý học")
    parents = {p for c in page.categories for p in source.parent_categories([c]).get(c, [])}
    carried = {c for cats in source.categories_of(page.links).values() for c in cats}
    assert parents & carried, "the linked articles carry a parent of the page's category"
    labels = {s.label for s in CategoriesTask().rank(page, source, backend, ALL)}
    assert labels, "other candidates remain"
    assert not labels & parents


def test_a_parent_of_another_suggestion_is_not_shown(source: DumpSource, backend: Backend) -> None:
    """WP:SUBCAT: with "Hóa học" proposed, its parent "Môn học" would be redundant on the page."""
    page = source.get_page("Vật lý học")
    ranked = [s.label for s in CategoriesTask().rank(page, source, backend, ALL)]
    assert {"Hóa học", "Môn học"} <= set(ranked)
    assert "Môn học" in source.parent_categories(["Hóa học"])["Hóa học"]
    shown = [s.label for s in CategoriesTask().suggest(page, source, backend, ALL)]
    assert shown == [label for label in ranked if label != "Môn học"]
    # Without the child among the suggestions (a wiki's never-suggest list), the parent is shown.
    settings = TaskSettings(threshold=0.0, max_suggestions=1000, never_suggest=["Hóa học"])
    assert "Môn học" in [s.label for s in CategoriesTask().suggest(page, source, backend, settings)]


def test_categories_that_are_each_others_parent_are_both_kept() -> None:
    class Cycle:
        def parent_categories(self, names: list[str]) -> dict[str, list[str]]:
            return {"A": ["B"], "B": ["A", "C"], "C": []}

    found = [Suggestion(task="categories", label=name, wikitext=f"[[Category:{name}]]", score=0.9,
                        explanation="") for name in "ABC"]
    assert [s.label for s in CategoriesTask.most_specific(found, Cycle())] == ["A", "B"]  # type: ignore[arg-type]


def test_soft_redirected_categories_from_the_category_pages(source: DumpSource) -> None:
    redirects = {name for name, text in category_texts(source).items()
                 if any(wt.normalize_title(str(t.name)) in wt.CATEGORY_REDIRECT_TEMPLATES
                        for t in wt.parse(text).filter_templates())}
    assert redirects, "the fixture has a soft-redirected category"
    ordinary = set(category_texts(source)) - redirects
    assert source.unusable_categories([*redirects, *ordinary]) == redirects


def test_a_neighbour_in_a_soft_redirected_category_does_not_propose_it(source: DumpSource,
                                                                     backend: Backend) -> None:
    redirected = next(iter(source.redirect_categories))
    page = source.get_page("Vật lý học")
    neighbour = next(t for t in page.links if t in source.articles)
    source._categories[neighbour] = [*source._categories[neighbour], redirected]
    try:
        labels = {s.label for s in CategoriesTask().rank(page, source, backend, ALL)}
    finally:
        source._categories[neighbour] = source._categories[neighbour][:-1]
    assert labels and redirected not in labels


def category_texts(source: DumpSource) -> dict[str, str]:
    with open(FIXTURE, "rb") as handle:
        return {wt.split_namespace(p.title, source.category_prefixes())[1]: next(iter(p)).text
                for p in mwxml.Dump.from_file(handle) if p.namespace == wt.CATEGORY_NS}


@pytest.mark.mediawiki
def test_the_wiki_tells_parents_and_categories_no_article_belongs_in(
        mediawiki_factory: MediaWikiFactory) -> None:
    wiki = mediawiki_factory("vi", shared=False)
    wiki.import_xml(FIXTURE)
    wiki.edit("Bản mẫu:Đổi hướng thể loại", "''Thể loại này đã được đổi tên thành [[:Thể loại:{{{1}}}]].''")
    # Another name of the template: found through the one it leads to.
    wiki.edit("Bản mẫu:Đổi hướng TL", "#REDIRECT [[Bản mẫu:Đổi hướng thể loại]]")
    wiki.edit("Thể loại:Khoa học về Trái đất", "{{Đổi hướng TL|Khoa học Trái Đất}}")
    wiki.edit("Thể loại:Thể loại chứa khoa học", "__EXPECTUNUSEDCATEGORY__\n[[Thể loại:Khoa học]]")
    wiki.edit("Thể loại:Hoá hữu cơ", "#REDIRECT [[Thể loại:Hóa hữu cơ]]")
    wiki.edit("Thể loại:Hóa hữu cơ", "[[Thể loại:Hóa học]]")
    wiki.run_jobs()
    wait_for_categories(wiki, "Thể loại:Vật lý học", {"Khoa học tự nhiên"})
    api = source_for(wiki, "localvi")
    usable = ["Vật lý học", "Khoa học tự nhiên", "Hóa học", "Hóa hữu cơ"]
    # A red link: a category without a page, even with pages in it.
    wiki.edit("Sinh học phân tử", "Sinh học phân tử là một ngành.\n[[Thể loại:Không có trang này]]")
    wiki.run_jobs()
    unusable = ["Hoá học", "Khoa học về Trái đất", "Thể loại chứa khoa học", "Hoá hữu cơ",
                "Không có trang này"]
    assert api.unusable_categories(usable + unusable) == set(unusable)
    assert api.parent_categories(["Vật lý học", "Hóa hữu cơ"]) == {
        "Vật lý học": ["Khoa học tự nhiên"], "Hóa hữu cơ": ["Hóa học"]}
    # The candidates' parents come with their sizes and usability: no request more.
    asked: list[dict[str, str]] = []
    original = api.session.get

    def counting(**params: str) -> object:
        asked.append(params)
        return original(**params)

    api.session.get = counting  # type: ignore[method-assign]
    assert api.unusable_categories([*usable, *unusable, "Khoa học"]) == set(unusable)
    assert api.parent_categories(["Hóa hữu cơ", "Không có trang này", "Hoá hữu cơ"]) == {
        "Hóa hữu cơ": ["Hóa học"], "Hoá hữu cơ": []}
    assert len(asked) == 1
    sizes = api.category_sizes(["Khoa học tự nhiên", "Không có trang này", "Không có gì"], "Vật lý học")
    assert sizes == {"Khoa học tự nhiên": 2, "Không có trang này": 1, "Không có gì": 0}
