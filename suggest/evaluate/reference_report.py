"""The Markdown report of a references evaluation (``--report``): data, figures per backend, wiki
and case, the fitted models, the leakage check, then the analysis (``--notes``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suggest.evaluate.reference_metrics import TARGET_PRECISION, TARGET_RECALL_AT_3
from suggest.evaluate.report import DATA_LICENCE, source_cell

ALL_WIKIS = "all_wikis"
HEAD = ("| backend | wiki | case | n (articles) | r@1 | r@3 [95%] | r@5 | MRR | random r@3 "
        "| gold in candidates | candidates | precision@t [95%] | coverage | t | meets targets |")


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def _ci(intervals: dict[str, list[float]], key: str) -> str:
    found = intervals.get(key)
    return f"[{found[0]:.2f}, {found[1]:.2f}]" if found else ""


def meets(row: dict[str, Any]) -> bool:
    return bool(row.get("n_statements")) and row["recall_at_3"] >= TARGET_RECALL_AT_3 and \
        (row.get("precision_at_threshold") or 0.0) >= TARGET_PRECISION


def _row(name: str, wiki: str, case: str, row: dict[str, Any]) -> str:
    if not row.get("n_statements"):
        return f"| {name} | {wiki} | {case} | 0 |" + " |" * 11
    ci = row.get("intervals_95", {})
    return (f"| {name} | {wiki} | {case} | {row['n_statements']} ({row.get('n_articles', '?')}) | "
            f"{_fmt(row['recall_at_1'])} | {_fmt(row['recall_at_3'])} {_ci(ci, 'recall_at_3')} | "
            f"{_fmt(row['recall_at_5'])} | {_fmt(row['mrr'])} | {_fmt(row['random_recall_at_3'])} | "
            f"{_fmt(row['gold_in_candidates'])} | {row['avg_candidates']:.0f} | "
            f"{_fmt(row['precision_at_threshold'])} {_ci(ci, 'precision_at_threshold')} | "
            f"{_fmt(row['coverage'])} | {_fmt(row['threshold'])} | {'yes' if meets(row) else 'no'} |")


def _gap(value: float | None, target: float, absent: str = "–") -> str:
    return absent if value is None else f"{value:.2f} ({value - target:+.2f})"


def _target_row(name: str, wiki: str, r: dict[str, Any]) -> str:
    reuse = r["reuse"].get("recall_at_3") if r["reuse"].get("n_statements") else None
    best = r["dev"].get("best_operating_point", {})
    return (f"| {name} | {wiki} | {_gap(r['recall_at_3'], TARGET_RECALL_AT_3)} | "
            f"{r['gold_in_candidates']:.2f} | {_gap(reuse, TARGET_RECALL_AT_3)} | "
            f"{_gap(r.get('precision_at_threshold'), TARGET_PRECISION, 'nothing shown')} | "
            f"{r['coverage']:.2f} | {_fmt(best.get('precision'))} |")


def _linked(linked: dict[str, Any] | None) -> str:
    if not linked:
        return ""
    return (f" Linked articles' references ({linked['train_candidates']} train candidates, "
            f"{linked['train_hits']} hits): probability {linked['probability']:.2g} for all, "
            "ordered among themselves by the hand score.")


def _case_cache(doc: dict[str, Any]) -> str:
    """Where the run's time went: cases read from the case cache take no extraction time."""
    if "cases_dir" not in doc:  # results written before the field existed
        return ""
    if not doc["cases_dir"]:
        return " (every case extracted in this run: no case cache)"
    return (f" (cases are cached per dump and backend in `{doc['cases_dir']}`; the time is that of "
            "this invocation)")


def write_report(doc: dict[str, Any], path: str | Path, notes: str = "") -> None:
    lines = ["# References task: offline evaluation", "",
             f"Targets on every wiki's test split: recall@3 >= {TARGET_RECALL_AT_3}, top-1 precision >= "
             f"{TARGET_PRECISION} at the wiki's threshold (chosen on dev; 1.01 = nothing reached the "
             "target on dev, so nothing is shown). Figures are on the test split (page-id hash, 20 %); "
             "intervals are 95 % bootstrap intervals over articles.", "",
             f"Reproduce: `{doc.get('command', '')}`", "",
             f"wiki-suggest {doc.get('app_version', '?')}"
             f"{', run at ' + doc['created'] if doc.get('created') else ''}; whole run "
             f"{doc.get('run', {}).get('seconds', '?')} s{_case_cache(doc)}.", "",
             "## Data", "", DATA_LICENCE, "",
             "| wiki | source | file | sha256 | articles | usable statements (at most "
             f"{doc.get('per_article', '?')} per article) | evaluated (per backend) | cases | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for wiki, d in doc.get("data", {}).items():
        picked = ", ".join(f"{k}: {v}" for k, v in d["statements_picked"].items())
        cases = ", ".join(f"{k}: {v}" for k, v in d["cases"].items())
        lines.append(f"| {wiki} | {source_cell(d)} | {d['file']} | `{d['sha256'][:16]}…` | {d['articles']} | "
                     f"{d.get('statements_usable', '?')} ({d['statements_available']}) | {picked} | "
                     f"{cases} | {d['seconds']} |")
    lines += ["", "A statement gives no case when it has no candidate at all or is not found again "
              "after the removal.", ""]
    for name, per_wiki in doc["results"].items():
        lines += [f"## {name}", "", HEAD, "|" + "---|" * 15]
        for wiki, r in per_wiki.items():
            if wiki == ALL_WIKIS:
                continue
            for case, row in (("all", r), ("reuse", r["reuse"]), ("new", r["new"])):
                lines.append(_row(name, wiki, case, row))
        pooled = per_wiki.get(ALL_WIKIS)
        if pooled and not pooled.get("n_statements"):
            lines += ["", "Pooled test split: no statement (no wiki has a test case)."]
        elif pooled:
            reuse = pooled["reuse"]
            lines += ["", f"Pooled test split: n {pooled['n_statements']}, "
                      f"r@1 {_fmt(pooled['recall_at_1'])}, "
                      f"r@3 {_fmt(pooled['recall_at_3'])}, r@5 {_fmt(pooled['recall_at_5'])}, MRR "
                      f"{_fmt(pooled['mrr'])}; reuse only: n {reuse.get('n_statements', 0)}, r@1 "
                      f"{_fmt(reuse.get('recall_at_1'))}, r@3 {_fmt(reuse.get('recall_at_3'))}, r@5 "
                      f"{_fmt(reuse.get('recall_at_5'))}, MRR {_fmt(reuse.get('mrr'))}."]
            lines += ["", "Calibration of each test statement's top candidate (all wikis): "
                      + "; ".join(f"{b['bin']}: n {b['n']}, mean score {b['mean_score']:.2f}, observed "
                                  f"{b['observed']:.2f}" for b in pooled.get("calibration_top1", [])) + "."]
        lines += ["", "Dev split, the most precise operating point showing at least 5 statements "
                  "(what a wiki could reach at best):", ""]
        for wiki, r in per_wiki.items():
            if wiki == ALL_WIKIS:
                continue
            best = r["dev"].get("best_operating_point", {})
            lines.append(f"- {wiki}: dev n {r['dev'].get('n_statements', 0)}; best precision "
                         f"{_fmt(best.get('precision'))} at {_fmt(best.get('threshold'))} (coverage "
                         f"{_fmt(best.get('coverage'))}); target reached on dev: "
                         f"{'yes' if r['threshold_reaches_target_on_dev'] else 'no'}")
        model = doc["models"][name]["ranker"]
        coefficients = sorted(model["coefficients"].items(), key=lambda kv: -abs(kv[1]))
        training = model["training"]
        lines += ["", f"Ranker `{model['checksum']}`: {model['model']}; calibration {model['calibration']} "
                  f"({model['calibration_points']} points); trained on {training.get('train_candidates')} "
                  f"candidates ({training.get('train_positives')} hits) of the train split. "
                  "Standardised coefficients, largest first: "
                  + ", ".join(f"{k} {v:+.2f}" for k, v in coefficients)
                  + f"; intercept {model['intercept']:+.2f}."
                  + _linked(model.get("linked")), ""]
    lines += ["## Targets, per backend and wiki (test split)", "",
              "| backend | wiki | r@3 (gap to 0.7) | ceiling: gold in candidates | reuse r@3 (gap) "
              "| precision@t (gap to 0.85) | coverage | best dev precision |",
              "|---|---|---|---|---|---|---|---|"]
    for name, per_wiki in doc["results"].items():
        for wiki, r in per_wiki.items():
            if wiki == ALL_WIKIS or not r.get("n_statements"):
                continue
            lines.append(_target_row(name, wiki, r))
    lines += ["", "## Leakage check", "", "Mean features of the removed reference (hit) and of the other "
              "in-article candidates, per case kind (first backend). A feature that separated them only "
              "because of the protocol (the removed instance) would show here; in **new** cases the "
              "removed reference is never an in-article candidate.", ""]
    first = next(iter(doc["leakage_check"]))
    for kind, block in doc["leakage_check"][first].items():
        lines.append(f"- **{kind}** ({block['n_cases']} cases): hit {block['hit_in_article'] or '–'}; "
                     f"others {block['others_in_article'] or '–'}")
    if notes:
        lines += ["", notes.strip()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
