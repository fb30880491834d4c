"""Group commit: concurrent writers of one process share a transaction and its durable commit.

A caller hands its item to :meth:`GroupCommit.submit` and waits. One caller at a time leads: it
takes every item waiting at that moment, commits them together through ``commit_batch`` and wakes
their callers; then the next waiting caller leads the items that arrived meanwhile. No caller is
answered before the commit that carries its item, so an acknowledged write is as durable as if
it had had its own transaction; a batch costs one commit (one fsync with SQLite's
synchronous=FULL) instead of one per item.

``commit_batch`` gets the items in arrival order and returns one outcome per item: a result, or
the exception that caller gets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Waiter(Generic[Item, Result]):
    __slots__ = ("item", "outcome", "state", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.state = "waiting"  # -> "promoted" (lead the next batch) or "done"
        self.wake = threading.Event()
        self.outcome: Result | BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    def __init__(self, commit_batch: Callable[[Sequence[Item]], Sequence[Result | BaseException]],
                 max_batch: int = 64) -> None:
        self._commit_batch = commit_batch
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Waiter[Item, Result]] = []
        self._leading = False

    def submit(self, item: Item) -> Result:
        """Commit ``item`` with whatever else is waiting; its result once committed, or raise its
        exception."""
        outcome = self.submit_many([item])[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def submit_many(self, items: Sequence[Item]) -> list[Result | BaseException]:
        """Commit ``items`` (in one batch when they fit in one, else in consecutive ones) with
        whatever else is waiting; the outcome of each, once all are committed."""
        waiters: list[_Waiter[Item, Result]] = [_Waiter(item) for item in items]
        if not waiters:
            return []
        with self._lock:
            self._waiting.extend(waiters)  # together: a waiter is promoted only once those
            lead = not self._leading       # before it are done, so waiting in order is safe
            self._leading = True
        if lead:
            self._lead()
        for waiter in waiters:
            while waiter.state != "done":
                waiter.wake.wait()
                waiter.wake.clear()
                if waiter.state == "promoted":
                    self._lead()
        return [w.outcome for w in waiters]  # type: ignore[misc]  # set for every done waiter

    def _lead(self) -> None:
        """Commit the waiting items (up to max_batch), then hand the lead to the next waiter."""
        with self._lock:
            batch = self._waiting[:self._max_batch]
            del self._waiting[:self._max_batch]
        try:
            outcomes: Sequence[Result | BaseException] = self._commit_batch([w.item for w in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError("commit_batch returned a different number of outcomes")
        except BaseException as failure:  # noqa: BLE001 - every caller in the batch gets it
            outcomes = [failure] * len(batch)
        for waiter, outcome in zip(batch, outcomes, strict=True):
            waiter.outcome = outcome
            waiter.state = "done"
            waiter.wake.set()
        with self._lock:
            if self._waiting:
                self._waiting[0].state = "promoted"
                self._waiting[0].wake.set()
            else:
                self._leading = False
