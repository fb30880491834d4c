"""The page source interface: the questions a task may ask a wiki.

Two implementations answer them: :mod:`suggest.wiki.api_source` (a live MediaWiki through its
action API) and :mod:`suggest.wiki.dump_source` (an XML dump held in memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class PageNotFound(LookupError):
    """No such page (or revision) on the wiki."""


class UnsupportedNamespace(LookupError):
    """The page is in a namespace the tool does not suggest for (a user page, a template, ...)."""


class WikiUnavailable(RuntimeError):
    """The wiki did not answer usably (timeout, maxlag, HTTP error, malformed answer)."""


@dataclass
class Page:
    wiki: str
    title: str
    wikitext: str
    revid: int | None = None
    page_id: int | None = None
    namespace: int = 0
    # Categories the page is in now, explicit or from templates, and which of them are hidden.
    categories: list[str] = field(default_factory=list)
    hidden_categories: list[str] = field(default_factory=list)
    # Main-namespace pages the article links to.
    links: list[str] = field(default_factory=list)


class PageSource(Protocol):
    """Read-only access to one wiki."""

    wiki_id: str

    def category_prefixes(self) -> list[str]:
        """Every name of the category namespace: canonical, localized and aliases."""
        ...

    def namespace_prefixes(self) -> list[str]:
        """Every non-main namespace name and alias (to tell article links from others)."""
        ...

    def get_page(self, title: str | None = None, revid: int | None = None) -> Page:
        """The page's current (or given) revision; raises PageNotFound."""
        ...

    def categories_of(self, titles: Sequence[str]) -> dict[str, list[str]]:
        """Visible (non-hidden) categories of each existing article among ``titles``; a
        disambiguation page is left out where the source can tell one."""
        ...

    def category_sizes(self, names: Sequence[str], exclude_title: str) -> dict[str, int]:
        """How many articles each category has, not counting ``exclude_title`` (a ranking feature:
        a category carried by many neighbours but with few members is specific)."""
        ...

    def similar(self, page: Page, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` other articles like this one, with a similarity in [0, 1], best first."""
        ...

    def wikitext_of(self, titles: Sequence[str]) -> dict[str, str]:
        """Current wikitext of each existing article among ``titles`` (redirects followed), keyed
        by the title it resolved to."""
        ...
