"""Offline evaluation of the references task on real articles from XML dumps.

Protocol: in each article, take sentences followed by a ``<ref>``; remove that one citation instance
(other uses of the same named reference stay; if the removed one held the body, the body moves to the
next use, as an editor would find the article); ask the task's candidate generator for that sentence
and compute each candidate's features; a hit is the removed reference (same name in the article, or
same URL, DOI, ISBN or normalised title). Cases are reported apart: **reuse** (the source is still
cited elsewhere in the article) and **new** (it is not: only a linked article can offer it).
Candidates and features are computed from the edited article only, so no feature sees the removed
instance.

Split by a hash of the page id (train 60 % / dev 20 % / test 20 %, as for categories). With
``--train`` a ranker per backend (logistic regression, isotonic calibration on out-of-fold train
scores) is fitted on the train split of all dumps and written to ``suggest/data``; the per-wiki
threshold is chosen on dev (top-1 precision >= target, else nothing is shown) and merged into
``suggest/data/thresholds.json``; figures are on test with bootstrap intervals over articles.

    python -m suggest.evaluate --task references --dump FILE ... --train --out results.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from suggest import __version__, backends
from suggest.backends.base import Backend
from suggest.evaluate.harness import CachedBackend, check_backends, check_dumps, command_line
from suggest.evaluate.reference_cases import extract, pick_cases, run_case
from suggest.evaluate.reference_metrics import (
    MIN_SHOWN,
    NOTHING,
    TARGET_PRECISION,
    TARGET_RECALL_AT_3,
    Case,
    _random_recall,
    best_operating_point,
    bootstrap,
    calibration_top1,
    choose_threshold,
    leakage_check,
    metrics,
    rank_of_gold,
)
from suggest.ranking.model import DATA_DIR, Ranker, content_checksum, load_ranker
from suggest.tasks.reference_features import rank_key
from suggest.tasks.reference_features import scores as reference_scores
from suggest.tasks.references import FEATURES, ReferencesTask
from suggest.wiki.dump_source import DumpSource

__all__ = ["MIN_SHOWN", "NOTHING", "TARGET_PRECISION", "TARGET_RECALL_AT_3", "Case", "_random_recall",
           "best_operating_point", "bootstrap", "choose_threshold", "evaluate", "leakage_check", "main",
           "metrics", "pick_cases", "rank_of_gold", "run_case"]

log = logging.getLogger(__name__)

PREFERRED = "e5-multilingual-offline"
THRESHOLDS_FILE = DATA_DIR / "thresholds.json"
ALL_WIKIS = "all_wikis"  # pooled figures beside the per-wiki ones


# -- fitting and scoring ---------------------------------------------------------------------------
def fit_ranker(cases: Sequence[Case], backend: Backend, datasets: list[dict[str, Any]]) -> dict[str, Any]:
    """A references ranker document fitted on the train cases (calibrated out-of-fold, by article)."""
    from suggest.ranking.train import fit

    own = FEATURES.index("in_article")  # the ranker scores the article's own references only
    train = [(c, row, label) for c in cases if c.split == "train"
             for row, label in zip(c.features, c.labels, strict=True) if row[own] == 1.0]
    rows = [dict(zip(FEATURES, row, strict=True)) for _, row, _ in train]
    labels = [bool(label) for _, _, label in train]
    groups = [f"{c.wiki}:{c.page_id}" for c, _, _ in train]
    if len(set(labels)) < 2:
        raise SystemExit("the train split needs both hits and misses")
    document = fit(rows, labels, [], [], backend.info, datasets, FEATURES, task="references",
                   train_groups=groups)
    linked = [label for c in cases if c.split == "train"
              for row, label in zip(c.features, c.labels, strict=True) if row[own] != 1.0]
    document["linked"] = {
        "probability": round((sum(linked) + 1) / (len(linked) + 2), 8), "train_candidates": len(linked),
        "train_hits": int(sum(linked)),
        "order": "hand score (suggest/tasks/reference_features.py HAND_WEIGHTS)",
        "why": "no linked article's reference was a hit in the train split: nothing to fit or calibrate"}
    document["checksum"] = content_checksum(document)
    return document


def score_case(case: Case, ranker: Ranker) -> tuple[np.ndarray, np.ndarray]:
    """(ranking key, shown score) of each candidate, as the task scores them."""
    score, tie_break = reference_scores(np.asarray(case.features, dtype=np.float64), ranker)
    return rank_key(score, tie_break), score


def model_summary(ranker: Ranker) -> dict[str, Any]:
    doc = ranker.document
    return {"checksum": ranker.checksum, "model": doc.get("model"),
            "coefficients": {f: round(float(c), 4)
                             for f, c in zip(ranker.features, ranker.coef, strict=True)},
            "intercept": round(ranker.intercept, 4), "calibration": doc["calibration"]["method"],
            "calibration_points": len(doc["calibration"]["x"]), "linked": doc.get("linked"), "training": {
                k: v for k, v in doc.get("training", {}).items() if k != "datasets"}}


def figures(cases: list[Case], ranker: Ranker, threshold: float, rounds: int) -> dict[str, Any]:
    scored = [score_case(c, ranker) for c in cases]
    raw, prob = [s[0] for s in scored], [s[1] for s in scored]
    result = metrics(cases, raw, threshold, prob)
    if cases:
        result["intervals_95"] = bootstrap(cases, raw, threshold, rounds, prob)
    for kind in ("reuse", "new"):
        chosen = [i for i, c in enumerate(cases) if c.kind == kind]
        result[kind] = metrics([cases[i] for i in chosen], [raw[i] for i in chosen], threshold,
                               [prob[i] for i in chosen])
        if kind == "reuse" and chosen:
            result[kind]["intervals_95"] = bootstrap([cases[i] for i in chosen], [raw[i] for i in chosen],
                                                     threshold, rounds, [prob[i] for i in chosen])
    return result


def evaluate(dumps: Sequence[str], backend_names: Sequence[str], limits: dict[str, int], per_article: int,
             rounds: int, cache_dir: str | None = None, cases_dir: str | None = None, train: bool = False,
             ranker_dir: str | Path | None = None) -> dict[str, Any]:
    sources = []
    for path in dumps:
        started = time.time()
        sources.append(DumpSource(path))
        log.info("loaded %s (%d articles) in %.0f s", sources[-1].wiki_id, len(sources[-1].articles),
                 time.time() - started)
    models: dict[str, Backend] = {}
    for name in backend_names:
        model = backends.create(name)
        # Sparse (character n-gram) vectors are cheap to compute and costly to hold: not cached.
        models[name] = model if sparse.issparse(model.embed(["probe"])) else CachedBackend(model, cache_dir)
    cases, data = extract(sources, models, limits, per_article, cases_dir)
    for source in sources:  # for attribution
        data[source.wiki_id]["site"] = source.site
    for model in models.values():
        if isinstance(model, CachedBackend):
            model.save()
    datasets = [{"file": d["file"], "sha256": d["sha256"], "dbname": w} for w, d in data.items()]
    out: dict[str, Any] = {
        "task": "references", "app_version": __version__, "protocol": __doc__,
        "targets": {"recall_at_3": TARGET_RECALL_AT_3, "precision_at_threshold": TARGET_PRECISION},
        "dumps": [str(d) for d in dumps],
        "dataset_sha256": {d["file"]: f"sha256:{d['sha256']}" for d in data.values()},
        "data": data, "limit_per_wiki": limits, "per_article": per_article, "features": list(FEATURES),
        "cases_dir": cases_dir,
        "models": {}, "results": {}, "thresholds": {}, "leakage_check": {}}
    for name, model in models.items():
        if train:
            from suggest.ranking.train import write

            document = fit_ranker(cases[name], model, datasets)
            write(document, ranker_dir or DATA_DIR)
            ranker = Ranker.from_document(document, "references")
        else:  # the packaged ranker; fitted here (and not written) only when there is none
            loaded = load_ranker(model.info.id, ranker_dir, "references")
            ranker = loaded or Ranker.from_document(fit_ranker(cases[name], model, datasets), "references")
        out["models"][name] = {**model.info.as_dict(), "ranker": model_summary(ranker),
                               "ranker_fitted_in_run": train or loaded is None}
        out["leakage_check"][name] = leakage_check(cases[name], FEATURES)
        out["results"][name], out["thresholds"][name] = {}, {}
        for source in sources:
            wiki = source.wiki_id
            dev = [c for c in cases[name] if c.wiki == wiki and c.split == "dev"]
            test = [c for c in cases[name] if c.wiki == wiki and c.split == "test"]
            dev_scored = [score_case(c, ranker) for c in dev]
            raw, prob = [s[0] for s in dev_scored], [s[1] for s in dev_scored]
            threshold, reached = (choose_threshold(dev, raw, TARGET_PRECISION, prob) if dev
                                  else (NOTHING, False))
            out["thresholds"][name][wiki] = threshold
            result = figures(test, ranker, threshold, rounds)
            result["threshold_reaches_target_on_dev"] = reached
            result["dev"] = metrics(dev, raw, threshold, prob)
            result["dev"]["best_operating_point"] = best_operating_point(dev, raw, prob)
            out["results"][name][wiki] = result
        pooled = [c for c in cases[name] if c.split == "test"]
        scored = [score_case(c, ranker) for c in pooled]
        out["results"][name][ALL_WIKIS] = {
            "note": "test split of every wiki pooled, ranking figures only (thresholds are per wiki)",
            **{k: v for k, v in metrics(pooled, [s[0] for s in scored], NOTHING,
                                        [s[1] for s in scored]).items()
               if k not in ("precision_at_threshold", "coverage", "threshold")},
            "calibration_top1": calibration_top1(pooled, [s[0] for s in scored], [s[1] for s in scored]),
            "reuse": {k: v for k, v in metrics([c for c in pooled if c.kind == "reuse"],
                                               [s[0] for c, s in zip(pooled, scored, strict=True)
                                                if c.kind == "reuse"], NOTHING).items()
                      if k not in ("precision_at_threshold", "coverage", "threshold")}}
    return out


def update_thresholds(path: str | Path, thresholds: dict[str, dict[str, float]], default: str) -> None:
    """``by_backend.references.<backend>.<wiki>`` for every backend and ``tasks.references.<wiki>`` for
    the default one (what the service reads, as for categories); everything else in the file stays."""
    file = Path(path)
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
    by_backend = data.setdefault("by_backend", {}).setdefault("references", {})
    for name, per_wiki in thresholds.items():
        by_backend.setdefault(name, {}).update(per_wiki)
    data.setdefault("backend", {})["references"] = default
    data.setdefault("tasks", {}).setdefault("references", {}).update(thresholds.get(default, {}))
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _limits(default: int, given: Sequence[str] | None, names: Sequence[str]) -> dict[str, int]:
    limits = dict.fromkeys(names, default)
    for item in given or []:
        name, _, value = item.partition("=")
        if name not in limits or not value.isdigit():
            raise SystemExit(f"--backend-limit wants NAME=N for a chosen backend, not {item!r}")
        limits[name] = min(default, int(value))
    return limits


def main(argv: Sequence[str] | None = None) -> int:
    from suggest.evaluate.reference_report import write_report

    parser = argparse.ArgumentParser(prog="python -m suggest.evaluate --task references", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="references", choices=["references"])
    parser.add_argument("--dump", action="append", nargs="+", required=True, help="XML dump file(s)")
    parser.add_argument("--backend", action="append", help="backend name(s); default tfidf and e5")
    parser.add_argument("--limit", type=int, default=400, help="statements per wiki")
    parser.add_argument("--backend-limit", action="append", metavar="NAME=N",
                        help="fewer statements per wiki for one backend (the first N of the same order)")
    parser.add_argument("--per-article", type=int, default=5, help="statements per article")
    parser.add_argument("--bootstrap", type=int, default=500, help="bootstrap rounds")
    parser.add_argument("--train", action="store_true",
                        help="fit the rankers on the train split and write them to --ranker-dir")
    parser.add_argument("--ranker-dir", default=str(DATA_DIR), help="where the ranker files are")
    parser.add_argument("--thresholds", default=str(THRESHOLDS_FILE),
                        help="thresholds file to merge the per-wiki thresholds into ('' = don't write)")
    parser.add_argument("--out", required=True, help="results JSON")
    parser.add_argument("--report", help="Markdown report to write")
    parser.add_argument("--notes", help="Markdown file with the analysis, appended to the report")
    parser.add_argument("--cache-dir", default="var/cache/embeddings-references",
                        help="embedding cache ('' = off)")
    parser.add_argument("--cases-dir", default="var/cache/references-cases",
                        help="cache of extracted cases per dump and backend ('' = off)")
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    dumps = [d for group in args.dump for d in group]
    check_dumps(parser, dumps)
    chosen = args.backend or ["tfidf", "e5-multilingual-offline"]
    check_backends(parser, chosen)
    limits = _limits(args.limit, args.backend_limit, chosen)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.time()
    results = evaluate(dumps, chosen, limits, args.per_article, args.bootstrap, args.cache_dir or None,
                       args.cases_dir or None, args.train, args.ranker_dir)
    default = PREFERRED if PREFERRED in chosen else chosen[0]
    results["default_backend"] = default
    results["created"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    # The version of the task the service runs with these rankers (the tool card compares them).
    results["task_version"] = ReferencesTask(ranker_dir=args.ranker_dir).version
    results["command"] = command_line(args_list)
    results["run"] = {"seconds": round(time.time() - started, 1), "trained_in_run": args.train}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.thresholds:
        update_thresholds(args.thresholds, results["thresholds"], default)
    if args.report:
        notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
        write_report(results, args.report, notes)
    for name, per_wiki in results["results"].items():
        for wiki, r in per_wiki.items():
            if wiki == ALL_WIKIS:
                continue
            print(f"{name:26} {wiki:10} n={r['n_statements']:4} r@1={r.get('recall_at_1', 0):.2f} "
                  f"r@3={r.get('recall_at_3', 0):.2f} mrr={r.get('mrr', 0):.2f} "
                  f"reuse r@3={r['reuse'].get('recall_at_3', 0):.2f} (n={r['reuse']['n_statements']}) "
                  f"P@t={r.get('precision_at_threshold')} cov={r.get('coverage', 0):.2f} "
                  f"t={r.get('threshold')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
