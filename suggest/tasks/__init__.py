"""Suggestion tasks, each in its own module behind :class:`suggest.tasks.base.Task`."""

from __future__ import annotations

from typing import Any

from suggest.tasks.base import Task


def all_tasks(config: dict[str, Any] | None = None) -> dict[str, Task]:
    """Every task; ``config`` is the tool's configuration (the references task reads its
    citation-needed template names there)."""
    from suggest.tasks.categories import CategoriesTask
    from suggest.tasks.references import ReferencesTask

    tasks: list[Task] = [CategoriesTask(), ReferencesTask(config)]
    return {task.id: task for task in tasks}
