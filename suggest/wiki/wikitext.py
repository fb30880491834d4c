"""Wikitext questions answered with mwparserfromhell (never with regular expressions)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import mwparserfromhell
from mwparserfromhell.nodes import ExternalLink, Heading, Tag, Text, Wikilink
from mwparserfromhell.wikicode import Wikicode

CATEGORY_NS = 14


# Direction marks and embeddings (LRM, RLM, U+202A-U+202E): MediaWiki drops them from titles,
# and a category link typed in right-to-left or Indic text often ends in one.
DIRECTION_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))


def _letters(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


# Wikimedia's wikis upper-case a title's first letter as PHP 7.2 did, kept through later PHP and
# Unicode versions by $wgOverrideUcfirstCharacters (wmf-config/UcfirstOverrides.php). Where
# Python's upper() differs: Georgian Mkhedruli letters stay (their capitals, Mtavruli, are not
# used in titles: kawiki's "ისტორია" is not "Ისტორია"), titlecase digraphs stay ("ǅ", not "Ǆ"),
# letters that had no capital then stay (small Roman numerals, circled letters, "ꞹ",
# Medefaidrin, the combining ypogegrammeni), and a Greek letter with ypogegrammeni takes its
# titlecase form ("ᾀ" → "ᾈ") where upper() gives two letters.
KEPT_FIRST_LETTERS = frozenset(
    "ǅǈǋǲ\u0345ꞹ" + _letters(0x10D0, 0x10FA) + _letters(0x10FD, 0x10FF) + _letters(0x2170, 0x217F)
    + _letters(0x24D0, 0x24E9) + _letters(0x16E60, 0x16E7F))
TITLECASED_FIRST_LETTERS = frozenset(
    "ᾳῃῳ" + _letters(0x1F80, 0x1F87) + _letters(0x1F90, 0x1F97) + _letters(0x1FA0, 0x1FA7))


def upper_first(text: str) -> str:
    """The first letter upper case as Wikimedia's wikis make it: where that is one letter for
    one (MediaWiki keeps "ß" and "ﬁ" at the start of a title; Python's upper() makes "SS" and
    "FI" of them), and with the exceptions above."""
    first = text[:1]
    if first in KEPT_FIRST_LETTERS:
        return text
    upper = first.title() if first in TITLECASED_FIRST_LETTERS else first.upper()
    return (upper if len(upper) == 1 else first) + text[1:]


def normalize_title(title: str) -> str:
    """MediaWiki's display form: no direction marks, underscores to spaces, single spaces, first
    letter upper-case."""
    return upper_first(" ".join(title.translate(DIRECTION_MARKS).replace("_", " ").split()))


def split_namespace(title: str, prefixes: Iterable[str]) -> tuple[str | None, str]:
    """(prefix, rest) if ``title`` starts with one of the namespace ``prefixes`` (any case)."""
    head, sep, rest = title.partition(":")
    if sep:
        folded = normalize_title(head).casefold()
        for prefix in prefixes:
            if folded == normalize_title(prefix).casefold():
                return prefix, normalize_title(rest)
    return None, title


PARSES_KEPT = 8  # the last pages parsed: a request reads its page in three places, parsed once


def parse(wikitext: str | Wikicode) -> Wikicode:
    """The parse of a text. Callers that read the same page share one parse, so it must not be
    changed: code that edits a parse makes its own with ``mwparserfromhell.parse``."""
    return wikitext if isinstance(wikitext, Wikicode) else _parsed(wikitext)


@functools.lru_cache(maxsize=PARSES_KEPT)
def _parsed(wikitext: str) -> Wikicode:
    return mwparserfromhell.parse(wikitext)


@dataclass
class Analysis:
    categories: list[str]
    links: list[str]
    text: str


def analyze(wikitext: str, category_prefixes: Iterable[str], namespace_prefixes: Iterable[str],
            max_chars: int | None = None) -> Analysis:
    """Categories, article links and plain text from one parse (parsing is the costly part)."""
    code = parse(wikitext)
    categories = category_links(code, category_prefixes)
    links = article_links(code, namespace_prefixes)
    return Analysis(categories, links, plain_text(code, max_chars))


def category_links(wikitext: str | Wikicode, category_prefixes: Iterable[str]) -> list[str]:
    """Names (without namespace) of the categories the text puts its page in, in order."""
    prefixes = list(category_prefixes)
    names: list[str] = []
    for link in parse(wikitext).filter_wikilinks():
        target = str(link.title).strip()
        if target.startswith(":"):  # [[:Category:X]] links to the category, it doesn't add it
            continue
        prefix, name = split_namespace(target, prefixes)
        if prefix is not None and name and name not in names:
            names.append(name)
    return names


def remove_categories(wikitext: str, category_prefixes: Iterable[str]) -> str:
    """The text without its category links (used to evaluate on real articles)."""
    prefixes = list(category_prefixes)
    code = mwparserfromhell.parse(wikitext)
    for link in code.filter_wikilinks(recursive=False):
        target = str(link.title).strip()
        if not target.startswith(":") and split_namespace(target, prefixes)[0] is not None:
            code.remove(link)
    return str(code)


def article_links(wikitext: str | Wikicode, namespace_prefixes: Iterable[str]) -> list[str]:
    """Titles of main-namespace pages the text links to, in order, without duplicates."""
    prefixes = list(namespace_prefixes)
    titles: list[str] = []
    for link in parse(wikitext).filter_wikilinks():
        target = str(link.title).split("#", 1)[0].strip().lstrip(":")
        if not target or split_namespace(target, prefixes)[0] is not None:
            continue
        title = normalize_title(target)
        if title not in titles:
            titles.append(title)
    return titles


def plain_text(wikitext: str | Wikicode, max_chars: int | None = None) -> str:
    """Readable text of the top level: templates, references, tables, headings, files and
    categories are left out; bold/italic markup keeps its words."""
    parts: list[str] = []
    for node in parse(wikitext).nodes:
        if isinstance(node, Text):
            parts.append(str(node))
        elif isinstance(node, Wikilink):
            if ":" not in str(node.title).strip().lstrip(":"):
                parts.append(str(node.text if node.text is not None else node.title))
        elif isinstance(node, ExternalLink):
            parts.append(str(node.title or ""))
        elif isinstance(node, Tag) and node.wiki_markup and str(node.tag) in {"b", "i"}:
            parts.append(plain_text(node.contents))
        if max_chars and sum(len(p) for p in parts) > 2 * max_chars:
            break
    text = " ".join("".join(parts).split())
    return text[:max_chars] if max_chars else text


def lead_wikitext(wikitext: str) -> str:
    """Section 0: everything before the first heading (headings are top-level nodes)."""
    return "".join(str(node) for node in
                   itertools.takewhile(lambda node: not isinstance(node, Heading), parse(wikitext).nodes))


def append_category(wikitext: str, link: str, category_prefixes: Iterable[str]) -> str:
    """Insert ``link`` after the last category link (where editors keep them), or at the end."""
    prefixes = list(category_prefixes)
    code = mwparserfromhell.parse(wikitext)
    last: Wikilink | None = None
    for node in code.filter_wikilinks(recursive=False):
        target = str(node.title).strip()
        if not target.startswith(":") and split_namespace(target, prefixes)[0] is not None:
            last = node
    if last is None:
        return wikitext.rstrip("\n") + "\n" + link + "\n"
    code.insert_after(last, "\n" + link)
    return str(code)


STYLE_MARKUP = ("''", "'''")


def parse_by_line(wikitext: str) -> Wikicode:
    """The parse of a text with bold and italics read as MediaWiki reads them: each within its line.

    mwparserfromhell pairs an unclosed ``''`` with one on a later line, so that everything between
    becomes italic text (references and sentences included); MediaWiki closes it at the end of its
    line. Where that happens, each line outside templates, tags and links is parsed on its own.
    Otherwise this is :func:`parse` (the shared parse)."""
    code = parse(wikitext)
    if not any(isinstance(node, Tag) and node.wiki_markup in STYLE_MARKUP and "\n" in str(node)
               for node in code.nodes):
        return code
    cuts, offset = [0], 0
    for node in mwparserfromhell.parse(wikitext, skip_style_tags=True).nodes:
        value = str(node)
        if isinstance(node, Text):
            cuts.extend(offset + i + 1 for i, ch in enumerate(value) if ch == "\n")
        offset += len(value)
    cuts.append(len(wikitext))
    nodes: list[object] = []
    for start, end in itertools.pairwise(cuts):
        for node in mwparserfromhell.parse(wikitext[start:end]).nodes:
            if isinstance(node, Text) and nodes and isinstance(nodes[-1], Text):
                nodes[-1] = Text(str(nodes[-1]) + str(node))
            else:
                nodes.append(node)
    return mwparserfromhell.utils.parse_anything(nodes)


# Templates that turn a category into a soft redirect to another one ({{Category redirect}} and
# its local equivalents on the wikis served; bnwiki's as pywikibot's Wikipedia family lists it).
# MediaWiki records a template's redirects beside the template itself, so a page using another
# name of one of these is found through these names.
CATEGORY_REDIRECT_TEMPLATES = (
    "Category redirect", "Categoryredirect", "Đổi hướng thể loại", "Thể loại đổi hướng",
    "Chuyển hướng thể loại", "বিষয়শ্রেণী পুনর্নির্দেশ",
)
# A container category holds only subcategories (WP:SUBCAT): {{Container category}}, on enwiki
# and on the wikis that took the template with its name.
CONTAINER_CATEGORY_TEMPLATES = ("Container category",)
# The templates that make a category one no article belongs in.
NO_ARTICLE_CATEGORY_TEMPLATES = CATEGORY_REDIRECT_TEMPLATES + CONTAINER_CATEGORY_TEMPLATES
# A category page with this behaviour switch is meant to stay empty (a redirect, a container).
EXPECT_UNUSED_CATEGORY = "__EXPECTUNUSEDCATEGORY__"


def holds_no_articles(wikitext: str, template_prefixes: Iterable[str]) -> bool:
    """Whether a category page's text makes it a soft redirect or a container, or expects it to
    have no pages: no article belongs in such a category."""
    code = parse(wikitext)
    if any(EXPECT_UNUSED_CATEGORY in str(node) for node in code.filter_text()):
        return True
    prefixes = list(template_prefixes)
    names = {normalize_title(name) for name in NO_ARTICLE_CATEGORY_TEMPLATES}
    for template in code.filter_templates():
        name = str(template.name).strip()
        prefix, rest = split_namespace(name, prefixes)
        if normalize_title(rest if prefix is not None else name) in names:
            return True
    return False
