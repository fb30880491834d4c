# SPDX-License-Identifier: GPL-3.0-or-later
"""The dump page source on the committed dump fixtures (several languages)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from suggest.wiki import wikitext as wt
from suggest.wiki.dump_source import DumpSource
from suggest.wiki.source import PageNotFound

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
LANGS = ("en", "uk", "bn", "ja", "vi")
HIDDEN_PAGE = """  <page>
    <title>Категорія:Надпопулярні статті</title>
    <ns>14</ns>
    <id>990001</id>
    <revision>
      <id>990002</id>
      <timestamp>2023-01-01T00:00:00Z</timestamp>
      <model>wikitext</model>
      <format>text/x-wiki</format>
      <text bytes="14" xml:space="preserve">__HIDDENCAT__</text>
    </revision>
  </page>
</mediawiki>"""


@pytest.fixture(scope="module")
def sources() -> dict[str, DumpSource]:
    return {lang: DumpSource(DUMPS / f"{lang}wiki-sample.xml") for lang in LANGS}


def test_every_fixture_loads_with_its_localized_category_namespace(
        sources: dict[str, DumpSource]) -> None:
    expected = {"en": "Category", "uk": "Категорія", "bn": "বিষয়শ্রেণী", "ja": "Category",
                "vi": "Thể loại"}
    for lang, source in sources.items():
        assert source.wiki_id == f"{lang}wiki"
        assert source.category_prefixes()[0] == expected[lang]
        assert "Category" in source.category_prefixes()
        assert len(source.articles) >= 20
        assert not any(":" in t and t.split(":")[0] in source.namespace_prefixes()
                       for t in source.articles)


def test_page_has_text_categories_and_links(sources: dict[str, DumpSource]) -> None:
    page = sources["uk"].get_page("Коло")
    assert page.wiki == "ukwiki" and page.revid and page.page_id
    assert "Планіметрія" in page.categories and "Кола" in page.categories
    assert "Радіус" in page.links
    assert page.hidden_categories == []  # the fixtures hold no hidden category page
    assert sources["uk"].get_page(revid=page.revid).title == "Коло"


def test_redirects_resolve(sources: dict[str, DumpSource]) -> None:
    en = sources["en"]
    assert en.resolve("Astronomers and Astrophysicists") == "Astronomer"
    assert en.get_page("Astronomers_and_Astrophysicists").title == "Astronomer"
    assert en.categories_of(["Astronomers and Astrophysicists"]) == {
        "Astronomer": en.categories_of(["Astronomer"])["Astronomer"]}
    # A redirect whose target is not in the dump resolves to nothing.
    assert en.resolve("Albert Gore") is None
    assert en.categories_of(["Albert Gore", "No such article"]) == {}
    with pytest.raises(PageNotFound):
        en.get_page("Albert Gore")
    with pytest.raises(PageNotFound):
        en.get_page(revid=1)


def test_similar_never_returns_the_article_itself(sources: dict[str, DumpSource]) -> None:
    for lang, source in sources.items():
        for title in list(source.articles)[:8]:
            page = source.get_page(title)
            similar = source.similar(page, 10)
            assert similar, (lang, title)
            titles = [t for t, _ in similar]
            assert title not in titles
            assert len(titles) == len(set(titles)) <= 10
            scores = [s for _, s in similar]
            assert scores == sorted(scores, reverse=True)
            assert all(0.0 < s <= 1.0 for s in scores)


def test_similar_finds_topical_neighbours(sources: dict[str, DumpSource]) -> None:
    uk = sources["uk"]
    top = [t for t, _ in uk.similar(uk.get_page("Трахея"), 5)]
    # The respiratory-system articles are each other's neighbours in the uk sample.
    anatomy = {"Бронхи", "Легені", "Гортань", "Глотка", "Дихальна система", "Порожнина носа",
               "Легенева альвеола", "Бронхолегеневий сегмент", "Плевра", "Середостіння"}
    assert len(set(top) & anatomy) >= 3, top


def test_page_from_edited_text(sources: dict[str, DumpSource]) -> None:
    uk = sources["uk"]
    text = wt.remove_categories(uk.articles["Коло"].text, uk.category_prefixes())
    page = uk.page_from_text("Коло", text)
    assert page.categories == [] and page.links == uk.get_page("Коло").links


def test_hidden_categories_are_flagged_and_left_out(tmp_path: Path) -> None:
    original = (DUMPS / "ukwiki-sample.xml").read_text(encoding="utf-8")
    path = tmp_path / "ukwiki-hidden.xml"
    path.write_text(original.replace("</mediawiki>", HIDDEN_PAGE), encoding="utf-8")
    source = DumpSource(path)
    assert source.hidden == {"Надпопулярні статті"}
    page = source.get_page("Коло")
    assert page.hidden_categories == ["Надпопулярні статті"]
    assert "Надпопулярні статті" not in source.categories_of(["Фонетика"])["Фонетика"]
    assert "Мовознавство" in source.categories_of(["Фонетика"])["Фонетика"]


def test_truncated_dump_keeps_the_complete_pages(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    data = (DUMPS / "ukwiki-sample.xml").read_bytes()
    cut = data.index("<title>Трахея</title>".encode()) + 200  # in the middle of that page
    path = tmp_path / "ukwiki-truncated.xml"
    path.write_bytes(data[:cut])
    with caplog.at_level(logging.INFO, logger="suggest.wiki.dump_source"):
        source = DumpSource(path, wiki_id="truncated")
    assert source.wiki_id == "truncated"
    assert "Коло" in source.articles and "Гортань" in source.articles
    assert "Трахея" not in source.articles and "Бронхи" not in source.articles
    assert "ends early" in caplog.text
    assert source.get_page("Коло").categories
