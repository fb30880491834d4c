# SPDX-License-Identifier: GPL-3.0-or-later
"""Wikitext questions (suggest.wiki.wikitext) on real article text from the committed dumps."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import mwparserfromhell
import pytest

from suggest.wiki import wikitext as wt

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
NS = "{http://www.mediawiki.org/xml/export-0.10/}"
EN_NAMESPACES = ["Talk", "User", "Wikipedia", "File", "Image", "Template", "Help", "Category",
                 "Portal", "Draft", "MediaWiki"]
UK_CATEGORY = ["Категорія", "Category"]


@cache
def article(lang: str, title: str) -> str:
    root = ET.parse(DUMPS / f"{lang}wiki-sample.xml").getroot()
    for page in root.iter(f"{NS}page"):
        if page.findtext(f"{NS}title") == title:
            return page.findtext(f"{NS}revision/{NS}text") or ""
    raise AssertionError(f"{title} not in the {lang} fixture")


def test_localized_and_canonical_prefixes_both_count() -> None:
    text = "Текст.\n[[Категорія:Кола]]\n[[Category:Криві]]\n[[категорія: планіметрія ]]"
    assert wt.category_links(text, UK_CATEGORY) == ["Кола", "Криві", "Планіметрія"]
    # With only the canonical name known, the localized link is not a category.
    assert wt.category_links(text, ["Category"]) == ["Криві"]


def test_real_uk_article_categories_in_order() -> None:
    text = article("uk", "Коло")
    assert wt.category_links(text, UK_CATEGORY) == [
        "Планіметрія", "Конічні перетини", "Алгебричні криві", "Стереометрія",
        "Надпопулярні статті", "Криві", "Кола"]


def test_colon_link_to_a_category_is_not_a_category() -> None:
    text = "See [[:Category:Geometry]] and [[: Category:Shapes|shapes]].\n[[Category:Circles]]"
    assert wt.category_links(text, ["Category"]) == ["Circles"]


def test_sort_keys_and_underscores_are_not_part_of_the_name() -> None:
    text = "[[Category:Living_people|Connes, Alain]]\n[[Category: French  mathematicians |*]]"
    assert wt.category_links(text, ["Category"]) == ["Living people", "French mathematicians"]


def test_remove_categories_keeps_every_other_character() -> None:
    text = article("en", "Albedo")
    stripped = wt.remove_categories(text, ["Category"])
    assert wt.category_links(stripped, ["Category"]) == []
    assert wt.category_links(text, ["Category"])  # there was something to remove
    # Everything else is unchanged: the removed characters are exactly the category links.
    removed = [str(link) for link in mwparserfromhell.parse(text).filter_wikilinks(recursive=False)
               if str(link.title).strip().startswith("Category:")]
    rebuilt = text
    for link in removed:
        rebuilt = rebuilt.replace(link, "", 1)
    assert stripped == rebuilt
    assert "'''Albedo'''" in stripped


def test_remove_categories_leaves_colon_links_and_other_namespaces() -> None:
    text = "A [[:Категорія:Кола]] b [[Файл:X.png|thumb]] [[Коло]]\n[[Категорія:Кола|к]]"
    assert wt.remove_categories(text, UK_CATEGORY) == (
        "A [[:Категорія:Кола]] b [[Файл:X.png|thumb]] [[Коло]]\n")


def test_article_links_skip_namespaces_and_fragments() -> None:
    text = ("[[Albedo]] [[albedo#History|h]] [[File:A.png|thumb|[[Radiation]] caption]] "
            "[[Category:Optics]] [[:Category:Optics]] [[Template:Cite]] [[wikipedia:About]] "
            "[[Solar_radiation]] [[ Earth ]] [[#Local]]")
    links = wt.article_links(text, EN_NAMESPACES)
    assert links == ["Albedo", "Radiation", "Solar radiation", "Earth"]


def test_article_links_of_a_real_article() -> None:
    links = wt.article_links(article("uk", "Коло"), ["Категорія", "Category", "Файл", "File", "Шаблон"])
    assert "Радіус" in links and "Діаметр" in links
    assert not any(link.startswith(("Категорія:", "Файл:")) for link in links)
    assert len(links) == len(set(links))


def test_plain_text_drops_markup_but_keeps_words() -> None:
    text = ("'''Коло''' — це {{lang|x}} [[крива|замкнена крива]]<ref>Джерело</ref> на "
            "[[площина|площині]].\n== Розділ ==\n[[Категорія:Кола]] [https://x.org зовнішнє]")
    plain = wt.plain_text(text)
    assert plain.startswith("Коло — це замкнена крива на площині.")
    assert "Джерело" not in plain and "lang" not in plain and "Категорія" not in plain
    assert "Розділ" not in plain and "зовнішнє" in plain
    assert len(wt.plain_text(article("en", "Albedo"), max_chars=100)) == 100


def test_lead_wikitext_stops_at_the_first_heading() -> None:
    lead = wt.lead_wikitext(article("en", "Albedo"))
    assert "'''Albedo'''" in lead and "==" not in lead


def test_append_category_after_the_last_category() -> None:
    text = "Text.\n[[Category:B]]\n[[Category:C]]\n{{Navbox}}\n"
    out = wt.append_category(text, "[[Category:D]]", ["Category"])
    assert out == "Text.\n[[Category:B]]\n[[Category:C]]\n[[Category:D]]\n{{Navbox}}\n"


def test_append_category_at_the_end_when_there_is_none() -> None:
    assert wt.append_category("Text.\n\n", "[[Категорія:Кола]]", UK_CATEGORY) == (
        "Text.\n[[Категорія:Кола]]\n")


def test_append_category_on_a_real_article_adds_exactly_one_category() -> None:
    text = article("uk", "Коло")
    out = wt.append_category(text, "[[Категорія:Геометрія]]", UK_CATEGORY)
    assert wt.category_links(out, UK_CATEGORY)[-1] == "Геометрія"
    assert len(out) == len(text) + len("\n[[Категорія:Геометрія]]")


@pytest.mark.parametrize(("title", "expected"), [
    ("foo_bar", "Foo bar"), ("  a   b ", "A b"), ("émile", "Émile"), ("коло", "Коло"),
    # MediaWiki drops direction marks and keeps a first letter that has no one-letter capital.
    ("পদার্থবিজ্ঞান\u200e", "পদার্থবিজ্ঞান"), ("\u202bكرة\u202c القدم", "كرة القدم"),
    ("ßeta", "ßeta"), ("ﬁlm", "ﬁlm"),
    # As Wikimedia's wikis make a first letter upper case ($wgOverrideUcfirstCharacters in
    # wmf-config/UcfirstOverrides.php), where Python's upper() would not: Georgian Mkhedruli and
    # titlecase digraphs stay, lower-case digraphs become capitals, letters without a capital in
    # PHP 7.2's tables stay, Greek with ypogegrammeni takes its titlecase form.
    ("ისტორია", "ისტორია"), ("ჰიმნი", "ჰიმნი"), ("ǅemal", "ǅemal"), ("ǈubljana", "ǈubljana"),
    ("ǆemal", "Ǆemal"), ("ⅳ", "ⅳ"), ("ⓐ", "ⓐ"), ("ꞹ", "ꞹ"), ("\U00016e60", "\U00016e60"),
    ("\u0345", "\u0345"), ("ᾀ", "ᾈ"), ("ᾧ", "ᾯ"), ("ᾳ", "ᾼ"), ("ῳ", "ῼ"), ("ᾈ", "ᾈ"),
    ("ὐ", "ὐ"), ("ǰ", "ǰ"), ("ω", "Ω"), ("ǳ", "Ǳ")])
def test_normalize_title(title: str, expected: str) -> None:
    assert wt.normalize_title(title) == expected


def test_a_category_link_ending_in_a_direction_mark_is_the_category_itself() -> None:
    """As typed on bnwiki (three links in the development dump end in U+200E): the category the
    wiki knows, not a second one beside it."""
    text = "বাক্য।\n[[বিষয়শ্রেণী:পদার্থবিজ্ঞান\u200e]]\n[[বিষয়শ্রেণী:পদার্থবিজ্ঞান]]"
    assert wt.category_links(text, ["বিষয়শ্রেণী"]) == ["পদার্থবিজ্ঞান"]


def test_split_namespace() -> None:
    assert wt.split_namespace("категорія:кола", UK_CATEGORY) == ("Категорія", "Кола")
    assert wt.split_namespace("Коло: історія", UK_CATEGORY) == (None, "Коло: історія")


def _all_fixture_texts() -> list[str]:
    texts = []
    for path in sorted(DUMPS.glob("*wiki-sample.xml")):
        for page in ET.parse(path).getroot().iter(f"{NS}page"):
            texts.append(page.findtext(f"{NS}revision/{NS}text") or "")
    return texts


def test_lead_is_section_zero_of_every_fixture_article() -> None:
    """The lead is taken from the shared parse's top-level nodes; on every committed article (5
    languages) it is exactly mwparserfromhell's own section 0."""
    texts = _all_fixture_texts() + ["", "no heading", "{{Infobox|\n== not a heading ==\n}}\n== A ==\nx"]
    assert len(texts) > 200
    for text in texts:
        sections = mwparserfromhell.parse(text).get_sections(levels=None, include_lead=True, flat=True)
        assert wt.lead_wikitext(text) == (str(sections[0]) if sections else "")


def test_a_page_is_parsed_once_and_edits_leave_the_shared_parse_alone() -> None:
    text = article("uk", _first_uk_title()) + "\n"  # a fresh string, not parsed before
    shared = wt.parse(text)
    assert wt.parse(text) is shared  # analysis, similarity text and lead read one parse
    removed = wt.remove_categories(text, UK_CATEGORY)
    added = wt.append_category(text, "[[Категорія:Нова]]", UK_CATEGORY)
    assert removed != text and added != text
    assert str(shared) == text
    assert wt.category_links(text, UK_CATEGORY) == wt.category_links(shared, UK_CATEGORY)


def _first_uk_title() -> str:
    root = ET.parse(DUMPS / "ukwiki-sample.xml").getroot()
    for page in root.iter(f"{NS}page"):
        text = page.findtext(f"{NS}revision/{NS}text") or ""
        if wt.category_links(text, UK_CATEGORY):
            return page.findtext(f"{NS}title") or ""
    raise AssertionError("no uk fixture article with categories")


@pytest.mark.parametrize(("text", "expected"), [
    ("{{Container category}}\n[[Category:Science by country]]", True),
    ("{{Template:container category}}", True),
    ("{{Category redirect|Chemistry}}", True),
    ("{{Đổi hướng thể loại|Hóa học}}", True),
    ("{{বিষয়শ্রেণী পুনর্নির্দেশ|পদার্থবিজ্ঞান}}", True),
    ("{{টেমপ্লেট:বিষয়শ্রেণী পুনর্নির্দেশ|পদার্থবিজ্ঞান}}", True),
    ("__EXPECTUNUSEDCATEGORY__", True),
    ("{{Category diffuse}}\n{{Commons category|Physics}}\n[[Category:Natural sciences]]", False),
    ("<!-- {{Container category}} -->", False),
])
def test_a_category_page_that_holds_no_articles(text: str, expected: bool) -> None:
    """A soft redirect, a container (subcategories only) or a category meant to stay empty."""
    assert wt.holds_no_articles(text, ["Template", "Bản mẫu", "টেমপ্লেট"]) is expected
