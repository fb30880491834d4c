"""Train the category ranker: ``python -m suggest.ranking.train --dump FILE ... [--backend NAME ...]``.

For each backend, the categories task extracts candidate features from every dump's articles
(leave-one-out, see :mod:`suggest.evaluate.harness`); a logistic regression is fitted on the
train split of all dumps together, and isotonic calibration on the dev split. The test split is
never read. The result is deterministic for the same dumps and backend weights and is written as
JSON with its own checksum and the sha256 of every dump it learned from.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from suggest import __version__
from suggest.backends.base import BackendInfo
from suggest.ranking.model import DATA_DIR, FORMAT, FORMAT_VERSION, Ranker, content_checksum, ranker_path
from suggest.tasks.categories import FEATURES

log = logging.getLogger(__name__)
C = 1.0
DIGITS = 8


def _round(values: Any) -> list[float]:
    return [round(float(v), DIGITS) for v in np.asarray(values).ravel()]


def fit(train_rows: Sequence[Mapping[str, float]], train_labels: Sequence[bool],
        dev_rows: Sequence[Mapping[str, float]], dev_labels: Sequence[bool],
        backend: BackendInfo, datasets: list[dict[str, Any]],
        features: Sequence[str] = FEATURES) -> dict[str, Any]:
    """A ranker document (see :class:`suggest.ranking.model.Ranker`) from labelled feature rows."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    def matrix(rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array([[float(r.get(f, 0.0)) for f in features] for r in rows],
                        dtype=np.float64).reshape(len(rows), len(features))

    x, y = matrix(train_rows), np.asarray(train_labels, dtype=int)
    if len(set(y.tolist())) < 2:
        raise ValueError("training needs both correct and wrong candidates")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=5000, solver="lbfgs")
    model.fit((x - mean) / scale, y)
    document: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "task": "categories",
        "backend": {"id": backend.id, "model": backend.model, "version": backend.version,
                    "checksum": backend.checksum},
        "model": f"logistic regression (C={C}) on standardised features, isotonic calibration on dev",
        "features": list(features), "mean": _round(mean), "scale": _round(scale),
        "coef": _round(model.coef_[0]), "intercept": round(float(model.intercept_[0]), DIGITS),
        "calibration": {"method": "identity", "x": [0.0, 1.0], "y": [0.0, 1.0]},
        "defaults": {"size_log": 0.0, "specificity": 0.0, "has_size": 0.0},
        "training": {"app_version": __version__, "datasets": datasets,
                     "train_candidates": len(train_rows), "train_positives": int(y.sum()),
                     "dev_candidates": len(dev_rows), "dev_positives": int(sum(map(bool, dev_labels)))},
    }
    document["checksum"] = content_checksum(document)
    uncalibrated = Ranker.from_document(document)
    if dev_rows and len(set(map(bool, dev_labels))) == 2:
        raw = uncalibrated.raw(uncalibrated.matrix(dev_rows))
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        iso.fit(raw, np.asarray(dev_labels, dtype=float))
        xs, ys = _round(iso.X_thresholds_), _round(iso.y_thresholds_)
        if len(xs) >= 2:
            document["calibration"] = {"method": "isotonic (dev split)", "x": xs, "y": ys}
    document["checksum"] = content_checksum(document)
    return document


def write(document: dict[str, Any], directory: str | Path | None = None) -> Path:
    path = ranker_path(document["backend"]["id"], directory or DATA_DIR)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    from suggest.evaluate.__main__ import default_backends, run_training
    from suggest.evaluate.harness import load_wiki

    parser = argparse.ArgumentParser(prog="python -m suggest.ranking.train", description=__doc__)
    parser.add_argument("--dump", action="append", required=True, help="XML dump (.xml, .bz2, .xz)")
    parser.add_argument("--backend", action="append", help="backend(s) to train for (default: all)")
    parser.add_argument("--out-dir", default=str(DATA_DIR), help="where the ranker files go")
    parser.add_argument("--cache-dir", default="var/cache/embeddings", help="embedding cache ('' = off)")
    parser.add_argument("--limit", type=int, default=None, help="articles per dump (for quick runs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    wikis = [load_wiki(path, args.limit) for path in args.dump]
    for path in run_training(wikis, args.backend or default_backends(), args.out_dir,
                             args.cache_dir or None):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
