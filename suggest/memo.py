"""A bounded memo for hot paths: remembered values up to a size, forgotten all at once when full.

Emptying at once costs nothing per lookup (no LRU bookkeeping); what is still in use is simply
remembered again on its next miss. Used for values that never go stale, or that carry what they
depend on in their key (hashes, validated queries, computed suggestions, per-page lookups).
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def keep(self, key: K, value: V) -> V:
        """Remember ``value`` under ``key`` (emptying the memo first if it is full); returns it."""
        if len(self) >= self.size and key not in self:
            self.clear()
        self[key] = value
        return value
