"""The committed evaluation results the tool card shows: figures per task, backend and wiki with
their intervals, the targets and who misses them, and the datasets they were computed from
(how the card prints them: :mod:`suggest.toolcard.format`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from suggest.community import repo_path
from suggest.evaluate.metrics import ORACLE_ARTICLES, TARGET_COVERAGE, TARGET_P1
from suggest.toolcard.format import METRIC_LABELS

# The figures each task's evaluation reports, in the order the card shows them.
TASK_METRICS = {
    "categories": ("precision_at_threshold", "recall_at_threshold", "coverage", "threshold",
                   "precision_at_1", "precision_at_3", "recall_at_5", "mrr", "n_articles"),
    "references": ("recall_at_1", "recall_at_3", "recall_at_5", "mrr", "gold_in_candidates",
                   "precision_at_threshold", "coverage", "threshold", "n_statements", "n_articles"),
}


METRIC_KEYS = TASK_METRICS["categories"]


# A dict with one of these keys is a row of figures.
ROW_KEYS = ("precision_at_threshold", "recall_at_threshold", "coverage", "recall_at_3")


def _file_sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _hex(value: str) -> str:
    return value.lower().removeprefix("sha256:")


NOT_DATASETS = frozenset({"models", "model", "ranker", "rankers", "backend"})


def _checksum_entries(node: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """(dataset name, checksum) for each checksum in a results document outside ``models``."""
    if isinstance(node, dict):
        label = str(node.get("file") or node.get("path") or name)
        for key, value in node.items():
            if key in NOT_DATASETS:
                continue
            if isinstance(value, str) and ("sha256" in str(key).lower() or "checksum" in str(key).lower()
                                           or value.startswith("sha256:")):
                yield (label if key in ("sha256", "checksum") else str(key)), value
            else:
                yield from _checksum_entries(value, str(key))
    elif isinstance(node, list):
        for value in node:
            yield from _checksum_entries(value, name)


def dataset_checksums(document: Any) -> dict[str, str]:
    """Each dataset's checksum once, named by its file (a dump recorded twice is listed once)."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in _checksum_entries(document):
        if _hex(value) not in seen:
            seen.add(_hex(value))
            found[name] = value
    return found


def is_interval(value: Any) -> bool:
    return (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value))


def _intervals(node: dict[str, Any]) -> dict[str, list[float]]:
    """The 95% intervals a row carries, by metric: ``intervals_95: {metric: [lo, hi]}`` (what the
    harness writes) or ``<metric>_ci`` / ``<metric>_interval`` pairs."""
    found: dict[str, list[float]] = {}
    for key, value in node.items():
        if isinstance(value, dict) and ("interval" in key or key in ("ci", "cis")):
            found.update({str(k): list(v) for k, v in value.items() if is_interval(v)})
        elif is_interval(value) and key.endswith(("_ci", "_interval")):
            found[key.rsplit("_", 1)[0]] = list(value)
    return found


def _metric_rows(node: Any, trail: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Each dict that carries the harness's figures, with the keys that led to it."""
    rows: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if any(k in node for k in ROW_KEYS):
            figures = {k: v for k, v in node.items()
                       if isinstance(v, int | float | str | type(None)) or is_interval(v)}
            oracle = node.get("oracle")  # what the candidates could reach at best
            if isinstance(oracle, dict):
                figures.update({k: v for k, v in oracle.items() if isinstance(v, int | float)})
            rows.append({"trail": trail, "figures": {**figures, "intervals": _intervals(node)}})
        else:
            for key, value in node.items():
                rows += _metric_rows(value, (*trail, str(key)))
    elif isinstance(node, list):
        for value in node:
            label = value.get("backend") or value.get("wiki") if isinstance(value, dict) else None
            rows += _metric_rows(value, (*trail, str(label)) if label else trail)
    return rows


def _split_trail(trail: tuple[str, ...], figures: dict[str, Any], default_backend: Any) -> tuple[str, str]:
    """(backend, wiki) named by a row's keys: the wiki is the key that names a wiki."""
    ignore = {"results", "backends", "wikis", "test", "split", "by_backend", "by_wiki", "metrics",
              "languages", "tasks", "categories", "references"}
    parts = [p for p in trail if p not in ignore]
    wiki = str(figures.get("wiki") or next((p for p in parts if p.endswith("wiki")), "")
               or (parts[-1] if parts else "?"))
    backend = str(figures.get("backend") or next((p for p in parts if p != wiki), "")
                  or default_backend or "?")
    return backend, wiki


NOT_RESULTS = frozenset({"targets", "weights", "thresholds", "features", "protocol", "leakage_check",
                         "models"})


# The categories report's targets besides precision, for results files that do not list them.
CATEGORIES_TARGETS = {"precision_at_1": TARGET_P1, "coverage": TARGET_COVERAGE}


def _targets(document: dict[str, Any], task: str) -> dict[str, float]:
    """The evaluation's targets by metric (``targets``, else ``target_precision`` and, for the
    categories task, the report's other targets)."""
    targets = document.get("targets")
    if isinstance(targets, dict):
        return {str(k): float(v) for k, v in targets.items() if isinstance(v, int | float)}
    found = {}
    if isinstance(document.get("target_precision"), int | float):
        found["precision_at_threshold"] = float(document["target_precision"])
    return {**found, **CATEGORIES_TARGETS} if task == "categories" and found else found


def _judged(row: dict[str, Any], metric: str) -> bool:
    """Whether a row is held to a target: coverage only where the oracle allows it (at least
    ORACLE_ARTICLES of the articles have a gold category some candidate carries)."""
    if metric not in row:
        return False
    reachable = row.get("oracle_articles")
    return not (metric == "coverage" and isinstance(reachable, int | float) and reachable < ORACLE_ARTICLES)


def target_misses(results: list[dict[str, Any]], targets: dict[str, float]) -> list[dict[str, Any]]:
    """Each (backend, wiki, metric) whose test figure misses its target; targets are per wiki, so
    only rows at an operating threshold are judged (a missing figure misses: nothing was shown).
    A row whose test split is empty measured nothing, and so misses nothing."""
    return [{"backend": row["backend"], "wiki": row["wiki"], "metric": metric,
             "value": row.get(metric), "target": target}
            for row in results if "threshold" in row and not _nothing_tested(row)
            for metric, target in targets.items()
            if _judged(row, metric) and (row[metric] is None or row[metric] < target)]


def _nothing_tested(row: dict[str, Any]) -> bool:
    return any(row.get(size) == 0 for size in ("n_articles", "n_statements"))


def _evaluated_models(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The models a results file was computed with, with their ranker's checksum."""
    models = document.get("models")
    if not isinstance(models, dict):
        return {}
    found = {}
    for backend, model in models.items():
        if not isinstance(model, dict):
            continue
        ranker = model["ranker"] if isinstance(model.get("ranker"), dict) else {}
        found[str(backend)] = {
            **{k: model.get(k) for k in ("model", "version", "checksum", "licence", "model_card",
                                         "hosting_tier", "data_flow")},
            "ranker_checksum": model.get("ranker_checksum") or ranker.get("checksum"),
        }
    return found


def _evaluation_entry(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    default_backend = document.get("default_backend")
    # Targets, fitted weights and thresholds carry metric names too, but are not results.
    measured = {k: v for k, v in document.items() if k not in NOT_RESULTS}
    results = []
    for row in _metric_rows(measured):
        backend, wiki = _split_trail(row["trail"], row["figures"], default_backend)
        results.append(_nothing_shown({"backend": backend, "wiki": wiki, **row["figures"]}))
    if not results:
        return None
    task = str(document.get("task") or ("references" if "reference" in path.name else "categories"))
    backends = sorted({r["backend"] for r in results})
    command = document.get("command") or document.get("reproduce")
    if not command:
        command = (f"python -m suggest.evaluate --task {task} --dump DUMP [--dump DUMP ...] "
                   + " ".join(f"--backend {b}" for b in backends) + f" --out eval/{path.name}")
    targets = _targets(document, task)
    created = document.get("created") or document.get("generated_at") or document.get("date")
    preferred = TASK_METRICS.get(task, METRIC_KEYS)
    return {
        "file": f"eval/{path.name}",
        "file_checksum": _file_sha256(path),
        "task": task,
        "app_version": document.get("app_version"),
        "task_version": document.get("task_version"),
        "created": created,
        "run": _run_text(created, document.get("task_version")),
        "default_backend": default_backend,
        "columns": [{"key": k, "label": METRIC_LABELS.get(k, k)} for k in preferred
                    if any(k in r for r in results)],
        "results": results,
        "backends": backends,
        "wikis": sorted({r["wiki"] for r in results}),
        "targets": targets,
        "target_misses": target_misses(results, targets),
        "models": _evaluated_models(document),
        "dataset_checksums": dataset_checksums(document),
        "reproduce": command if isinstance(command, str) else " ".join(map(str, command)),
        "report": f"eval/{path.stem}.md" if path.with_suffix(".md").exists() else None,
    }


def _run_text(created: Any, version: Any) -> str:
    """When the evaluation ran and which version of the task, as the file records them."""
    return (f"Run {'on ' + str(created) if created else 'at a date the file does not record'}"
            f"{f', task version {version}' if version else ''}.")


def _nothing_shown(row: dict[str, Any]) -> dict[str, Any]:
    """A row where nothing was shown at its threshold has no precision (the harness writes 0.0
    for it, with an interval of [0, 0]): it is a missing figure, not a precision of 0."""
    if row.get("shown") == 0 and row.get("precision_at_threshold") is not None:
        row["precision_at_threshold"] = None
        row["intervals"] = {k: v for k, v in row["intervals"].items() if k != "precision_at_threshold"}
    return row


def latest_per_task(evaluations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the latest evaluation of each task, the older ones it supersedes). Latest: the newest
    ``created`` date the file records; a file without one counts as older than any with one,
    and among equals the last file name wins. Unreadable files stay in the first list."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in evaluations:
        if "task" not in entry:
            continue
        known = latest.get(entry["task"])
        if known is None or (str(entry.get("created") or ""), entry["file"]) >= \
                (str(known.get("created") or ""), known["file"]):
            latest[entry["task"]] = entry
    chosen = {id(e) for e in latest.values()}
    kept = [e for e in evaluations if "task" not in e or id(e) in chosen]
    superseded = [{"file": e["file"], "task": e["task"], "created": e.get("created"),
                   "superseded_by": latest[e["task"]]["file"]}
                  for e in evaluations if "task" in e and id(e) not in chosen]
    return kept, superseded


def load_evaluations(eval_dir: str | Path) -> list[dict[str, Any]]:
    """Every committed results file under ``eval/``: per backend and wiki figures side by side with
    their intervals, the targets and who misses them, dataset checksums and the command that
    reproduces it."""
    directory = repo_path(eval_dir)
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            out.append({"file": f"eval/{path.name}", "error": f"unreadable: {type(error).__name__}"})
            continue
        if isinstance(document, dict) and (entry := _evaluation_entry(path, document)) is not None:
            out.append(entry)
    return out
