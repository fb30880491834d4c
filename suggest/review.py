"""Reviewer labels: logged-in reviewers label a random sample of computed suggestions correct,
incorrect or unsure without editing. From the labels: agreement between reviewers (observed
agreement and Fleiss' kappa for items with two or more labels) and reviewer precision (the share of
suggestions whose majority label is *correct*, among those with a correct/incorrect majority)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from suggest.store.events import StoreUnavailable, utcnow
from suggest.store.schema import computed, issued_row, review_labels, suggestions

LABELS = ("correct", "incorrect", "unsure")


class UnknownSuggestion(LookupError):
    """No suggestion with that id was issued."""


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval for a proportion, or None without data."""
    if total <= 0:
        return None
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


class ReviewStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def sample(self, wiki: str, task: str, reviewer: str, size: int = 5) -> list[dict[str, Any]]:
        """Random suggestions of ``wiki`` and ``task`` as computed (whether or not an editor decided
        on them: the sample is of what editors were shown) that this reviewer has not labelled."""
        mine = and_(review_labels.c.suggestion_id == computed.c.id,
                    review_labels.c.reviewer == reviewer)
        random = func.rand() if self.engine.dialect.name in ("mysql", "mariadb") else func.random()
        query = (select(computed)
                 .where(computed.c.wiki == wiki, computed.c.task == task,
                        ~select(review_labels.c.id).where(mine).exists())
                 .order_by(random).limit(size))
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(query)]
        except SQLAlchemyError as error:
            raise StoreUnavailable("the database is not available") from error

    def record(self, suggestion_id: str, reviewer: str, label: str) -> None:
        """Store (or change) this reviewer's label for the suggestion: a computed one (stored as
        a suggestion under its content id at its first label) or an issued one."""
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}")
        for attempt in range(2):
            try:
                self._record(suggestion_id, reviewer, label)
                return
            except IntegrityError:  # another reviewer stored the same suggestion just now
                if attempt:
                    raise StoreUnavailable("the label could not be stored") from None
            except SQLAlchemyError as error:
                raise StoreUnavailable("the database is not available") from error

    def _record(self, suggestion_id: str, reviewer: str, label: str) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(select(suggestions.c.id).where(
                suggestions.c.id == suggestion_id)).first()
            if found is None:
                content = conn.execute(select(computed).where(computed.c.id == suggestion_id)).first()
                if content is None:
                    raise UnknownSuggestion(suggestion_id)
                conn.execute(suggestions.insert(),
                             issued_row(dict(content._mapping), suggestion_id, content.created_at))
            conn.execute(review_labels.delete().where(
                review_labels.c.suggestion_id == suggestion_id,
                review_labels.c.reviewer == reviewer))
            conn.execute(review_labels.insert(), {"suggestion_id": suggestion_id,
                                                  "reviewer": reviewer, "label": label,
                                                  "created_at": utcnow()})

    def _counts(self, wiki: str | None, task: str | None) -> dict[tuple[str, str], dict[str, Counter[str]]]:
        """(wiki, task) -> suggestion id -> label counts, aggregated in SQL."""
        query = (select(suggestions.c.wiki, suggestions.c.task, review_labels.c.suggestion_id,
                        review_labels.c.label, func.count().label("n"))
                 .join(suggestions, suggestions.c.id == review_labels.c.suggestion_id)
                 .group_by(suggestions.c.wiki, suggestions.c.task, review_labels.c.suggestion_id,
                           review_labels.c.label))
        if wiki:
            query = query.where(suggestions.c.wiki == wiki)
        if task:
            query = query.where(suggestions.c.task == task)
        grouped: dict[tuple[str, str], dict[str, Counter[str]]] = defaultdict(dict)
        try:
            with self.engine.connect() as conn:
                for row in conn.execute(query):
                    items = grouped[(row.wiki, row.task)]
                    items.setdefault(row.suggestion_id, Counter())[row.label] += int(row.n)
        except SQLAlchemyError as error:
            raise StoreUnavailable("the database is not available") from error
        return grouped

    def summary(self, wiki: str | None = None, task: str | None = None) -> list[dict[str, Any]]:
        """Per wiki and task: labels, reviewers' precision with its interval, and agreement."""
        out = []
        for (w, t), items in sorted(self._counts(wiki, task).items()):
            majority = Counter(majority_label(c) for c in items.values())
            decided = majority["correct"] + majority["incorrect"]
            out.append({
                "wiki": w, "task": t, "suggestions": len(items),
                "labels": sum(sum(c.values()) for c in items.values()),
                "majority": {label: majority[label] for label in LABELS},
                "precision": round(majority["correct"] / decided, 4) if decided else None,
                "precision_interval": wilson(majority["correct"], decided),
                **agreement(list(items.values())),
            })
        return out


def majority_label(counts: Counter[str]) -> str:
    """The most frequent label; a tie between different labels counts as unsure."""
    ranked = counts.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return "unsure"
    return ranked[0][0]


def agreement(items: list[Counter[str]]) -> dict[str, Any]:
    """Observed pairwise agreement and Fleiss' kappa over items with at least two labels."""
    multi = [c for c in items if sum(c.values()) >= 2]
    if not multi:
        return {"items_with_two_or_more": 0, "observed_agreement": None, "fleiss_kappa": None}
    per_item = []
    totals: Counter[str] = Counter()
    for counts in multi:
        n = sum(counts.values())
        per_item.append(sum(k * (k - 1) for k in counts.values()) / (n * (n - 1)))
        totals.update(counts)
    observed = sum(per_item) / len(per_item)
    all_labels = sum(totals.values())
    expected = sum((k / all_labels) ** 2 for k in totals.values())
    kappa = None if expected >= 1 else (observed - expected) / (1 - expected)
    return {"items_with_two_or_more": len(multi), "observed_agreement": round(observed, 4),
            "fleiss_kappa": None if kappa is None else round(kappa, 4)}
