# SPDX-License-Identifier: GPL-3.0-or-later
"""Statements and citations read from real wikitext, as an editor of each wiki reads them
(tests/fixtures/references_audit, see SOURCES.md there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from suggest.tasks.references import citation_needed_names
from suggest.wiki import references as refs

FIXTURES = Path(__file__).parent / "fixtures" / "references_audit"
# The namespace names the fixtures use (as a wiki's siteinfo lists them).
NAMESPACES = {"en": ["File", "Image", "Category", "Template", "Wikipedia", "Help"],
              "bn": ["চিত্র", "File", "বিষয়শ্রেণী", "Category", "টেমপ্লেট", "Template"],
              "ja": ["ファイル", "File", "画像", "Image", "Category", "Template"],
              "uk": ["Файл", "File", "Категорія", "Category", "Шаблон", "Template"],
              "vi": ["Tập tin", "File", "Hình", "Thể loại", "Category", "Bản mẫu", "Template"]}


def read(name: str) -> str:
    return (FIXTURES / f"{name}.wiki").read_text(encoding="utf-8")


def parse(name: str) -> refs.ArticleReferences:
    lang = name[:2]
    return refs.parse_article(read(name), citation_needed_names(lang), NAMESPACES[lang])


def test_a_link_to_a_title_with_a_colon_is_part_of_its_sentence() -> None:
    """[[বীরাঙ্গনা: উইমেন অব ওয়ার|ধর্ষিত]] links an article (a film): the sentence marked as
    needing a source is all of it, not the two words after the link."""
    found = parse("bnwiki-822")
    [marked] = [s for s in found.statements if s.marker]
    assert marked.raw.startswith("দুই থেকে চার লক্ষ নারী") and marked.raw.endswith("ধর্ষিত]] হয়।")
    assert "সেনাদের দ্বারা ধর্ষিত হয়।" in marked.text
    assert not any("থাম্ব" in s.raw for s in found.statements), "the image is no sentence"


@pytest.mark.parametrize(("name", "start", "end"), [
    ("enwiki-569", "Ethnography can refer to both", "i.e. an ethnographic monograph."),
    ("viwiki-13", "Theo A. G. Haudricourt giải thích", "không [[thanh điệu]]."),
    ("bnwiki-1444", "প্রথম বেসরকারী মহাকাশ ভ্রমণকারী ছিলেন বায়রন কে. লিচটেনবার্গ", "উড়েছিলেন।"),
    ("ukwiki-1072", "У 2000—2008&nbsp;рр. у Росії", "мінерально-сировинної бази)."),
])
def test_initials_and_abbreviations_end_no_sentence(name: str, start: str, end: str) -> None:
    found = parse(name)
    assert any(s.raw.startswith(start) and s.raw.endswith(end) for s in found.statements), \
        [s.raw[:60] for s in found.statements]


def test_a_full_stop_inside_japanese_quotes_ends_no_sentence() -> None:
    found = parse("jawiki-11")
    raws = [s.raw for s in found.statements]
    assert raws[0] == "日本語では「私は本を読む。」という語順で文を作る。"
    assert raws[1].startswith("英語で「I read a book.」という語順を")
    assert raws[1].endswith("ということになる。")


def test_r_and_rp_templates_are_citations() -> None:
    """{{R|name}} cites a named reference (jawiki's usual short form); {{rp|pages}} belongs to
    the citation before it, and the citation after it still counts."""
    text = (Path(__file__).parent / "fixtures" / "references" / "jawiki-336.wiki").read_text(encoding="utf-8")
    ja = refs.parse_article(text, citation_needed_names("ja"), NAMESPACES["ja"])
    uses = ja.references["name:/完全超悪335"].uses
    assert len(uses) == 2
    assert ja.statements[uses[1]].raw.endswith("漫画家としてデビューする")
    vi = parse("viwiki-845")
    statement = next(s for s in vi.statements if s.raw.endswith("sẽ được tái lập."))
    bodies = [vi.references[c.key].body for c in statement.citations if c.key in vi.references]
    assert [c.key for c in statement.citations][0] == "name:/Malone"
    assert any(b.startswith("Peter Neary") for b in bodies)


def test_reference_names_are_read_as_written() -> None:
    """A name in quotes keeps them (name="'satVillust'" is the name 'satVillust', quotes
    included); an attribute in capitals is still the name (MediaWiki reads them in any case)."""
    apollo = parse("enwiki-663")
    named = apollo.references["name:/'satVillust'"]
    assert named.reuse_tag() == "<ref name=\"'satVillust'\" />"
    assert named.uses == [0]
    jamaica = parse("bnwiki-1346")
    assert jamaica.references["name:/Simpson"].reuse_tag() == '<ref name="Simpson" />'
