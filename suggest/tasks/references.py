"""References task: propose a source for a statement that needs one.

Statements: sentences marked with the wiki's citation-needed templates (first), then sentences of
paragraphs that cite nothing (lower priority). Candidates: the references already in the article
(reused by name) and the references of the articles it links to, each with the sentences it supports
there. Each (statement, candidate) pair is scored through the backend: the statement against the
candidate's fields and against the sentences it supports, plus where in the article it is already
cited. The weights are fitted by ``python -m suggest.evaluate --task references`` (train split).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from suggest.backends.base import Backend, Matrix, similarity
from suggest.config import DEFAULTS
from suggest.tasks.base import Reason, Suggestion, TaskSettings
from suggest.wiki import references as refs
from suggest.wiki.source import Page, PageSource

MAX_LINKED = 30  # linked articles whose references are candidates (in link order)
MAX_PER_LINKED = 40  # references taken from one linked article
MAX_SUPPORT = 4  # supported sentences compared per candidate
MAX_CITATION_NEEDED = 10
MAX_UNSOURCED = 8
MIN_STATEMENT_CHARS = 25
PER_STATEMENT = 2  # suggestions for one statement at most
UNSOURCED_FACTOR = 0.8  # a statement without a citation-needed mark is less urgent

FEATURES = ("sim_evidence", "sim_support", "rank_evidence", "rank_support", "has_support",
            "in_article", "near", "same_section", "adjacent", "next_cited", "previous_cited", "uses",
            "linked_articles")
# Fitted on the train split of the dev dumps (eval/references-results.json); "default" for
# backends without their own fit.
WEIGHTS: dict[str, dict[str, float]] = {
    "default": {"bias": -6.0, "sim_evidence": 2.0, "sim_support": 3.0, "rank_evidence": 1.5,
                "rank_support": 1.5, "has_support": -1.0, "in_article": 1.0, "near": 2.5,
                "same_section": 0.8, "uses": 0.3, "linked_articles": 0.3},
}


def citation_needed_names(lang: str | None, config: dict[str, Any] | None = None) -> list[str]:
    """The wiki's citation-needed templates and their redirects (configuration)."""
    table = (config or DEFAULTS).get("CITATION_NEEDED") or DEFAULTS["CITATION_NEEDED"]
    lang = lang or ""
    # TOOL_CITATION_NEEDED__UK='[...]' arrives as the key "UK": both spellings count.
    keys = dict.fromkeys((lang, lang.lower(), lang.upper(), "default", "DEFAULT"))
    return list(dict.fromkeys(name for key in keys if key for name in table.get(key) or []))


def wiki_language(source: PageSource) -> str | None:
    wiki = getattr(source, "wiki", None)
    if wiki is not None and getattr(wiki, "lang", None):
        return str(wiki.lang)
    dbname = str(getattr(source, "dbname", "") or source.wiki_id)
    return dbname.removeprefix("fixture-").removeprefix("sample-").removesuffix("wiki") or None


@dataclass
class Candidate:
    reference: refs.Reference
    origin: str | None  # None: this article; else the linked article it is cited in
    support: list[tuple[str, str | None]] = field(default_factory=list)  # (sentence, article)
    positions: list[tuple[int, int]] = field(default_factory=list)  # (paragraph, section) of uses
    statements: list[int] = field(default_factory=list)  # indexes of the statements citing it here
    linked: list[str] = field(default_factory=list)  # linked articles citing it

    def ids(self) -> set[str]:
        return self.reference.ids()

    def evidence(self) -> str:
        r = self.reference
        return " · ".join(dict.fromkeys(p for p in (r.title, r.evidence) if p))[:refs.TEXT_CHARS] or r.key


class EmbeddingCache:
    """Passage vectors by (backend checksum, text): linked articles recur between requests."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._rows: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, backend: Backend, texts: Sequence[str]) -> Matrix:
        tag = backend.info.checksum
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if (tag, t) not in self._rows))
        if missing:
            matrix = backend.embed(missing, "passage")
            if sparse.issparse(matrix):  # cheap to compute, costly to hold: not cached
                return backend.embed(list(texts), "passage") if len(missing) < len(texts) else \
                    matrix[[missing.index(t) for t in texts]]
            with self._lock:
                for text, row in zip(missing, np.asarray(matrix), strict=True):
                    self._rows[(tag, text)] = row
                while len(self._rows) > self.size:
                    self._rows.popitem(last=False)
        with self._lock:
            rows = [self._rows.get((tag, t)) for t in texts]
        if not rows or any(r is None for r in rows):  # none, or evicted meanwhile
            return backend.embed(list(texts), "passage")
        return np.vstack(rows)  # type: ignore[arg-type]


class ReferencesTask:
    id = "references"
    version = "1.0"
    definition = (
        "Proposes a source for a statement marked as needing one (or in an unsourced paragraph): a "
        "reference already in the article or one cited in an article it links to; it never edits: "
        "an editor checks the source and adds or rejects it."
    )
    reasons = (
        Reason("not_supporting", "Does not support the statement"),
        Reason("unreliable", "Unreliable source"),
        Reason("irrelevant", "Irrelevant"),
        Reason("already_cited", "Already cited"),
        Reason("other", "Other"),
    )

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = config
        self.embeddings = EmbeddingCache()
        self._parsed: OrderedDict[str, refs.ArticleReferences] = OrderedDict()
        self._lock = threading.Lock()

    # -- the request ----------------------------------------------------------------------------
    def suggest(self, page: Page, source: PageSource, backend: Backend,
                settings: TaskSettings) -> list[Suggestion]:
        names = citation_needed_names(wiki_language(source), self.config)
        article = refs.parse_article(page.wikitext, names)
        targets = self.targets(article)
        if not targets:
            return []
        linked = self.linked_references(source, page.links, names)
        suggestions: list[Suggestion] = []
        for index, priority in targets:
            candidates = self.candidates(article, index, linked)
            if not candidates:
                continue
            features = self.features(article, index, candidates, backend)
            scored = sorted(zip(self.scores(features, backend), candidates, features, strict=True),
                            key=lambda item: -item[0])
            for score, candidate, feats in scored[:PER_STATEMENT]:
                score = round(score * (1.0 if priority == "citation_needed" else UNSOURCED_FACTOR), 4)
                if score >= settings.threshold:
                    suggestions.append(self.make(article, index, priority, candidate, score, feats))
        suggestions.sort(key=lambda s: (s.insert["replace"] is None, -s.score, s.label))
        return suggestions[: settings.max_suggestions]

    def targets(self, article: refs.ArticleReferences) -> list[tuple[int, str]]:
        """(statement index, priority) of the statements that need a source, most urgent first."""
        marked = [(i, "citation_needed") for i, s in enumerate(article.statements) if s.marker]
        cited = article.cited_paragraphs()
        unsourced = [(i, "unsourced_paragraph") for i, s in enumerate(article.statements)
                     if s.paragraph not in cited and not s.citations
                     and len(s.text) >= MIN_STATEMENT_CHARS and s.section > 0]
        return marked[:MAX_CITATION_NEEDED] + unsourced[:MAX_UNSOURCED]

    def linked_references(self, source: PageSource, links: Sequence[str],
                          names: Sequence[str]) -> dict[str, refs.ArticleReferences]:
        texts = source.wikitext_of(list(links[:MAX_LINKED]))
        return {title: self.parsed(source.wiki_id, title, text, names) for title, text in texts.items()}

    def parsed(self, wiki: str, title: str, text: str, names: Sequence[str]) -> refs.ArticleReferences:
        key = f"{wiki}|{title}|" + hashlib.sha1(text.encode()).hexdigest()
        with self._lock:
            if key in self._parsed:
                return self._parsed[key]
        article = refs.parse_article(text, names)
        with self._lock:
            self._parsed[key] = article
            while len(self._parsed) > 2000:
                self._parsed.popitem(last=False)
        return article

    # -- candidates -----------------------------------------------------------------------------
    def candidates(self, article: refs.ArticleReferences, index: int,
                   linked: dict[str, refs.ArticleReferences]) -> list[Candidate]:
        """The article's own references (except those the statement already cites) and the
        references of linked articles, merged when they are the same source."""
        statement = article.statements[index]
        cited = {c.key for c in statement.citations}
        found: list[Candidate] = []
        by_id: dict[str, Candidate] = {}
        for key, reference in article.references.items():
            if key in cited or not (reference.body or reference.name):
                continue
            candidate = Candidate(reference, None)
            for use in reference.uses:
                cites = article.statements[use]
                candidate.positions.append((cites.paragraph, cites.section))
                candidate.statements.append(use)
                if use != index:
                    candidate.support.append((cites.text, None))
            found.append(candidate)
            for ident in candidate.ids():
                by_id.setdefault(ident, candidate)
        cited_ids = {i for k in cited if k in article.references for i in article.references[k].ids()}
        for title, other in linked.items():
            taken = 0
            for reference in other.references.values():
                if reference.kind != "ref" or not reference.body or not reference.uses:
                    continue
                ids = reference.ids()
                if ids & cited_ids:
                    continue
                sentences = [(other.statements[u].text, title) for u in reference.uses]
                same = next((by_id[i] for i in ids if i in by_id), None)
                if same is None:
                    if taken >= MAX_PER_LINKED:
                        continue
                    taken += 1
                    same = Candidate(reference, title)
                    found.append(same)
                    for ident in ids:
                        by_id.setdefault(ident, same)
                if title not in same.linked:
                    same.linked.append(title)
                    same.support.extend(sentences)
        return found

    # -- scoring --------------------------------------------------------------------------------
    def features(self, article: refs.ArticleReferences, index: int, candidates: list[Candidate],
                 backend: Backend) -> list[dict[str, float]]:
        statement = article.statements[index]
        query = backend.embed([article.context(index)], "query")
        evidence = similarity(query, self.embeddings.embed(backend, [c.evidence() for c in candidates]))[0]
        texts = [[s for s, _ in c.support[:MAX_SUPPORT]] for c in candidates]
        flat = [t[:refs.TEXT_CHARS] for group in texts for t in group]
        support_sims = similarity(query, self.embeddings.embed(backend, flat))[0] if flat else np.zeros(0)
        support = np.zeros(len(candidates))
        at = 0
        for i, group in enumerate(texts):
            if group:
                support[i] = float(support_sims[at:at + len(group)].max())
                at += len(group)
        rank_evidence, rank_support = _ranks(evidence), _ranks(support)
        # The closest cited sentences before and after it in the same paragraph: editors often cite
        # several sentences with one reference at the paragraph's end.
        same = [i for i, s in enumerate(article.statements)
                if s.paragraph == statement.paragraph and s.citations and i != index]
        after = {c.key for i in same if i > index for c in article.statements[i].citations[:3]
                 if i == min(j for j in same if j > index)}
        before = {c.key for i in same if i < index for c in article.statements[i].citations[:3]
                  if i == max(j for j in same if j < index)}
        rows = []
        for i, candidate in enumerate(candidates):
            distances = [abs(p - statement.paragraph) for p, _ in candidate.positions]
            rows.append({
                "sim_evidence": float(evidence[i]),
                "sim_support": float(support[i]),
                "rank_evidence": float(rank_evidence[i]),
                "rank_support": float(rank_support[i]) if texts[i] else 0.0,
                "has_support": 1.0 if texts[i] else 0.0,
                "in_article": 1.0 if candidate.origin is None else 0.0,
                "near": 1.0 / (1.0 + min(distances)) if distances else 0.0,
                "same_section": 1.0 if any(s == statement.section for _, s in candidate.positions) else 0.0,
                "adjacent": 1.0 / min((abs(u - index) for u in candidate.statements), default=math.inf),
                "next_cited": 1.0 if candidate.origin is None and candidate.reference.key in after else 0.0,
                "previous_cited": 1.0 if candidate.origin is None and candidate.reference.key in before
                else 0.0,
                "uses": math.log1p(len(candidate.positions)),
                "linked_articles": math.log1p(len(candidate.linked)),
            })
        return rows

    def scores(self, features: list[dict[str, float]], backend: Backend) -> list[float]:
        weights = WEIGHTS.get(backend.info.id, WEIGHTS["default"])
        out = []
        for row in features:
            z = weights["bias"] + sum(weights.get(k, 0.0) * row[k] for k in FEATURES)
            out.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))
        return out

    # -- the suggestion -------------------------------------------------------------------------
    def make(self, article: refs.ArticleReferences, index: int, priority: str, candidate: Candidate,
             score: float, features: dict[str, float]) -> Suggestion:
        statement = article.statements[index]
        reference = candidate.reference
        insert: dict[str, Any] = {"kind": "reference", "anchor": statement.raw,
                                  "replace": statement.marker, "statement": statement.text,
                                  "priority": priority}
        if candidate.origin is None and reference.name:
            wikitext = reference.reuse_tag()
        elif candidate.origin is None and reference.kind == "ref":
            # An unnamed reference used a second time gets a name; the gadget turns its first
            # use into the short reuse tag (it is told both forms), one footnote for both uses.
            name = "ws-" + hashlib.sha1(reference.body.encode()).hexdigest()[:8]
            named = refs.Reference(**{**reference.__dict__, "name": name})
            wikitext = named.tag()
            insert["names_reference"] = {"name": name, "original": reference.tag(),
                                         "reuse": named.reuse_tag()}
        else:
            wikitext = refs.Reference(**{**reference.__dict__, "name": None}).tag()
        where = [a for _, a in candidate.support if a]
        quoted = next((s for s, _ in candidate.support), "")
        short = quoted if len(quoted) <= 90 else quoted[:87].rstrip() + "…"
        if candidate.origin is None:
            explanation = (f"already cited in this article for '{short}'" if short
                           else "already in this article's references")
            if "names_reference" in insert:
                explanation += "; it has no name yet, so this copy names it"
        else:
            explanation = f"cited for '{short}' in [[{where[0] if where else candidate.origin}]]"
            if len(candidate.linked) > 1:
                explanation += f" (and in {len(candidate.linked) - 1} more linked articles)"
        return Suggestion(task=self.id, label=reference.label, wikitext=wikitext, score=score,
                          explanation=explanation, insert=insert, features=features)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each value among the candidates in [0, 1], 1 for the best."""
    if len(values) <= 1:
        return np.ones(len(values))
    order = values.argsort(kind="stable").argsort(kind="stable")
    return order / (len(values) - 1)
