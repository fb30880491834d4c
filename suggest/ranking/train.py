"""Train the category ranker: ``python -m suggest.ranking.train --dump FILE ... [--backend NAME ...]``.

For each backend, the categories task extracts candidate features from every dump's articles
(leave-one-out, see :mod:`suggest.evaluate.harness`); a logistic regression is fitted on the
train split of all dumps together, and its isotonic calibration on out-of-fold scores of the train
split (grouped by article), because the dev split chooses the thresholds. The test split is never
read. The result is deterministic for the same dumps and backend weights and is written as JSON
with its own checksum and the sha256 of every dump it learned from.

The references ranker is fitted by the same :func:`fit` (``task="references"``) from
``python -m suggest.evaluate --task references --train``, calibrated the same way.
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
from suggest.ranking.model import DATA_DIR, FORMAT_VERSION, Ranker, content_checksum, format_of, ranker_path
from suggest.tasks.categories import FEATURES

log = logging.getLogger(__name__)
C = 1.0
DIGITS = 8
CV_FOLDS = 5
CATEGORY_DEFAULTS = {"size_log": 0.0, "specificity": 0.0, "has_size": 0.0}


def _round(values: Any) -> list[float]:
    return [round(float(v), DIGITS) for v in np.asarray(values).ravel()]


def _logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=5000, solver="lbfgs")
    model.fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def _out_of_fold(x: np.ndarray, y: np.ndarray, groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(raw score, label) of every train row from a model that did not see its group (article);
    rows of a fold whose training part has a single class are left out."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups))
    if n_groups < 2:
        return np.zeros(0), np.zeros(0)
    raw, labels = [], []
    for fit_at, held_at in GroupKFold(n_splits=min(CV_FOLDS, n_groups)).split(x, y, list(groups)):
        if len(set(y[fit_at].tolist())) < 2:
            continue
        coef, intercept = _logistic(x[fit_at], y[fit_at])
        raw.append(1.0 / (1.0 + np.exp(-np.clip(intercept + x[held_at] @ coef, -40, 40))))
        labels.append(y[held_at])
    return (np.concatenate(raw), np.concatenate(labels)) if raw else (np.zeros(0), np.zeros(0))


def fit(train_rows: Sequence[Mapping[str, float]], train_labels: Sequence[bool],
        dev_rows: Sequence[Mapping[str, float]], dev_labels: Sequence[bool],
        backend: BackendInfo, datasets: list[dict[str, Any]],
        features: Sequence[str] = FEATURES, *, task: str = "categories",
        train_groups: Sequence[str] | None = None,
        defaults: Mapping[str, float] | None = None) -> dict[str, Any]:
    """A ranker document (see :class:`suggest.ranking.model.Ranker`) from labelled feature rows.

    Calibration (isotonic) is fitted on the dev rows, or, given ``train_groups`` (the article of
    each train row), on out-of-fold scores of the train split: then the dev split stays untouched
    for choosing thresholds."""
    from sklearn.isotonic import IsotonicRegression

    def matrix(rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array([[float(r.get(f, 0.0)) for f in features] for r in rows],
                        dtype=np.float64).reshape(len(rows), len(features))

    x, y = matrix(train_rows), np.asarray(train_labels, dtype=int)
    if len(set(y.tolist())) < 2:
        raise ValueError("training needs both correct and wrong candidates")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    coef, intercept = _logistic((x - mean) / scale, y)
    where = "out-of-fold on train, by article" if train_groups is not None else "on dev"
    document: dict[str, Any] = {
        "format": format_of(task), "format_version": FORMAT_VERSION, "task": task,
        "backend": {"id": backend.id, "model": backend.model, "version": backend.version,
                    "checksum": backend.checksum},
        "model": f"logistic regression (C={C}) on standardised features, isotonic calibration {where}",
        "features": list(features), "mean": _round(mean), "scale": _round(scale),
        "coef": _round(coef), "intercept": round(intercept, DIGITS),
        "calibration": {"method": "identity", "x": [0.0, 1.0], "y": [0.0, 1.0]},
        "defaults": dict(CATEGORY_DEFAULTS if defaults is None and task == "categories" else defaults or {}),
        "training": {"app_version": __version__, "datasets": datasets,
                     "train_candidates": len(train_rows), "train_positives": int(y.sum()),
                     "dev_candidates": len(dev_rows), "dev_positives": int(sum(map(bool, dev_labels)))},
    }
    if train_groups is not None:
        raw, labels = _out_of_fold((x - mean) / scale, y, train_groups)
        document["training"]["calibration_rows"] = int(len(raw))
        method = "isotonic (out-of-fold on the train split, by article)"
    else:
        uncalibrated = Ranker.from_document({**document, "checksum": content_checksum(document)})
        raw = uncalibrated.raw(uncalibrated.matrix(dev_rows)) if dev_rows else np.zeros(0)
        labels = np.asarray(dev_labels, dtype=float)
        method = "isotonic (dev split)"
    if len(raw) and len(set(np.asarray(labels, dtype=int).tolist())) == 2:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        iso.fit(raw, np.asarray(labels, dtype=float))
        xs, ys = _round(iso.X_thresholds_), _round(iso.y_thresholds_)
        if len(xs) >= 2:
            document["calibration"] = {"method": method, "x": xs, "y": ys}
    document["checksum"] = content_checksum(document)
    return document


def write(document: dict[str, Any], directory: str | Path | None = None) -> Path:
    path = ranker_path(document["backend"]["id"], directory or DATA_DIR, document.get("task", "categories"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    from suggest.evaluate.__main__ import default_backends, run_training
    from suggest.evaluate.harness import check_backends, check_dumps, check_limit, load_wiki

    parser = argparse.ArgumentParser(prog="python -m suggest.ranking.train", description=__doc__)
    parser.add_argument("--dump", action="append", required=True, help="XML dump (.xml, .bz2, .xz)")
    parser.add_argument("--backend", action="append", help="backend(s) to train for (default: all)")
    parser.add_argument("--out-dir", default=str(DATA_DIR), help="where the ranker files go")
    parser.add_argument("--cache-dir", default="var/cache/embeddings", help="embedding cache ('' = off)")
    parser.add_argument("--limit", type=int, default=None, help="articles per dump (for quick runs)")
    args = parser.parse_args(argv)
    names = args.backend or default_backends()
    check_dumps(parser, args.dump)
    check_backends(parser, names)
    check_limit(parser, args.limit)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    wikis = [load_wiki(path, args.limit) for path in args.dump]
    for path in run_training(wikis, names, args.out_dir, args.cache_dir or None):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
