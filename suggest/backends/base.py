"""The backend interface: turn texts into L2-normalised vectors and describe the model honestly."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from scipy import sparse

HostingTier = Literal["local", "community", "external"]
Matrix = Any  # a dense np.ndarray or a scipy sparse matrix, rows L2-normalised


@dataclass(frozen=True)
class BackendInfo:
    """What the response meta and the tool card say about a backend."""

    id: str
    model: str
    version: str
    checksum: str
    licence: str
    model_card: str
    hosting_tier: HostingTier
    # Where the texts given to the backend go, in plain words.
    data_flow: str
    languages: str = "multilingual"
    limitations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Backend(Protocol):
    info: BackendInfo

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        """One L2-normalised row per text."""
        ...


def similarity(a: Matrix, b: Matrix) -> np.ndarray:
    """Cosine similarities (rows of ``a`` × rows of ``b``) as a dense array clipped to [0, 1]."""
    product = a @ b.T
    dense = product.toarray() if sparse.issparse(product) else np.asarray(product)
    return np.clip(dense, 0.0, 1.0)


def file_checksum(path: str | Path, length: int = 16) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()[:length]
