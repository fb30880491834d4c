"""Features of a (statement, candidate reference) pair, and the scores they give.

Every feature is computed from the article as an editor finds it (the statement without the
source it needs) and from the linked articles, never from the removed citation of an evaluation
case: the text similarities go through the backend, the rest is where in the article a candidate
is already cited.

Scores (:func:`scores`): the article's own references get the learned, calibrated ranker's
probability (``suggest/data/references-ranker-<backend>.json``, see :mod:`suggest.ranking`), fitted
on those candidates only. A linked article's reference was never the removed source in the
development dumps (they hold too few linked articles), so no feature can be fitted for it: all of
them get the probability the train split supports, ``(hits + 1) / (candidates + 2)`` (stored in the
ranker file as ``linked.probability``), and are ordered among themselves by the documented
:data:`HAND_WEIGHTS` score. Without any ranker file every candidate gets the hand score.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from suggest.backends.base import Backend, Matrix, similarity
from suggest.ranking.model import Ranker
from suggest.wiki import references as refs

MAX_SUPPORT = 4  # supported sentences compared per candidate

FEATURES = ("sim_evidence", "sim_support", "sim_support_mean", "rank_evidence", "rank_support",
            "has_support", "in_article", "near", "same_paragraph", "same_section", "uses_in_section",
            "adjacent", "next_cited", "previous_cited", "uses", "linked_articles", "article_refs")
# Linked articles' references (never a hit in the development dumps), and every candidate when no
# ranker file is packaged: a plain logistic score that favours sources cited close to the statement
# and sources and supported sentences that resemble it.
HAND_WEIGHTS: dict[str, float] = {
    "bias": -6.0, "sim_evidence": 2.0, "sim_support": 3.0, "rank_evidence": 1.5, "rank_support": 1.5,
    "has_support": -1.0, "in_article": 1.0, "near": 2.5, "same_section": 0.8, "uses": 0.3,
    "linked_articles": 0.3,
}


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


def feature_rows(article: refs.ArticleReferences, index: int, candidates: list[Candidate],
                 backend: Backend, embeddings: EmbeddingCache) -> list[dict[str, float]]:
    """One row of :data:`FEATURES` per candidate for the statement ``index``."""
    statement = article.statements[index]
    query = backend.embed([article.context(index)], "query")
    evidence = similarity(query, embeddings.embed(backend, [c.evidence() for c in candidates]))[0]
    texts = [[s for s, _ in c.support[:MAX_SUPPORT]] for c in candidates]
    flat = [t[:refs.TEXT_CHARS] for group in texts for t in group]
    support_sims = similarity(query, embeddings.embed(backend, flat))[0] if flat else np.zeros(0)
    support, support_mean = np.zeros(len(candidates)), np.zeros(len(candidates))
    at = 0
    for i, group in enumerate(texts):
        if group:
            sims = support_sims[at:at + len(group)]
            support[i], support_mean[i] = float(sims.max()), float(sims.mean())
            at += len(group)
    rank_evidence, rank_support = _ranks(evidence), _ranks(support)
    before, after = _neighbour_citations(article, index)
    article_refs = math.log1p(sum(1 for c in candidates if c.origin is None))
    rows = []
    for i, candidate in enumerate(candidates):
        distances = [abs(p - statement.paragraph) for p, _ in candidate.positions]
        own = candidate.origin is None
        rows.append({
            "sim_evidence": float(evidence[i]),
            "sim_support": float(support[i]),
            "sim_support_mean": float(support_mean[i]),
            "rank_evidence": float(rank_evidence[i]),
            "rank_support": float(rank_support[i]) if texts[i] else 0.0,
            "has_support": 1.0 if texts[i] else 0.0,
            "in_article": 1.0 if own else 0.0,
            "near": 1.0 / (1.0 + min(distances)) if distances else 0.0,
            "same_paragraph": 1.0 if 0 in distances else 0.0,
            "same_section": 1.0 if any(s == statement.section for _, s in candidate.positions) else 0.0,
            "uses_in_section": math.log1p(sum(1 for _, s in candidate.positions if s == statement.section)),
            "adjacent": 1.0 / min((abs(u - index) for u in candidate.statements), default=math.inf),
            "next_cited": 1.0 if own and candidate.reference.key in after else 0.0,
            "previous_cited": 1.0 if own and candidate.reference.key in before else 0.0,
            "uses": math.log1p(len(candidate.positions)),
            "linked_articles": math.log1p(len(candidate.linked)),
            "article_refs": article_refs,  # how many of the article's own sources compete
        })
    return rows


def _neighbour_citations(article: refs.ArticleReferences, index: int) -> tuple[set[str], set[str]]:
    """Keys cited by the closest cited sentence before and after the statement in its paragraph:
    editors often cite several sentences with one reference at the paragraph's end."""
    paragraph = article.statements[index].paragraph
    same = [i for i, s in enumerate(article.statements)
            if s.paragraph == paragraph and s.citations and i != index]
    earlier = [i for i in same if i < index]
    later = [i for i in same if i > index]
    before = {c.key for c in article.statements[max(earlier)].citations[:3]} if earlier else set()
    after = {c.key for c in article.statements[min(later)].citations[:3]} if later else set()
    return before, after


def hand_score(row: dict[str, float]) -> float:
    z = HAND_WEIGHTS["bias"] + sum(w * row.get(k, 0.0) for k, w in HAND_WEIGHTS.items() if k != "bias")
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def scores(x: np.ndarray, ranker: Ranker | None) -> tuple[np.ndarray, np.ndarray]:
    """(score, tie-break) per candidate from feature rows in :data:`FEATURES` order: the ranker's
    calibrated probability and raw score for the article's own references; for linked articles'
    references the ranker file's ``linked.probability`` and the hand score; the hand score for
    all without a ranker."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, len(FEATURES))
    weights = np.array([HAND_WEIGHTS.get(f, 0.0) for f in FEATURES])
    hand = 1.0 / (1.0 + np.exp(-np.clip(HAND_WEIGHTS["bias"] + x @ weights, -30, 30)))
    if ranker is None:
        return hand, hand
    own = x[:, FEATURES.index("in_article")] == 1.0
    raw = ranker.raw(x[:, [FEATURES.index(f) for f in ranker.features]])
    linked = float(ranker.document.get("linked", {}).get("probability", 0.0))
    return np.where(own, ranker.calibrate(raw), linked), np.where(own, raw, hand)


def rank_key(score: np.ndarray, tie_break: np.ndarray) -> np.ndarray:
    """One array that orders candidates by score, then by the tie-break (both within [0, 1];
    calibrated scores are rounded to 1e-8, far above the tie-break's share)."""
    return np.asarray(score + 1e-9 * tie_break)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each value among the candidates in [0, 1], 1 for the best."""
    if len(values) <= 1:
        return np.ones(len(values))
    order = values.argsort(kind="stable").argsort(kind="stable")
    return np.asarray(order / (len(values) - 1))
