"""Per-process memory of passage vectors (category names), so that a name embedded for one article
is not embedded again for the next. One memo wraps one backend instance: a new model (checksum)
means a new backend and an empty memo. Dense backends only (sparse ones are cheaper to recompute)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal

import numpy as np

from suggest.backends.base import Backend, BackendInfo, Matrix

MAX_ITEMS = 20_000  # about 30 MB of 384-dimensional float32 rows
MAX_CHARS = 300  # only short passages (names) are remembered


class MemoBackend:
    def __init__(self, backend: Backend, max_items: int = MAX_ITEMS) -> None:
        self.backend = backend
        self.info: BackendInfo = backend.info
        self.max_items = max_items
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._dense: bool | None = None

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        if kind != "passage" or self._dense is False or not texts:
            return self.backend.embed(texts, kind)
        with self._lock:
            known = {t: self._rows[t] for t in texts if t in self._rows}
            for text in known:
                self._rows.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            computed = self.backend.embed(missing, kind)
            if not isinstance(computed, np.ndarray):  # sparse: not worth remembering
                self._dense = False
                return computed if len(missing) == len(texts) else self.backend.embed(texts, kind)
            self._dense = True
            self._remember(missing, computed)
            if len(missing) == len(texts):  # nothing known, no repeats: the model's own answer
                return computed
            known.update(zip(missing, computed, strict=True))
        return np.vstack([known[t] for t in texts])

    def _remember(self, texts: list[str], matrix: np.ndarray) -> None:
        with self._lock:
            for text, row in zip(texts, matrix, strict=True):
                if len(text) <= MAX_CHARS:
                    self._rows[text] = row
            while len(self._rows) > self.max_items:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
