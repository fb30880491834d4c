"""References and the statements they support, read from wikitext with mwparserfromhell.

An article is walked node by node at the top level, bold and italics read within their line as
MediaWiki reads them. Text is cut into sentences (plain-text punctuation, never wikitext syntax;
not at initials, dotted abbreviations, a short lower-case word before a number ("c. 1900"), before a
word in lower case, nor inside Japanese quotes);
a ``<ref>`` tag, a short citation (``{{sfn}}``), a named reference cited again (``{{r}}``, with
``{{rp}}``) or a citation-needed template right after a sentence is attached to it. A
citation-needed template that holds the text it marks (``{{要出典範囲|text}}``) is that
statement itself. Files, categories and interlanguage links are no part of a sentence;
a link to a title with a colon is (given the wiki's namespace names). Every offset points into the
original wikitext, so a statement's ``raw`` text is verbatim there (the gadget's anchor).

References are collected from everywhere (infoboxes, list-defined ``<references>`` and
``{{reflist|refs=}}``): a named reference is one reference however often it is used; an unnamed one
is identified by its body.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import mwparserfromhell
from mwparserfromhell.nodes import (
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from suggest.wiki import wikitext as wt

# Sentence ends: these characters followed by white space; the CJK ones anywhere; the danda also
# right before a letter, a link or a space written as an entity ("হয়।বাংলাদেশে", "সফর।&nbsp;একটি").
DANDA = "।"
TERMINATORS = ".!?" + DANDA
CJK_TERMINATORS = "。！？"
STOPS = TERMINATORS + CJK_TERMINATORS
CLOSERS = "\"”’»)"  # may follow a terminator: 'He said "no." Then'
# A 。 inside Japanese quotes or brackets ends no sentence: 「私は本を読む。」という語順
CJK_OPENERS, CJK_CLOSERS = "「『（【〔", "」』）】〕"
ROMAN_NUMERALS = "IVX"  # "World War I." ends a sentence; another capital and a dot is an initial
# Links to these files are not part of a sentence, whatever the wiki calls the File namespace.
MEDIA_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "svg", "tif", "tiff", "webp", "ogg", "oga",
                              "ogv", "webm", "pdf", "djvu", "mp3", "wav", "flac", "mid", "stl"})
REUSE = "r"  # {{r|name}}: named references cited again (en, ja, bn)
PAGES = "rp"  # {{rp|12}}: the page of the citation before it, part of that citation
# The main list of references: the sections from the one holding it on are appendices.
REFERENCE_LISTS = frozenset({"reflist", "references", "примітки", "tham khảo", "সূত্র তালিকা",
                             "脚注ヘルプ"})
# Short-citation templates: the citation is the template itself, its source is in a bibliography.
SHORT_CITATIONS = frozenset({"sfn", "sfnp", "sfnm", "harvnb", "harv", "harvp"})
# Template fields that describe a source (English names are used by most wikis' cite templates).
EVIDENCE_FIELDS = ("title", "trans-title", "script-title", "chapter", "work", "website", "newspaper",
                   "journal", "magazine", "publisher", "agency", "series", "author", "author1",
                   "last", "last1", "first", "first1", "editor", "location", "date", "year", "quote",
                   "encyclopedia", "periodical", "others")
TEXT_CHARS = 400
# The parameters of a citation-needed template that hold the text it marks, besides the first
# positional one ({{要出典範囲|text}}, {{fact|text}}).
MARKED_TEXT_PARAMS = ("1", "範囲", "text")
# Tags that sit inside a sentence (bold and italic markup parse as b and i).
INLINE_TAGS = frozenset({"b", "i", "span", "sup", "sub", "small", "abbr", "q", "s", "u", "nowiki",
                         "math", "chem", "code", "big", "font", "var"})


def template_key(name: str) -> str:
    """How MediaWiki compares template names: first letter case-insensitive, _ = space."""
    return wt.normalize_title(name.split(":", 1)[-1] if name.lower().startswith("template:") else name)


def normalize_url(url: str) -> str:
    url = url.strip().lower()
    for prefix in ("https://", "http://", "//"):
        url = url.removeprefix(prefix)
    return url.removeprefix("www.").rstrip("/")


def normalize_words(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(kept.split())


@dataclass
class Reference:
    """One source as the article defines it."""

    key: str  # "name:<group>/<name>", "body:<hash>" or "sfn:<authors year>"
    kind: str  # "ref" or "sfn"
    name: str | None = None
    group: str | None = None
    body: str = ""  # wikitext between <ref> and </ref> (the definition), or the sfn template
    title: str = ""
    url: str = ""
    doi: str = ""
    isbn: str = ""
    evidence: str = ""  # title, publisher and other fields as plain text
    uses: list[int] = field(default_factory=list)  # statement indexes citing it
    verbatim: str = ""  # an unnamed reference's tag as the wikitext has it

    def ids(self) -> set[str]:
        """What makes two references the same source across articles."""
        found = set()
        if self.url:
            found.add("url:" + normalize_url(self.url))
        if self.doi:
            found.add("doi:" + self.doi.strip().lower())
        if self.isbn:
            digits = "".join(ch for ch in self.isbn if ch.isdigit() or ch in "xX")
            if len(digits) >= 10:
                found.add("isbn:" + digits.upper())
        title = normalize_words(self.title)
        if len(title) >= 8:
            found.add("title:" + title)
        return found

    @property
    def label(self) -> str:
        return (self.title or self.evidence or self.url or self.name or self.key)[:160]

    def tag(self) -> str:
        """The full citation to copy into another article."""
        if self.kind == "sfn":
            return self.body
        group = f" group={_quoted(self.group)}" if self.group else ""
        name = f" name={_quoted(self.name)}" if self.name else ""
        return f"<ref{name}{group}>{self.body}</ref>"

    def reuse_tag(self) -> str:
        if self.kind == "sfn":
            return self.body
        group = f" group={_quoted(self.group)}" if self.group else ""
        return f"<ref name={_quoted(self.name or '')}{group} />"


def _quoted(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


@dataclass
class Citation:
    """One place a reference is cited: the tag or template after a sentence."""

    key: str
    start: int
    end: int
    defines: bool  # this occurrence holds the reference's body


@dataclass
class Statement:
    start: int  # offsets of the sentence in the wikitext
    end: int
    raw: str  # the sentence's wikitext, verbatim (an anchor for insertion)
    text: str  # its plain text
    paragraph: int
    section: int
    citations: list[Citation] = field(default_factory=list)
    marker: str | None = None  # the citation-needed template's wikitext, right after the sentence
    before_marker: str = ""  # what stands between the sentence and its marker (spaces, citations)
    in_marker: bool = False  # the statement is the text its marker holds; raw is the whole marker


@dataclass
class ArticleReferences:
    statements: list[Statement]
    references: dict[str, Reference]
    links: list[str] = field(default_factory=list)  # main-namespace links, if asked for
    appendix: int | None = None  # the first section of the appendices (holds the reference list)
    cites_before_stop: bool = False  # most citations stand before the full stop ("出身<ref/>。")

    def cited_paragraphs(self) -> set[int]:
        return {s.paragraph for s in self.statements if s.citations or s.marker}

    def context(self, index: int, chars: int = 300) -> str:
        """The statement with the sentence before it, for a query with enough context."""
        here = self.statements[index]
        before = [s.text for s in self.statements[max(0, index - 1):index] if s.paragraph == here.paragraph]
        return " ".join([*before, here.text])[-chars:]


def _attr(tag: Tag, name: str) -> str | None:
    """An attribute's value as MediaWiki reads it: the name in any case, the value verbatim."""
    found = next((a for a in tag.attributes if str(a.name).strip().lower() == name), None)
    value = str(found.value).strip() if found is not None and found.value is not None else ""
    return value or None


def marked_text(template: Template) -> Wikicode | None:
    """The text a citation-needed template holds and marks ({{要出典範囲|...}}, {{要出典|範囲=...}},
    {{fact|text}}), if it holds any."""
    return next((p.value for p in template.params if str(p.value).strip()
                 and (not p.showkey or str(p.name).strip() in MARKED_TEXT_PARAMS)), None)


def marks_text(marker: str) -> bool:
    """Whether a citation-needed template holds the text it marks: replacing it would delete that
    text."""
    template = next(iter(mwparserfromhell.parse(marker).filter_templates(recursive=False)), None)
    return template is not None and marked_text(template) is not None


def _param(template: Template, names: Iterable[str]) -> str:
    for name in names:
        if template.has(name):
            value = template.get(name).value.strip_code().strip()
            if value:
                return value
    return ""


def describe(reference: Reference, body: Wikicode) -> None:
    """Fill title, identifiers and evidence from a reference body."""
    parts: list[str] = []
    for template in body.filter_templates(recursive=True):
        name = template_key(str(template.name)).casefold()
        if name == "doi" and template.params and not reference.doi:
            reference.doi = template.params[0].value.strip_code().strip()
        elif name == "isbn" and template.params and not reference.isbn:
            reference.isbn = template.params[0].value.strip_code().strip()
        reference.title = reference.title or _param(template, ("title", "script-title", "trans-title"))
        reference.url = reference.url or _param(template, ("url", "archive-url"))
        reference.doi = reference.doi or _param(template, ("doi",))
        reference.isbn = reference.isbn or _param(template, ("isbn", "isbn13"))
        short = name in SHORT_CITATIONS  # {{harvnb|Chisholm|1911}}: authors and year are positional
        for param in template.params:
            key = str(param.name).strip().lower()
            if key in EVIDENCE_FIELDS or (short and not param.showkey):
                value = param.value.strip_code().strip()
                if value and value not in parts:
                    parts.append(value)
    for link in body.filter_external_links(recursive=True):
        reference.url = reference.url or str(link.url)
        title = link.title
        if title is not None and not reference.title:
            reference.title = title.strip_code().strip()
    text = " ".join(body.strip_code().split())
    if text and text not in parts:
        parts.append(text)
    reference.evidence = " · ".join(parts)[:TEXT_CHARS]


def own_words(raw: str) -> bool:
    """Whether a statement has words outside its links: a "see also" or "external links" item
    is links only."""
    def words(code: Wikicode) -> bool:
        return any(isinstance(n, Text) and any(c.isalnum() for c in str(n)) or isinstance(n, Tag)
                   and str(n.tag) in ("b", "i") and n.contents is not None and words(n.contents)
                   for n in code.nodes)
    return words(mwparserfromhell.parse(raw))


def _ref_key(name: str | None, group: str | None, body: str) -> str:
    if name:
        return f"name:{group or ''}/{name}"
    return "body:" + hashlib.sha1(" ".join(body.split()).encode()).hexdigest()[:16]


def _short_key(template: Template) -> str:
    names = [p.value.strip_code().strip() for p in template.params if not p.showkey]
    return "sfn:" + normalize_words(" ".join(names[:5]))


def collect_references(code: Wikicode) -> dict[str, Reference]:
    """Every reference the article defines or cites, by key, in order of first appearance."""
    found: dict[str, Reference] = {}
    for tag in code.filter_tags(recursive=True, matches=lambda n: str(n.tag).strip().lower() == "ref"):
        name, group = _attr(tag, "name"), _attr(tag, "group")
        body = str(tag.contents) if tag.contents is not None and not tag.self_closing else ""
        if not name and not body.strip():
            continue
        key = _ref_key(name, group, body)
        reference = found.setdefault(key, Reference(key=key, kind="ref", name=name, group=group))
        if body.strip() and not reference.body:
            reference.body = body.strip()
            reference.verbatim = "" if name else str(tag)
            describe(reference, tag.contents)
    return found


def bibliography(code: Wikicode) -> dict[str, list[Template]]:
    """Citation templates by their first author's surname (casefolded), for short citations."""
    index: dict[str, list[Template]] = {}
    for entry in code.filter_templates(recursive=True):
        last = _param(entry, ("last", "last1", "author", "author1", "surname")).casefold()
        if last:
            index.setdefault(last, []).append(entry)
    return index


def _short_citation(entries: dict[str, list[Template]], template: Template,
                    found: dict[str, Reference]) -> str:
    key = _short_key(template)
    if key not in found:
        bare = "{{" + str(template.name).strip() + "".join(
            "|" + str(p.value).strip() for p in template.params if not p.showkey) + "}}"
        reference = Reference(key=key, kind="sfn", body=bare)
        authors = [p.value.strip_code().strip().casefold() for p in template.params if not p.showkey]
        # The full source is the bibliography entry whose author and year match.
        for entry in entries.get(authors[0], []) if authors else []:
            year = _param(entry, ("year", "date"))
            if any(a in year for a in authors[1:] if a):
                describe(reference, wt.parse(str(entry)))
                break
        else:
            reference.evidence = " ".join(authors)
        found[key] = reference
    return key


class _Walker:
    def __init__(self, text: str, code: Wikicode, citation_needed: set[str],
                 references: dict[str, Reference], namespace_prefixes: list[str] | None = None) -> None:
        self.text, self.code = text, code
        self.citation_needed = citation_needed
        self.references = references
        # None: every link with a colon is taken for a file
        self.prefixes = None if namespace_prefixes is None else \
            {wt.normalize_title(p).casefold() for p in namespace_prefixes}
        self.statements: list[Statement] = []
        self.start: int | None = None  # where the sentence being read starts
        self.paragraph = self.section = 0
        self.appendix: int | None = None
        self.depth = 0  # Japanese quotes and brackets open in the sentence
        self.attach_to: Statement | None = None  # a citation right after this sentence belongs to it
        self.defined: set[str] = set()
        # (start, end, plain text or None for a Text node) of the nodes the sentence may span:
        # plain text is built from the parsed nodes, never by parsing a sentence again.
        self.pieces: list[tuple[int, int, str | None]] = []
        self._bibliography: dict[str, list[Template]] | None = None
        self.node_at: dict[int, Node] = {}  # the top-level node starting at each offset

    def flush(self, end: int) -> Statement | None:
        start, self.start, self.depth = self.start, None, 0
        if start is None:
            return None
        raw = self.text[start:end].rstrip()
        end = start + len(raw)
        plain = " ".join("".join(
            self.text[max(a, start):min(b, end)] if value is None else value
            for a, b, value in self.pieces if b > start and a < end).split())
        self.pieces = [p for p in self.pieces if p[1] > end]
        if not plain:
            return None
        statement = Statement(start, start + len(raw), raw, plain, self.paragraph, self.section)
        self.statements.append(statement)
        return statement

    def block(self, start: int) -> None:
        self.flush(start)
        self.attach_to = None

    def open(self, at: int) -> None:
        if self.start is None:
            self.start = at
        self.attach_to = None

    def cite(self, start: int, end: int) -> Statement | None:
        statement = self.flush(start) or self.attach_to
        self.attach_to = statement
        return statement

    def text_node(self, value: str, offset: int) -> None:
        if (self.start is not None and value[:1].isspace() and offset > 0
                and self.text[offset - 1] in TERMINATORS):
            self.attach_to = self.flush(offset)  # "end.[[link]]" was cut before the next sentence
        i = 0
        while i < len(value):
            ch = value[i]
            if ch == "\n":
                self.flush(offset + i)
                self.attach_to = None
                if value[i + 1:i + 2] == "\n":
                    self.paragraph += 1
                i += 1
                continue
            if self.start is None:
                line_start = i == 0 and self._at_line_start(offset) or i > 0 and value[i - 1] == "\n"
                # A terminator or bracket left after a citation ("出身<ref/>。") starts nothing;
                # an opening quote or bracket does.
                if ch.isspace() or (ch in "*#:;" and line_start) or (
                        unicodedata.category(ch)[0] == "P" and ch not in CJK_OPENERS):
                    i += 1
                    continue
                self.open(offset + i)
            if ch in CJK_OPENERS:
                self.depth += 1
            elif ch in CJK_CLOSERS and self.depth:
                self.depth -= 1
            elif ch in STOPS and (end := self._sentence_end(value, i, offset)):
                self.attach_to = self.flush(offset + end)
                i = end
                continue
            i += 1

    def _sentence_end(self, value: str, i: int, offset: int) -> int:
        """Where the sentence ends (in ``value``, after closing quotes) if ``value[i]`` ends it, else 0.
        Not at an initial or a dotted abbreviation ("J. R. R.", "U.S."), nor before a word in lower
        case ("e.g. the"), nor inside Japanese quotes."""
        ch = value[i]
        if ch in CJK_TERMINATORS:
            return i + 1 if self.depth == 0 else 0
        j = i + 1
        while value[j:j + 1] and value[j] in CLOSERS:
            j += 1
        if ch == DANDA and self._danda_ends(value, i, j, offset):
            return j
        if not value[j:j + 1].isspace():
            return 0
        following = self.text[offset + j:offset + j + 40].lstrip().lstrip("['")
        before = value[max(0, i - 24):i]
        if following[:1].islower() or ch == "." and _abbreviation(before):
            return 0
        if ch == "." and following[:1].isdigit() and _short_lower_word(before):
            return 0  # "c. 400 BC", "p. 12", "(пом. 1987)": an abbreviation before a number
        return j

    def _danda_ends(self, value: str, i: int, j: int, offset: int) -> bool:
        """Whether a danda ends its sentence with no white space after it: before a letter, a link
        or a space written as an entity. Not after a digit ("১।সব" numbers an item, "৭।১।২" a verse)."""
        if value[i - 1:i].isdigit():
            return False
        if value[j:j + 1]:
            return value[j].isalpha()
        following = self.node_at.get(offset + j)
        return isinstance(following, Wikilink) or isinstance(following, HTMLEntity) and _blank(following)

    def _at_line_start(self, offset: int) -> bool:
        return offset == 0 or self.text[offset - 1] == "\n"

    def _aside(self, node: Wikilink, start: int, end: int) -> bool:
        """Whether a link is no part of a sentence: a file, a category or an interlanguage link.
        A link to an article whose title has a colon ("Star Wars: Episode IV") or to a sister
        project ("wikt:") is; without the wiki's namespace names every colon is taken for one."""
        title = str(node.title).strip()
        own_line = self._at_line_start(start) and self.text[end:end + 1] in ("\n", "")
        if ":" not in title or not own_line and title.startswith(":"):
            return False
        if self.prefixes is None or own_line:
            return True
        return (title.rsplit(".", 1)[-1].strip().lower() in MEDIA_EXTENSIONS
                or wt.normalize_title(title.partition(":")[0]).casefold() in self.prefixes)

    def walk(self) -> list[Statement]:
        spans, offset = [], 0
        for node in self.code.nodes:
            value = str(node)
            spans.append((node, value, offset))
            self.node_at[offset] = node
            offset += len(value)
        for node, value, start in spans:
            end = start + len(value)
            aside = isinstance(node, Wikilink) and self._aside(node, start, end)
            plain = None if isinstance(node, Text) else "" if aside else _plain(node)
            self.pieces.append((start, end, plain))
            if isinstance(node, Text):
                self.text_node(value, start)
            elif isinstance(node, Heading):
                self.block(start)
                self.section += 1
                self.paragraph += 1
            elif isinstance(node, Tag) and str(node.tag).strip().lower() == "ref":
                self._ref(node, start, end)
            elif isinstance(node, Template):
                self._template(node, value, start, end)
            elif isinstance(node, Comment):
                continue
            elif isinstance(node, Tag) and str(node.tag).strip().lower() not in INLINE_TAGS:
                if str(node.tag).strip().lower() == "references" and not _attr(node, "group"):
                    self._reference_list()
                self.block(start)
                if "\n" in value:
                    self.paragraph += 1
            elif aside:
                self.block(start)
            elif isinstance(node, HTMLEntity) and _blank(node):
                continue  # a space written as an entity ("&nbsp;") starts no sentence
            elif self.start is None:  # links, inline tags, entities, arguments: in the sentence
                self.open(start)
        self.flush(offset)
        return self.statements

    def _holds(self, value: str, held: Wikicode, start: int, end: int) -> bool:
        """A citation-needed template that holds the text it marks ({{要出典範囲|text|date=...}}) is
        a statement of its own: that text, anchored on the whole template (which stays)."""
        text = " ".join(wt.plain_text(held).split())
        if not text:
            return False
        self.block(start)
        statement = Statement(start, end, value, text, self.paragraph, self.section, marker=value,
                              in_marker=True)
        self.statements.append(statement)
        self.attach_to = statement
        return True

    def _reference_list(self) -> None:
        if self.appendix is None:
            self.appendix = self.section

    def _record(self, statement: Statement | None, key: str, start: int, end: int, defines: bool) -> None:
        if statement is None:
            return
        statement.citations.append(Citation(key, start, end, defines))
        index = len(self.statements) - 1 if statement is self.statements[-1] else \
            self.statements.index(statement)
        if key in self.references and index not in self.references[key].uses:
            self.references[key].uses.append(index)

    def _ref(self, node: Tag, start: int, end: int) -> None:
        name, group = _attr(node, "name"), _attr(node, "group")
        body = str(node.contents) if node.contents is not None and not node.self_closing else ""
        if not name and not body.strip():
            return
        key = _ref_key(name, group, body)
        statement = self.cite(start, end)
        defines = bool(body.strip()) and key not in self.defined
        if defines:
            self.defined.add(key)
        self._record(statement, key, start, end, defines)

    def _template(self, node: Template, value: str, start: int, end: int) -> None:
        name = template_key(str(node.name))
        folded = name.casefold()
        held = marked_text(node) if name in self.citation_needed else None
        if held is not None and self._holds(value, held, start, end):
            return
        if name in self.citation_needed:
            statement = self.cite(start, end)
            if statement is not None and statement.marker is None:
                statement.marker = value
                statement.before_marker = self.text[statement.end:start]
            return
        if folded in SHORT_CITATIONS:
            if self._bibliography is None:
                self._bibliography = bibliography(self.code)
            key = _short_citation(self._bibliography, node, self.references)
            self._record(self.cite(start, end), key, start, end, False)
            return
        if folded in (REUSE, PAGES):
            statement = self.cite(start, end)
            group = _param(node, ("group",)) or None
            for param in node.params if folded == REUSE else []:
                key = _ref_key(param.value.strip_code().strip(), group, "")
                if not param.showkey and key in self.references:
                    self._record(statement, key, start, end, False)
            return
        if folded in REFERENCE_LISTS and not _param(node, ("group",)):
            self._reference_list()
        line_start = start == 0 or self.text[start - 1] == "\n"
        if "\n" in value or (line_start and self.text[end:end + 1] in ("\n", "")):
            self.block(start)  # infobox, navbox, table-like: not part of a sentence
        elif self.start is None:
            self.open(start)


def _abbreviation(before: str) -> bool:
    """Whether the word before a full stop is an initial or a dotted abbreviation ("J", "U.S",
    "এ", "কে"): a capital letter without accents (not a Roman numeral), a letter of a script
    without case, or single letters joined by dots."""
    parts = _last_word(before).split(".")
    if len(parts) > 1:
        return all(len(p) == 1 and p.isalpha() for p in parts)
    word = parts[0]
    if not word[:1].isalpha() or any(unicodedata.category(c)[0] != "M" for c in word[1:]):
        return False
    first = word[0]
    if first.isupper() or first.islower():
        return len(word) == 1 and first.isupper() and first not in ROMAN_NUMERALS and \
            not unicodedata.decomposition(first)
    return True


def _short_lower_word(before: str) -> bool:
    """Whether the word before a full stop is one to three letters in lower case ("c", "pp", "пом").
    Before a number these are abbreviations: in the dumps "p. 12", "c. 1900", "с. 464", "пом. 1987"
    and "нар. 1939" outnumber sentences that end in such a word and start with a number (which
    style guides advise against) by far."""
    word = _last_word(before)
    return 0 < len(word) <= 3 and word.isalpha() and word.islower()


def _last_word(before: str) -> str:
    """The last word of the text before a full stop, without the brackets and quotes it opens with."""
    words = before.split()
    return words[-1].lstrip("([\"'«“‘") if words else ""


def _blank(entity: HTMLEntity) -> bool:
    return not entity.normalize().strip()


def _plain(node: object) -> str:
    """Readable text of one inline node (as :func:`wikitext.plain_text` reads it; an entity is the
    character it stands for)."""
    if isinstance(node, HTMLEntity):
        return node.normalize()
    if isinstance(node, Wikilink):
        return str(node.text) if node.text is not None else str(node.title).lstrip(":")
    if isinstance(node, ExternalLink):
        return str(node.title or "")
    if isinstance(node, Tag) and str(node.tag).strip().lower() in INLINE_TAGS and node.contents is not None:
        return wt.plain_text(node.contents) if str(node.tag).strip().lower() not in {"math", "chem"} else ""
    return ""


def _cites_before_stop(statements: list[Statement], text: str) -> bool:
    """Whether the article puts most citations before the full stop, as Japanese and Ukrainian
    articles do ("出身<ref/>。"), rather than after it."""
    before = after = 0
    for statement in statements:
        if statement.citations:
            last = statement.citations[-1].end
            after += statement.raw[-1:] in STOPS
            before += statement.raw[-1:] not in STOPS and text[last:last + 1] in STOPS
    return before > after


def parse_article(wikitext: str, citation_needed: Iterable[str] = (),
                  namespace_prefixes: Iterable[str] | None = None,
                  with_links: bool = True) -> ArticleReferences:
    """Statements (with what cites them) and references of one article; with the wiki's
    ``namespace_prefixes`` links to articles whose titles hold a colon are read as part of their
    sentence, and the article links are listed too (from the same parse) unless not ``with_links``."""
    code = wt.parse_by_line(wikitext)
    references = collect_references(code)
    names = {template_key(n) for n in citation_needed}
    prefixes = list(namespace_prefixes) if namespace_prefixes is not None else None
    walker = _Walker(wikitext, code, names, references, prefixes)
    statements = walker.walk()
    links = wt.article_links(code, prefixes) if prefixes is not None and with_links else []
    return ArticleReferences(statements, references, links, walker.appendix,
                             _cites_before_stop(statements, wikitext))


def remove_citation(wikitext: str, article: ArticleReferences, citation: Citation) -> str:
    """The text without one citation instance. If it held a named reference's body and the name
    is used again, the body moves to the next use, as an editor would find the article."""
    reference = article.references.get(citation.key)
    text = wikitext[:citation.start] + wikitext[citation.end:]
    if reference is None or not citation.defines or not reference.name:
        return text
    shift = citation.end - citation.start
    others = sorted((c for s in article.statements for c in s.citations
                     if c.key == citation.key and c.start != citation.start), key=lambda c: c.start)
    if not others:
        # The definition may live elsewhere (an infobox); leave that alone.
        return text
    nxt = others[0]
    start = nxt.start - (shift if nxt.start > citation.start else 0)
    end = nxt.end - (shift if nxt.start > citation.start else 0)
    return text[:start] + reference.tag() + text[end:]
