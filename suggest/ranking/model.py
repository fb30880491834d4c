"""Load and apply a category ranker file: standardised logistic regression + isotonic calibration.

The file is JSON (``suggest/data/category-ranker-<backend>.json``), so loading it runs no code. Its
``checksum`` covers everything else in the file and is verified on load.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "wiki-suggest/category-ranker"
FORMAT_VERSION = 1
DATA_DIR = Path(str(resources.files("suggest") / "data"))


class RankerError(ValueError):
    """A ranker file that is malformed or whose checksum does not match its content."""


def content_checksum(document: Mapping[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def ranker_path(backend_id: str, directory: str | Path | None = None) -> Path:
    return Path(directory or DATA_DIR) / f"category-ranker-{backend_id}.json"


@dataclass(frozen=True)
class Ranker:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calibration_x: np.ndarray
    calibration_y: np.ndarray
    defaults: dict[str, float]
    checksum: str
    document: dict[str, Any]

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Ranker:
        if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
            raise RankerError("not a category ranker file")
        if content_checksum(document) != document.get("checksum"):
            raise RankerError("ranker checksum does not match its content")
        try:
            features = tuple(str(f) for f in document["features"])
            arrays = [np.asarray(document[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
            cal = document["calibration"]
            cx, cy = (np.asarray(cal[k], dtype=np.float64) for k in ("x", "y"))
            intercept = float(document["intercept"])
        except (KeyError, TypeError, ValueError) as error:
            raise RankerError(f"malformed ranker file: {error}") from error
        if any(a.shape != (len(features),) for a in arrays) or cx.shape != cy.shape or cx.size < 2 \
                or not all(np.isfinite(a).all() for a in (*arrays, cx, cy)) or np.any(np.diff(cx) < 0):
            raise RankerError("malformed ranker file: inconsistent arrays")
        return cls(features, arrays[0], np.where(arrays[1] > 0, arrays[1], 1.0), arrays[2], intercept,
                   cx, cy, {k: float(v) for k, v in document.get("defaults", {}).items()},
                   str(document["checksum"]), document)

    @classmethod
    def load(cls, path: str | Path) -> Ranker:
        with open(path, encoding="utf-8") as handle:
            return cls.from_document(json.load(handle))

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Feature rows in the model's column order; a missing feature takes its default."""
        return np.array([[float(row.get(f, self.defaults.get(f, 0.0))) for f in self.features]
                         for row in rows], dtype=np.float64).reshape(len(rows), len(self.features))

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated probabilities of the logistic model."""
        z = self.intercept + ((x - self.mean) / self.scale) @ self.coef
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Isotonic calibration: the dev split's observed precision at each raw score."""
        return np.clip(np.interp(raw, self.calibration_x, self.calibration_y), 0.0, 1.0)

    def predict(self, rows: Sequence[Mapping[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated probability, raw probability) per row; the raw one breaks ties in rank."""
        raw = self.raw(self.matrix(rows))
        return self.calibrate(raw), raw


_CACHE: dict[Path, tuple[float, Ranker | None]] = {}


def load_ranker(backend_id: str, directory: str | Path | None = None) -> Ranker | None:
    """The ranker trained for ``backend_id``, or None when there is none (loaded once per file
    version; a damaged file raises RankerError rather than silently ranking by hand weights)."""
    path = ranker_path(backend_id, directory)
    if not path.is_file():
        return None
    mtime = path.stat().st_mtime
    cached = _CACHE.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, Ranker.load(path))
        _CACHE[path] = cached
    return cached[1]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))
