# SPDX-License-Identifier: GPL-3.0-or-later
"""The learned references ranker as committed (suggest/data/references-ranker-*.json): a checked file,
calibrated scores, what the task ranks first on real wikitext, and the evaluated thresholds the
service reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from suggest.backends.tfidf import CharNgramBackend
from suggest.config import DEFAULTS
from suggest.ranking.model import DATA_DIR, Ranker, RankerError, load_ranker, ranker_path
from suggest.ranking.thresholds import operating_threshold
from suggest.tasks.reference_features import HAND_WEIGHTS, hand_score
from suggest.tasks.references import FEATURES, ReferencesTask, citation_needed_names
from suggest.wiki import references as refs

FIXTURES = Path(__file__).parent / "fixtures" / "references"
BACKENDS = ("tfidf", "e5-multilingual-offline")


def committed(backend: str) -> Ranker:
    ranker = load_ranker(backend, DATA_DIR, "references")
    assert ranker is not None, f"suggest/data/references-ranker-{backend}.json is committed"
    return ranker


@pytest.mark.parametrize("backend", BACKENDS)
def test_committed_model_loads_and_its_checksum_is_verified(backend: str, tmp_path: Path) -> None:
    ranker = committed(backend)
    assert ranker.task == "references" and ranker.features == FEATURES
    assert ranker.document["backend"]["id"] == backend
    assert ranker.document["calibration"]["method"].startswith("isotonic (out-of-fold")
    document = json.loads(ranker_path(backend, DATA_DIR, "references").read_text(encoding="utf-8"))
    tampered = {**document, "coef": [c + 0.5 for c in document["coef"]]}
    with pytest.raises(RankerError, match="checksum"):
        Ranker.from_document(tampered)
    with pytest.raises(RankerError, match="categories ranker file"):  # a file of another task
        Ranker.load(ranker_path(backend, DATA_DIR, "categories"), "references")
    path = ranker_path(backend, tmp_path, "references")
    path.write_text(json.dumps(tampered), encoding="utf-8")
    with pytest.raises(RankerError):
        load_ranker(backend, tmp_path, "references")  # a damaged file is an error, not hand weights


@pytest.mark.parametrize("backend", BACKENDS)
def test_scores_are_probabilities_monotone_in_the_decision_function(backend: str) -> None:
    ranker = committed(backend)
    rng = np.random.default_rng(7)
    rows = [{f: float(rng.random()) * (3.0 if f in ("uses", "article_refs") else 1.0) for f in FEATURES}
            for _ in range(3000)]
    calibrated, raw = ranker.predict(rows)
    assert np.all((calibrated >= 0.0) & (calibrated <= 1.0))
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(calibrated[order]) >= -1e-12)
    assert calibrated.max() > calibrated.min()  # not a constant
    # the calibration table itself is a non-decreasing map into [0, 1]
    assert ranker.document["training"]["train_positives"] > 100
    assert np.all(np.diff(ranker.calibration_y) >= 0) and 0 <= ranker.calibration_y.min()
    assert ranker.calibration_y.max() <= 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_own_references_get_the_calibrated_probability_linked_ones_the_train_rate(backend: str) -> None:
    """The ranker was fitted on the article's own references; a linked article's reference gets the
    rate of hits the train split shows for them (Laplace-smoothed) and is ordered by the hand score."""
    ranker = committed(backend)
    linked = ranker.document["linked"]
    rate = (linked["train_hits"] + 1) / (linked["train_candidates"] + 2)
    assert linked["probability"] == pytest.approx(rate, abs=1e-8)
    task = ReferencesTask()

    class Backend:
        info = type("Info", (), {"id": backend})()

    rng = np.random.default_rng(3)
    rows = [{f: float(rng.random()) for f in FEATURES} | {"in_article": float(i % 2)} for i in range(40)]
    scores, tie_break = task.scores(rows, Backend())  # type: ignore[arg-type]
    calibrated, raw = ranker.predict(rows)
    for i, row in enumerate(rows):
        if row["in_article"] == 1.0:
            assert (scores[i], tie_break[i]) == pytest.approx((calibrated[i], raw[i]))
        else:
            assert (scores[i], tie_break[i]) == pytest.approx((linked["probability"], hand_score(row)))


def _reuse_case(name: str, key: str, use: int) -> tuple[refs.ArticleReferences, int]:
    """The article with one citation of ``key`` removed (as the evaluation does) and the index of
    the sentence that lost it."""
    text = (FIXTURES / f"{name}.wiki").read_text(encoding="utf-8")
    names = citation_needed_names("en")
    original = refs.parse_article(text, names)
    statement = original.statements[original.references[key].uses[use]]
    citation = next(c for c in statement.citations if c.key == key)
    edited = refs.parse_article(refs.remove_citation(text, original, citation), names)
    at = next(i for i, s in enumerate(edited.statements) if s.start == statement.start)
    assert not any(c.key == key for c in edited.statements[at].citations)
    return edited, at


def _ranked(edited: refs.ArticleReferences, at: int, backend: Any) -> list[tuple[str, float]]:
    """(reference key, calibrated score) of every candidate, best first, as the task ranks them."""
    task = ReferencesTask()
    candidates = task.candidates(edited, at, {})
    scores, raw = task.scores(task.features(edited, at, candidates, backend), backend)
    order = np.lexsort((raw, scores))[::-1]
    return [(candidates[i].reference.key, float(scores[i])) for i in order]


@pytest.mark.parametrize("use", [0, 1])
def test_committed_model_ranks_the_reused_reference_first_on_real_wikitext(use: int) -> None:
    """enwiki "Albedo": the named reference "Winston" is cited twice; with one citation removed,
    the committed tfidf ranker puts it first among the article's other sources."""
    edited, at = _reuse_case("enwiki-39", "name:/Winston", use)
    ranked = _ranked(edited, at, CharNgramBackend())
    assert len(ranked) > 20  # a real choice among the article's sources
    assert ranked[0][0] == "name:/Winston"
    assert 0.0 < ranked[0][1] <= 1.0 and ranked[0][1] >= ranked[1][1]


def test_task_version_follows_the_ranker_files_and_falls_back(tmp_path: Path) -> None:
    empty = ReferencesTask(ranker_dir=tmp_path)
    backend = CharNgramBackend()
    assert empty.ranker(backend) is None  # no file at all: the documented hand weights score
    rows = [dict.fromkeys(FEATURES, 0.5)]
    scores, _ = empty.scores(rows, backend)
    z = HAND_WEIGHTS["bias"] + sum(w * 0.5 for k, w in HAND_WEIGHTS.items() if k != "bias")
    assert scores[0] == pytest.approx(1 / (1 + np.exp(-z)))
    shutil.copy(ranker_path("tfidf", DATA_DIR, "references"), tmp_path)
    with_file = ReferencesTask(ranker_dir=tmp_path)
    assert with_file.version != empty.version
    assert with_file.ranker(backend) is not None

    class Other:  # a backend with no ranker of its own is scored by the tfidf one
        info = type("Info", (), {"id": "no-such-backend"})()

    assert with_file.ranker(Other()) is with_file.ranker(backend)  # type: ignore[arg-type]
    path = ranker_path("tfidf", tmp_path, "references")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["intercept"] += 0.25
    from suggest.ranking.model import content_checksum

    document["checksum"] = content_checksum(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    assert ReferencesTask(ranker_dir=tmp_path).version not in (with_file.version, empty.version)


def test_service_reads_the_evaluated_references_thresholds() -> None:
    """suggest/data/thresholds.json as committed: the per-wiki threshold the references evaluation
    chose on dev is what the service runs with; an unknown wiki gets the global one."""
    evaluated = json.loads((DATA_DIR / "thresholds.json").read_text(encoding="utf-8"))
    per_backend = evaluated["by_backend"]["references"]
    assert set(per_backend) >= set(BACKENDS)
    results = json.loads((DATA_DIR.parent.parent / "eval" / "references-results.json").read_text(
        encoding="utf-8"))
    for backend in BACKENDS:
        config = {**DEFAULTS, "BACKEND": backend, "WIKIS": {}}
        assert per_backend[backend] == results["thresholds"][backend]
        for wiki, value in per_backend[backend].items():
            assert operating_threshold(config, "references", wiki) == value
        assert operating_threshold(config, "references", "xxwiki") == DEFAULTS["THRESHOLD"]
    default = evaluated["backend"]["references"]
    assert evaluated["tasks"]["references"] == per_backend[default]
    # the categories entries are still there, and still what categories reads
    config = {**DEFAULTS, "BACKEND": evaluated["backend"]["categories"], "WIKIS": {}}
    for wiki, value in evaluated["tasks"]["categories"].items():
        assert operating_threshold(config, "categories", wiki) == value
