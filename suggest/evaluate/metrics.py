"""Ranking and operating-point metrics, threshold choice, calibration and bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TARGET_PRECISION = 0.85
# The categories task's other targets: precision@1, and coverage where the oracle allows it (at
# least ORACLE_ARTICLES of the articles have a gold category some neighbour carries).
TARGET_P1 = 0.7
TARGET_COVERAGE = 0.5
ORACLE_ARTICLES = 0.75
MIN_SHOWN = 5  # a threshold is chosen only where the dev split shows at least this many
BOOTSTRAP = 1000
SEED = 20240601


@dataclass
class Case:
    """One article: its candidates' labels and scores, best first, and its removed categories."""

    labels: Sequence[str]
    scores: Sequence[float]
    gold: frozenset[str]


def shown(case: Case, threshold: float, max_suggestions: int) -> list[str]:
    return [lbl for lbl, s in zip(case.labels, case.scores, strict=True) if s >= threshold][:max_suggestions]


def at_threshold(cases: Sequence[Case], threshold: float, max_suggestions: int) -> dict[str, float]:
    hits = n_shown = n_gold = covered = 0
    for case in cases:
        items = shown(case, threshold, max_suggestions)
        hits += sum(1 for lbl in items if lbl in case.gold)
        n_shown += len(items)
        n_gold += len(case.gold)
        covered += bool(items)
    return {"precision_at_threshold": hits / n_shown if n_shown else 0.0,
            "recall_at_threshold": hits / n_gold if n_gold else 0.0,
            "coverage": covered / len(cases) if cases else 0.0,
            "shown": n_shown}


def ranking(cases: Sequence[Case]) -> dict[str, float]:
    """Over all articles (an article without candidates counts as a miss)."""
    p1 = p3 = r5 = rr = 0.0
    for case in cases:
        hits = [lbl in case.gold for lbl in case.labels]
        p1 += float(bool(hits[:1]) and hits[0])
        p3 += sum(hits[:3]) / 3
        r5 += sum(hits[:5]) / len(case.gold)
        rr += next((1.0 / (i + 1) for i, h in enumerate(hits) if h), 0.0)
    n = max(len(cases), 1)
    return {"precision_at_1": p1 / n, "precision_at_3": p3 / n, "recall_at_5": r5 / n, "mrr": rr / n}


def oracle(cases: Sequence[Case]) -> dict[str, float]:
    """The ceiling any ranker of these candidates has: gold categories some neighbour carries."""
    carried = [len(case.gold & set(case.labels)) for case in cases]
    n = max(len(cases), 1)
    # averaged over articles, like recall@5, which it bounds
    return {"oracle_recall": sum(k / len(c.gold) for k, c in zip(carried, cases, strict=True)) / n,
            "oracle_articles": sum(1 for k in carried if k) / n}


def choose_threshold(cases: Sequence[Case], max_suggestions: int,
                     target: float = TARGET_PRECISION) -> tuple[float, dict[str, float]]:
    """The lowest threshold at which the shown suggestions reach ``target`` precision (None-like
    1.01 = show nothing, when no threshold does)."""
    candidates = sorted({round(float(s), 4) for c in cases for s in c.scores[:max_suggestions]})
    for threshold in candidates:
        result = at_threshold(cases, threshold, max_suggestions)
        if result["shown"] >= MIN_SHOWN and result["precision_at_threshold"] >= target:
            return threshold, result
    return 1.01, at_threshold(cases, 1.01, max_suggestions)


def calibration_table(cases: Sequence[Case], bins: int = 10) -> list[dict[str, Any]]:
    scores = np.array([s for c in cases for s in c.scores], dtype=float)
    labels = np.array([lbl in c.gold for c in cases for lbl in c.labels], dtype=float)
    table = []
    edges = np.linspace(0, 1, bins + 1)
    for i in range(bins):
        inside = (scores >= edges[i]) & ((scores < edges[i + 1]) if i < bins - 1 else (scores <= 1))
        if inside.any():
            table.append({"bin": f"{edges[i]:.1f}-{edges[i + 1]:.1f}", "n": int(inside.sum()),
                          "mean_score": round(float(scores[inside].mean()), 4),
                          "observed": round(float(labels[inside].mean()), 4)})
    return table


def bootstrap(cases: Sequence[Case], threshold: float, max_suggestions: int,
              rounds: int = BOOTSTRAP, seed: int = SEED) -> dict[str, list[float]]:
    """95% percentile intervals, resampling articles. A resample that shows nothing has no
    precision (not a precision of 0): it adds no draw to the precision's interval. Without
    articles there is no interval (``{}``); nothing shown in the whole sample: [0, 0]."""
    rng = np.random.default_rng(seed)
    names = ("precision_at_threshold", "coverage", "precision_at_1", "mrr")
    draws: dict[str, list[float]] = {n: [] for n in names}
    if not cases:
        return {}
    for _ in range(rounds):
        sample = [cases[i] for i in rng.integers(0, len(cases), len(cases))]
        values = {**at_threshold(sample, threshold, max_suggestions), **ranking(sample)}
        for n in names:
            if n != "precision_at_threshold" or values["shown"]:
                draws[n].append(values[n])
    return {n: [round(float(np.percentile(v, 2.5)), 4), round(float(np.percentile(v, 97.5)), 4)]
            if v else [0.0, 0.0] for n, v in draws.items()}


# The figures that are shares of the test articles: none is measured on a split without articles.
RATES = ("precision_at_threshold", "recall_at_threshold", "coverage", "precision_at_1",
         "precision_at_3", "recall_at_5", "mrr")


def summary(cases: Sequence[Case], threshold: float, max_suggestions: int) -> dict[str, Any]:
    """The figures at ``threshold``; without articles each rate is None (JSON null), not 0."""
    result: dict[str, Any] = {"n_articles": len(cases), "threshold": threshold}
    result.update(at_threshold(cases, threshold, max_suggestions))
    result.update(ranking(cases))
    if not cases:
        result.update(dict.fromkeys(RATES))
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
