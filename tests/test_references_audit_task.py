# SPDX-License-Identifier: GPL-3.0-or-later
"""What the editor gets from the references task on real articles: where the gadget puts the
citation, what it replaces, and what citation wikitext is offered
(tests/fixtures/references_audit, see SOURCES.md there)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from suggest.backends.tfidf import CharNgramBackend
from suggest.tasks.base import Suggestion, TaskSettings
from suggest.tasks.references import ReferencesTask, citation_needed_names, placement
from suggest.wiki import references as refs
from suggest.wiki.source import Page
from tests.test_references_audit import NAMESPACES, read

REFERENCES = Path(__file__).parent / "fixtures" / "references"
SETTINGS = TaskSettings(threshold=0.0, max_suggestions=100)


class Source:
    """The texts of linked articles and the wiki's namespace names."""

    def __init__(self, wiki_id: str, linked: dict[str, str] | None = None) -> None:
        self.wiki_id, self.linked = wiki_id, linked or {}

    def wikitext_of(self, titles: Sequence[str]) -> dict[str, str]:
        return {t: self.linked[t] for t in titles if t in self.linked}

    def namespace_prefixes(self) -> list[str]:
        return NAMESPACES[self.wiki_id[:2]]


@pytest.fixture(scope="module")
def backend() -> CharNgramBackend:
    return CharNgramBackend()


def suggest(wiki: str, text: str, backend: Any, links: Sequence[str] = (),
            linked: dict[str, str] | None = None) -> list[Suggestion]:
    page = Page(wiki=wiki, title="T", wikitext=text, links=list(links))
    source: Any = Source(wiki, linked)  # the part of a PageSource the task reads
    return ReferencesTask().suggest(page, source, backend, SETTINGS)


def gadget(text: str, suggestion: Suggestion) -> str:
    """gadget/src/positions.js planInsertion + applyInsertion: after the anchor (its copy followed
    by `replace` if any), in place of `replace` when it follows; the first use of a reference
    being named becomes the reuse tag."""
    insert = suggestion.insert
    anchor, replace = insert["anchor"], insert["replace"] or ""
    at = text.find(anchor + replace) if replace and anchor + replace in text else text.find(anchor)
    assert at != -1, "the gadget finds no anchor"
    start = at + len(anchor)
    removed = replace if text[start:start + len(replace)] == replace else ""
    edits = [(start, suggestion.wikitext, removed)]
    naming = insert.get("names_reference") or {"original": "\0", "reuse": ""}
    original = text.find(naming["original"])
    if original != -1 and (original + len(naming["original"]) <= at or original >= start + len(removed)):
        edits.append((original, naming["reuse"], naming["original"]))
    for where, inserted, gone in sorted(edits, reverse=True):
        text = text[:where] + inserted + text[where + len(gone):]
    return text


@pytest.mark.parametrize(("name", "held"), [
    ("jawiki-159", "{{要出典|まず、定義だ|date=2021年5月}}"),
    ("ukwiki-1077", "{{fact|[[Ольштинське воєводство|Ольштинському]], [[Гданське воєводство|Гданському]], "
                    "[[Кошалінське воєводство|Кошалінському]]}}"),
])
def test_a_template_holding_the_text_it_marks_is_kept(name: str, held: str, backend: Any) -> None:
    """{{要出典|まず、定義だ}} and {{fact|[[…]]}} show the text they mark: replacing them with the
    citation would delete it. The citation goes after the template, which the editor removes."""
    text = read(name)
    found = [s for s in suggest(name[:6], text, backend)
             if held in s.insert["anchor"] + (s.insert["replace"] or "")]
    assert found
    for suggestion in found:
        edited = gadget(text, suggestion)
        assert held + suggestion.wikitext in edited


def test_a_citation_needed_template_after_a_space_is_replaced(backend: Any) -> None:
    """Albedo: "…when local albedo changes. {{citation needed|date=November 2013}}": the citation
    takes the template's place, right after the full stop."""
    text = (REFERENCES / "enwiki-39.wiki").read_text(encoding="utf-8")
    marker = "{{citation needed|date=November 2013}}"
    [suggestion, *_] = [s for s in suggest("enwiki", text, backend) if marker in (s.insert["replace"] or "")]
    edited = gadget(text, suggestion)
    assert edited.count(marker) == text.count(marker) - 1
    assert "local albedo changes." + suggestion.wikitext + "\n" in edited


def test_citations_go_before_the_full_stop_where_the_article_puts_them(backend: Any) -> None:
    """言語学 cites "…分野がある<ref name="kojien">…</ref>。", as jawiki's articles do: a sentence
    of an unsourced paragraph gets its citation before the 。 too. An English article's after."""
    ja = read("jawiki-159")
    unsourced = [s for s in suggest("jawiki", ja, backend) if s.insert["priority"] == "unsourced_paragraph"]
    assert unsourced
    for suggestion in unsourced:
        assert not suggestion.insert["anchor"].endswith("。")
        edited = gadget(ja, suggestion)
        assert suggestion.insert["anchor"] + suggestion.wikitext + "。" in edited
    en = read("enwiki-340")
    assert all(s.insert["anchor"].endswith(".") for s in suggest("enwiki", en, backend)
               if s.insert["priority"] == "unsourced_paragraph" and s.insert["statement"].endswith("."))


@pytest.mark.parametrize(("name", "appendix"), [("enwiki-340", "==See also=="), ("jawiki-250", "== 脚注 ==")])
def test_link_lists_and_appendices_need_no_source(name: str, appendix: str) -> None:
    """"See also" and "External links" items ([[Cyclic homology]], [http://… Official Web Site])
    are not statements: none is offered a source."""
    text = read(name)
    article = refs.parse_article(text, citation_needed_names(name[:2]), NAMESPACES[name[:2]])
    targets = [article.statements[i] for i, _ in ReferencesTask().targets(article)]
    assert targets, "the article's own paragraphs are offered"
    assert not [s.raw for s in targets if s.start > text.index(appendix)]


def test_table_markup_needs_no_source() -> None:
    """Yên Bái's tables in section Hành chính are tables once bold and italics are read within
    their line (an unclosed '' in a table's source note no longer runs over what follows): none
    of their cells is a statement, the article's sentences are offered a source. A table the
    parser leaves as text (never closed) has its cells ("| width="50%" valign="top" |…") offered
    none either."""
    text = read("viwiki-997")
    article = refs.parse_article(text, citation_needed_names("vi"), NAMESPACES["vi"])
    assert not [s.raw for s in article.statements if s.raw.startswith(("|", "!", "{|"))]
    assert ReferencesTask().targets(article)
    unclosed = ("Yên Bái là một tỉnh.\n\n== Hành chính ==\n{| width=\"100%\"\n"
                "| width=\"50%\" valign=\"top\" | Thành phố Yên Bái có mười lăm đơn vị hành chính\n|-\n"
                "| Thị xã Nghĩa Lộ có mười bốn đơn vị hành chính cấp xã\n")
    cells = refs.parse_article(unclosed, [], NAMESPACES["vi"])
    assert any(s.raw.startswith("| width") for s in cells.statements)
    assert ReferencesTask().targets(cells) == []


def test_no_statement_whose_anchor_the_gadget_finds_elsewhere(backend: Any) -> None:
    """জন টুকি lists "[[ন্যাশনাল মেডেল অব সায়েন্স]] (১৯৭৩)" under পুরস্কার, and the infobox's
    awards say the same first: the gadget would put the citation into the infobox."""
    text = read("bnwiki-1411")
    infobox_end = text.index("\n}}")
    article = refs.parse_article(text, citation_needed_names("bn"), NAMESPACES["bn"])
    targets = [article.statements[i] for i, _ in ReferencesTask().targets(article)]
    assert len(targets) == 2 and all(s.start > infobox_end for s in targets)  # the two list items
    found = suggest("bnwiki", text, backend)
    assert not [s.insert["statement"] for s in found if text.find(s.insert["anchor"]) < infobox_end]


def test_linked_notes_and_short_citations_are_not_copied() -> None:
    """A linked article's note (<ref group="注">: no such group here, a Cite error) and its short
    citations ({{harvnb|Chisholm|1911}}: their source is in that article's bibliography) would
    break this one; its full citations are offered."""
    task = ReferencesTask()
    stub = ("'''個人主義'''は[[個人]]を重んじる立場である。\n\n== 概要 ==\n法律では個人と法人を区別する"
            "{{要出典|date=2024年1月}}。また[[Answer]]の語源は古英語である{{要出典|date=2024年1月}}。\n")
    linked = {"個人": read("jawiki-272"),
              "Answer": (REFERENCES / "enwiki-642.wiki").read_text(encoding="utf-8")}
    article = refs.parse_article(stub, citation_needed_names("ja"), NAMESPACES["ja"])
    source: Any = Source("jawiki", linked)
    others = task.linked_references(source, ["個人", "Answer"], citation_needed_names("ja"))
    offered = [c.reference for c in task.candidates(article, 1, others) if c.origin]
    assert offered and all(r.group is None for r in offered)
    assert not [r.body for r in offered if "harvnb" in r.body.casefold()]
    assert any(r.name == "Barnard" for r in offered)


def test_an_unnamed_reference_is_named_where_it_stands() -> None:
    """日渡早紀 cites "<ref>[https://…/41856/]  星は、すばる。|白泉社 </ref>" (spaces inside): the
    gadget finds that tag to turn it into the reuse tag, so the source is one footnote."""
    text = read("jawiki-250").replace("位置付けられている。", "位置付けられている{{要出典|date=2024年1月}}。")
    article = refs.parse_article(text, citation_needed_names("ja"), NAMESPACES["ja"])
    index = next(i for i, s in enumerate(article.statements) if s.marker)
    task = ReferencesTask()
    candidate = next(c for c in task.candidates(article, index, {}) if "41856" in c.reference.body)
    suggestion = task.make(article, index, placement(article, index), "citation_needed", candidate, 0.5, {})
    assert suggestion.insert["names_reference"]["original"] in text
    edited = gadget(text, suggestion)
    assert edited.count("hakusensha.co.jp/comicslist/41856/") == 1
    assert edited.count(suggestion.insert["names_reference"]["reuse"]) == 1
