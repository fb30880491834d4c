# SPDX-License-Identifier: GPL-3.0-or-later
"""Categories an editor would refuse: a parent or grandparent of a category the page has (the
page is in it through the more specific one), a parent of another suggestion, a redirected or
soft-redirected category, a container, one meant to stay empty. Real viwiki pages
(``fixtures/categories``) and a real local MediaWiki, whose queries are counted."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import mwxml
import pytest

from suggest import backends
from suggest.backends.base import Backend
from suggest.tasks.base import Suggestion, TaskSettings
from suggest.tasks.categories import CategoriesTask
from suggest.wiki import api_source
from suggest.wiki import wikitext as wt
from suggest.wiki.api_source import CATEGORY_PAGES_KEPT, ApiSource
from suggest.wiki.dump_source import DumpSource
from tests.conftest_mediawiki import MediaWikiFactory
from tests.support.mediawiki import LocalMediaWiki
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


def test_no_grandparent_of_a_category_the_page_has(source: DumpSource, backend: Backend) -> None:
    """Vật lý học → Khoa học tự nhiên → Môn học: the article is in "Môn học" through its category."""
    page = source.get_page("Vật lý học")
    parents = {p for c in page.categories for p in source.parent_categories([c]).get(c, [])}
    grandparents = {g for p in parents for g in source.parent_categories([p]).get(p, [])}
    carried = {c for cats in source.categories_of(page.links).values() for c in cats}
    assert "Môn học" in grandparents - parents
    assert "Môn học" in carried
    labels = {s.label for s in CategoriesTask().rank(page, source, backend, ALL)}
    assert labels, "other candidates remain"
    assert not labels & grandparents


def test_a_parent_of_another_suggestion_is_not_shown(source: DumpSource, backend: Backend) -> None:
    """WP:SUBCAT: with "Hóa học" proposed, its parent "Môn học" would be redundant on the page
    (here the article before it had any category: an uncategorised article)."""
    page = dataclasses.replace(source.get_page("Vật lý học"), categories=[])
    ranked = [s.label for s in CategoriesTask().rank(page, source, backend, ALL)]
    assert {"Hóa học", "Môn học"} <= set(ranked)
    assert "Môn học" in source.parent_categories(["Hóa học"])["Hóa học"]
    shown = [s.label for s in CategoriesTask().suggest(page, source, backend, ALL)]
    # "Môn học" is also a parent of "Khoa học tự nhiên", itself a parent of "Hóa học".
    parents = {p for found in source.parent_categories(ranked).values() for p in found}
    assert {"Môn học", "Khoa học tự nhiên"} <= parents
    assert shown == [label for label in ranked if label not in parents]
    assert "Hóa học" in shown
    # Without the children among the suggestions (a wiki's never-suggest list), it is shown.
    settings = TaskSettings(threshold=0.0, max_suggestions=1000,
                            never_suggest=["Hóa học", "Khoa học tự nhiên"])
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
    redirected = next(iter(source.no_article_categories))
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


@pytest.fixture(scope="module")
def vi_wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    wiki = mediawiki_factory("vi", shared=False)
    wiki.import_xml(FIXTURE)
    return wiki


@pytest.mark.mediawiki
def test_the_wiki_tells_parents_and_categories_no_article_belongs_in(vi_wiki: LocalMediaWiki) -> None:
    wiki = vi_wiki
    wiki.edit("Bản mẫu:Đổi hướng thể loại", "''Thể loại này đã được đổi tên thành [[:Thể loại:{{{1}}}]].''")
    # Another name of the template: found through the one it leads to.
    wiki.edit("Bản mẫu:Đổi hướng TL", "#REDIRECT [[Bản mẫu:Đổi hướng thể loại]]")
    wiki.edit("Thể loại:Khoa học về Trái đất", "{{Đổi hướng TL|Khoa học Trái Đất}}")
    wiki.edit("Thể loại:Thể loại chứa khoa học", "__EXPECTUNUSEDCATEGORY__\n[[Thể loại:Khoa học]]")
    wiki.edit("Thể loại:Hoá hữu cơ", "#REDIRECT [[Thể loại:Hóa hữu cơ]]")
    wiki.edit("Thể loại:Hóa hữu cơ", "[[Thể loại:Hóa học]]")
    # A container: subcategories only (the template under the name enwiki gives it).
    wiki.edit("Bản mẫu:Container category", "Thể loại này chỉ chứa các thể loại con.")
    wiki.edit("Thể loại:Khoa học theo quốc gia", "{{Container category}}\n[[Thể loại:Khoa học]]")
    wiki.run_jobs()
    wait_for_categories(wiki, "Thể loại:Vật lý học", {"Khoa học tự nhiên"})
    api = source_for(wiki, "localvi")
    usable = ["Vật lý học", "Khoa học tự nhiên", "Hóa học", "Hóa hữu cơ"]
    # A red link: a category without a page, even with pages in it.
    wiki.edit("Sinh học phân tử", "Sinh học phân tử là một ngành.\n[[Thể loại:Không có trang này]]")
    wiki.run_jobs()
    unusable = ["Hoá học", "Khoa học về Trái đất", "Thể loại chứa khoa học", "Hoá hữu cơ",
                "Không có trang này", "Khoa học theo quốc gia"]
    assert api.unusable_categories(usable + unusable) == set(unusable)
    assert api.parent_categories(["Vật lý học", "Hóa hữu cơ"]) == {
        "Vật lý học": ["Khoa học tự nhiên"], "Hóa hữu cơ": ["Hóa học"]}
    # The candidates' parents come with their sizes and usability: no request more.
    asked = requests_sent(api)
    assert api.unusable_categories([*usable, *unusable, "Khoa học"]) == set(unusable)
    assert api.parent_categories(["Hóa hữu cơ", "Không có trang này", "Hoá hữu cơ"]) == {
        "Hóa hữu cơ": ["Hóa học"], "Hoá hữu cơ": []}
    assert len(asked) == 1
    sizes = api.category_sizes(["Khoa học tự nhiên", "Không có trang này", "Không có gì"], "Vật lý học")
    assert sizes == {"Khoa học tự nhiên": 2, "Không có trang này": 1, "Không có gì": 0}


@pytest.mark.mediawiki
def test_parents_and_grandparents_from_one_query_then_one_more_for_the_rest(
        vi_wiki: LocalMediaWiki, backend: Backend) -> None:
    """On a live wiki the page's categories and the candidates are asked about together; the
    parents not among the candidates are asked about once more, for the grandparents."""
    wiki = vi_wiki
    wiki.edit("Cơ học lượng tử", "'''Cơ học lượng tử''' là một nhánh của vật lý học, gần với "
              "[[hóa học]] và [[khoa học tự nhiên]].\n[[Thể loại:Cơ học lượng tử]]")
    wiki.edit("Thể loại:Cơ học lượng tử", "[[Thể loại:Vật lý học]]")
    # Pages for the grandparents: usable categories, so only their place in the tree drops them.
    for name in ("Môn học", "Tự nhiên", "Khoa học", "Chuyên ngành khoa học"):
        wiki.edit(f"Thể loại:{name}", f"Thể loại {name}.")
    wait_for_categories(wiki, "Thể loại:Cơ học lượng tử", {"Vật lý học"})
    wait_for_categories(wiki, "Cơ học lượng tử", {"Cơ học lượng tử"})

    def suggest(title: str) -> tuple[set[str], set[str], list[str]]:
        """The candidates, the ranked suggestions and the category-page queries' titles, with a
        source that knows nothing yet."""
        api = source_for(wiki, "localvi")
        page = api.get_page(title)
        candidates = {c for cats in api.categories_of(page.links).values() for c in cats}
        sent = requests_sent(api)
        ranked = {s.label for s in CategoriesTask().rank(page, api, backend, ALL)}
        return candidates, ranked, category_page_titles(sent)

    # Vật lý học → Khoa học tự nhiên (a candidate: its parents come in the same answer) → Môn học.
    candidates, ranked, queries = suggest("Vật lý học")
    assert {"Khoa học tự nhiên", "Môn học", "Tự nhiên", "Hóa học"} <= candidates
    assert "Hóa học" in ranked
    assert not {"Khoa học tự nhiên", "Môn học", "Tự nhiên"} & ranked
    assert len(queries) == 1
    assert {"Thể loại:Vật lý học", "Thể loại:Hóa học"} <= set(queries[0].split("|"))
    # Cơ học lượng tử → Vật lý học (not a candidate: asked once more) → Khoa học tự nhiên.
    candidates, ranked, queries = suggest("Cơ học lượng tử")
    assert "Vật lý học" not in candidates and "Khoa học tự nhiên" in candidates
    assert "Hóa học" in ranked and "Khoa học tự nhiên" not in ranked
    assert {"Môn học", "Tự nhiên"} <= ranked  # three levels up: not looked for
    assert queries[1:] == ["Thể loại:Vật lý học"]


@pytest.mark.mediawiki
def test_category_pages_are_asked_about_once_within_a_few_seconds(
        vi_wiki: LocalMediaWiki, monkeypatch: pytest.MonkeyPatch) -> None:
    api = source_for(vi_wiki, "localvi")
    sent = requests_sent(api)
    assert api.parent_categories(["Vật lý học", "Hóa học"]) == {
        "Vật lý học": ["Khoa học tự nhiên"], "Hóa học": ["Khoa học tự nhiên", "Môn học"]}
    assert api.category_sizes(["Hóa học", "Khoa học tự nhiên"], "Vật lý học") == {
        "Hóa học": 1, "Khoa học tự nhiên": 2}
    assert api.unusable_categories(["Vật lý học", "Khoa học tự nhiên"]) == set()
    assert category_page_titles(sent) == ["Thể loại:Vật lý học|Thể loại:Hóa học",
                                          "Thể loại:Khoa học tự nhiên"]
    real = time.monotonic
    monkeypatch.setattr(api_source.time, "monotonic", lambda: real() + CATEGORY_PAGES_KEPT)
    assert api.parent_categories(["Vật lý học"]) == {"Vật lý học": ["Khoa học tự nhiên"]}
    assert category_page_titles(sent)[2:] == ["Thể loại:Vật lý học"]


# What the Disambiguator extension (on every Wikimedia wiki, not packaged by Debian) does to mark a
# page: the magic word __DISAMBIG__, which MediaWiki's parser turns into the page property
# "disambiguation" (as it does for every double-underscore word), usually through a template.
DISAMBIGUATOR_MAGIC = "<?php\n$magicWords = ['en' => ['disambiguation' => [0, '__DISAMBIG__']]];\n"
DISAMBIGUATOR_SETTINGS = """
$wgExtensionMessagesFiles['TestDisambiguatorMagic'] = '{magic}';
$wgHooks['GetDoubleUnderscoreIDs'][] = static function ( &$ids ) {{ $ids[] = 'disambiguation'; }};
"""


@pytest.mark.mediawiki
def test_disambiguation_pages_among_the_links_propose_nothing(vi_wiki: LocalMediaWiki,
                                                             backend: Backend) -> None:
    """A link to a disambiguation page (often a link that should go elsewhere) brings the
    page's own categories, "disambiguation pages", which say nothing of the article."""
    wiki = vi_wiki
    magic = wiki.state_dir / "TestDisambiguator.i18n.magic.php"
    magic.write_text(DISAMBIGUATOR_MAGIC, encoding="utf-8")
    wiki.append_settings(DISAMBIGUATOR_SETTINGS.format(magic=magic))
    wiki.edit("Bản mẫu:Trang định hướng", "''Trang định hướng.''__DISAMBIG__[[Thể loại:Trang định hướng]]")
    wiki.edit("Thể loại:Trang định hướng", "Các trang định hướng.")
    wiki.edit("Sóng", "Sóng có thể là:\n* [[Sóng cơ học]]\n* [[Sóng điện từ]]\n{{Trang định hướng}}")
    wiki.edit("Quang học", "Quang học nghiên cứu [[sóng]] ánh sáng, một phần của [[vật lý học]] "
              "và [[khoa học tự nhiên]].")
    wiki.run_jobs()
    wait_for_categories(wiki, "Sóng", {"Trang định hướng"})
    props = wiki.api_get(action="query", prop="pageprops", titles="Sóng")
    assert "disambiguation" in props["query"]["pages"][0].get("pageprops", {}), "marked as on Wikimedia"

    api = source_for(wiki, "localvi")
    assert set(api.categories_of(["Sóng", "Vật lý học"])) == {"Vật lý học"}
    page = api.get_page("Quang học")
    assert "Sóng" in page.links
    labels = {s.label for s in CategoriesTask().rank(page, api, backend, ALL)}
    assert labels, "the other links' categories remain"
    assert "Trang định hướng" not in labels


def requests_sent(api: ApiSource) -> list[dict[str, str]]:
    """The parameters of each request ``api`` sends from now on, as they are sent."""
    sent: list[dict[str, str]] = []
    original = api.session.get

    def counting(**params: str) -> object:
        sent.append(params)
        return original(**params)

    api.session.get = counting  # type: ignore[method-assign]
    return sent


def category_page_titles(sent: list[dict[str, str]]) -> list[str]:
    """The titles of each category-page query among ``sent``."""
    return [params["titles"] for params in sent if "categoryinfo" in params.get("prop", "")]
