"""``python -m suggest.evaluate --task categories --dump FILE [--dump FILE ...] [--backend NAME ...]
--out results.json``

Runs the service's categories task on each dump, leave-one-out, for every backend and the no-model
neighbour-vote baseline; chooses each wiki's threshold on its own dev split (lowest threshold with
dev precision >= target) and writes it to the thresholds file; reports test-split figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from suggest import __version__, backends
from suggest.evaluate import metrics
from suggest.evaluate.harness import (
    BASELINE,
    CachedBackend,
    NoModelBackend,
    Ranked,
    Wiki,
    baseline_score,
    check_backends,
    check_dumps,
    check_limit,
    command_line,
    dataset_entry,
    load_wiki,
    rank_wiki,
    rss_mb,
)
from suggest.ranking.model import DATA_DIR, load_ranker
from suggest.tasks.categories import CategoriesTask

log = logging.getLogger(__name__)
PREFERRED = "e5-multilingual-offline"
MAX_SUGGESTIONS = 3
THRESHOLDS_FILE = DATA_DIR / "thresholds.json"


def default_backends() -> list[str]:
    """Every registered backend that runs here without configuration (not ``remote``)."""
    return [name for name in backends.available() if name != "remote"]


def _labelled(wikis: Sequence[Wiki], key: str,
              split: str) -> tuple[list[dict[str, float]], list[bool], list[str]]:
    """The candidates' feature rows of one split, their labels and the article each belongs to."""
    rows: list[dict[str, float]] = []
    labels: list[bool] = []
    groups: list[str] = []
    for wiki in wikis:
        for article, ranked in zip(wiki.articles, wiki.ranked[key], strict=True):
            if article.split == split:
                gold = set(article.gold)
                rows.extend(ranked.rows)
                labels.extend(label in gold for label in ranked.labels)
                groups.extend([f"{wiki.dbname}:{article.title}"] * len(ranked.rows))
    return rows, labels, groups


def _make_backend(name: str, options: dict[str, Any], cache_dir: str | None) -> CachedBackend:
    return CachedBackend(backends.create(name, options.get(name, {})), cache_dir)


# What a dataset entry records about the run rather than the data: kept out of the ranker file, whose
# checksum (and so the task version and every cache key) must not change when the same data is refit.
RUN_ONLY = ("load_seconds",)


def training_datasets(wikis: Sequence[Wiki]) -> list[dict[str, Any]]:
    """The datasets a ranker records it learned from: each dump's entry without its timings."""
    return [{k: v for k, v in dataset_entry(w).items() if k not in RUN_ONLY} for w in wikis]


def run_training(wikis: Sequence[Wiki], names: Sequence[str], out_dir: str | Path,
                 cache_dir: str | None, options: dict[str, Any] | None = None) -> list[Path]:
    """Fit and write one ranker per backend from the wikis' train split: the regression on it, and
    its isotonic calibration out of fold on it, by article, so that the dev split the thresholds
    are chosen on has not been seen by the calibration (calibrating on dev made dev precision at
    the chosen threshold optimistic: every threshold was one of the calibration's steps)."""
    from suggest.ranking.train import fit, write

    task = CategoriesTask(out_dir)
    paths = []
    for name in names:
        backend = _make_backend(name, options or {}, cache_dir)
        for wiki in wikis:
            if name not in wiki.ranked:
                rank_wiki(wiki, task, backend, name)
        backend.save()
        train_rows, train_labels, train_groups = _labelled(wikis, name, "train")
        dev_rows, dev_labels, _ = _labelled(wikis, name, "dev")
        document = fit(train_rows, train_labels, dev_rows, dev_labels, backend.info,
                       training_datasets(wikis), train_groups=train_groups)
        paths.append(write(document, out_dir))
    return paths


def _cases(wiki: Wiki, ranked: list[Ranked], split: str,
           keep: Any = None) -> list[metrics.Case]:
    return [metrics.Case(r.labels, r.scores, frozenset(a.gold))
            for a, r in zip(wiki.articles, ranked, strict=True)
            if a.split == split and (keep is None or keep(a))]


def evaluate_wiki(wiki: Wiki, key: str, target: float) -> dict[str, Any]:
    ranked = wiki.ranked[key]
    dev = _cases(wiki, ranked, "dev")
    test = _cases(wiki, ranked, "test")
    threshold, dev_result = metrics.choose_threshold(dev, MAX_SUGGESTIONS, target)
    result = metrics.summary(test, threshold, MAX_SUGGESTIONS)
    result["dev"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in
                     {**dev_result, **(metrics.ranking(dev) if dev else {}), "n_articles": len(dev),
                      "threshold": threshold}.items()}
    result["intervals_95"] = metrics.bootstrap(test, threshold, MAX_SUGGESTIONS)
    result["calibration"] = metrics.calibration_table(test)
    result["oracle"] = {k: round(v, 4) if test else None for k, v in metrics.oracle(test).items()}
    slices = {
        "stubs": lambda a: a.stub, "long": lambda a: not a.stub,
        "lists_and_disambiguation": lambda a: a.listlike,
        "without_frequent_categories": lambda a: not a.frequent,
    }
    result["slices"] = {}
    for slice_name, keep in slices.items():
        cases = _cases(wiki, ranked, "test", keep)
        result["slices"][slice_name] = metrics.summary(cases, threshold, MAX_SUGGESTIONS) | {
            "oracle_recall": round(metrics.oracle(cases)["oracle_recall"], 4) if cases else None}
    result["timing"] = wiki.timing.get(key, {})
    return result


def choose_default(results: dict[str, dict[str, dict[str, Any]]]) -> tuple[str, str]:
    """Keep the preferred multilingual backend unless another is better on both mean coverage at
    the operating threshold and mean precision@1 over the evaluated wikis' **dev** splits (those
    with dev articles). The choice is model selection, like the thresholds: made on dev, so
    that the test figures reported for the chosen backend are not the ones it was chosen by."""
    def means(name: str) -> tuple[float, float]:
        rows = [r["dev"] for r in results[name].values() if r["dev"]["n_articles"]]
        n = len(rows)
        return (sum(r["coverage"] for r in rows) / n, sum(r["precision_at_1"] for r in rows) / n)

    evaluated = [n for n in results if n != BASELINE and results[n]]
    real = [n for n in evaluated if any(r["dev"]["n_articles"] for r in results[n].values())]
    if not real:
        if not evaluated:
            return PREFERRED, "no backend was evaluated"
        kept = PREFERRED if PREFERRED in evaluated else evaluated[0]
        return kept, "no wiki has dev articles to compare the backends on"
    base = PREFERRED if PREFERRED in real else max(real, key=means)
    better = [n for n in real if n != base and all(a > b for a, b in zip(means(n), means(base), strict=True))]
    if better:
        best = max(better, key=means)
        return best, f"{best} beats {base} on both mean dev coverage and mean dev precision@1"
    cov, p1 = means(base)
    return base, (f"no backend beats {base} on both mean dev coverage ({cov:.3f}) and mean dev "
                  f"precision@1 ({p1:.3f})")


def update_thresholds(path: str | Path, results: dict[str, dict[str, dict[str, Any]]],
                      target: float, default: str) -> None:
    """``tasks.categories.<wiki>``: the default backend's threshold (what the service and the tool
    card read); ``by_backend.categories.<backend>.<wiki>``: every backend's. Other wikis and tasks
    already in the file are kept."""
    file = Path(path)
    data: dict[str, Any] = {}
    if file.is_file():
        data = json.loads(file.read_text(encoding="utf-8"))
    data.setdefault("about", "Per-wiki operating thresholds: the lowest score whose dev-split "
                    "precision reaches the target; written by python -m suggest.evaluate.")
    data["target_precision"] = target
    data["max_suggestions"] = MAX_SUGGESTIONS
    by_backend = data.setdefault("by_backend", {}).setdefault("categories", {})
    for name, per_wiki in results.items():
        if name == BASELINE:
            continue
        for dbname, result in per_wiki.items():
            by_backend.setdefault(name, {})[dbname] = result["threshold"]
    data.setdefault("backend", {})["categories"] = default
    tasks = data.setdefault("tasks", {}).setdefault("categories", {})
    tasks.update(by_backend.get(default, {}))
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    task_arg = argparse.ArgumentParser(add_help=False)
    task_arg.add_argument("--task", default="categories")
    if task_arg.parse_known_args(args_list)[0].task == "references":
        from suggest.evaluate import references

        return int(references.main(args_list) or 0)
    parser = argparse.ArgumentParser(prog="python -m suggest.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="categories", choices=["categories", "references"])
    parser.add_argument("--dump", action="append", required=True, help="XML dump (.xml, .bz2, .xz)")
    parser.add_argument("--backend", action="append", help="backend(s) to compare (default: all local)")
    parser.add_argument("--backend-options", default="{}",
                        help='JSON {"backend": {options}}, e.g. {"remote": {"url": "..."}}')
    parser.add_argument("--out", required=True, help="results JSON")
    parser.add_argument("--report", help="Markdown report to write beside the JSON")
    parser.add_argument("--notes", help="Markdown to include in the report (the analysis)")
    parser.add_argument("--thresholds", default=str(THRESHOLDS_FILE),
                        help="thresholds file to update ('' = don't write)")
    parser.add_argument("--ranker-dir", default=str(DATA_DIR), help="where the ranker files are")
    parser.add_argument("--train", action="store_true",
                        help="first train the rankers on these dumps' train/dev splits into --ranker-dir")
    parser.add_argument("--target", type=float, default=metrics.TARGET_PRECISION)
    parser.add_argument("--cache-dir", default="var/cache/embeddings", help="embedding cache ('' = off)")
    parser.add_argument("--limit", type=int, default=None, help="articles per dump (quick runs)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(args_list)
    check_dumps(parser, args.dump)
    names = args.backend or default_backends()
    check_backends(parser, names)
    try:
        options = json.loads(args.backend_options)
    except ValueError as error:
        parser.error(f"--backend-options is not JSON: {error}")
    if not isinstance(options, dict):
        parser.error('--backend-options wants a JSON object {"backend": {options}}')
    if not 0.0 < args.target <= 1.0:
        parser.error(f"--target {args.target}: a precision, in (0, 1]")
    check_limit(parser, args.limit)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    cache_dir = args.cache_dir or None

    wikis = [load_wiki(path, args.limit) for path in args.dump]
    if args.train:
        run_training(wikis, names, args.ranker_dir, cache_dir, options)
    task = CategoriesTask(args.ranker_dir)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    models: dict[str, Any] = {}
    for name in names:
        backend = _make_backend(name, options, cache_dir)
        ranker = load_ranker(backend.info.id, args.ranker_dir)
        models[name] = {**backend.info.as_dict(),
                        "ranker_checksum": ranker.checksum if ranker else None}
        for wiki in wikis:
            wiki.ranked.pop(name, None)  # rank again: the scores come from the (new) ranker
            rank_wiki(wiki, task, backend, name)
        backend.save()
        results[name] = {w.dbname: evaluate_wiki(w, name, args.target) for w in wikis}
    if not args.no_baseline:
        for wiki in wikis:
            rank_wiki(wiki, task, NoModelBackend(), BASELINE)
            wiki.ranked[BASELINE] = [_baseline(r) for r in wiki.ranked[BASELINE]]
        results[BASELINE] = {w.dbname: evaluate_wiki(w, BASELINE, args.target) for w in wikis}
        models[BASELINE] = {**NoModelBackend.info.as_dict(), "ranker_checksum": None,
                            "score": "0.5 * similarity-weighted share + 0.5 * linked share"}
    default, why = choose_default(results)
    document = {
        "app_version": __version__, "task": args.task, "task_version": task.version,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "target_precision": args.target, "max_suggestions": MAX_SUGGESTIONS,
        "targets": {"precision_at_threshold": args.target, "precision_at_1": metrics.TARGET_P1,
                    "coverage": metrics.TARGET_COVERAGE},
        "default_backend": default, "default_backend_reason": why,
        "datasets": {w.dbname: dataset_entry(w) for w in wikis},
        "models": models, "results": results,
        "command": command_line(args_list),
        "run": {"seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(rss_mb("VmHWM"), 1),
                "python": platform.python_version(), "machine": platform.machine(),
                "limit": args.limit, "trained_in_run": args.train},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.thresholds:
        update_thresholds(args.thresholds, results, args.target, default)
    if args.report:
        from suggest.evaluate.report import write_report

        notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
        write_report(document, args.report, notes)
    print(f"wrote {args.out} in {document['run']['seconds']} s; default backend: {default}")
    return 0


def _baseline(ranked: Ranked) -> Ranked:
    scores = [round(baseline_score(row), 4) for row in ranked.rows]
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], ranked.labels[i]))
    return Ranked([ranked.labels[i] for i in order], [ranked.rows[i] for i in order],
                  [scores[i] for i in order])


if __name__ == "__main__":
    raise SystemExit(main())
