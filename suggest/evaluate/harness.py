"""Running the categories task over a dump as if each article were new.

Each dump is loaded once. For every article with at least one explicit visible category, its
category links are removed from the text and the same :class:`CategoriesTask` the service runs ranks
candidates with the dump as the wiki. The dump still holds the article's own categories, so the
source handed to the task hides them: :class:`LeaveOneOutSource` answers ``categories_of`` without
the article and counts category sizes without it; ``similar`` already never returns the article.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shlex
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import sparse
from tqdm import tqdm

from suggest import backends
from suggest.backends.base import Backend, BackendInfo, Matrix
from suggest.tasks.base import TaskSettings
from suggest.tasks.categories import CategoriesTask, lead_query
from suggest.wiki import wikitext as wt
from suggest.wiki.dump_source import DumpSource, dump_dbname
from suggest.wiki.source import Page

log = logging.getLogger(__name__)

SPLITS = (("train", 60), ("dev", 80), ("test", 100))  # cumulative shares of the page-id hash
STUB_CHARS = 1500  # plain text shorter than this is a stub
FREQUENT = 10  # "the wiki's most frequent categories": this many, by member count
EMBED_BATCH = 32
BASELINE = "neighbour-vote"


def split_of(dbname: str, page_id: int) -> str:
    """Deterministic train/dev/test split by a hash of the page id (stable across runs/machines)."""
    bucket = int(hashlib.sha256(f"{dbname}:{page_id}".encode()).hexdigest(), 16) % 100
    return next(name for name, upper in SPLITS if bucket < upper)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rss_mb(field_name: str = "VmRSS") -> float:
    """Resident memory of this process (VmRSS now, VmHWM = peak so far) in MB; 0 if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class LeaveOneOutSource:
    """A DumpSource seen as if ``hidden_title`` had no categories anywhere in the wiki."""

    def __init__(self, source: DumpSource) -> None:
        self.source = source
        self.wiki_id = source.wiki_id
        self.hidden_title: str | None = None
        members = source.categories_of(list(source.articles))
        self._sizes = Counter(c for cats in members.values() for c in cats)
        self._members = members
        self._similar: dict[tuple[str, int, int], list[tuple[str, float]]] = {}

    def category_prefixes(self) -> list[str]:
        return self.source.category_prefixes()

    def namespace_prefixes(self) -> list[str]:
        return self.source.namespace_prefixes()

    def get_page(self, title: str | None = None, revid: int | None = None) -> Page:
        return self.source.get_page(title, revid)

    def categories_of(self, titles: Sequence[str]) -> dict[str, list[str]]:
        found = self.source.categories_of(titles)
        found.pop(self.hidden_title or "", None)
        return found

    def similar(self, page: Page, limit: int) -> list[tuple[str, float]]:
        # Remembered per page text: every backend of a run asks the same question.
        key = (page.title, hash(page.wikitext), limit)
        if key not in self._similar:
            found = self.source.similar(page, limit + 1)
            self._similar[key] = [(t, s) for t, s in found if t != wt.normalize_title(page.title)][:limit]
        return [(t, s) for t, s in self._similar[key] if t != self.hidden_title]

    def category_sizes(self, names: list[str], exclude_title: str) -> dict[str, int]:
        own = set()
        for title in (exclude_title, self.hidden_title):
            if title:
                own.update(self._members.get(wt.normalize_title(title), []))
        return {n: self._sizes.get(n, 0) - (1 if n in own else 0) for n in names}

    def frequent_categories(self, count: int = FREQUENT) -> set[str]:
        return {name for name, _ in sorted(self._sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:count]}


class CachedBackend:
    """A backend wrapper that remembers every vector by (model checksum, kind, text), in memory and
    in an optional ``.npz`` file per model version, so backends, training and evaluation runs
    never embed the same text twice."""

    def __init__(self, backend: Backend, cache_dir: str | Path | None = None) -> None:
        self.backend = backend
        self.info: BackendInfo = backend.info
        self._vectors: dict[bytes, np.ndarray] = {}
        self.embedded = 0  # texts actually sent to the model
        self.seconds = 0.0
        self.sparse = False  # sparse backends (tfidf) are cheap and huge per row: not cached
        self._path = None
        if cache_dir is not None:
            tag = hashlib.sha256(f"{self.info.id}|{self.info.checksum}|{self.info.version}".encode())
            self._path = Path(cache_dir) / f"{self.info.id}-{tag.hexdigest()[:16]}.npz"
            if self._path.is_file():
                with np.load(self._path, allow_pickle=False) as data:
                    for key, row in zip(data["keys"], data["vectors"], strict=True):
                        self._vectors[bytes(key)] = row

    @staticmethod
    def _key(kind: str, text: str) -> bytes:
        return hashlib.sha1(f"{kind}\0{text}".encode()).digest()

    def warm(self, texts: Sequence[str], kind: Literal["query", "passage"], label: str = "") -> None:
        if self.sparse:
            return
        missing = list(dict.fromkeys(t for t in texts if self._key(kind, t) not in self._vectors))
        for start in tqdm(range(0, len(missing), EMBED_BATCH), desc=f"embed {label} {kind}",
                          unit="batch", leave=False, disable=not missing, mininterval=2):
            self._compute(missing[start:start + EMBED_BATCH], kind)

    def _compute(self, texts: list[str], kind: Literal["query", "passage"]) -> Matrix:
        started = time.perf_counter()
        matrix = self.backend.embed(texts, kind)
        self.seconds += time.perf_counter() - started
        self.embedded += len(texts)
        if sparse.issparse(matrix):
            self.sparse = True
            return matrix
        dense = np.asarray(matrix)
        for text, row in zip(texts, dense, strict=True):
            self._vectors[self._key(kind, text)] = np.asarray(row, dtype=np.float32)
        return dense

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        if self.sparse:
            return self._compute(list(texts), kind)
        missing = [t for t in dict.fromkeys(texts) if self._key(kind, t) not in self._vectors]
        if missing:
            self._compute(missing, kind)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._vectors[self._key(kind, t)] for t in texts])

    def save(self) -> None:
        if self._path is None or not self._vectors:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._vectors)
        tmp = self._path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys, dtype="S20"), vectors=np.stack([self._vectors[k] for k in keys]))
        os.replace(tmp, self._path)


class NoModelBackend:
    """The no-model baseline: every text gets the same vector, so only neighbour votes count."""

    info = BackendInfo(id=BASELINE, model="none", version="1", checksum="none", licence="-",
                       model_card="-", hosting_tier="local", data_flow="No model: nothing is embedded.",
                       languages="any")

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        return np.ones((len(texts), 1), dtype=np.float32)


def baseline_score(row: dict[str, float]) -> float:
    """Similarity-weighted neighbour vote: share of similar-article weight plus linked share."""
    return 0.5 * row["similar_share"] + 0.5 * row["link_share"]


@dataclass
class Article:
    title: str
    page_id: int
    split: str
    gold: list[str]
    page: Page
    stub: bool
    listlike: bool
    frequent: bool  # carries one of the wiki's most frequent categories


@dataclass
class Ranked:
    """One article's candidates as the task ranked them for one backend."""

    labels: list[str]
    rows: list[dict[str, float]]
    scores: list[float]
    raw: list[float] = field(default_factory=list)


@dataclass
class Wiki:
    dbname: str
    path: str
    sha256: str
    source: DumpSource
    loo: LeaveOneOutSource
    articles: list[Article]
    load_seconds: float
    ranked: dict[str, list[Ranked]] = field(default_factory=dict)
    timing: dict[str, dict[str, float]] = field(default_factory=dict)


def _listlike(text: str) -> bool:
    """Lists and disambiguation pages, told apart by form, not by any language's words: most
    non-empty lines are list items."""
    skip = ("[[", "{{", "}}", "|")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(skip)]
    return bool(lines) and sum(ln.lstrip().startswith(("*", "#")) for ln in lines) / len(lines) >= 0.5


def load_wiki(path: str | Path, limit: int | None = None) -> Wiki:
    started = time.perf_counter()
    source = DumpSource(path)
    loo = LeaveOneOutSource(source)
    frequent = loo.frequent_categories()
    prefixes = source.category_prefixes()
    articles: list[Article] = []
    gold_of = source.categories_of(list(source.articles))
    for title, article in source.articles.items():
        gold = gold_of.get(title, [])
        if not gold:
            continue
        text = wt.remove_categories(article.text, prefixes)
        page = source.page_from_text(title, text, article.revid, article.page_id)
        articles.append(Article(
            title=title, page_id=article.page_id, split=split_of(source.dbname, article.page_id),
            gold=list(gold), page=page,
            stub=len(wt.plain_text(text, max_chars=STUB_CHARS + 1)) <= STUB_CHARS,
            listlike=_listlike(text), frequent=bool(frequent & set(gold)),
        ))
        if limit and len(articles) >= limit:
            break
    return Wiki(source.dbname or Path(path).name, str(path), file_sha256(path), source, loo, articles,
                time.perf_counter() - started)


def rank_wiki(wiki: Wiki, task: CategoriesTask, backend: Backend, key: str) -> None:
    """The task's full ranking of every article of ``wiki`` with ``backend``, stored under ``key``."""
    settings = TaskSettings(threshold=0.0, max_suggestions=10**6)
    cached = backend if isinstance(backend, CachedBackend | NoModelBackend) else CachedBackend(backend)
    rss_before = rss_mb()
    started = time.perf_counter()
    embed_before = getattr(cached, "seconds", 0.0)
    if isinstance(cached, CachedBackend):
        cached.warm([lead_query(a.page) for a in wiki.articles], "query", wiki.dbname)
        names = sorted({c for cats in wiki.loo._members.values() for c in cats})
        cached.warm(names, "passage", wiki.dbname)
    results: list[Ranked] = []
    for article in tqdm(wiki.articles, desc=f"{wiki.dbname} {key}", unit="article", leave=False,
                        mininterval=2):
        wiki.loo.hidden_title = article.title
        try:
            ranked = task.rank(article.page, wiki.loo, cached, settings)  # type: ignore[arg-type]
        finally:
            wiki.loo.hidden_title = None
        results.append(Ranked([s.label for s in ranked], [s.features for s in ranked],
                              [s.score for s in ranked]))
    seconds = time.perf_counter() - started
    wiki.ranked[key] = results
    wiki.timing[key] = {
        "seconds": round(seconds, 2),
        "articles_per_second": round(len(wiki.articles) / seconds, 2) if seconds else 0.0,
        "embedding_seconds": round(getattr(cached, "seconds", 0.0) - embed_before, 2),
        "rss_mb": round(rss_mb(), 1),
        "rss_growth_mb": round(rss_mb() - rss_before, 1),
        "peak_rss_mb": round(rss_mb("VmHWM"), 1),
    }


def dataset_entry(wiki: Wiki) -> dict[str, Any]:
    return {"file": Path(wiki.path).name, "sha256": wiki.sha256, "dbname": wiki.dbname,
            "site": wiki.source.site,
            "articles": len(wiki.source.articles), "evaluated": len(wiki.articles),
            "split": dict(Counter(a.split for a in wiki.articles)),
            "load_seconds": round(wiki.load_seconds, 2)}


# -- the command line, shared by both tasks' CLIs ---------------------------------------------------
def command_line(args: Sequence[str]) -> str:
    """The command that reproduces a run, quoted for a POSIX shell (an empty value such as
    ``--cache-dir ''`` stays an argument)."""
    return shlex.join(["python", "-m", "suggest.evaluate", *args])


def check_dumps(parser: argparse.ArgumentParser, dumps: Sequence[str]) -> None:
    """Every dump is a readable file, named once, and of a wiki no other dump is of: results are
    keyed by wiki, so a second dump of one wiki would overwrite the first's figures (checked on
    the dumps' headers, before minutes of loading, not after)."""
    for dump in dumps:
        if not Path(dump).is_file():
            parser.error(f"--dump {dump}: no such file")
    if len({Path(d).resolve() for d in dumps}) < len(dumps):
        parser.error("a --dump file is given twice")
    seen: dict[str, str] = {}
    for dump in dumps:
        try:
            dbname = dump_dbname(dump)
        except Exception as error:  # noqa: BLE001 - any unreadable header is the same mistake
            parser.error(f"--dump {dump}: not a readable XML dump ({type(error).__name__})")
        if dbname in seen:
            parser.error(f"--dump {seen[dbname]} and --dump {dump} are both {dbname}: "
                         "give one dump per wiki")
        seen[dbname] = dump


def check_limit(parser: argparse.ArgumentParser, limit: int | None) -> None:
    if limit is not None and limit < 1:
        parser.error(f"--limit {limit}: at least 1 article per dump")


def check_backends(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    known = backends.available()
    for name in names:
        if name not in known:
            parser.error(f"--backend {name}: unknown backend (known: {', '.join(known)})")
