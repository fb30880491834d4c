"""The task interface: one clearly defined suggestion task per module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from suggest.backends.base import Backend
from suggest.wiki.source import Page, PageSource


@dataclass(frozen=True)
class Reason:
    """A structured rejection reason an editor can pick with one click."""

    id: str
    label: str


@dataclass
class Suggestion:
    """One proposed change, before the service gives it an id."""

    task: str
    label: str  # what an editor reads: the category name, the reference's title
    wikitext: str  # exactly what gets inserted
    score: float  # calibrated-ish confidence in [0, 1]
    explanation: str  # why, in words ("in 4 of the 7 linked articles")
    insert: dict[str, Any] = field(default_factory=dict)  # where the gadget puts the wikitext
    features: dict[str, float] = field(default_factory=dict)  # kept for audit and training
    # The explanation's numbers, so that a client can say it in the editor's language,
    # e.g. {"linked": [4, 7]} for "in 4 of the 7 linked articles".
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def confidence(self) -> str:
        return "high" if self.score >= 0.75 else "medium" if self.score >= 0.5 else "low"


@dataclass(frozen=True)
class TaskSettings:
    """Per-wiki knobs a task is run with (from configuration and the community's page)."""

    threshold: float
    max_suggestions: int
    never_suggest: frozenset[str] = frozenset()


class Task(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def definition(self) -> str:
        """One sentence: what the task proposes and what it never does."""
        ...
    @property
    def reasons(self) -> tuple[Reason, ...]: ...


    def suggest(self, page: Page, source: PageSource, backend: Backend,
                settings: TaskSettings) -> list[Suggestion]:
        """Suggestions for ``page``, best first, at most ``settings.max_suggestions``."""
        ...
