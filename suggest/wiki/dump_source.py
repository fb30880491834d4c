"""A wiki answered from a MediaWiki XML dump (.xml, .bz2, .xz), held in memory.

Used for the offline ``sample-enwiki`` and by the evaluation harness, which runs the same task code
against real articles. "Similar articles" are found with a character n-gram TF-IDF index over the
articles' text, the offline counterpart of CirrusSearch's ``morelike:``.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import mwxml
import numpy as np

from suggest.wiki import wikitext as wt
from suggest.wiki.source import Page, PageNotFound

log = logging.getLogger(__name__)

# MediaWiki's canonical namespace names, valid on every wiki beside the localized ones.
CANONICAL_NAMESPACES = {
    -2: "Media", -1: "Special", 1: "Talk", 2: "User", 3: "User talk", 4: "Project",
    5: "Project talk", 6: "File", 7: "File talk", 8: "MediaWiki", 9: "MediaWiki talk",
    10: "Template", 11: "Template talk", 12: "Help", 13: "Help talk", 14: "Category",
    15: "Category talk",
}
ALIASES = {6: ["Image"], 7: ["Image talk"]}
HIDDENCAT = "__HIDDENCAT__"
SIMILARITY_TEXT_CHARS = 4000


@dataclass
class DumpArticle:
    title: str
    page_id: int
    revid: int
    text: str


def open_dump(path: str | Path) -> IO[bytes] | gzip.GzipFile:
    name = str(path)
    if name.endswith(".bz2"):
        return bz2.open(name, "rb")
    if name.endswith(".xz"):
        return lzma.open(name, "rb")
    if name.endswith(".gz"):
        return gzip.open(name, "rb")
    return open(name, "rb")


def dump_dbname(path: str | Path) -> str:
    """The database name a dump's header gives (``enwiki``), read without its pages."""
    with open_dump(path) as handle:
        return str(mwxml.Dump.from_file(handle).site_info.dbname or "")


class DumpSource:
    """All articles, redirects and hidden categories of a dump, with a similarity index."""

    def __init__(self, path: str | Path, wiki_id: str | None = None) -> None:
        self.path = str(path)
        self.articles: dict[str, DumpArticle] = {}
        self.redirects: dict[str, str] = {}
        self.hidden: set[str] = set()
        # The categories the dump has a page for: their visible parent categories, and those no
        # article belongs in (hard or soft redirects, containers, categories expected to stay
        # empty).
        self.category_parents: dict[str, list[str]] = {}
        self.no_article_categories: set[str] = set()
        self.namespaces: dict[int, list[str]] = {}
        self.dbname = ""
        # The wiki the text comes from, for attribution: its name, main page URL, generator.
        self.site: dict[str, str] = {}
        self._load()
        self.wiki_id = wiki_id or self.dbname
        self._categories: dict[str, list[str]] = {}
        self._texts: dict[str, str] = {}
        for title, article in self.articles.items():
            found = wt.analyze(article.text, self.category_prefixes(), self.namespace_prefixes(),
                               max_chars=SIMILARITY_TEXT_CHARS)
            self._categories[title] = [c for c in found.categories if c not in self.hidden]
            self._texts[title] = found.text
        self._index: Any = None
        self._sizes: Counter[str] | None = None

    # -- loading -------------------------------------------------------------------------------
    def _load(self) -> None:
        with open_dump(self.path) as handle:
            dump = mwxml.Dump.from_file(handle)
            self.dbname = str(dump.site_info.dbname or "")
            info = dump.site_info
            self.site = {"name": str(info.name or ""), "url": str(info.base or ""),
                         "generator": str(info.generator or "")}
            for ns in dump.site_info.namespaces or []:
                names = [n for n in (ns.name, CANONICAL_NAMESPACES.get(ns.id)) if n]
                self.namespaces[ns.id] = [*dict.fromkeys(names + ALIASES.get(ns.id, []))]
            try:
                for page in dump:
                    self._add_page(page)
            except Exception as error:  # noqa: BLE001 - truncated dumps end mid-page
                log.info("dump %s ends early (%s): last page dropped", self.path, type(error).__name__)

    def _add_page(self, page: Any) -> None:
        revision = None
        for revision in page:  # noqa: B007 - pages-articles dumps hold the latest revision only
            continue
        if revision is None or revision.text is None:
            return
        title = wt.normalize_title(page.title)
        if page.namespace == 0:
            if page.redirect:
                self.redirects[title] = wt.normalize_title(page.redirect)
            else:
                self.articles[title] = DumpArticle(title, int(page.id), int(revision.id), revision.text)
        elif page.namespace == wt.CATEGORY_NS:
            # Dump titles carry the namespace; category links name the category without it.
            name = wt.split_namespace(title, self.category_prefixes())[1]
            if HIDDENCAT in revision.text:
                self.hidden.add(name)
            if page.redirect or wt.holds_no_articles(revision.text, self.namespaces.get(10, [])):
                self.no_article_categories.add(name)
            self.category_parents[name] = wt.category_links(revision.text, self.category_prefixes())

    # -- PageSource ----------------------------------------------------------------------------
    def category_prefixes(self) -> list[str]:
        return self.namespaces.get(wt.CATEGORY_NS, ["Category"])

    def namespace_prefixes(self) -> list[str]:
        return [name for ns, names in self.namespaces.items() if ns != 0 for name in names]

    def resolve(self, title: str) -> str | None:
        title = wt.normalize_title(title)
        title = self.redirects.get(title, title)
        return title if title in self.articles else None

    def get_page(self, title: str | None = None, revid: int | None = None) -> Page:
        article = None
        if title is not None:
            resolved = self.resolve(title)
            article = self.articles.get(resolved) if resolved else None
        elif revid is not None:
            article = next((a for a in self.articles.values() if a.revid == revid), None)
        if article is None:
            raise PageNotFound(title or str(revid))
        return self.page_from_text(article.title, article.text, article.revid, article.page_id)

    def page_from_text(self, title: str, text: str, revid: int | None = None,
                       page_id: int | None = None) -> Page:
        """A page as the tasks see it, built from (possibly edited) wikitext."""
        found = wt.analyze(text, self.category_prefixes(), self.namespace_prefixes())
        return Page(
            wiki=self.wiki_id, title=title, wikitext=text, revid=revid, page_id=page_id,
            categories=found.categories,
            hidden_categories=[c for c in found.categories if c in self.hidden],
            links=found.links,
        )

    def categories_of(self, titles: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for title in titles:
            resolved = self.resolve(title)
            if resolved is not None:
                found[resolved] = self._categories[resolved]
        return found

    def wikitext_of(self, titles: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for title in titles:
            resolved = self.resolve(title)
            if resolved is not None:
                found[resolved] = self.articles[resolved].text
        return found

    def category_sizes(self, names: Sequence[str], exclude_title: str) -> dict[str, int]:
        """Articles in each category, not counting ``exclude_title`` (the page asked about)."""
        if self._sizes is None:
            self._sizes = Counter(c for categories in self._categories.values() for c in categories)
        own = set(self._categories.get(wt.normalize_title(exclude_title), []))
        return {n: self._sizes.get(n, 0) - (1 if n in own else 0) for n in names}

    def parent_categories(self, names: Sequence[str]) -> dict[str, list[str]]:
        """The visible categories each category is in, for those the dump has a page for."""
        found: dict[str, list[str]] = {}
        for name in dict.fromkeys(wt.normalize_title(n) for n in names):
            if name in self.category_parents:
                found[name] = [c for c in self.category_parents[name] if c not in self.hidden]
        return found

    def unusable_categories(self, names: Sequence[str]) -> set[str]:
        """The categories among ``names`` whose page makes them a redirect or a container or
        expects them empty (a category without a page in the dump is not judged: dumps are often
        cut short)."""
        return {name for name in names if wt.normalize_title(name) in self.no_article_categories}

    def similar(self, page: Page, limit: int) -> list[tuple[str, float]]:
        titles, vectorizer, matrix = self._similarity_index()
        text = wt.plain_text(page.wikitext, max_chars=SIMILARITY_TEXT_CHARS)
        query = vectorizer.transform([text])
        scores = (matrix @ query.T).toarray().ravel()
        order = np.argsort(-scores, kind="stable")
        own = wt.normalize_title(page.title)
        result: list[tuple[str, float]] = []
        for i in order:
            if titles[i] != own and scores[i] > 0:
                result.append((titles[i], float(min(1.0, scores[i]))))
                if len(result) >= limit:
                    break
        return result

    def _similarity_index(self) -> Any:
        if self._index is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            titles = list(self.articles)
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                                         min_df=2, max_features=300_000)
            matrix = vectorizer.fit_transform(
                [self._texts[t] for t in titles])
            self._index = (titles, vectorizer, matrix)
        return self._index
