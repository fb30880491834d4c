# SPDX-License-Identifier: GPL-3.0-or-later
"""The evaluation harness end to end on two committed fixtures, and leave-one-out."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from suggest import backends
from suggest.evaluate import metrics
from suggest.evaluate.__main__ import main
from suggest.evaluate.harness import LeaveOneOutSource, load_wiki, split_of
from suggest.tasks.base import TaskSettings
from suggest.tasks.categories import CategoriesTask

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
KEYS = {"precision_at_threshold", "recall_at_threshold", "coverage", "threshold", "precision_at_1",
        "precision_at_3", "recall_at_5", "mrr", "n_articles"}


def test_cli_end_to_end_on_two_fixtures(tmp_path: Path) -> None:
    out, thresholds, report = tmp_path / "results.json", tmp_path / "thresholds.json", tmp_path / "r.md"
    dumps = [DUMPS / "viwiki-sample.xml", DUMPS / "ukwiki-sample.xml"]
    code = main(["--task", "categories", *[a for d in dumps for a in ("--dump", str(d))],
                 "--backend", "tfidf", "--train", "--ranker-dir", str(tmp_path), "--cache-dir", "",
                 "--thresholds", str(thresholds), "--out", str(out), "--report", str(report)])
    assert code == 0
    result = json.loads(out.read_text())
    assert result["default_backend"] == "tfidf"
    # The targets the report judges, for the tool card to judge alike.
    assert result["targets"] == {"precision_at_threshold": 0.85, "precision_at_1": 0.7, "coverage": 0.5}
    assert set(result["results"]) == {"tfidf", "neighbour-vote"}
    for backend in result["results"].values():
        assert set(backend) == {"viwiki", "ukwiki"}
        for figures in backend.values():
            assert KEYS <= set(figures)
            assert figures["n_articles"] > 0
            assert 0 <= figures["precision_at_1"] <= 1 and 0 <= figures["coverage"] <= 1
            assert figures["oracle"]["oracle_recall"] >= figures["recall_at_5"] - 1e-9
    for dbname, path in (("viwiki", dumps[0]), ("ukwiki", dumps[1])):
        assert result["datasets"][dbname]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result["models"]["tfidf"]["ranker_checksum"].startswith("sha256:")
    # Calibrated out of fold on train: the dev split that chooses the thresholds is unseen.
    ranker = json.loads((tmp_path / "category-ranker-tfidf.json").read_text())
    assert ranker["calibration"]["method"] == "isotonic (out-of-fold on the train split, by article)"
    written = json.loads(thresholds.read_text())
    assert written["tasks"]["categories"]["viwiki"] == result["results"]["tfidf"]["viwiki"]["threshold"]
    assert "## Targets" in report.read_text()
    # The run says how to reproduce it.
    assert result["command"].startswith("python -m suggest.evaluate --task categories --dump ")
    assert "--train" in result["command"] and f"Reproduce: `{result['command']}`" in report.read_text()
    # ... and when it ran, which the tool card uses to pick the latest evaluation of the task.
    created = dt.datetime.fromisoformat(result["created"])
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=10)
    assert result["created"] in report.read_text()


def test_report_says_nothing_was_shown_instead_of_a_zero_precision(tmp_path: Path) -> None:
    """Where no threshold reached the target on dev nothing is shown: the report gives no
    measured 0.00 and lists the precision among the shortfalls."""
    from suggest.evaluate.report import write_report

    doc = json.loads((Path(__file__).resolve().parents[1] / "eval" / "results.json").read_text())
    figures = doc["results"][doc["default_backend"]]["enwiki"]
    assert figures["shown"] == 0 and figures["threshold"] > 1  # the committed run's enwiki
    write_report(doc, tmp_path / "report.md")
    text = (tmp_path / "report.md").read_text()
    default = doc["default_backend"]
    row = next(line for line in text.splitlines() if line.startswith(f"| {default} | enwiki |"))
    assert [cell.strip() for cell in row.split("|")][5] == "– (nothing shown)"  # precision@thr
    assert f"- {doc['default_backend']} / enwiki: precision not measured: no threshold reached" in text
    assert "| enwiki | stubs | 0 | – | – | – | – | – |" in text


def test_split_is_deterministic_and_covers_all() -> None:
    splits = [split_of("xxwiki", i) for i in range(2000)]
    assert splits == [split_of("xxwiki", i) for i in range(2000)]
    shares = {s: splits.count(s) / len(splits) for s in ("train", "dev", "test")}
    assert 0.55 < shares["train"] < 0.65 and 0.15 < shares["dev"] < 0.25 and 0.15 < shares["test"] < 0.25


def test_threshold_is_the_lowest_reaching_the_target() -> None:
    cases = [metrics.Case(["a", "b"], [0.9, 0.4], frozenset({"a"})) for _ in range(10)]
    cases += [metrics.Case(["c"], [0.5], frozenset({"z"})) for _ in range(10)]
    threshold, dev = metrics.choose_threshold(cases, 3, target=0.85)
    assert threshold == 0.9 and dev["precision_at_threshold"] == 1.0
    assert metrics.at_threshold(cases, 0.4, 3)["precision_at_threshold"] == pytest.approx(10 / 30)


@pytest.fixture(scope="module")
def uk_wiki():  # type: ignore[no-untyped-def]
    return load_wiki(DUMPS / "ukwiki-sample.xml")


def test_own_categories_never_reach_a_feature(uk_wiki) -> None:  # type: ignore[no-untyped-def]
    """Change the evaluated article's own categories in the dump's index: if any feature (votes,
    sizes, specificity, similar members) saw them, the article's features would change."""
    task = CategoriesTask()
    backend = backends.create("tfidf")
    settings = TaskSettings(threshold=0.0, max_suggestions=10**6)
    checked = 0
    for article in uk_wiki.articles:
        loo = LeaveOneOutSource(uk_wiki.source)
        loo.hidden_title = article.title
        before = task.rank(article.page, loo, backend, settings)
        if not any(s.label in article.gold for s in before):
            continue
        original = uk_wiki.source._categories[article.title]
        try:
            uk_wiki.source._categories[article.title] = ["Zz leak probe"]
            changed = LeaveOneOutSource(uk_wiki.source)
            changed.hidden_title = article.title
            after = task.rank(article.page, changed, backend, settings)
        finally:
            uk_wiki.source._categories[article.title] = original
        assert [(s.label, s.features) for s in before] == [(s.label, s.features) for s in after]
        assert "Zz leak probe" not in {s.label for s in after}
        checked += 1
        if checked == 3:
            break
    assert checked == 3


def test_leave_one_out_sizes_exclude_the_article(uk_wiki) -> None:  # type: ignore[no-untyped-def]
    loo = LeaveOneOutSource(uk_wiki.source)
    article = uk_wiki.articles[0]
    name = article.gold[0]
    with_it = loo.category_sizes([name], "")[name]
    assert loo.category_sizes([name], article.title)[name] == with_it - 1
