"""A live MediaWiki answered through its action API with mwapi.

Requests go only to the registry's URL for the wiki, follow no redirects, time out, send the
Wikimedia-policy User-Agent and ``maxlag``; maxlag, rate-limit and server errors are retried a
bounded number of times, never sooner than the wiki's Retry-After, then reported as
:class:`WikiUnavailable`.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlsplit

import mwapi
import mwapi.errors
import requests

from suggest.wiki import wikitext as wt
from suggest.wiki.registry import Wiki
from suggest.wiki.source import Page, PageNotFound, WikiUnavailable

log = logging.getLogger(__name__)

BATCH = 50  # titles per query (the API's limit for normal users)
# Of the percent-encoded titles of one query: with the other parameters (a continuation may name a
# long category), the request line stays under the 8 KB that Wikimedia's servers accept (414 beyond).
MAX_TITLES_CHARS = 6000
RETRIES = 2
RETRY_CODES = {"maxlag", "ratelimited", "readonly", "internal_api_error_DBQueryTimeoutError"}
MAX_BACKOFF = 2.0  # the longest an editor's request waits before asking again
PATIENT_WAIT = 10.0  # the longest a background job waits (maxlag asks for 5 s)
MAXLAG_WAIT = 5.0  # after a maxlag error, at least (the API's Retry-After, and its manual, say so)
MAX_RETRY_AFTER = 3600.0

# Until when each wiki (its HTTP session) asked not to be asked again (its last Retry-After).
_quiet_until: weakref.WeakKeyDictionary[requests.Session, float] = weakref.WeakKeyDictionary()


def retry_after(response: requests.Response) -> float | None:
    """The seconds a Retry-After header asks for (delay-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER)


def _keep_quiet(http: object, seconds: float) -> None:
    if isinstance(http, requests.Session):
        _quiet_until[http] = max(_quiet_until.get(http, 0.0), time.monotonic() + seconds)


def _on_response(http: requests.Session, response: requests.Response, *args: Any, **kwargs: Any) -> None:
    wait = retry_after(response)
    if wait is not None and (response.status_code >= 400 or "MediaWiki-API-Error" in response.headers):
        _keep_quiet(http, wait)
    # mwapi reads any body as JSON; a 429 or 5xx must count as a failure even when it is JSON.
    if response.status_code == 429 or response.status_code >= 500:
        response.raise_for_status()


def _asked_to_wait(session: mwapi.Session) -> float:
    http = getattr(session, "session", None)
    until = _quiet_until.get(http, 0.0) if isinstance(http, requests.Session) else 0.0
    return max(0.0, until - time.monotonic())


def title_batches(titles: Sequence[str]) -> Iterator[list[str]]:
    """The distinct titles in order, in batches of at most BATCH and MAX_TITLES_CHARS encoded."""
    batch: list[str] = []
    size = 0
    for title in dict.fromkeys(titles):
        cost = len(quote_plus(title, safe="")) + 3  # and the encoded "|" before it
        if batch and (len(batch) == BATCH or size + cost > MAX_TITLES_CHARS):
            yield batch
            batch, size = [], 0
        batch.append(title)
        size += cost
    if batch:
        yield batch


def maxlag_for(wiki: Wiki) -> int | None:
    """The ``maxlag`` to send: 5 s on Wikimedia's wikis, as the API's etiquette asks of tools,
    none on other MediaWiki installations. The one rule for every caller."""
    return 5 if wiki.kind == "wikimedia" else None


def make_session(wiki: Wiki, user_agent: str, timeout: float) -> mwapi.Session:
    assert wiki.api_url, "only wikis with an API URL from the registry"
    parts = urlsplit(wiki.api_url)
    http = requests.Session()
    http.max_redirects = 0  # a redirect to another host must never be followed
    http.trust_env = False  # no proxy from the environment
    http.hooks["response"].append(functools.partial(_on_response, http))
    return mwapi.Session(f"{parts.scheme}://{parts.netloc}", user_agent=user_agent,
                         formatversion=2, api_path=parts.path, timeout=timeout, session=http)


def query(session: mwapi.Session, params: dict[str, Any], *, maxlag: int | None,
          sleep: Callable[[float], None] = time.sleep, patient: bool = False) -> dict[str, Any]:
    """One ``action=query`` request with bounded retries, or :class:`WikiUnavailable`.

    An editor is waiting on the request path, so only maxlag, rate-limit and server errors are
    retried there, and never a timeout (the editor would wait RETRIES times WIKI_TIMEOUT).
    Background jobs pass ``patient=True``: every failure but a redirect is worth another try.
    A wiki that asked to wait (Retry-After) is not asked again sooner, by any caller; when the
    wait is longer than the caller may wait, the query fails at once."""
    params = {"action": "query", **params}
    if maxlag is not None:
        params["maxlag"] = maxlag
    failure: Exception | None = None
    for attempt in range(RETRIES + 1):
        last = attempt == RETRIES
        delay = max(min(MAX_BACKOFF, 0.5 * 2 ** (attempt - 1)) if attempt else 0.0, _asked_to_wait(session))
        if delay > (PATIENT_WAIT if patient else MAX_BACKOFF):
            after = f" after {getattr(failure, 'code', None) or type(failure).__name__}" if failure else ""
            raise WikiUnavailable(f"the wiki asked to wait {delay:.0f} s{after}") from failure
        if delay:
            sleep(delay)
        try:
            doc = session.get(**params)
            if not isinstance(doc, dict):
                raise ValueError("malformed answer")
            return doc
        except mwapi.errors.APIError as error:
            failure = error
            if error.code == "maxlag":
                _keep_quiet(getattr(session, "session", None), MAXLAG_WAIT)
            if last or not (patient or error.code in RETRY_CODES):
                raise WikiUnavailable(f"API error {error.code}") from error
        except (mwapi.errors.HTTPError, mwapi.errors.ConnectionError) as error:
            failure = error
            if last:
                raise WikiUnavailable(type(error).__name__) from error
        except mwapi.errors.TooManyRedirectsError as error:
            raise WikiUnavailable(type(error).__name__) from error
        # (mwapi raises TypeError or AttributeError on JSON that is no object, or an odd "error")
        except (mwapi.errors.TimeoutError, mwapi.errors.RequestError, ValueError, TypeError,
                AttributeError) as error:
            failure = error
            if last or not patient:
                raise WikiUnavailable(type(error).__name__) from error
    raise WikiUnavailable("no answer")  # pragma: no cover - the loop always returns or raises


def namespace_names(info: dict[str, Any], namespace: int) -> list[str]:
    """Every name of a namespace in a siteinfo answer (``siprop=namespaces|namespacealiases``):
    its local name, its canonical name and its aliases, each once."""
    ns = info["namespaces"].get(str(namespace)) or {}
    names = [ns.get("name"), ns.get("canonical")]
    names += [a.get("alias") for a in info.get("namespacealiases") or []
              if isinstance(a, dict) and a.get("id") == namespace]
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n]


CATEGORY_PAGES_KEPT = 10.0  # seconds: about one suggestion request; a category page changes slowly


@dataclass
class CategoryPage:
    size: int = 0
    usable: bool = True
    exists: bool = True
    parents: list[str] = field(default_factory=list)  # the visible categories it is in


class ApiSource:
    def __init__(self, wiki: Wiki, session: mwapi.Session, maxlag: int | None = 5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.wiki = wiki
        self.wiki_id = wiki.id
        self.session = session
        self.maxlag = maxlag
        self._sleep = sleep
        self._siteinfo: dict[str, Any] | None = None
        self._category_page_cache: dict[str, tuple[float, CategoryPage]] = {}
        self._cache_lock = threading.Lock()

    # -- requests -------------------------------------------------------------------------------
    def _query(self, **params: Any) -> dict[str, Any]:
        return query(self.session, params, maxlag=self.maxlag, sleep=self._sleep)

    def siteinfo(self) -> dict[str, Any]:
        if self._siteinfo is None:
            doc = self._query(meta="siteinfo", siprop="general|namespaces|namespacealiases|extensions")
            info = doc.get("query")
            if not isinstance(info, dict) or "namespaces" not in info:
                raise WikiUnavailable("malformed siteinfo")
            self._siteinfo = info
        return self._siteinfo

    def _names(self, namespace: int) -> list[str]:
        return namespace_names(self.siteinfo(), namespace)

    # -- PageSource -----------------------------------------------------------------------------
    def category_prefixes(self) -> list[str]:
        return self._names(wt.CATEGORY_NS)

    def namespace_prefixes(self) -> list[str]:
        ids = {int(k) for k in self.siteinfo()["namespaces"] if int(k) != 0}
        return [name for ns in sorted(ids) for name in self._names(ns)]

    def get_page(self, title: str | None = None, revid: int | None = None) -> Page:
        params: dict[str, Any] = {"prop": "revisions|categories", "rvprop": "ids|content",
                                  "rvslots": "main", "clprop": "hidden", "cllimit": "max"}
        if revid is not None:
            params["revids"] = revid  # (the API resolves no redirect for a revision, and warns)
        else:
            params.update(titles=title, redirects=1)
        doc = self._query(**params)
        try:
            return self._page(doc, title or str(revid))
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as error:
            raise WikiUnavailable(f"malformed page answer ({type(error).__name__})") from None

    def _page(self, doc: dict[str, Any], asked: str) -> Page:
        """The Page in a query answer; a shape other than the API's raises a builtin error."""
        pages = doc.get("query", {}).get("pages", [])
        if not pages or pages[0].get("missing") or pages[0].get("invalid") or not pages[0].get("revisions"):
            raise PageNotFound(asked)
        data = pages[0]
        revision = data["revisions"][0]
        text = revision.get("slots", {}).get("main", {}).get("content")
        if not isinstance(text, str):
            raise PageNotFound(asked)
        if not isinstance(data["title"], str):
            raise TypeError("title")
        categories: list[str] = []
        hidden: list[str] = []
        for category in data.get("categories", []):
            name = self._strip_namespace(category.get("title", ""))
            (hidden if category.get("hidden") else categories).append(name)
        found = wt.analyze(text, self.category_prefixes(), self.namespace_prefixes())
        for name in found.categories:  # in the text but not (yet) registered
            if name not in categories and name not in hidden:
                categories.append(name)
        return Page(wiki=self.wiki_id, title=data["title"], wikitext=text,
                    revid=int(revision["revid"]), page_id=int(data["pageid"]),
                    namespace=int(data.get("ns", 0)), categories=categories,
                    hidden_categories=hidden, links=found.links)

    def categories_of(self, titles: Sequence[str]) -> dict[str, list[str]]:
        """The visible categories of each existing article among ``titles`` (redirects followed),
        by the article's title as the wiki gives it, in batches, continued. Disambiguation pages
        are left out, as the wiki marks them (page property ``disambiguation``, which the
        Disambiguator extension of every Wikimedia wiki sets): their categories say what kind of
        page they are, not what an article linking to one is about. Asked in the same query."""
        found: dict[str, list[str]] = {}
        disambiguation: set[str] = set()
        for batch in title_batches(titles):
            for doc in self._continued(prop="categories|pageprops", ppprop="disambiguation",
                                       clshow="!hidden", cllimit="max", redirects=1,
                                       titles="|".join(batch)):
                for page in doc.get("query", {}).get("pages", []):
                    if page.get("missing") or page.get("invalid") or page.get("ns") != 0:
                        continue
                    if "disambiguation" in (page.get("pageprops") or {}):
                        disambiguation.add(page["title"])
                    self._add_categories(found.setdefault(page["title"], []), page)
        return {title: names for title, names in found.items() if title not in disambiguation}

    def _add_categories(self, names: list[str], page: dict[str, Any]) -> None:
        """Add the categories a page's answer lists (one part of a continued answer) to ``names``."""
        for category in page.get("categories", []):
            name = self._strip_namespace(category.get("title", ""))
            if name not in names:
                names.append(name)

    def wikitext_of(self, titles: Sequence[str]) -> dict[str, str]:
        """Batches of at most ``BATCH`` titles (the API's limit for content of several pages),
        continued when an answer was cut at the API's result size."""
        found: dict[str, str] = {}
        for batch in title_batches(titles):
            for doc in self._continued(prop="revisions", rvprop="content", rvslots="main", redirects=1,
                                       titles="|".join(batch)):
                self._add_texts(doc, found)
        return found

    @staticmethod
    def _add_texts(doc: dict[str, Any], found: dict[str, str]) -> None:
        """The texts in one answer (a continued answer gives those the earlier parts left out)."""
        for page in doc.get("query", {}).get("pages", []):
            if page.get("missing") or page.get("invalid") or page.get("ns") != 0:
                continue
            revisions = page.get("revisions") or [{}]
            text = revisions[0].get("slots", {}).get("main", {}).get("content")
            if isinstance(text, str):
                found[page["title"]] = text

    def category_sizes(self, names: Sequence[str], exclude_title: str) -> dict[str, int]:
        """Articles in each category (``prop=categoryinfo``), in batches. The page asked about is
        not in the candidate categories it is asked about, so nothing is subtracted."""
        pages = self._category_pages(names)
        return {name: pages[name].size if name in pages else 0 for name in names}

    def unusable_categories(self, names: Sequence[str]) -> set[str]:
        """The categories among ``names`` no article should be put in: one without a page (a red
        link, whatever pages are in it), a redirect, a soft redirect ({{Category redirect}} and
        the local equivalents), a container ({{Container category}}: subcategories only), or
        marked ``__EXPECTUNUSEDCATEGORY__`` (meant to stay empty)."""
        pages = self._category_pages(names)
        return {name for name in names if name in pages and not pages[name].usable}

    def parent_categories(self, names: Sequence[str]) -> dict[str, list[str]]:
        """The visible categories each of the categories ``names`` that has a page is in (from the
        query that tells sizes and usability: asked of candidates already, no request more)."""
        pages = self._category_pages(names)
        return {name: list(pages[name].parents) for name in dict.fromkeys(names)
                if name in pages and pages[name].exists}

    def _category_pages(self, names: Sequence[str]) -> dict[str, CategoryPage]:
        """Size, usability and parents of each category. Each answer is kept for a few seconds and
        only the names not known yet are asked: a task asks about the page's categories, the
        candidates and their parents, often the same names more than once."""
        now = time.monotonic()
        wanted = list(dict.fromkeys(names))
        with self._cache_lock:
            cached = {name: self._category_page_cache.get(name) for name in wanted}
        known = {name: hit[1] for name, hit in cached.items()
                 if hit is not None and now - hit[0] < CATEGORY_PAGES_KEPT}
        missing = [name for name in wanted if name not in known]
        if missing:
            found = self._ask_category_pages(missing)
            with self._cache_lock:
                cache = self._category_page_cache
                for name in [n for n, (at, _) in cache.items() if now - at >= CATEGORY_PAGES_KEPT]:
                    del cache[name]
                cache.update((name, (now, entry)) for name, entry in found.items())
            known.update(found)
        return known

    def _ask_category_pages(self, names: list[str]) -> dict[str, CategoryPage]:
        """One query per batch of category names for their sizes, usability and parents."""
        prefix = self.category_prefixes()[0]
        titles = {f"{prefix}:{name}": name for name in names}
        no_article_templates = "|".join(f"Template:{name}" for name in wt.NO_ARTICLE_CATEGORY_TEMPLATES)
        found: dict[str, CategoryPage] = {}
        for batch in title_batches(list(titles)):
            for doc in self._continued(prop="categoryinfo|info|pageprops|templates|categories",
                                       ppprop="expectunusedcategory", tltemplates=no_article_templates,
                                       tllimit="max", clshow="!hidden", cllimit="max",
                                       titles="|".join(batch)):
                query = doc.get("query", {})
                renamed = {n.get("to"): n.get("from") for n in query.get("normalized", [])}
                for page in query.get("pages", []):
                    asked_title = renamed.get(page.get("title"), page.get("title"))
                    if asked_title not in titles:
                        continue
                    entry = found.setdefault(titles[asked_title], CategoryPage())
                    if "categoryinfo" in page:
                        entry.size = int((page.get("categoryinfo") or {}).get("pages", 0))
                    entry.exists = not (page.get("invalid") or page.get("missing"))
                    self._add_categories(entry.parents, page)
                    if (not entry.exists or page.get("redirect")
                            or "expectunusedcategory" in (page.get("pageprops") or {})
                            or page.get("templates")):
                        entry.usable = False
        return found

    def similar(self, page: Page, limit: int) -> list[tuple[str, float]]:
        """CirrusSearch ``morelike:``; wikis without CirrusSearch have no similar articles."""
        extensions = {e.get("name") for e in self.siteinfo().get("extensions", [])}
        if "CirrusSearch" not in extensions:
            return []
        doc = self._query(list="search", srsearch=f"morelike:{page.title}", srnamespace=0,
                          srlimit=limit, srprop="", srqiprofile="classic_noboostlinks")
        hits = [h["title"] for h in doc.get("query", {}).get("search", []) if h.get("title") != page.title]
        # The search gives an order, not a similarity: decay by rank.
        return [(title, round(1.0 - 0.5 * i / max(limit, 1), 4)) for i, title in enumerate(hits)]

    # -- helpers --------------------------------------------------------------------------------
    def _continued(self, **params: Any) -> Iterator[dict[str, Any]]:
        cont: dict[str, Any] = {}
        for _ in range(20):  # bounded: 20 parts (of 500 category links, or of 8 MB) is plenty
            doc = self._query(**params, **cont)
            yield doc
            if "continue" not in doc:
                return
            cont = doc["continue"]

    def _strip_namespace(self, title: str) -> str:
        _, name = wt.split_namespace(title, self.category_prefixes())
        return name
