# SPDX-License-Identifier: GPL-3.0-or-later
"""The service's memory of passage vectors answers exactly what the backend would."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from suggest.backends.base import BackendInfo
from suggest.backends.memo import MemoBackend
from suggest.backends.tfidf import CharNgramBackend


class Counting:
    def __init__(self) -> None:
        self.info = BackendInfo(id="fake", model="fake", version="1", checksum="sha256:0",
                                licence="-", model_card="-", hosting_tier="local", data_flow="-")
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        self.seen += list(texts)
        rows = np.array([[len(t), sum(map(ord, t)) % 97, 1.0 if kind == "query" else 0.0]
                         for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_each_name_is_embedded_once_and_rows_match_the_backend() -> None:
    inner = Counting()
    memo = MemoBackend(inner)
    first = memo.embed(["Birds", "Cats", "Birds"])
    second = memo.embed(["Dogs", "Cats"])
    assert inner.seen == ["Birds", "Cats", "Dogs"]
    expected = Counting()
    assert np.array_equal(first, expected.embed(["Birds", "Cats", "Birds"]))
    assert np.array_equal(second, expected.embed(["Dogs", "Cats"]))


def test_queries_are_never_remembered_and_the_memory_is_bounded() -> None:
    inner = Counting()
    memo = MemoBackend(inner, max_items=2)
    memo.embed(["a lead"], "query")
    memo.embed(["a lead"], "query")
    assert inner.seen == ["a lead", "a lead"]
    memo.embed(["x", "y", "z"])
    memo.embed(["x"])
    assert inner.seen[-1] == "x"  # the oldest was forgotten


def test_sparse_backends_pass_through() -> None:
    backend = CharNgramBackend()
    memo = MemoBackend(backend)
    got = memo.embed(["Birds", "Cats"])
    assert (got != backend.embed(["Birds", "Cats"])).nnz == 0
