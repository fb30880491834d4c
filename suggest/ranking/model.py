"""Load and apply a ranker file: standardised logistic regression + isotonic calibration.

One file per task and backend: ``suggest/data/category-ranker-<backend>.json`` (categories) and
``suggest/data/references-ranker-<backend>.json`` (references). The file is JSON, so loading it runs
no code. Its ``checksum`` covers everything else in the file and is verified on load.
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

FORMAT_VERSION = 1
# task id -> (file format name, file name prefix)
TASK_FILES = {"categories": ("wiki-suggest/category-ranker", "category-ranker"),
              "references": ("wiki-suggest/references-ranker", "references-ranker")}
FORMAT = TASK_FILES["categories"][0]
DATA_DIR = Path(str(resources.files("suggest") / "data"))


class RankerError(ValueError):
    """A ranker file that is malformed or whose checksum does not match its content."""


def content_checksum(document: Mapping[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def format_of(task: str) -> str:
    if task not in TASK_FILES:
        raise RankerError(f"no ranker format for task {task!r}")
    return TASK_FILES[task][0]


def ranker_path(backend_id: str, directory: str | Path | None = None, task: str = "categories") -> Path:
    if task not in TASK_FILES:
        raise RankerError(f"no ranker files for task {task!r}")
    return Path(directory or DATA_DIR) / f"{TASK_FILES[task][1]}-{backend_id}.json"


def rankers_digest(directory: str | Path | None = None, task: str = "categories") -> str:
    """A short digest of every ranker file of ``task`` in ``directory``: part of a task's version,
    so retraining invalidates cached suggestions."""
    digest = hashlib.sha256()
    prefix = TASK_FILES[task][1]
    for path in sorted(Path(directory or DATA_DIR).glob(f"{prefix}-*.json")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:8]


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
    task: str = "categories"

    @classmethod
    def from_document(cls, document: dict[str, Any], task: str | None = None) -> Ranker:
        """The ranker a file describes; with ``task``, only a file of that task is accepted."""
        found = next((t for t, (fmt, _) in TASK_FILES.items() if document.get("format") == fmt), None)
        if found is None or document.get("format_version") != FORMAT_VERSION:
            raise RankerError("not a ranker file")
        if task is not None and found != task:
            raise RankerError(f"a {found} ranker file, not a {task} one")
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
                   str(document["checksum"]), document, found)

    @classmethod
    def load(cls, path: str | Path, task: str | None = None) -> Ranker:
        with open(path, encoding="utf-8") as handle:
            return cls.from_document(json.load(handle), task)

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


_CACHE: dict[Path, tuple[tuple[int, int], Ranker | None]] = {}


def load_ranker(backend_id: str, directory: str | Path | None = None,
                task: str = "categories") -> Ranker | None:
    """The ranker of ``task`` trained for ``backend_id``, or None when there is none (loaded once
    per file version; a damaged file raises RankerError rather than silently ranking by hand
    weights)."""
    path = ranker_path(backend_id, directory, task)
    if not path.is_file():
        return None
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)  # a refit within the clock's tick: other size
    cached = _CACHE.get(path)
    if cached is None or cached[0] != version:
        cached = (version, Ranker.load(path, task))
        _CACHE[path] = cached
    return cached[1]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))
