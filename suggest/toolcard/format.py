"""How the tool card prints its figures: three decimals with a 95% interval, rates in per cent,
targets and who misses them in words, configuration values as plain text; "–" for no value."""

from __future__ import annotations

import json
from typing import Any

from suggest.evaluate.metrics import ORACLE_ARTICLES

NO_VALUE = "–"

METRIC_LABELS = {
    "precision_at_threshold": "Precision at threshold", "recall_at_threshold": "Recall at threshold",
    "coverage": "Coverage", "threshold": "Threshold", "precision_at_1": "P@1", "precision_at_3": "P@3",
    "recall_at_1": "R@1", "recall_at_3": "R@3", "recall_at_5": "R@5", "mrr": "MRR",
    "gold_in_candidates": "Gold in candidates", "n_articles": "Articles", "n_statements": "Statements",
}


def cell(row: dict[str, Any], key: str) -> str:
    """A figure as the card prints it: three decimals, its 95% interval, "–" when missing."""
    value = row.get(key)
    if value is None:
        return NO_VALUE + (" (nothing shown)" if key == "precision_at_threshold" and row.get("shown") == 0
                           else "")
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    interval = (row.get("intervals") or {}).get(key)
    return f"{text} ({interval[0]:.3f}–{interval[1]:.3f})" if interval else text


def rate_cell(rate: dict[str, Any] | None) -> str:
    """A live rate with its Wilson 95% interval and denominator, "–" when nothing was decided."""
    if not rate or rate.get("value") is None:
        return f"{NO_VALUE} (n={rate.get('total', 0) if rate else 0})"
    return (f"{rate['value']:.0%} (95% {rate['low']:.0%}–{rate['high']:.0%}, "
            f"n={rate['total']})")


def target_text(targets: dict[str, float]) -> str:
    """Targets in words: "R@3 >= 0.7, Precision at threshold >= 0.85"."""
    return ", ".join(f"{METRIC_LABELS.get(k, k)} >= {v:g}" + (
        f" (where at least {ORACLE_ARTICLES:.0%} of the articles have a gold category a candidate "
        "carries)" if k == "coverage" else "") for k, v in targets.items()) or "none"


def misses_by_wiki(misses: list[dict[str, Any]]) -> list[str]:
    """One line per backend and wiki that misses a target, with the figures that miss."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for miss in misses:
        value = NO_VALUE + " (nothing shown)" if miss["value"] is None else f"{miss['value']:.3f}"
        grouped.setdefault((miss["backend"], miss["wiki"]), []).append(
            f"{METRIC_LABELS.get(miss['metric'], miss['metric'])} {value} < {miss['target']:g}")
    return [f"{backend} on {wiki}: {', '.join(parts)}" for (backend, wiki), parts in grouped.items()]


def plain_value(value: Any, top: bool = True) -> str:
    """A configuration value as the card prints it: "k: v, ..." or "a, b" at the top, nested
    mappings in {} and lists in []."""
    if isinstance(value, dict):
        text = ", ".join(f"{k}: {plain_value(value[k], False)}" for k in sorted(value, key=str))
        return text if top else "{" + text + "}"
    if isinstance(value, list | tuple):
        text = ", ".join(plain_value(v, False) for v in value)
        return text if top else f"[{text}]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def reviewer_precision(review: dict[str, Any]) -> str:
    """Reviewer precision as the card's live rates show a rate: "67% (95% 21%–94%, n=3)"."""
    interval = review.get("precision_interval")
    total = review.get("precision_suggestions", review.get("suggestions", 0))
    if review.get("precision") is not None and not interval:
        return f"{review['precision']:.0%} (n={total})"
    return rate_cell({"value": review.get("precision"), "total": total,
                      **({"low": interval[0], "high": interval[1]} if interval else {})})
