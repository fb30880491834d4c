"""Reviewer labels: logged-in reviewers label a random sample of computed suggestions correct,
incorrect or unsure without editing. From the labels: agreement between reviewers (observed
agreement and Fleiss' kappa for items with two or more labels) and reviewer precision.

Labels are per computed suggestion (content id): each reviewer has at most one label on each, and
labelling it again replaces that label. Reviewer precision is defined once, in
:mod:`suggest.metrics.aggregates` (``reviewer_precision``): per computed suggestion its majority
label (a tie for the most counts as no majority, like "unsure"), and of the suggestions with a
correct or incorrect majority, the share correct, with a Wilson 95% interval over those
suggestions. /stats, the review page and the tool card all show that figure.

A labelled computed suggestion is kept as a ``suggestions`` row under its content id (the labels
refer to it). Such a row is not an issued suggestion: the decision API refuses its id
(``SuggestionService.decide``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from suggest.metrics import aggregates
from suggest.metrics.aggregates import majority_label
from suggest.store.events import StoreUnavailable, utcnow
from suggest.store.schema import computed, issued_row, review_labels, suggestions

LABELS = aggregates.REVIEW_LABELS
__all__ = ["LABELS", "ReviewStore", "UnknownSuggestion", "agreement", "majority_label", "wilson"]


class UnknownSuggestion(LookupError):
    """No computed suggestion has that id (the review page offers content ids only)."""


def wilson(successes: int, total: int, z: float = aggregates.Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion, or None without data (the one of /stats)."""
    rate = aggregates.wilson(successes, total, z)
    if rate.low is None or rate.high is None:
        return None
    return rate.low, rate.high


class ReviewStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def sample(self, wiki: str, task: str, reviewer: str, size: int = 5) -> list[dict[str, Any]]:
        """Random suggestions of ``wiki`` and ``task`` as computed (whether or not an editor decided
        on them: the sample is of what editors were shown) that this reviewer has not labelled."""
        mine = (select(review_labels.c.id)
                .join(suggestions, suggestions.c.id == review_labels.c.suggestion_id)
                .where(suggestions.c.content_id == computed.c.id, review_labels.c.reviewer == reviewer))
        random = func.rand() if self.engine.dialect.name in ("mysql", "mariadb") else func.random()
        query = (select(computed)
                 .where(computed.c.wiki == wiki, computed.c.task == task, ~mine.exists())
                 .order_by(random).limit(size))
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(query)]
        except SQLAlchemyError as error:
            raise StoreUnavailable("the database is not available") from error

    def record(self, content_id: str, reviewer: str, label: str) -> None:
        """Store this reviewer's label on a computed suggestion, named by its content id (what the
        review page offers; an issued id is refused with UnknownSuggestion). A reviewer has one
        label per computed suggestion: a new one replaces theirs, also one stored earlier under
        an issued id of the same suggestion."""
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}")
        for attempt in range(2):
            try:
                self._record(content_id, reviewer, label)
                return
            except IntegrityError:  # another label on the same suggestion was stored just now
                if attempt:
                    raise StoreUnavailable("the label could not be stored") from None
            except SQLAlchemyError as error:
                raise StoreUnavailable("the database is not available") from error

    def _record(self, content_id: str, reviewer: str, label: str) -> None:
        with self.engine.begin() as conn:
            content = conn.execute(select(computed).where(computed.c.id == content_id)).first()
            if content is None:
                raise UnknownSuggestion(content_id)
            found = conn.execute(select(suggestions.c.id).where(suggestions.c.id == content_id)).first()
            if found is None:  # the row the labels refer to; the decision API refuses its id
                conn.execute(suggestions.insert(),
                             issued_row(dict(content._mapping), content_id, content.created_at))
            same = select(suggestions.c.id).where(or_(suggestions.c.id == content_id,
                                                      suggestions.c.content_id == content_id))
            conn.execute(review_labels.delete().where(review_labels.c.reviewer == reviewer,
                                                      review_labels.c.suggestion_id.in_(same)))
            conn.execute(review_labels.insert(), {"suggestion_id": content_id,
                                                  "reviewer": reviewer, "label": label,
                                                  "created_at": utcnow()})

    def _counts(self, wiki: str | None, task: str | None) -> dict[tuple[str, str], dict[str, Counter[str]]]:
        """(wiki, task) -> computed suggestion -> label counts, one label per reviewer
        (``aggregates.review_label_counts``, as /stats counts them)."""
        filters = aggregates.Filters(wiki=wiki or None, task=task or None)
        try:
            with self.engine.connect() as conn:
                found = aggregates.review_label_counts(conn, filters)
        except SQLAlchemyError as error:
            raise StoreUnavailable("the database is not available") from error
        return {(w, t): items for (t, w), items in found.items()}

    def summary(self, wiki: str | None = None, task: str | None = None) -> list[dict[str, Any]]:
        """Per wiki and task: labels, reviewer precision with its interval (over computed
        suggestions, as on /stats), and agreement."""
        out = []
        for (w, t), items in sorted(self._counts(wiki, task).items()):
            majority = Counter(majority_label(c) for c in items.values())
            rate = aggregates.reviewer_precision(items.values())
            out.append({
                "wiki": w, "task": t, "suggestions": len(items),
                "labels": sum(sum(c.values()) for c in items.values()),
                "majority": {label: majority[label] for label in LABELS},
                "precision": rate.value,
                "precision_interval": (rate.low, rate.high) if rate.total else None,
                "precision_suggestions": rate.total,
                **agreement(list(items.values())),
            })
        return out


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
