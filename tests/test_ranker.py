# SPDX-License-Identifier: GPL-3.0-or-later
"""The learned ranker: deterministic training, calibration, a safe file format, use by the task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from suggest.backends.base import BackendInfo
from suggest.ranking.model import Ranker, RankerError, load_ranker, ranker_path
from suggest.ranking.train import fit, write
from suggest.tasks.categories import FEATURES, CategoriesTask

INFO = BackendInfo(id="tfidf", model="m", version="1", checksum="sha256:0", licence="-",
                   model_card="-", hosting_tier="local", data_flow="-")


def _data(seed: int, n: int) -> tuple[list[dict[str, float]], list[bool]]:
    """Synthetic candidates: the more (weighted) votes, the likelier correct."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for _ in range(n):
        row = {f: float(rng.random()) for f in FEATURES}
        p = 1 / (1 + np.exp(-(6 * row["similar_share"] + 3 * row["link_share"] - 5)))
        rows.append(row)
        labels.append(bool(rng.random() < p))
    return rows, labels


def test_training_is_deterministic_and_calibrated() -> None:
    train, dev = _data(1, 2000), _data(2, 1500)
    first = fit(*train, *dev, INFO, [{"file": "x", "sha256": "0"}])
    second = fit(*train, *dev, INFO, [{"file": "x", "sha256": "0"}])
    assert first == second and first["checksum"] == second["checksum"]
    assert first["calibration"]["method"].startswith("isotonic")
    ranker = Ranker.from_document(first)
    assert ranker.coef[list(FEATURES).index("similar_share")] > 0
    calibrated, raw = ranker.predict(dev[0])
    assert np.all((calibrated >= 0) & (calibrated <= 1))
    # isotonic on dev: monotone in the raw score, and its mean equals the dev rate of correct ones
    order = np.argsort(raw)
    assert np.all(np.diff(calibrated[order]) >= -1e-9)
    assert abs(calibrated.mean() - np.mean(dev[1])) < 0.01
    # and it holds on fresh data from the same distribution (10 bins, well-populated ones)
    test_rows, test_labels = _data(3, 4000)
    scores, _ = ranker.predict(test_rows)
    bins = np.minimum((scores * 5).astype(int), 4)
    for b in range(5):
        inside = bins == b
        if inside.sum() > 200:
            assert abs(scores[inside].mean() - np.mean(np.array(test_labels)[inside])) < 0.1


def test_ranker_file_is_json_and_checked(tmp_path: Path) -> None:
    document = fit(*_data(1, 500), *_data(2, 300), INFO, [])
    path = write(document, tmp_path)
    assert path == ranker_path("tfidf", tmp_path)
    loaded = load_ranker("tfidf", tmp_path)
    assert loaded is not None and loaded.checksum == document["checksum"]
    assert load_ranker("no-such-backend", tmp_path) is None
    tampered = json.loads(path.read_text())
    tampered["coef"][0] += 1.0
    with pytest.raises(RankerError, match="checksum"):
        Ranker.from_document(tampered)
    with pytest.raises(RankerError):
        Ranker.from_document({"format": "pickle"})


def test_a_ranker_rewritten_within_the_same_clock_tick_is_loaded_again(tmp_path: Path) -> None:
    """A refit can rewrite the file with the same modification time (coarse file system clocks,
    or a copy that keeps times): the other size still tells it is another file."""
    import os

    path = write(fit(*_data(1, 500), *_data(2, 300), INFO, []), tmp_path)
    first = load_ranker("tfidf", tmp_path)
    stamp = path.stat().st_mtime_ns
    refit = fit(*_data(3, 400), *_data(4, 300), INFO, [{"file": "another dump"}])
    write(refit, tmp_path)
    os.utime(path, ns=(stamp, stamp))
    again = load_ranker("tfidf", tmp_path)
    assert first is not None and again is not None
    assert again.checksum == refit["checksum"] != first.checksum


def test_task_scores_with_the_ranker_and_versions_it(tmp_path: Path) -> None:
    before = CategoriesTask(tmp_path).version
    write(fit(*_data(1, 500), *_data(2, 300), INFO, []), tmp_path)
    task = CategoriesTask(tmp_path)
    assert task.version != before
    ranker = load_ranker("tfidf", tmp_path)
    rows = _data(5, 10)[0]
    scores, raw = task.score_rows(rows, ranker)
    assert ranker is not None
    np.testing.assert_allclose(scores, ranker.predict(rows)[0])
    # without a ranker the v1 hand weights still give a probability
    fallback, _ = task.score_rows(rows, None)
    assert np.all((fallback > 0) & (fallback < 1))
