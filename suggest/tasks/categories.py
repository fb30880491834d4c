"""Categories task: propose categories the article lacks, from the categories of its neighbours.

Candidates come from the pages the article links to and from similar articles (never the article
itself). Categories already on the page, hidden (maintenance) categories and the never-suggest list
are dropped. Each candidate is scored by neighbour support and by how close its name is to the
article's lead (through the configured backend).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from suggest.backends.base import Backend, similarity
from suggest.tasks.base import Reason, Suggestion, TaskSettings
from suggest.wiki import wikitext as wt
from suggest.wiki.source import Page, PageSource

MAX_LINKS = 300  # links looked at, in article order (the lead's links come first)
SIMILAR_ARTICLES = 20
LEAD_CHARS = 1500
# v1 weights of the logistic score; the learned ranker replaces them.
WEIGHTS = {"bias": -3.0, "link_share": 4.0, "similar_share": 5.0, "name_rank": 1.0, "support": 0.5}


@dataclass
class Candidate:
    name: str
    linked: list[str] = field(default_factory=list)
    similar: list[tuple[str, float]] = field(default_factory=list)


class CategoriesTask:
    id = "categories"
    version = "1.0"
    definition = (
        "Proposes up to N categories an article lacks, chosen from the categories of the pages it "
        "links to and of similar articles; it never edits: an editor adds or rejects each one."
    )
    reasons = (
        Reason("wrong_topic", "Wrong topic"),
        Reason("too_general", "Too general"),
        Reason("too_specific", "Too specific"),
        Reason("already_covered", "Already covered by another category"),
        Reason("other", "Other"),
    )

    def suggest(self, page: Page, source: PageSource, backend: Backend,
                settings: TaskSettings) -> list[Suggestion]:
        linked = source.categories_of(page.links[:MAX_LINKS])
        similar = source.similar(page, SIMILAR_ARTICLES)
        similar_categories = source.categories_of([title for title, _ in similar])
        candidates = self.candidates(page, linked, similar, similar_categories, settings)
        if not candidates:
            return []
        name_rank = self._name_rank(page, candidates, backend)
        total_similarity = sum(score for _, score in similar) or 1.0
        prefix = source.category_prefixes()[0]
        suggestions = []
        for candidate, rank in zip(candidates, name_rank, strict=True):
            features = {
                "link_votes": float(len(candidate.linked)),
                "link_share": len(candidate.linked) / max(len(linked), 1),
                "similar_votes": float(len(candidate.similar)),
                "similar_share": sum(s for _, s in candidate.similar) / total_similarity,
                "name_rank": float(rank),
                "support": math.log1p(len(candidate.linked) + len(candidate.similar)),
            }
            suggestions.append(Suggestion(
                task=self.id,
                label=candidate.name,
                wikitext=f"[[{prefix}:{candidate.name}]]",
                score=self.score(features),
                explanation=self.explain(candidate, len(linked), len(similar)),
                insert={"kind": "category"},
                features=features,
            ))
        suggestions.sort(key=lambda s: (-s.score, s.label))
        kept = [s for s in suggestions if s.score >= settings.threshold]
        return kept[: settings.max_suggestions]

    def candidates(self, page: Page, linked: dict[str, list[str]],
                   similar: list[tuple[str, float]], similar_categories: dict[str, list[str]],
                   settings: TaskSettings) -> list[Candidate]:
        """Every category a neighbour carries that the page could still get."""
        present = {wt.normalize_title(c) for c in (*page.categories, *page.hidden_categories)}
        blocked = {wt.normalize_title(c) for c in settings.never_suggest}
        own = wt.normalize_title(page.title)
        found: dict[str, Candidate] = {}

        def add(name: str) -> Candidate | None:
            name = wt.normalize_title(name)
            if name in present or name in blocked or not name:
                return None
            return found.setdefault(name, Candidate(name))

        for title, categories in linked.items():
            if title == own:
                continue
            for name in categories:
                if (candidate := add(name)) is not None:
                    candidate.linked.append(title)
        similar_score = dict(similar)
        for title, categories in similar_categories.items():
            if title == own:
                continue
            for name in categories:
                if (candidate := add(name)) is not None:
                    candidate.similar.append((title, similar_score.get(title, 0.0)))
        return sorted(found.values(), key=lambda c: c.name)

    @staticmethod
    def _name_rank(page: Page, candidates: list[Candidate], backend: Backend) -> np.ndarray:
        """Each candidate name's similarity to the lead, as a rank in [0, 1] among candidates
        (ranks are comparable across backends whose raw similarities are not)."""
        lead = wt.plain_text(wt.lead_wikitext(page.wikitext), max_chars=LEAD_CHARS) or page.title
        scores = similarity(backend.embed([f"{page.title}. {lead}"], "query"),
                            backend.embed([c.name for c in candidates], "passage"))[0]
        if len(scores) == 1:
            return np.array([0.5])
        order = scores.argsort(kind="stable").argsort(kind="stable")
        return order / (len(scores) - 1)

    @staticmethod
    def score(features: dict[str, float]) -> float:
        z = WEIGHTS["bias"] + sum(WEIGHTS[k] * features[k] for k in WEIGHTS if k != "bias")
        return round(1.0 / (1.0 + math.exp(-z)), 4)

    @staticmethod
    def explain(candidate: Candidate, n_linked: int, n_similar: int) -> str:
        parts = []
        if candidate.linked:
            parts.append(f"in {len(candidate.linked)} of the {n_linked} linked articles")
        if candidate.similar:
            parts.append(f"in {len(candidate.similar)} of the {n_similar} most similar articles")
        return "; ".join(parts)
