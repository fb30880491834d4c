# SPDX-License-Identifier: GPL-3.0-or-later
"""Sentences as each wiki writes them: the Bengali danda with no space after it, Japanese
templates that hold the text they mark, and bold and italics read within their line.

Excerpts copied unchanged from Wikipedia (CC BY-SA 3.0/4.0; the authors are the contributors of
each page, its history is on the named wiki under the title): bnwiki পাকিস্তান (page 1136,
revision 6613765), ভুটান (1181, 6598785), আনন্দমঠ (839, 6450359); jawiki 鳥山明 (247, 94422860);
ukwiki 1854 (613, 36965512), 1896 (932, 36965535), Інтернет (727, 38931983), Блог (1046,
39044358); enwiki Aristotle (308, 717509269).
tests/fixtures/references_audit/SOURCES.md names the fixtures read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from suggest.backends.tfidf import CharNgramBackend
from suggest.tasks.base import TaskSettings
from suggest.tasks.references import ReferencesTask, citation_needed_names, placement
from suggest.wiki import references as refs
from suggest.wiki import wikitext as wt
from suggest.wiki.source import Page
from tests.test_references_audit import NAMESPACES, read
from tests.test_references_audit_task import gadget

JA_MARKERS = ["要出典", "要出典範囲"]


def sentences(text: str, names: Sequence[str] = ()) -> list[str]:
    return [s.raw for s in refs.parse_article(text, names).statements]


# -- the danda -------------------------------------------------------------------------------------

def test_a_danda_right_before_a_letter_ends_the_sentence() -> None:
    text = ("কিন্তু ২০২২ সালের ১০ এপ্রিল তার বিরুদ্ধে পার্লামেন্টে অনাস্থা প্রস্তাব গ্রহণ করা হয়।"
            "ফলে তিনি ক্ষমতাচ্যুত হন।তার জায়গায় পাকিস্তানের  বর্তমান প্রধানমন্ত্রী নির্বাচিত হন")
    assert sentences(text) == [
        "কিন্তু ২০২২ সালের ১০ এপ্রিল তার বিরুদ্ধে পার্লামেন্টে অনাস্থা প্রস্তাব গ্রহণ করা হয়।",
        "ফলে তিনি ক্ষমতাচ্যুত হন।", "তার জায়গায় পাকিস্তানের  বর্তমান প্রধানমন্ত্রী নির্বাচিত হন"]


def test_a_danda_right_before_a_link_ends_the_sentence() -> None:
    text = ("বেকারত্বের হার ৩.১% (২০০৫ সালের প্রাক্কলন)।[[জংখা ভাষা]] বা [[ভুটানি ভাষা]] ভুটানের "
            "সরকারি ভাষা।")
    assert sentences(text) == ["বেকারত্বের হার ৩.১% (২০০৫ সালের প্রাক্কলন)।",
                               "[[জংখা ভাষা]] বা [[ভুটানি ভাষা]] ভুটানের সরকারি ভাষা।"]


def test_a_danda_before_a_non_breaking_space_ends_the_sentence() -> None:
    """Written as the character (আনন্দমঠ) or as the entity (নভোচারী: "[[মির]] সফর।&nbsp;একটি");
    the entity is no part of either sentence, and reads as a space in the plain text."""
    text = ("যারা দুর্ভিক্ষের সময় খাবার ও জল ছাড়া তাদের গ্রাম পদচিহ্নে আটকে রয়েছে।\xa0 তারা তাদের গ্রাম "
            "ছেড়ে নিকটতম শহরে চলে যাওয়ার সিদ্ধান্ত নিয়েছে।")
    assert len(sentences(text)) == 2
    found = refs.parse_article(read("bnwiki-1444"), [], NAMESPACES["bn"])
    before = next(s for s in found.statements if s.raw.endswith("[[মির]] সফর।"))
    after = found.statements[found.statements.index(before) + 1]
    assert after.raw.startswith("একটি জাপানি টিভি স্টেশনের") and after.raw.endswith("\"রিসার্চ কসমোনট\"।")
    assert [c.key for c in after.citations][:2] == ["name:/smith", "name:/bbc1"]
    assert "&nbsp;" not in before.text + after.text
    assert refs.parse_article("এক&nbsp;দুই।", []).statements[0].text == "এক দুই।"


@pytest.mark.parametrize("text", ["১।সব ই বরাত", "যাস্ক নিরুক্ত ৭।১৫।৪ অনুসারে তিনিই দেব।"])
def test_a_danda_after_a_digit_numbers_and_ends_nothing(text: str) -> None:
    assert sentences(text) == [text]


# -- a full stop after an abbreviation --------------------------------------------------------------

ARISTOTLE = ("The second oldest written evidence of a [[camera obscura]] (after [[Mozi]] c. 400 BC) can be "
             "found in Aristotle's documentation of such a device in 350&nbsp;BC in ''Problemata''. "
             "Aristotle's apparatus contained a dark chamber that had a single small hole.")


def test_a_short_word_in_lower_case_before_a_number_is_an_abbreviation() -> None:
    """enwiki Aristotle ("c. 400 BC") and ukwiki 1896 ("(пом. 1987)", died 1987): no sentence
    ends there. A full stop after a number, or after a longer word, still ends one."""
    cut = ARISTOTLE.index(" Aristotle's apparatus")
    assert sentences(ARISTOTLE) == [ARISTOTLE[:cut], ARISTOTLE[cut + 1:]]
    item = ("* [[15 квітня]]&nbsp;— [[Герхард Фізелер]] (пом. 1987), [[Німеччина|німецький]] "
            "[[ас|льотчик-ас]] [[Перша світова війна|Першої світової війни]]")
    assert len(sentences(item)) == 1
    assert sentences("See p. 12 for more. Most sold well.") == ["See p. 12 for more.", "Most sold well."]
    assert sentences("He was born in 1900. 1901 was a year. It ended in the next month. 2 more came.") == [
        "He was born in 1900.", "1901 was a year.", "It ended in the next month.", "2 more came."]


@pytest.mark.parametrize("text", ["Народився в м.&nbsp;Київ у родині вчителя.",
                                  "Книгу написав С.&nbsp;В.&nbsp;Козицький у 2011 році.",
                                  "Lincoln's papers fill twelve volumes, pp.&nbsp;29–31 treat his youth."])
def test_a_full_stop_before_a_non_breaking_space_ends_nothing(text: str) -> None:
    """Unlike the danda's: in the dumps ".&nbsp;" follows initials, "м." (city) or "p." before a
    number (uk 2,546 times before a dash in a bibliography, en 47 times before "1"); no sentence
    end before it was found that a space would not have given."""
    assert sentences(text + " Далі.") == [text, "Далі."]


# -- a template that holds the text it marks -------------------------------------------------------

TORIYAMA = ("高校を卒業した1974年、絵を描く仕事に就きたいと思い、地元の広告関係のデザイン会社に"
            "デザイナーとして就職した。{{要出典範囲|この際、当時のAIWAのラジカセの説明書に、鳥山の書いたラジカセのイラストが掲載"
            "されており、後の「ドクタースランプ」に登場するタイムスリッパーや家電などのテイストが色濃く表れている"
            "|date=2023年1月}}。")


@pytest.mark.parametrize("marker", [
    "{{要出典範囲|この際、当時のAIWAのラジカセの説明書に掲載されている|date=2023年1月}}",
    "{{要出典範囲|date=2019年9月|この際、当時のAIWAのラジカセの説明書に掲載されている}}",
    "{{要出典|範囲=この際、当時のAIWAのラジカセの説明書に掲載されている|date=2023年1月}}",
])
def test_the_marked_text_is_the_statement(marker: str) -> None:
    text = f"地元の会社に就職した。しかし、{marker}。次の文である。"
    found = refs.parse_article(text, JA_MARKERS)
    [marked] = [s for s in found.statements if s.marker]
    assert marked.text == "この際、当時のAIWAのラジカセの説明書に掲載されている"
    assert marked.raw == marked.marker == marker and text[marked.start:marked.end] == marker
    others = [s.raw for s in found.statements if not s.marker]
    assert others == ["地元の会社に就職した。", "しかし、", "次の文である。"]


def test_the_reference_follows_the_template_which_is_kept(backend: Any) -> None:
    """The gadget puts the citation right after the template (after the marked text, before the
    。 that follows, as jawiki cites); the template and the text it marks stay."""
    text = TORIYAMA + "\n\n鳥山は漫画家である<ref name=\"jump\">『週刊少年ジャンプ』集英社。</ref>。\n"
    task = ReferencesTask(config={"CITATION_NEEDED": {"ja": JA_MARKERS}})
    page = Page(wiki="jawiki", title="鳥山明", wikitext=text, links=[])
    found = task.suggest(page, Source(), backend, TaskSettings(threshold=0.0, max_suggestions=10))
    [suggestion] = [s for s in found if s.insert["priority"] == "citation_needed"]
    marker = TORIYAMA[TORIYAMA.index("{{"):TORIYAMA.rindex("}}") + 2]
    assert suggestion.insert["anchor"] == marker and suggestion.insert["replace"] is None
    assert suggestion.insert["statement"].startswith("この際、当時のAIWAのラジカセ")
    assert suggestion.wikitext == '<ref name="jump" />'
    assert marker + suggestion.wikitext + "。" in gadget(text, suggestion)


def test_jawiki_marks_a_range_by_default(backend: Any) -> None:
    """{{要出典範囲}} is among jawiki's citation-needed templates in the default configuration."""
    text = TORIYAMA + "\n\n鳥山は漫画家である<ref name=\"jump\">『週刊少年ジャンプ』集英社。</ref>。\n"
    page = Page(wiki="jawiki", title="鳥山明", wikitext=text, links=[])
    found = ReferencesTask().suggest(page, Source(), backend, TaskSettings(threshold=0.0, max_suggestions=10))
    assert [s.insert["anchor"] for s in found if s.insert["priority"] == "citation_needed"] == [
        TORIYAMA[TORIYAMA.index("{{"):TORIYAMA.rindex("}}") + 2]]


def test_the_marked_text_of_a_real_article() -> None:
    found = refs.parse_article(read("jawiki-159"), JA_MARKERS, NAMESPACES["ja"])
    marked = next(i for i, s in enumerate(found.statements) if s.marker and "要出典範囲" in s.marker)
    statement = found.statements[marked]
    assert statement.text.startswith("人間の言語は過去に起こった事実や未来のことを表現することも可能である。")
    assert statement.text.endswith("現在のことしか伝達できない。")
    assert placement(found, marked) == (statement.marker, None)


# -- ukwiki's {{Джерело}} -----------------------------------------------------------------------------

UK_INTERNET = (
    "Починаючи з [[3 грудня]] [[2006]] року для користувачів [[Іран]]у було закрито доступ до низки "
    "сайтів, серед яких [[Вікіпедія]], [[YouTube]], [[Internet Movie Database|IMDb]]. У вересні 2012 "
    "Іран вийшов із Всесвітнього павутиння, замінивши його інтранетом{{джерело}}.\n\n"
    "Після блокування [[17 травня]] 2017 року російських сайтів їхній рейтинг різко почав "
    "знижуватися. {{джерело|[[Facebook]] вперше обійшов ВКонтакті}}. Частка пошуковика Гугл для "
    "україномовних сайтів піднялася до 82&nbsp;%.\n\n"
    "Власні блоги також мають Юлія Тимошенко{{Джерело}} та Сергій Тігіпко{{Джерело}}.\n")


def test_ukwiki_marks_statements_with_dzherelo_by_default() -> None:
    """ukwiki writes its citation-needed mark mostly as {{Джерело}} (28 inline uses in the
    development dump against one {{Джерело?}}), in either case of its first letter, and with the
    marked text as its parameter ({{джерело|text}}, as {{fact|text}})."""
    found = refs.parse_article(UK_INTERNET, citation_needed_names("uk"))
    marked = [s for s in found.statements if s.marker]
    assert [s.marker for s in marked] == [
        "{{джерело}}", "{{джерело|[[Facebook]] вперше обійшов ВКонтакті}}", "{{Джерело}}", "{{Джерело}}"]
    assert marked[0].text.endswith("замінивши його інтранетом")
    assert marked[1].text == "Facebook вперше обійшов ВКонтакті" and marked[1].in_marker
    assert marked[2].text == "Власні блоги також мають Юлія Тимошенко"
    assert [s.marker for s in refs.parse_article(UK_INTERNET, citation_needed_names("vi")).statements
            if s.marker] == []


# -- bold and italics within their line ------------------------------------------------------------

WORKS = ("== Works ==\n''The Prairie Years.\n\n"
         "He wrote a history of the war in four volumes.<ref>Nevins 1959, p. 29.</ref>\n"
         "His ''Ordeal'' sold well in the first year.{{citation needed|date=May 2016}}\n")


def test_an_unclosed_italic_ends_with_its_line() -> None:
    """MediaWiki closes '' at the end of its line: the reference and the marked sentence after
    it are read, not swallowed into italics up to the next ''."""
    found = refs.parse_article(WORKS, ["Citation needed"])
    cited = next(s for s in found.statements if s.raw.startswith("He wrote a history"))
    assert [found.references[c.key].body for c in cited.citations] == ["Nevins 1959, p. 29."]
    [marked] = [s for s in found.statements if s.marker]
    assert marked.raw == "His ''Ordeal'' sold well in the first year."
    assert marked.text == "His Ordeal sold well in the first year."


def test_list_items_after_an_unclosed_italic_are_statements() -> None:
    """1854 (lines of it): the '' before "Див. також" is never closed on its line; paired with
    the next section's, it would make one italic of the list and the heading between."""
    text = ("== Народились ==\n''Див. також [[:Категорія:Народились 1854]]\n\n"
            "* [[18 січня]] — [[Томас Ватсон]], [[винахідник]] в області [[телефонія|телефонії]]\n"
            "* [[28 січня]] — [[Високович Володимир Костянтинович]], [[патологоанатом]], [[бактеріолог]] "
            "й [[епідеміолог]] (пом. [[1912]])\n\n"
            "== Померли ==\n''Див. також [[:Категорія:Померли 1854]]''\n")
    found = refs.parse_article(text, [], NAMESPACES["uk"])
    starts = [s.raw[:12] for s in found.statements]
    assert "[[18 січня]]" in starts and "[[28 січня]]" in starts
    assert found.statements[-1].section == 2


def test_parse_by_line_keeps_the_text_and_the_shared_parse() -> None:
    code = wt.parse_by_line(WORKS)
    assert str(code) == WORKS
    assert [n.tag for n in code.filter_tags(recursive=False) if n.wiki_markup == "''"] == ["i"]
    plain = "'''Earthshine''' is ''sunlight'' reflected.\n\nMore text.\n"
    assert wt.parse_by_line(plain) is wt.parse(plain)


class Source:
    wiki_id = "jawiki"

    def wikitext_of(self, titles: Sequence[str]) -> dict[str, str]:
        return {}

    def namespace_prefixes(self) -> list[str]:
        return NAMESPACES["ja"]


@pytest.fixture(scope="module")
def backend() -> CharNgramBackend:
    return CharNgramBackend()
