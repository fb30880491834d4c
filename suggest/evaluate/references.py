"""Offline evaluation of the references task on real articles from XML dumps.

Protocol: in each article, take sentences followed by a ``<ref>``; remove that one citation instance
(other uses of the same named reference stay; if the removed one held the body, the body moves to the
next use, as an editor would find the article); ask the task's candidate generator and scorer for that
sentence; a hit is the removed reference (same name in the article, or same URL, DOI, ISBN or
normalised title). Cases are reported apart: **reuse** (the source is still cited elsewhere in the
article) and **new** (it is not: only a linked article can offer it). Candidates and features are
computed from the edited article only, so no feature sees the removed instance.

Split by a hash of the page id (train 60 % / dev 20 % / test 20 %); the scorer's weights are fitted on
train, the per-wiki threshold is chosen on dev (top-1 precision >= target), numbers are on test with
bootstrap intervals.

    python -m suggest.evaluate --task references --dump FILE ... --out results.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from suggest import backends
from suggest.backends.base import Backend
from suggest.evaluate.harness import CachedBackend, file_sha256, split_of
from suggest.tasks.references import FEATURES, ReferencesTask, citation_needed_names, wiki_language
from suggest.wiki import references as refs
from suggest.wiki.dump_source import DumpSource

log = logging.getLogger(__name__)

TARGET_RECALL_AT_3 = 0.7
TARGET_PRECISION = 0.85
MIN_SHOWN = 5  # a threshold must keep at least this many dev statements to count
MIN_CHARS = 25


@dataclass
class Case:
    wiki: str
    title: str
    page_id: int
    split: str
    statement: str
    kind: str  # "reuse" or "new"
    features: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def _order(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def pick_cases(source: DumpSource, names: Sequence[str], limit: int, per_article: int,
               parsed_articles: dict[str, refs.ArticleReferences]) -> list[tuple[str, int]]:
    """(title, statement index) of cited sentences, spread over articles in a fixed hash order."""
    chosen: list[tuple[str, str, int]] = []
    for title, article in source.articles.items():
        parsed = parsed_articles.setdefault(title, refs.parse_article(article.text, names))
        found = []
        for i, statement in enumerate(parsed.statements):
            if len(statement.text) < MIN_CHARS:
                continue
            gold = [c for c in statement.citations if parsed.references[c.key].kind == "ref"]
            if gold and (parsed.references[gold[0].key].ids() or parsed.references[gold[0].key].name):
                found.append((_order(article.page_id, i), title, i))
        chosen.extend(sorted(found)[:per_article])
    chosen.sort()
    return [(title, i) for _, title, i in chosen[:limit]]


def run_case(task: ReferencesTask, source: DumpSource, backends_: Sequence[Backend] | Backend,
             names: Sequence[str], title: str, index: int,
             original: refs.ArticleReferences) -> Case | list[Case] | None:
    """The case with each backend's features (one Case, or a list when given a list)."""
    article = source.articles[title]
    statement = original.statements[index]
    citation = next(c for c in statement.citations if original.references[c.key].kind == "ref")
    gold = original.references[citation.key]
    gold_ids = gold.ids()
    edited_text = refs.remove_citation(article.text, original, citation)
    edited = refs.parse_article(edited_text, names, source.namespace_prefixes())
    matches = [i for i, s in enumerate(edited.statements) if s.raw == statement.raw]
    if not matches:
        return None
    at = min(matches, key=lambda i: abs(edited.statements[i].start - statement.start))
    linked = task.linked_references(source, [t for t in edited.links if t != title], names)
    candidates = task.candidates(edited, at, linked)
    if not candidates:
        return None

    def hit(candidate: Any) -> bool:
        if candidate.origin is None and gold.name and candidate.reference.key == gold.key:
            return True
        return bool(candidate.ids() & gold_ids)

    labels = [int(hit(c)) for c in candidates]
    reuse = any(label and c.origin is None for label, c in zip(labels, candidates, strict=True))
    cases = []
    for backend in backends_ if isinstance(backends_, Sequence) else [backends_]:
        rows = task.features(edited, at, candidates, backend)
        cases.append(Case(source.wiki_id, title, article.page_id, split_of(source.dbname, article.page_id),
                          edited.statements[at].text[:200], "reuse" if reuse else "new",
                          [[row[k] for k in FEATURES] for row in rows], labels))
    return cases if isinstance(backends_, Sequence) else cases[0]


# -- metrics ---------------------------------------------------------------------------------------
def rank_of_gold(scores: np.ndarray, labels: Sequence[int]) -> int | None:
    """1-based rank of the best-ranked hit (ties broken against the hit), None if absent."""
    hits = [i for i, label in enumerate(labels) if label]
    if not hits:
        return None
    best = max(scores[i] for i in hits)
    return int(sum(1 for s in scores if s >= best))


def metrics(cases: list[Case], scores: list[np.ndarray], threshold: float) -> dict[str, Any]:
    n = len(cases)
    if not n:
        return {"n_statements": 0}
    ranks = [rank_of_gold(s, c.labels) for c, s in zip(cases, scores, strict=True)]
    shown = [(float(s.max()) >= threshold, bool(c.labels[int(s.argmax())]))
             for c, s in zip(cases, scores, strict=True)]
    n_shown = sum(1 for ok, _ in shown if ok)
    return {
        "n_statements": n,
        "recall_at_1": sum(1 for r in ranks if r and r <= 1) / n,
        "recall_at_3": sum(1 for r in ranks if r and r <= 3) / n,
        "recall_at_5": sum(1 for r in ranks if r and r <= 5) / n,
        "mrr": sum(1.0 / r for r in ranks if r) / n,
        "random_recall_at_3": _random_recall(cases, 3),
        "gold_in_candidates": sum(1 for c in cases if any(c.labels)) / n,
        "avg_candidates": sum(len(c.labels) for c in cases) / n,
        "precision_at_threshold": (sum(1 for ok, good in shown if ok and good) / n_shown
                                   if n_shown else None),
        "coverage": n_shown / n,
        "threshold": threshold,
    }


def _random_recall(cases: list[Case], k: int) -> float:
    """Chance that a random order puts a hit in the top k, averaged over statements."""
    total = 0.0
    for case in cases:
        n, good = len(case.labels), sum(case.labels)
        if not good:
            continue
        miss = 1.0
        for i in range(min(k, n)):  # probability the first i picks are all misses
            miss *= (n - good - i) / (n - i) if n - i > 0 else 0.0
        total += 1.0 - max(miss, 0.0)
    return total / len(cases)


def choose_threshold(cases: list[Case], scores: list[np.ndarray], target: float) -> tuple[float, bool]:
    """Lowest threshold whose top-1 precision on dev reaches ``target`` (else the most precise)."""
    tops = sorted(((float(s.max()), bool(c.labels[int(s.argmax())]))
                   for c, s in zip(cases, scores, strict=True)), reverse=True)
    best, best_precision, hits = 1.0, -1.0, 0
    reached = None
    for shown, (score, good) in enumerate(tops, start=1):
        hits += good
        if shown < len(tops) and tops[shown][0] == score:
            continue  # a threshold shows every tied score or none
        precision = hits / shown
        if shown >= MIN_SHOWN and precision >= target:
            reached = score
        if shown >= MIN_SHOWN and precision > best_precision:
            best, best_precision = score, precision
    return (round(reached, 4), True) if reached is not None else (round(best, 4), False)


def bootstrap(cases: list[Case], scores: list[np.ndarray], threshold: float, rounds: int,
              seed: int = 0) -> dict[str, list[float]]:
    rng = random.Random(seed)
    keys = ("recall_at_1", "recall_at_3", "mrr", "precision_at_threshold", "coverage")
    samples: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(rounds if len(cases) > 1 else 0):
        picked = [rng.randrange(len(cases)) for _ in cases]
        found = metrics([cases[i] for i in picked], [scores[i] for i in picked], threshold)
        for k in keys:
            if found.get(k) is not None:
                samples[k].append(found[k])
    return {k: [round(float(np.percentile(v, 2.5)), 3), round(float(np.percentile(v, 97.5)), 3)]
            for k, v in samples.items() if v}


def fit_weights(cases: list[Case]) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.array([row for c in cases for row in c.features])
    y = np.array([label for c in cases for label in c.labels])
    if len(set(y.tolist())) < 2:
        raise SystemExit("the train split needs both hits and misses")
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    weights = {"bias": round(float(model.intercept_[0]), 4)}
    weights.update({k: round(float(w), 4) for k, w in zip(FEATURES, model.coef_[0], strict=True)})
    return weights


def score_case(case: Case, weights: dict[str, float]) -> np.ndarray:
    x = np.array(case.features)
    z = weights["bias"] + x @ np.array([weights[k] for k in FEATURES])
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))


# -- the run ---------------------------------------------------------------------------------------
def evaluate(dumps: Sequence[str], backend_names: Sequence[str], limit: int, per_article: int,
             rounds: int, cache_dir: str | None = None) -> dict[str, Any]:
    sources = []
    for path in dumps:
        started = time.time()
        source = DumpSource(path)
        sources.append(source)
        log.info("loaded %s (%d articles) in %.0f s", source.wiki_id, len(source.articles),
                 time.time() - started)
    out: dict[str, Any] = {"task": "references", "protocol": __doc__, "targets": {
        "recall_at_3": TARGET_RECALL_AT_3, "precision_at_threshold": TARGET_PRECISION},
        "dumps": [str(d) for d in dumps],
        "dataset_sha256": {Path(d).name: f"sha256:{file_sha256(d)}" for d in dumps},
        "limit_per_wiki": limit, "per_article": per_article,
        "features": list(FEATURES), "results": {}, "weights": {}, "thresholds": {}, "leakage_check": {}}
    models: list[Backend] = []
    for name in backend_names:
        model = backends.create(name)
        # Sparse (character n-gram) vectors are cheap to compute and costly to hold: not cached.
        models.append(model if sparse.issparse(model.embed(["probe"])) else CachedBackend(model, cache_dir))
    task = ReferencesTask()
    per_backend: dict[str, list[Case]] = {name: [] for name in backend_names}
    for source in sources:
        started = time.time()
        names = citation_needed_names(wiki_language(source))
        parsed: dict[str, refs.ArticleReferences] = {}
        picked = pick_cases(source, names, limit, per_article, parsed)
        for title, index in picked:  # candidates once, features per backend
            found = run_case(task, source, models, names, title, index, parsed[title])
            for name, case in zip(backend_names, found if isinstance(found, list) else [], strict=False):
                per_backend[name].append(case)
        log.info("%s: %d cases in %.0f s", source.wiki_id, len(picked), time.time() - started)
    for model in models:
        if isinstance(model, CachedBackend):
            model.save()
    for name in backend_names:
        cases = per_backend[name]
        weights = fit_weights([c for c in cases if c.split == "train"])
        out["weights"][name] = weights
        out["results"][name], out["thresholds"][name] = {}, {}
        out["leakage_check"][name] = leakage_check(cases)
        for source in sources:
            wiki = source.wiki_id
            dev = [c for c in cases if c.wiki == wiki and c.split == "dev"]
            test = [c for c in cases if c.wiki == wiki and c.split == "test"]
            dev_scores = [score_case(c, weights) for c in dev]
            test_scores = [score_case(c, weights) for c in test]
            threshold, reached = choose_threshold(dev, dev_scores, TARGET_PRECISION) if dev else (1.0, False)
            out["thresholds"][name][wiki] = threshold
            result = metrics(test, test_scores, threshold)
            result["threshold_reaches_target_on_dev"] = reached
            result["intervals_95"] = bootstrap(test, test_scores, threshold, rounds)
            result["dev"] = metrics(dev, dev_scores, threshold)
            for kind in ("reuse", "new"):
                chosen = [(c, s) for c, s in zip(test, test_scores, strict=True) if c.kind == kind]
                result[kind] = metrics([c for c, _ in chosen], [s for _, s in chosen], threshold)
            out["results"][name][wiki] = result
    return out


def leakage_check(cases: list[Case]) -> dict[str, Any]:
    """Mean of each feature for the hit and for the other in-article candidates, per case kind: a
    feature that only the removed reference lacks (or has) would show here."""
    report: dict[str, Any] = {}
    in_article = FEATURES.index("in_article")
    for kind in ("reuse", "new"):
        hit_rows = [r for c in cases if c.kind == kind for r, lab in zip(c.features, c.labels, strict=True)
                    if lab and r[in_article]]
        other_rows = [r for c in cases if c.kind == kind for r, lab in zip(c.features, c.labels, strict=True)
                      if not lab and r[in_article]]
        report[kind] = {
            "hit_in_article": {k: round(float(np.mean([r[i] for r in hit_rows])), 3)
                               for i, k in enumerate(FEATURES)} if hit_rows else {},
            "others_in_article": {k: round(float(np.mean([r[i] for r in other_rows])), 3)
                                  for i, k in enumerate(FEATURES)} if other_rows else {},
            "n_cases": sum(1 for c in cases if c.kind == kind),
        }
    return report


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def write_report(doc: dict[str, Any], path: str | Path, notes: str = "") -> None:
    """The Markdown report: targets, figures per backend and wiki (test split), reuse vs new."""
    lines = ["# References task: offline evaluation", "",
             f"Targets on every wiki's test split: recall@3 >= {TARGET_RECALL_AT_3}, top-1 precision >= "
             f"{TARGET_PRECISION} at the wiki's threshold (chosen on dev). Dumps: "
             + ", ".join(f"`{Path(d).name}`" for d in doc["dumps"]) + f"; at most {doc['limit_per_wiki']} "
             f"statements per wiki, {doc['per_article']} per article.", ""]
    head = ("| backend | wiki | case | n | r@1 | r@3 [95%] | r@5 | MRR | random r@3 | gold in candidates "
            "| candidates | precision@t [95%] | coverage | t | meets targets |")
    for name, per_wiki in doc["results"].items():
        lines += [f"## {name}", "", head, "|" + "---|" * 15]
        for wiki, r in per_wiki.items():
            for case, row in (("all", r), ("reuse", r["reuse"]), ("new", r["new"])):
                if not row.get("n_statements"):
                    lines.append(f"| {name} | {wiki} | {case} | 0 |" + " |" * 11)
                    continue
                ci = r["intervals_95"] if case == "all" else {}
                meets = (row["recall_at_3"] >= TARGET_RECALL_AT_3 and (row["precision_at_threshold"] or 0)
                         >= TARGET_PRECISION)
                lines.append(
                    f"| {name} | {wiki} | {case} | {row['n_statements']} | {_fmt(row['recall_at_1'])} | "
                    f"{_fmt(row['recall_at_3'])} {ci.get('recall_at_3', '')} | {_fmt(row['recall_at_5'])} | "
                    f"{_fmt(row['mrr'])} | {_fmt(row['random_recall_at_3'])} | "
                    f"{_fmt(row['gold_in_candidates'])} | {row['avg_candidates']:.0f} | "
                    f"{_fmt(row['precision_at_threshold'])} {ci.get('precision_at_threshold', '')} | "
                    f"{_fmt(row['coverage'])} | {_fmt(row['threshold'])} | {'yes' if meets else 'no'} |")
        lines += ["", f"Fitted weights (train split): `{json.dumps(doc['weights'][name])}`", ""]
    lines += ["## Leakage check", "", "Mean features of the removed reference (hit) and of the other "
              "in-article candidates, per case (all backends share the candidate sets; first backend "
              "shown). Any feature that separates them only by the protocol would show here.", ""]
    first = next(iter(doc["leakage_check"]))
    for kind, block in doc["leakage_check"][first].items():
        lines.append(f"- **{kind}** ({block['n_cases']} cases): hit {block['hit_in_article'] or '–'}; "
                     f"others {block['others_in_article'] or '–'}")
    if notes:
        lines += ["", notes.strip()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suggest.evaluate --task references", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="references", choices=["references"])
    parser.add_argument("--dump", action="append", nargs="+", required=True, help="XML dump file(s)")
    parser.add_argument("--backend", action="append", help="backend name(s); default tfidf and e5")
    parser.add_argument("--limit", type=int, default=300, help="statements per wiki")
    parser.add_argument("--per-article", type=int, default=6, help="statements per article")
    parser.add_argument("--bootstrap", type=int, default=300, help="bootstrap rounds")
    parser.add_argument("--out", required=True, help="results JSON")
    parser.add_argument("--report", help="Markdown report to write")
    parser.add_argument("--notes", help="Markdown file with the analysis, appended to the report")
    parser.add_argument("--cache-dir", default="var/cache/embeddings-references",
                        help="embedding cache ('' = off)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    dumps = [d for group in args.dump for d in group]
    chosen = args.backend or ["tfidf", "e5-multilingual-offline"]
    results = evaluate(dumps, chosen, args.limit, args.per_article, args.bootstrap, args.cache_dir or None)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.report:
        notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
        write_report(results, args.report, notes)
    for name, per_wiki in results["results"].items():
        for wiki, r in per_wiki.items():
            print(f"{name:26} {wiki:10} n={r['n_statements']:4} r@1={r.get('recall_at_1', 0):.2f} "
                  f"r@3={r.get('recall_at_3', 0):.2f} mrr={r.get('mrr', 0):.2f} "
                  f"rand@3={r.get('random_recall_at_3', 0):.2f} P@t={r.get('precision_at_threshold')} "
                  f"cov={r.get('coverage', 0):.2f} t={r.get('threshold')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
