"""The wiki allowlist: every wiki the tool talks to is named by an id and looked up here.

No URL is ever built from request text. A Wikimedia wiki comes from the site matrix (the recorded
snapshot, refreshed from the live API at most once per TTL); other MediaWikis and dump files come
from configuration only. Every URL is full-matched against the pattern of its kind.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

WikiKind = Literal["wikimedia", "mediawiki", "dump"]

# Wikimedia project hosts: https://<lang or project>(.<sub>)?.<family>.org, nothing else.
WIKIMEDIA_URL = re.compile(
    r"https://[a-z0-9-]+(?:\.[a-z0-9-]+)?\."
    r"(?:wikipedia|wiktionary|wikibooks|wikinews|wikiquote|wikisource|wikiversity|wikivoyage"
    r"|wikimedia|wikidata|mediawiki|wikifunctions)\.org"
)
# Configured MediaWikis: an http(s) origin, a path to api.php, no user info, query or fragment.
CONFIGURED_API_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~/-]*)?/api\.php")
WIKI_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Sites a public tool should not serve.
EXCLUDED_FLAGS = ("closed", "private", "fishbowl", "nonglobal")


class UnknownWiki(LookupError):
    """The id names no wiki on the allowlist."""


@dataclass(frozen=True)
class Wiki:
    id: str
    kind: WikiKind
    lang: str
    name: str
    api_url: str | None = None  # MediaWiki action API endpoint
    origin: str | None = None  # browser origin allowed for CORS
    dump_path: str | None = None

    @property
    def mobile_origin(self) -> str | None:
        if self.kind != "wikimedia" or not self.origin:
            return None
        host = self.origin.removeprefix("https://")
        head, _, rest = host.partition(".")
        return f"https://m.{rest}" if head == "www" else f"https://{head}.m.{rest}"


def valid_wiki_id(value: object) -> bool:
    """True if ``value`` has the form of a wiki id (it may still be unknown)."""
    return isinstance(value, str) and WIKI_ID.fullmatch(value) is not None


def parse_sitematrix(matrix: dict[str, Any]) -> dict[str, Wiki]:
    """Wikis from the ``sitematrix`` member of an ``action=sitematrix`` answer."""
    wikis: dict[str, Wiki] = {}
    groups: list[tuple[str, Iterable[dict[str, Any]]]] = []
    for key, group in matrix.items():
        if key.isdigit() and isinstance(group, dict):
            groups.append((str(group.get("code", "")), group.get("site", [])))
        elif key == "specials" and isinstance(group, list):
            groups.append(("", group))
    for lang, sites in groups:
        for site in sites:
            if any(flag in site for flag in EXCLUDED_FLAGS):
                continue
            url, dbname = str(site.get("url", "")), str(site.get("dbname", ""))
            if not WIKIMEDIA_URL.fullmatch(url) or not valid_wiki_id(dbname):
                continue
            site_lang = str(site.get("lang") or lang or "en")
            if not lang and site_lang == site.get("code"):  # a project's name: commons, meta, ...
                site_lang = "en"  # (the content language of each of them)
            wikis[dbname] = Wiki(
                id=dbname,
                kind="wikimedia",
                lang=site_lang,
                name=str(site.get("sitename", dbname)),
                api_url=f"{url}/w/api.php",
                origin=url,
            )
    return wikis


def load_snapshot() -> dict[str, Any]:
    text = resources.files("suggest.data").joinpath("sitematrix.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data.get("sitematrix", data)


class WikiRegistry:
    """Resolves wiki ids to :class:`Wiki` records; the only place wiki URLs come from."""

    def __init__(
        self,
        extra_wikis: dict[str, dict[str, Any]] | None = None,
        dump_wikis: dict[str, dict[str, Any]] | None = None,
        fetch_sitematrix: Callable[[], dict[str, Any]] | None = None,
        ttl: float = 24 * 3600,
    ) -> None:
        self._fetch = fetch_sitematrix
        self._ttl = ttl
        self._lock = threading.Lock()
        self._wikimedia = parse_sitematrix(load_snapshot())
        self._fetched_at = float("-inf")  # never: the first lookup refreshes (monotonic may be small)
        self._local: dict[str, Wiki] = {}
        self._origins: tuple[dict[str, Wiki], dict[str, Wiki]] | None = None  # (for list, index)
        for wiki_id, spec in (extra_wikis or {}).items():
            self._local[wiki_id] = _configured_wiki(wiki_id, spec)
        for wiki_id, spec in (dump_wikis or {}).items():
            if not valid_wiki_id(wiki_id) or not spec.get("path"):
                raise ValueError(f"bad dump wiki {wiki_id!r}")
            if not Path(spec["path"]).is_file():
                # e.g. the development sample, which `make run` fetches, in an image without it
                log.warning("dump wiki %s left out: no file at %s", wiki_id, spec["path"])
                continue
            self._local[wiki_id] = Wiki(
                id=wiki_id, kind="dump", lang=str(spec.get("lang", "en")),
                name=str(spec.get("name", wiki_id)), dump_path=str(spec["path"]),
            )

    def get(self, wiki_id: object) -> Wiki:
        if not valid_wiki_id(wiki_id):
            raise UnknownWiki(str(wiki_id))
        assert isinstance(wiki_id, str)
        if wiki_id in self._local:
            return self._local[wiki_id]
        self._maybe_refresh()
        try:
            return self._wikimedia[wiki_id]
        except KeyError:
            raise UnknownWiki(wiki_id) from None

    def all(self) -> list[Wiki]:
        self._maybe_refresh()
        return [*self._local.values(), *self._wikimedia.values()]

    def wiki_for_origin(self, origin: str) -> Wiki | None:
        """The wiki whose browser origin is exactly ``origin`` (for CORS). Looked up in an index
        of every wiki's desktop and mobile origin (the first wiki listed wins), rebuilt when the
        list of wikis is refreshed: every call from the gadget asks this."""
        if not origin:
            return None
        self._maybe_refresh()
        index = self._origins
        if index is None or index[0] is not self._wikimedia:
            by_origin: dict[str, Wiki] = {}
            for wiki in [*self._local.values(), *self._wikimedia.values()]:
                for known in (wiki.origin, wiki.mobile_origin):
                    if known:
                        by_origin.setdefault(known, wiki)
            index = self._origins = (self._wikimedia, by_origin)
        return index[1].get(origin)

    def _maybe_refresh(self) -> None:
        if self._fetch is None or time.monotonic() - self._fetched_at < self._ttl:
            return
        with self._lock:
            if time.monotonic() - self._fetched_at < self._ttl:
                return
            self._fetched_at = time.monotonic()
            try:
                fresh = parse_sitematrix(self._fetch())
            except Exception as error:  # noqa: BLE001 - any failure keeps the last good list
                log.warning("site matrix refresh failed, keeping the snapshot: %s", type(error).__name__)
                return
            if fresh:
                self._wikimedia = fresh


def _configured_wiki(wiki_id: str, spec: dict[str, Any]) -> Wiki:
    api_url = str(spec.get("api_url", ""))
    if not valid_wiki_id(wiki_id) or not CONFIGURED_API_URL.fullmatch(api_url):
        raise ValueError(f"bad extra wiki {wiki_id!r}: api_url must be http(s)://host[:port]/…/api.php")
    origin = api_url.split("/", 3)
    return Wiki(
        id=wiki_id, kind="mediawiki", lang=str(spec.get("lang", "en")),
        name=str(spec.get("name", wiki_id)), api_url=api_url,
        origin=str(spec.get("origin") or "/".join(origin[:3])),
    )


META_API = Wiki(id="metawiki", kind="wikimedia", lang="en", name="Meta-Wiki",
                api_url="https://meta.wikimedia.org/w/api.php", origin="https://meta.wikimedia.org")


def sitematrix_fetcher(session: Any) -> Callable[[], dict[str, Any]]:
    """A fetch function for :class:`WikiRegistry` that asks Meta-Wiki's ``action=sitematrix``
    through an mwapi session (made by ``api_source.make_session`` for :data:`META_API`)."""

    def fetch() -> dict[str, Any]:
        doc = session.get(action="sitematrix", smlimit="max")
        matrix = doc.get("sitematrix") if isinstance(doc, dict) else None
        if not isinstance(matrix, dict):
            raise ValueError("malformed site matrix answer")
        return matrix

    return fetch
