"""The cases of the references evaluation: which statements, the candidates and features of each
(see :mod:`suggest.evaluate.references` for the protocol), and a cache of them per dump and backend."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from suggest.backends.base import Backend
from suggest.evaluate.harness import file_sha256, split_of
from suggest.evaluate.reference_metrics import Case
from suggest.tasks.references import FEATURES, ReferencesTask, citation_needed_names, wiki_language
from suggest.wiki import references as refs
from suggest.wiki.dump_source import DumpSource

log = logging.getLogger(__name__)

MIN_CHARS = 25
PROTOCOL_VERSION = "2"  # part of the case cache key, with the code that builds cases


def _order(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def pick_cases(source: DumpSource, names: Sequence[str], limit: int, per_article: int,
               parsed_articles: dict[str, refs.ArticleReferences]) -> list[tuple[str, int]]:
    """(title, statement index) of cited sentences, spread over articles in a fixed hash order."""
    chosen: list[tuple[str, str, int]] = []
    for title, article in source.articles.items():
        parsed = parsed_articles.get(title)
        if parsed is None:  # parsed once per article (setdefault parsed it every time)
            parsed = parsed_articles[title] = refs.parse_article(article.text, names,
                                                                 source.namespace_prefixes())
        found = []
        for i, statement in enumerate(parsed.statements):
            if len(statement.text) < MIN_CHARS:
                continue
            gold = [c for c in statement.citations if parsed.references[c.key].kind == "ref"]
            if gold and (parsed.references[gold[0].key].ids() or parsed.references[gold[0].key].name):
                found.append((_order(article.page_id, i), title, i))
        chosen.extend(sorted(found)[:per_article])
    chosen.sort()
    return [(title, i) for _, title, i in chosen[:limit]]


def run_case(task: ReferencesTask, source: DumpSource, backends_: Sequence[Backend] | Backend,
             names: Sequence[str], title: str, index: int,
             original: refs.ArticleReferences) -> Case | list[Case] | None:
    """The case with each backend's features (one Case, or a list when given a list)."""
    article = source.articles[title]
    statement = original.statements[index]
    citation = next(c for c in statement.citations if original.references[c.key].kind == "ref")
    gold = original.references[citation.key]
    gold_ids = gold.ids()
    edited_text = refs.remove_citation(article.text, original, citation)
    edited = refs.parse_article(edited_text, names, source.namespace_prefixes())
    # The sentence starts where it did (the citation came after its start). Where the citation
    # stood before the full stop ("出身<ref/>。", Japanese), the sentence now runs to the stop.
    matches = [i for i, s in enumerate(edited.statements)
               if s.start == statement.start and s.raw.startswith(statement.raw)]
    if not matches:
        return None
    at = matches[0]
    linked = task.linked_references(source, [t for t in edited.links if t != title], names)
    candidates = task.candidates(edited, at, linked)
    if not candidates:
        return None

    def hit(candidate: Any) -> bool:
        if candidate.origin is None and gold.name and candidate.reference.key == gold.key:
            return True
        return bool(candidate.ids() & gold_ids)

    labels = [int(hit(c)) for c in candidates]
    reuse = any(label and c.origin is None for label, c in zip(labels, candidates, strict=True))
    cases = []
    for backend in backends_ if isinstance(backends_, Sequence) else [backends_]:
        rows = task.features(edited, at, candidates, backend)
        cases.append(Case(source.wiki_id, title, article.page_id, split_of(source.dbname, article.page_id),
                          edited.statements[at].text[:200], "reuse" if reuse else "new",
                          [[row[k] for k in FEATURES] for row in rows], labels))
    return cases if isinstance(backends_, Sequence) else cases[0]


# -- cases, cached -------------------------------------------------------------------------------
def code_digest() -> str:
    """What the cases depend on (the statement and reference reader, candidates, features, this
    protocol), from the source of that code only, so that other edits keep the cache."""
    from suggest.tasks import reference_features as rf
    from suggest.wiki import wikitext

    parts: list[Any] = [refs, wikitext, rf.Candidate, rf.EmbeddingCache, rf.feature_rows,
                        rf._neighbour_citations, rf._ranks, ReferencesTask.candidates,
                        ReferencesTask.linked_references, pick_cases, run_case]
    digest = hashlib.sha256(f"{PROTOCOL_VERSION}|{FEATURES}|{rf.MAX_SUPPORT}".encode())
    for part in parts:
        digest.update(inspect.getsource(part).encode())
    return digest.hexdigest()[:16]


class CaseStore:
    """The cases of one dump and backend, by statement, in a JSON file keyed by everything they
    depend on (dump checksum, backend checksum, code), so a run extends or reuses earlier ones."""

    def __init__(self, directory: str | Path | None, sha256: str, backend: Backend, per_article: int) -> None:
        self.cases: dict[str, dict[str, Any] | None] = {}
        self.path: Path | None = None
        self.dirty = False
        if directory is None:
            return
        key = _order(sha256, backend.info.id, backend.info.checksum, per_article, code_digest())[:20]
        self.path = Path(directory) / f"{backend.info.id}-{key}.json"
        if self.path.is_file():
            self.cases = json.loads(self.path.read_text(encoding="utf-8"))

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.cases, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)
        self.dirty = False


def _stored(case: Case | None) -> dict[str, Any] | None:
    if case is None:
        return None
    return {**case.__dict__, "features": [[round(v, 6) for v in row] for row in case.features]}


def extract(sources: Sequence[DumpSource], models: dict[str, Backend], limits: dict[str, int],
            per_article: int, cases_dir: str | None) -> tuple[dict[str, list[Case]], dict[str, Any]]:
    """Every backend's cases on every dump (a backend's statements are the first ``limits[name]``
    of the fixed hash order, so a smaller limit is a subset of a larger one)."""
    task = ReferencesTask()
    found: dict[str, list[Case]] = {name: [] for name in models}
    info: dict[str, Any] = {}
    for source in sources:
        started = time.time()
        names = citation_needed_names(wiki_language(source))
        parsed: dict[str, refs.ArticleReferences] = {}
        picked = pick_cases(source, names, max(limits.values()), per_article, parsed)
        sha = file_sha256(source.path)
        stores = {name: CaseStore(cases_dir, sha, model, per_article) for name, model in models.items()}
        computed = {name: 0 for name in models}
        for at, (title, index) in enumerate(picked):
            key = f"{title}|{index}"
            need = [n for n in models if at < limits[n] and key not in stores[n].cases]
            if need:
                result = run_case(task, source, [models[n] for n in need], names, title, index, parsed[title])
                for n, case in zip(need, result if isinstance(result, list) else [None] * len(need),
                                   strict=True):
                    stores[n].cases[key] = _stored(case)
                    stores[n].dirty = True
                    computed[n] += 1
            if need and sum(computed.values()) % 50 == 0:
                for store in stores.values():
                    store.save()
        for name, store in stores.items():
            store.save()
            for title, index in picked[:limits[name]]:
                stored = store.cases.get(f"{title}|{index}")
                if stored is not None:
                    found[name].append(Case(**stored))
        info[source.wiki_id] = {
            "file": Path(str(source.path)).name, "sha256": sha, "articles": len(source.articles),
            "statements_usable": len(pick_cases(source, names, 10**9, 10**9, parsed)),
            "statements_available": len(pick_cases(source, names, 10**9, per_article, parsed)),
            "statements_picked": {n: min(limits[n], len(picked)) for n in models},
            "cases": {n: sum(1 for c in found[n] if c.wiki == source.wiki_id) for n in models},
            "computed_in_run": computed, "seconds": round(time.time() - started, 1)}
        log.info("%s: %s", source.wiki_id, info[source.wiki_id])
    return found, info
