"""Categories task: propose categories the article lacks, from the categories of its neighbours.

Candidates come from the pages the article links to and from similar articles (never the article
itself). Categories already on the page, hidden (maintenance) categories and the never-suggest list
are dropped, and so are the parents and grandparents of the page's categories (the page is in them
through the more specific one) and categories no article belongs in (without a page, redirects,
soft redirects, containers, categories meant to stay empty), where the page source can tell. Of the
suggestions above the threshold, one that is a parent of another is not shown. Each candidate
gets features (neighbour votes, similarity-weighted votes, similarity of the carrying neighbours,
lead-to-name similarity through the configured backend, category size and specificity, link vs
similar origin) and a calibrated probability from the learned ranker trained for that backend
(``suggest/data/category-ranker-<backend>.json``, see :mod:`suggest.ranking`). Without a ranker
file the v1 hand weights score the candidates.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from suggest.backends.base import Backend, similarity
from suggest.ranking.model import DATA_DIR, Ranker, load_ranker, sigmoid
from suggest.tasks.base import Reason, Suggestion, TaskSettings
from suggest.wiki import wikitext as wt
from suggest.wiki.source import Page, PageSource

MAX_LINKS = 300  # links looked at, in article order (the lead's links come first)
SIMILAR_ARTICLES = 20
TOP_SIMILAR = 5
LEAD_CHARS = 400  # title and first sentences: what a category name can match; bounds model time
# v1 weights of the logistic score, used only when no ranker is trained for the backend.
WEIGHTS = {"bias": -3.0, "link_share": 4.0, "similar_share": 5.0, "name_rank": 1.0, "support": 0.5}
T = TypeVar("T")
FEATURES = (
    "link_votes", "link_share", "similar_votes", "similar_share", "similar_max", "similar_top",
    "support", "vote_share", "name_sim", "name_rank", "name_gap", "size_log", "specificity",
    "has_size", "origin_link", "origin_similar", "origin_both", "candidates_log",
)


@dataclass
class Candidate:
    name: str
    linked: list[str] = field(default_factory=list)
    similar: list[tuple[str, float]] = field(default_factory=list)


def lead_query(page: Page) -> str:
    """The text whose similarity to each category name is measured: title and lead."""
    return _lead_query(page.title, page.wikitext)


@functools.lru_cache(maxsize=4096)
def _lead_query(title: str, wikitext: str) -> str:
    lead = wt.plain_text(wt.lead_wikitext(wikitext), max_chars=LEAD_CHARS)
    return f"{title}. {lead}" if lead else title


def _rankers_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.glob("category-ranker-*.json")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:8]


class CategoriesTask:
    id = "categories"
    definition = (
        "Proposes categories an article lacks (at most the configured number per page), chosen "
        "from the categories of the pages it links to and of similar articles; it never edits: an "
        "editor adds or rejects each one."
    )
    reasons = (
        Reason("wrong_topic", "Wrong topic"),
        Reason("too_general", "Too general"),
        Reason("too_specific", "Too specific"),
        Reason("already_covered", "Already covered by another category"),
        Reason("other", "Other"),
    )

    def __init__(self, ranker_dir: str | Path | None = None) -> None:
        self.ranker_dir = Path(ranker_dir or DATA_DIR)
        # The version names the ranker files too, so retraining invalidates cached suggestions.
        self.version = f"2.7+{_rankers_digest(self.ranker_dir)}"

    def ranker(self, backend: Backend) -> Ranker | None:
        return load_ranker(backend.info.id, self.ranker_dir)

    def suggest(self, page: Page, source: PageSource, backend: Backend,
                settings: TaskSettings) -> list[Suggestion]:
        kept = [s for s in self.rank(page, source, backend, settings) if s.score >= settings.threshold]
        return self.most_specific(kept[: 2 * settings.max_suggestions], source)[: settings.max_suggestions]

    @staticmethod
    def most_specific(suggestions: list[Suggestion], source: PageSource) -> list[Suggestion]:
        """The suggestions without those that are a parent of another one: the page is in the
        parent through the more specific category, so an editor adds only that (WP:SUBCAT).
        Two categories that are each other's parent are both kept."""
        if len(suggestions) < 2:
            return suggestions
        labels = [s.label for s in suggestions]
        parents = {label: {wt.normalize_title(p) for p in found}
                   for label, found in _ask(source, "parent_categories", labels,
                                            dict[str, list[str]]()).items()}
        implied = {parent for child, found in parents.items() for parent in found
                   if parent != child and child not in parents.get(parent, set())}
        return [s for s in suggestions if s.label not in implied]

    def rank(self, page: Page, source: PageSource, backend: Backend,
             settings: TaskSettings) -> list[Suggestion]:
        """Every candidate, scored, best first (the evaluation harness reads this whole list)."""
        linked = source.categories_of(page.links[:MAX_LINKS])
        similar = source.similar(page, SIMILAR_ARTICLES)
        similar_categories = source.categories_of([title for title, _ in similar])
        candidates = self.candidates(page, linked, similar, similar_categories, settings)
        candidates = self.without_implied_or_unusable(page, candidates, source)
        if not candidates:
            return []
        own = wt.normalize_title(page.title)
        n_linked = len([t for t in linked if t != own])
        n_similar = len([t for t in similar_categories if t != own])
        rows = self.features(page, candidates, n_linked, similar, source, backend)
        scores, raw = self.score_rows(rows, self.ranker(backend))
        prefix = source.category_prefixes()[0]
        suggestions = []
        for candidate, row, score in zip(candidates, rows, scores, strict=True):
            suggestions.append(Suggestion(
                task=self.id,
                label=candidate.name,
                wikitext=f"[[{prefix}:{candidate.name}]]",
                score=round(float(score), 4),
                explanation=self.explain(candidate, n_linked, n_similar),
                insert={"kind": "category"},
                features=row,
                evidence=self.evidence(candidate, n_linked, n_similar),
            ))
        order = sorted(range(len(suggestions)),
                       key=lambda i: (-suggestions[i].score, -raw[i], suggestions[i].label))
        return [suggestions[i] for i in order]

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
    def without_implied_or_unusable(page: Page, candidates: list[Candidate],
                                    source: PageSource) -> list[Candidate]:
        """The candidates left when those the page is in already through a more specific category
        (a parent or grandparent of one of its categories) and those no article belongs in
        (without a page, a redirect, a soft redirect, a container, one meant to stay empty) are
        dropped, where the source can tell."""
        if not candidates:
            return candidates
        names = [c.name for c in candidates]
        implied = implied_categories(source, [wt.normalize_title(c) for c in page.categories], names)
        unusable = {wt.normalize_title(name)
                    for name in _ask(source, "unusable_categories", names, set[str]())}
        return [c for c in candidates if c.name not in implied and c.name not in unusable]

    def features(self, page: Page, candidates: list[Candidate], n_linked: int,
                 similar: list[tuple[str, float]], source: PageSource,
                 backend: Backend) -> list[dict[str, float]]:
        """One feature row per candidate; nothing in it comes from the page's own categories."""
        name_sim = similarity(backend.embed([lead_query(page)], "query"),
                              backend.embed([c.name for c in candidates], "passage"))[0]
        if len(name_sim) == 1:
            name_rank = np.array([0.5])
        else:
            name_rank = name_sim.argsort(kind="stable").argsort(kind="stable") / (len(name_sim) - 1)
        best_name = float(name_sim.max())
        total_similarity = sum(score for _, score in similar) or 1.0
        top = {title for title, _ in similar[:TOP_SIMILAR]}
        sizes = category_sizes(source, [c.name for c in candidates], page.title)
        neighbours = max(n_linked + len(similar), 1)
        rows = []
        for i, candidate in enumerate(candidates):
            votes = len(candidate.linked) + len(candidate.similar)
            size = sizes.get(candidate.name) if sizes is not None else None
            rows.append({
                "link_votes": float(len(candidate.linked)),
                "link_share": len(candidate.linked) / max(n_linked, 1),
                "similar_votes": float(len(candidate.similar)),
                "similar_share": sum(s for _, s in candidate.similar) / total_similarity,
                # how close the category's members among the neighbours are to the article
                "similar_max": max((s for _, s in candidate.similar), default=0.0),
                "similar_top": float(sum(1 for t, _ in candidate.similar if t in top)),
                "support": math.log1p(votes),
                "vote_share": votes / neighbours,
                "name_sim": float(name_sim[i]),
                "name_rank": float(name_rank[i]),
                "name_gap": float(name_sim[i]) - best_name,
                "size_log": math.log1p(size) if size is not None else 0.0,
                "specificity": votes / (size + votes) if size is not None else 0.0,
                "has_size": 1.0 if size is not None else 0.0,
                "origin_link": 1.0 if candidate.linked else 0.0,
                "origin_similar": 1.0 if candidate.similar else 0.0,
                "origin_both": 1.0 if candidate.linked and candidate.similar else 0.0,
                "candidates_log": math.log1p(len(candidates)),
            })
        return rows

    @staticmethod
    def score_rows(rows: list[dict[str, float]], ranker: Ranker | None) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated score, raw score) per candidate."""
        if ranker is not None:
            return ranker.predict(rows)
        raw = np.array([CategoriesTask.score(row) for row in rows])
        return raw, raw

    @staticmethod
    def score(features: dict[str, float]) -> float:
        """The v1 hand-weighted score (no ranker trained for the backend)."""
        z = WEIGHTS["bias"] + sum(WEIGHTS[k] * features[k] for k in WEIGHTS if k != "bias")
        return round(sigmoid(z), 4)

    @staticmethod
    def evidence(candidate: Candidate, n_linked: int, n_similar: int) -> dict[str, list[int]]:
        found = {}
        if candidate.linked:
            found["linked"] = [len(candidate.linked), n_linked]
        if candidate.similar:
            found["similar"] = [len(candidate.similar), n_similar]
        return found

    @staticmethod
    def explain(candidate: Candidate, n_linked: int, n_similar: int) -> str:
        parts = []
        if candidate.linked:
            parts.append(f"in {len(candidate.linked)} of the {n_linked} linked articles")
        if candidate.similar:
            parts.append(f"in {len(candidate.similar)} of the {n_similar} most similar articles")
        return "; ".join(parts)


def implied_categories(source: PageSource, categories: list[str], candidates: list[str]) -> set[str]:
    """The parents and grandparents of ``categories`` (WP:SUBCAT: a page in a category is in its
    ancestors through it), where the source can tell. The candidates are asked about in the same
    question: a live wiki answers for both in one query, the later questions about the candidates
    come from that answer, and a parent among them brings its own parents. The parents not among
    them are asked about once more, for the grandparents."""
    known = _ask(source, "parent_categories", [*categories, *candidates], dict[str, list[str]]())
    parents = {wt.normalize_title(p) for c in categories for p in known.get(c, [])}
    unknown = sorted(p for p in parents if p not in known)
    known = {**known, **_ask(source, "parent_categories", unknown, dict[str, list[str]]())}
    return parents | {wt.normalize_title(g) for p in parents for g in known.get(p, [])}


def _ask(source: PageSource, method: str, names: list[str], default: T) -> T:
    """An optional question of the source about categories, or ``default`` when it has no answer."""
    if not names or not hasattr(source, method):
        return default
    answer: T = getattr(source, method)(names)
    return answer


def category_sizes(source: PageSource, names: list[str], exclude_title: str) -> dict[str, int] | None:
    """Member counts of the categories, not counting the page itself, when the source can tell
    (an optional ``category_sizes(names, exclude_title)`` method); None otherwise."""
    method: Callable[[list[str], str], dict[str, int]] | None = getattr(source, "category_sizes", None)
    return method(names, exclude_title) if method is not None else None
