"""Figures of the references evaluation: ranks, the operating point, threshold choice, bootstrap.

A statement's candidates are ranked by the model's raw score (the calibrated probability is
monotone in it); what is shown is the top candidate when its calibrated probability reaches the
threshold, so ``precision_at_threshold`` is the share of shown top candidates that are the removed
source, and ``coverage`` the share of statements that show one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TARGET_RECALL_AT_3 = 0.7
TARGET_PRECISION = 0.85
MIN_SHOWN = 5  # a threshold must show at least this many dev statements to count
NOTHING = 1.01  # the threshold that shows nothing (no calibrated score reaches it)


@dataclass
class Case:
    wiki: str
    title: str
    page_id: int
    split: str
    statement: str
    kind: str  # "reuse" or "new"
    features: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def rank_of_gold(scores: np.ndarray, labels: Sequence[int]) -> int | None:
    """1-based rank of the best-ranked hit (ties broken against the hit), None if absent."""
    hits = [i for i, label in enumerate(labels) if label]
    if not hits:
        return None
    best = max(scores[i] for i in hits)
    return int(sum(1 for s in scores if s >= best))


SCORE_DIGITS = 4  # the task rounds the score it shows, and compares with the threshold, to this


def _tops(cases: Sequence[Case], scores: Sequence[np.ndarray],
          probabilities: Sequence[np.ndarray] | None) -> list[tuple[float, bool]]:
    """(calibrated score, is it a hit) of each statement's top-ranked candidate; the score rounded
    as the task rounds it, so that a threshold chosen from these scores shows on dev (and in the
    service) exactly the statements it was chosen for."""
    probs = probabilities if probabilities is not None else scores
    out = []
    for case, s, p in zip(cases, scores, probs, strict=True):
        top = int(np.argmax(s))
        out.append((round(float(p[top]), SCORE_DIGITS), bool(case.labels[top])))
    return out


def metrics(cases: Sequence[Case], scores: Sequence[np.ndarray], threshold: float,
            probabilities: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """Ranking figures from ``scores``; the operating point from ``probabilities`` (default: the
    scores themselves)."""
    n = len(cases)
    if not n:
        return {"n_statements": 0}
    ranks = [rank_of_gold(s, c.labels) for c, s in zip(cases, scores, strict=True)]
    shown = [(p >= threshold, good) for p, good in _tops(cases, scores, probabilities)]
    n_shown = sum(1 for ok, _ in shown if ok)
    return {
        "n_statements": n,
        "n_articles": len({(c.wiki, c.page_id) for c in cases}),
        "recall_at_1": sum(1 for r in ranks if r and r <= 1) / n,
        "recall_at_3": sum(1 for r in ranks if r and r <= 3) / n,
        "recall_at_5": sum(1 for r in ranks if r and r <= 5) / n,
        "mrr": sum(1.0 / r for r in ranks if r) / n,
        "random_recall_at_3": random_recall(cases, 3),
        "gold_in_candidates": sum(1 for c in cases if any(c.labels)) / n,
        "avg_candidates": sum(len(c.labels) for c in cases) / n,
        "precision_at_threshold": (sum(1 for ok, good in shown if ok and good) / n_shown
                                   if n_shown else None),
        "coverage": n_shown / n,
        "threshold": threshold,
    }


def random_recall(cases: Sequence[Case], k: int) -> float:
    """Chance that a random order puts a hit in the top k, averaged over statements."""
    total = 0.0
    for case in cases:
        n, good = len(case.labels), sum(case.labels)
        if not good:
            continue
        miss = 1.0
        for i in range(min(k, n)):  # probability the first i picks are all misses
            miss *= (n - good - i) / (n - i) if n - i > 0 else 0.0
        total += 1.0 - max(miss, 0.0)
    return total / len(cases)


_random_recall = random_recall  # the name the first tests used


def choose_threshold(cases: Sequence[Case], scores: Sequence[np.ndarray], target: float,
                     probabilities: Sequence[np.ndarray] | None = None) -> tuple[float, bool]:
    """Lowest threshold whose top-1 precision on dev reaches ``target`` while showing at least
    :data:`MIN_SHOWN` statements; :data:`NOTHING` (show nothing) when none does."""
    tops = sorted(_tops(cases, scores, probabilities), reverse=True)
    reached, hits = None, 0
    for shown, (score, good) in enumerate(tops, start=1):
        hits += good
        if shown < len(tops) and tops[shown][0] == score:
            continue  # a threshold shows every tied score or none
        if shown >= MIN_SHOWN and hits / shown >= target:
            reached = score
    return (round(reached, 4), True) if reached is not None else (NOTHING, False)


def best_operating_point(cases: Sequence[Case], scores: Sequence[np.ndarray],
                         probabilities: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """The most precise threshold on these cases that shows at least :data:`MIN_SHOWN` of them
    (what a wiki that misses the target could at best reach)."""
    tops = sorted(_tops(cases, scores, probabilities), reverse=True)
    best: dict[str, Any] = {"threshold": None, "precision": None, "coverage": 0.0}
    hits = 0
    for shown, (score, good) in enumerate(tops, start=1):
        hits += good
        if shown < len(tops) and tops[shown][0] == score:
            continue
        if shown >= MIN_SHOWN and (best["precision"] is None or hits / shown > best["precision"]):
            best = {"threshold": round(score, 4), "precision": round(hits / shown, 4),
                    "coverage": round(shown / len(tops), 4)}
    return best


def bootstrap(cases: Sequence[Case], scores: Sequence[np.ndarray], threshold: float, rounds: int,
              probabilities: Sequence[np.ndarray] | None = None, seed: int = 0) -> dict[str, list[float]]:
    """95 % percentile intervals, resampling articles (statements of one article are not
    independent)."""
    rng = random.Random(seed)
    probs = list(probabilities) if probabilities is not None else list(scores)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, case in enumerate(cases):
        groups.setdefault((case.wiki, case.page_id), []).append(i)
    members = list(groups.values())
    keys = ("recall_at_1", "recall_at_3", "recall_at_5", "mrr", "precision_at_threshold", "coverage")
    samples: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(rounds if len(members) > 1 else 0):
        picked = [i for _ in members for i in members[rng.randrange(len(members))]]
        found = metrics([cases[i] for i in picked], [scores[i] for i in picked], threshold,
                        [probs[i] for i in picked])
        for k in keys:
            if found.get(k) is not None:
                samples[k].append(found[k])
    return {k: [round(float(np.percentile(v, 2.5)), 3), round(float(np.percentile(v, 97.5)), 3)]
            for k, v in samples.items() if v}


def calibration_top1(cases: Sequence[Case], scores: Sequence[np.ndarray],
                     probabilities: Sequence[np.ndarray],
                     edges: Sequence[float] = (0.0, 0.1, 0.2, 0.4, 0.6, 1.0)) -> list[dict[str, Any]]:
    """Each statement's top candidate by calibrated score bin: mean score against the observed
    share of hits (a calibrated ranker keeps them close)."""
    tops = _tops(cases, scores, probabilities)
    table = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = [(p, good) for p, good in tops if low <= p < high or (high == edges[-1] and p == high)]
        if inside:
            table.append({"bin": f"{low:.1f}-{high:.1f}", "n": len(inside),
                          "mean_score": round(float(np.mean([p for p, _ in inside])), 3),
                          "observed": round(float(np.mean([g for _, g in inside])), 3)})
    return table


def leakage_check(cases: Sequence[Case], features: Sequence[str]) -> dict[str, Any]:
    """Mean of each feature for the hit and for the other in-article candidates, per case kind: a
    feature that only the removed reference lacks (or has) would show here."""
    report: dict[str, Any] = {}
    in_article = list(features).index("in_article")
    for kind in ("reuse", "new"):
        hit_rows = [r for c in cases if c.kind == kind for r, lab in zip(c.features, c.labels, strict=True)
                    if lab and r[in_article]]
        other_rows = [r for c in cases if c.kind == kind for r, lab in zip(c.features, c.labels, strict=True)
                      if not lab and r[in_article]]
        report[kind] = {
            "hit_in_article": {k: round(float(np.mean([r[i] for r in hit_rows])), 3)
                               for i, k in enumerate(features)} if hit_rows else {},
            "others_in_article": {k: round(float(np.mean([r[i] for r in other_rows])), 3)
                                  for i, k in enumerate(features)} if other_rows else {},
            "n_cases": sum(1 for c in cases if c.kind == kind),
        }
    return report
