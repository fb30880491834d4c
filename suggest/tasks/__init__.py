"""Suggestion tasks, each in its own module behind :class:`suggest.tasks.base.Task`."""

from __future__ import annotations

from suggest.tasks.base import Task


def all_tasks() -> dict[str, Task]:
    from suggest.tasks.categories import CategoriesTask
    from suggest.tasks.references import ReferencesTask

    tasks: list[Task] = [CategoriesTask(), ReferencesTask()]
    return {task.id: task for task in tasks}
