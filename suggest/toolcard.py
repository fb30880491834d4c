"""The tool card, built at request time from the running tool (never maintained by hand).

Sources: the live configuration, the tasks' own definitions, the backends' ``BackendInfo``, the
latest committed evaluation results under ``eval/``, the evaluated thresholds file, the community
pages read so far, pauses and the audit log from the store, reviewer labels, and the live metrics when
``suggest.metrics`` provides them. :func:`to_wikitext` renders the same card for Meta-Wiki.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import inspect
import json
import logging
import sys
from pathlib import Path
from typing import Any

from suggest import TOOL_NAME, __version__
from suggest.community import (
    PAGE_TITLE,
    REJECTIONS_TO_BLOCK,
    SCHEMA,
    repo_path,
)
from suggest.config import config_hash, public_config
from suggest.ranking.thresholds import load as load_evaluated_thresholds
from suggest.review import ReviewStore
from suggest.services import SuggestionService
from suggest.store.events import StoreUnavailable

log = logging.getLogger(__name__)

LICENCE = {"code": "GPL-3.0-or-later",
           "data": "Suggestions and evaluation data derive from Wikipedia text: CC BY-SA 4.0",
           "models": "see each model's licence under models"}
METRIC_KEYS = ("precision_at_threshold", "recall_at_threshold", "coverage", "threshold",
               "precision_at_1", "precision_at_3", "recall_at_5", "mrr", "n_articles")
REQUIRED_KEYS = ("identity", "tasks", "models", "system", "hosting", "data_flow", "evaluation",
                 "limitations", "monitoring", "governance", "licence")
TOOL_LIMITATIONS = [
    "Suggestions come from the categories of linked and similar articles: a category no neighbour "
    "carries can never be suggested, and a small or new wiki has few neighbours.",
    "Scores are comparable within a task and backend only; thresholds are chosen per wiki.",
    "The tool sees one revision of the page; it does not know the editor's intent or talk pages.",
    "Acceptance measures what editors took, not what is right; reviewer labels complement it.",
]


# -- evaluation results ---------------------------------------------------------------------------
def _file_sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _checksums(node: Any, path: str = "") -> dict[str, str]:
    """Every ``...checksum...``/``sha256`` string anywhere in a results document."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and ("checksum" in str(key).lower() or "sha256" in str(key).lower()
                                           or value.startswith("sha256:")):
                found[where] = value
            else:
                found.update(_checksums(value, where))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.update(_checksums(value, f"{path}[{i}]"))
    return found


def _metric_rows(node: Any, trail: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Each dict that carries the harness's figures, with the keys that led to it."""
    rows: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if any(k in node for k in METRIC_KEYS[:3]):
            figures = {k: v for k, v in node.items()
                       if isinstance(v, int | float | str | type(None)) or
                       (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int | float) for x in v))
                       or (isinstance(v, dict) and k.endswith(("interval", "ci", "intervals")))}
            rows.append({"trail": trail, "figures": figures})
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


NOT_RESULTS = frozenset({"targets", "weights", "thresholds", "features", "protocol", "leakage_check"})


def load_evaluations(eval_dir: str | Path) -> list[dict[str, Any]]:
    """Every committed results file under ``eval/``: per backend and wiki figures side by side,
    dataset checksums and the command that reproduces it."""
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
        if not isinstance(document, dict):
            continue
        default_backend = document.get("default_backend")
        results = []
        # Targets, fitted weights and thresholds carry metric names too, but are not results.
        measured = {k: v for k, v in document.items() if k not in NOT_RESULTS}
        for row in _metric_rows(measured):
            backend, wiki = _split_trail(row["trail"], row["figures"], default_backend)
            results.append({"backend": backend, "wiki": wiki, **row["figures"]})
        if not results:
            continue
        task = str(document.get("task") or ("references" if "reference" in path.name else "categories"))
        command = document.get("command") or document.get("reproduce")
        if not command:
            backends = sorted({r["backend"] for r in results})
            command = (f"python -m suggest.evaluate --task {task} --dump DUMP [--dump DUMP ...] "
                       + " ".join(f"--backend {b}" for b in backends) + f" --out eval/{path.name}")
        entry: dict[str, Any] = {
            "file": f"eval/{path.name}",
            "file_checksum": _file_sha256(path),
            "task": task,
            "app_version": document.get("app_version"),
            "created": document.get("created") or document.get("generated_at") or document.get("date"),
            "default_backend": default_backend,
            "results": results,
            "backends": sorted({r["backend"] for r in results}),
            "wikis": sorted({r["wiki"] for r in results}),
            "dataset_checksums": _checksums(document),
            "reproduce": command if isinstance(command, str) else " ".join(map(str, command)),
            "report": f"eval/{path.stem}.md" if path.with_suffix(".md").exists() else None,
        }
        out.append(entry)
    return out


# -- live parts -----------------------------------------------------------------------------------
def _task_pipeline(task: Any) -> dict[str, Any]:
    """The task's own description of its pipeline, else what its module states."""
    described = getattr(task, "pipeline", None)
    if callable(described):
        described = described()
    if isinstance(described, dict):
        return dict(described)
    module = sys.modules.get(type(task).__module__)
    doc = inspect.getdoc(module) or ""
    weights = getattr(module, "WEIGHTS", None)
    limits = {name.lower(): getattr(module, name) for name in ("MAX_LINKS", "SIMILAR_ARTICLES",
                                                               "LEAD_CHARS") if hasattr(module, name)}
    return {
        "candidate_sources": doc.split("\n\n")[1].replace("\n", " ") if "\n\n" in doc else doc,
        "features": sorted(k for k in weights if k != "bias") if isinstance(weights, dict) else [],
        "ranker": ("logistic score with fixed weights " + json.dumps(weights)) if weights else
                  "see the task module",
        "limits": limits,
    }


def _metrics_summary(svc: SuggestionService) -> Any:
    """Live totals per task and wiki from ``suggest.metrics`` (optional: absent -> None)."""
    try:
        aggregates = importlib.import_module("suggest.metrics.aggregates")
        totals, filters = aggregates.totals, aggregates.Filters
    except (ImportError, AttributeError):
        return None
    try:
        with svc.store.engine.connect() as conn:
            rows = totals(conn, filters(), dt.datetime.now(dt.UTC).replace(tzinfo=None))
    except Exception as error:  # noqa: BLE001 - the card must render without metrics
        log.warning("metrics summary failed: %s", type(error).__name__)
        return {"error": "metrics unavailable"}
    return json.loads(json.dumps(rows, default=str))


def _pauses(svc: SuggestionService) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from suggest.store.schema import pauses

    with svc.store.engine.connect() as conn:
        return [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r._mapping.items()}
                for r in conn.execute(select(pauses).order_by(pauses.c.wiki, pauses.c.task))]


def build_card(svc: SuggestionService, base_url: str = "") -> dict[str, Any]:
    config = svc.config
    public = public_config(config)
    info = svc.backend.info
    thresholds_file = load_evaluated_thresholds(config.get("THRESHOLDS_PATH"))
    evaluations = load_evaluations(config.get("EVAL_DIR") or "eval")
    community = {wiki: state.as_dict() for wiki, state in sorted(svc.community.latest().items())}
    warnings = [{"wiki": wiki, "warning": s["warning"]} for wiki, s in community.items() if s["warning"]]
    per_wiki = {wiki: {k.upper(): v for k, v in values.items()}
                for wiki, values in (config.get("WIKIS") or {}).items()}
    never = config.get("NEVER_SUGGEST") or {}

    tasks = []
    for task in svc.tasks.values():
        task_never = never.get(task.id, []) if isinstance(never, dict) else list(never)
        tasks.append({
            "id": task.id, "version": task.version, "definition": task.definition,
            "enabled": task.id in config["TASKS"],
            "rejection_reasons": [{"id": r.id, "label": r.label} for r in task.reasons],
            "pipeline": {
                **_task_pipeline(task),
                "backend": info.id,
                "thresholds": {
                    "default": float(config["THRESHOLD"]),
                    "per_wiki": {w: v["THRESHOLD"] for w, v in per_wiki.items() if "THRESHOLD" in v},
                    "evaluated_file": config.get("THRESHOLDS_PATH") if thresholds_file else None,
                    "evaluated": thresholds_file.get(task.id, thresholds_file) if thresholds_file else {},
                    "community": {w: s["settings"].get("thresholds", {}).get(task.id)
                                  for w, s in community.items()
                                  if s["settings"].get("thresholds", {}).get(task.id) is not None},
                },
                "guardrails": {
                    "never_suggest": list(task_never),
                    "never_suggest_per_wiki": {w: v["NEVER_SUGGEST"] for w, v in per_wiki.items()
                                               if "NEVER_SUGGEST" in v},
                    "community_never_suggest": {w: len(s["settings"].get("never_suggest", {})
                                                       .get("categories" if task.id == "categories"
                                                            else "reference_domains", []))
                                                for w, s in community.items()},
                    "max_suggestions": int(config["MAX_SUGGESTIONS"]),
                    "max_suggestions_per_wiki": {w: v["MAX_SUGGESTIONS"] for w, v in per_wiki.items()
                                                 if "MAX_SUGGESTIONS" in v},
                    "rejected_pairs": f"a (page, suggestion) pair rejected by {REJECTIONS_TO_BLOCK} "
                                      "editors is not suggested again",
                    "existing_and_hidden": "categories already on the page and hidden (maintenance) "
                                           "categories are never suggested",
                },
            },
            "evaluation": [{"file": e["file"], "results": e["results"]}
                           for e in evaluations if e["task"] == task.id],
        })

    try:
        pauses = _pauses(svc)
        audit = [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in e.items()}
                 for e in svc.store.audit_entries(limit=20)]
        reviews: list[dict[str, Any]] | str = ReviewStore(svc.store.engine).summary()
    except StoreUnavailable:
        pauses, audit, reviews = [], [], "database unavailable"
    except Exception as error:  # noqa: BLE001 - e.g. a table not created yet
        log.warning("tool card: store read failed: %s", type(error).__name__)
        pauses, audit, reviews = [], [], "database unavailable"

    data_flow = {
        "backends": {info.id: info.data_flow},
        "wikis": "The service reads page text, categories and search results from the wiki's public "
                 "API with a User-Agent naming the tool; it never writes to a wiki.",
        "stored": f"{base_url}/data",
        "cache": "Recomputable results only, keyed by hashes, with a time limit; nothing personal.",
        "logged": "Method, path, status, size and duration of requests; no IP addresses, no user agents.",
    }
    card = {
        "identity": {
            "name": TOOL_NAME, "version": __version__,
            "kind": "A wrapper around third-party text-embedding models, with the tool's own ranking "
                    "of candidates; it proposes, people decide.",
            "purpose": "Suggest categories (and, as tasks are added, references) for Wikipedia "
                       "articles; editors accept, reject or skip each one and save every edit "
                       "themselves.",
            "url": config.get("CONTACT_URL"), "contact": config.get("CONTACT_EMAIL"),
            "source": config.get("SOURCE_URL"),
            "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "config_hash": config_hash(config),
        },
        "tasks": tasks,
        "models": [{
            "id": info.id, "model": info.model, "version": info.version, "checksum": info.checksum,
            "licence": info.licence, "model_card": info.model_card, "hosting_tier": info.hosting_tier,
            "data_flow": info.data_flow, "languages": info.languages, "in_use": True,
        }] + [{"id": b, "in_use": False, "note": "evaluated; see evaluation"}
              for b in sorted({b for e in evaluations for b in e["backends"]}) if b != info.id],
        "system": {
            "tasks_enabled": list(config["TASKS"]),
            "backend": info.id,
            "configuration": {k: v for k, v in public.items() if k not in ("DUMP_WIKIS", "EXTRA_WIKIS")},
            "wikis": "Wikimedia wikis from the site matrix, plus configured ones",
            "human_in_the_loop": "Every suggestion is shown to an editor, who accepts, rejects or "
                                 "skips it and saves the edit under their own account.",
        },
        "hosting": {"tier": config["HOSTING_TIER"], "provider": config["HOSTING_PROVIDER"],
                    "model_hosting": {info.id: info.hosting_tier}},
        "data_flow": data_flow,
        "evaluation": {
            "results": evaluations,
            "backends_side_by_side": sorted({b for e in evaluations for b in e["backends"]}),
            "reviewer_labels": reviews,
            "note": None if evaluations else "No committed evaluation results were found under eval/.",
        },
        "limitations": {
            "tool": TOOL_LIMITATIONS,
            "model": {info.id: list(info.limitations)},
        },
        "monitoring": {
            "pauses": pauses,
            "alarms": config.get("ALARMS"),
            "recent_actions": audit,
            "metrics": _metrics_summary(svc),
            "stats_page": f"{base_url}/stats",
            "community_config_warnings": warnings,
        },
        "governance": {
            "who_can_pause": "The automatic monitor (on a triggered alarm) and the tool's maintainers "
                             "(logged in with Wikimedia OAuth); every action is in the public audit log.",
            "community_configuration": {
                "page": PAGE_TITLE,
                "schema": f"{base_url}/toolcard.json#community-schema",
                "settings": sorted(SCHEMA["properties"]),
                "rules": "Tasks can be turned off, thresholds only raised (never below the evaluated "
                         "minimum), suggestions capped and blocked; an invalid page is ignored with a "
                         "warning and the last valid one stays in force.",
                "wikis": community,
            },
            "editing": "The tool never edits by itself: every edit is saved by a person under their own "
                       "account, so no bot approval applies.",
            "caps": {"max_suggestions": int(config["MAX_SUGGESTIONS"]),
                     "daily_user_cap": {w: s["settings"]["daily_user_cap"] for w, s in community.items()
                                        if "daily_user_cap" in s["settings"]}},
            "reviewers": f"{base_url}/review",
        },
        "licence": {**LICENCE, "source": config.get("SOURCE_URL")},
        "community_schema": SCHEMA,
    }
    return card


# -- wikitext -------------------------------------------------------------------------------------
def _escape(value: Any) -> str:
    text = "" if value is None else str(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "&#124;").replace("[[", "&#91;&#91;").replace("{{", "&#123;&#123;")
            .replace("~~~", "&#126;~~").replace("\n", " "))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return f"{value[0]:.3f}–{value[1]:.3f}"
    return _escape(value)


def to_wikitext(card: dict[str, Any]) -> str:
    """The card as wikitext, ready to paste on a Meta-Wiki page."""
    ident = card["identity"]
    lines = [
        f"== {_escape(ident['name'])} {_escape(ident['version'])}: tool card ==",
        f"''Generated by the tool on {_escape(ident['generated_at'])} "
        f"(configuration {_escape(ident['config_hash'])}); do not edit by hand.''",
        "", "=== Identity ===",
        f"* '''Kind:''' {_escape(ident['kind'])}",
        f"* '''Purpose:''' {_escape(ident['purpose'])}",
        f"* '''Source code:''' {_escape(ident['source'])}",
        f"* '''Contact:''' {_escape(ident['contact'])}",
        "", "=== Tasks ===",
    ]
    for task in card["tasks"]:
        pipe = task["pipeline"]
        lines += [
            f"==== {_escape(task['id'])} (version {_escape(task['version'])}"
            f"{'' if task['enabled'] else ', not enabled'}) ====",
            _escape(task["definition"]),
            f"* '''Candidates:''' {_escape(pipe.get('candidate_sources'))}",
            f"* '''Features:''' {_escape(', '.join(map(str, pipe.get('features', []))))}",
            f"* '''Ranker:''' {_escape(pipe.get('ranker'))}",
            f"* '''Threshold:''' {_fmt(pipe['thresholds']['default'])}; per wiki: "
            f"{_escape(json.dumps(pipe['thresholds']['per_wiki'], sort_keys=True))}",
            f"* '''Guardrails:''' never-suggest list of {len(pipe['guardrails']['never_suggest'])}; "
            f"at most {pipe['guardrails']['max_suggestions']} suggestions; "
            f"{_escape(pipe['guardrails']['rejected_pairs'])}",
        ]
    lines += ["", "=== Models ===", '{| class="wikitable"',
              "! Backend !! Model !! Version !! Checksum !! Licence !! Model card !! Hosting !! Data flow"]
    for model in card["models"]:
        lines += ["|-", "| " + " || ".join(_escape(model.get(k)) for k in (
            "id", "model", "version", "checksum", "licence", "model_card", "hosting_tier", "data_flow"))]
    lines += ["|}", "", "=== Hosting and data flow ===",
              f"* '''Hosting:''' {_escape(card['hosting']['tier'])} tier, "
              f"{_escape(card['hosting']['provider'])}"]
    lines += [f"* '''{_escape(k)}:''' {_escape(v if isinstance(v, str) else json.dumps(v))}"
              for k, v in card["data_flow"].items()]
    lines += ["", "=== Evaluation ==="]
    evaluations = card["evaluation"]["results"]
    if not evaluations:
        lines.append(_escape(card["evaluation"]["note"]))
    for ev in evaluations:
        if "results" not in ev:
            continue
        lines += [f"==== {_escape(ev['task'])}: {_escape(ev['file'])} ====",
                  f"Reproduce: <code><nowiki>{ev['reproduce'].replace('</', '&lt;/')}</nowiki></code>",
                  '{| class="wikitable sortable"',
                  "! Backend !! Wiki !! " + " !! ".join(METRIC_KEYS)]
        for row in ev["results"]:
            lines += ["|-", "| " + " || ".join([_escape(row["backend"]), _escape(row["wiki"])]
                                                + [_fmt(row.get(k)) for k in METRIC_KEYS])]
        lines.append("|}")
        lines += [f"* Dataset checksum <code>{_escape(k)}</code>: <code>{_escape(v)}</code>"
                  for k, v in list(ev["dataset_checksums"].items())[:30]]
    reviews = card["evaluation"]["reviewer_labels"]
    if isinstance(reviews, list) and reviews:
        lines += ["==== Reviewer labels ====", '{| class="wikitable"',
                  "! Wiki !! Task !! Suggestions !! Precision !! Interval !! Fleiss' kappa"]
        for r in reviews:
            lines += ["|-", "| " + " || ".join(_fmt(r.get(k)) for k in (
                "wiki", "task", "suggestions", "precision", "precision_interval", "fleiss_kappa"))]
        lines.append("|}")
    lines += ["", "=== Limitations ===", "; Tool-level"]
    lines += [f"* {_escape(item)}" for item in card["limitations"]["tool"]]
    lines.append("; Inherited from the model")
    for backend, items in card["limitations"]["model"].items():
        lines += [f"* {_escape(backend)}: {_escape(item)}" for item in items]
    mon, gov = card["monitoring"], card["governance"]
    paused = ", ".join(f"{p['wiki']}/{p['task']}" for p in mon["pauses"]) or "nothing"
    lines += ["", "=== Monitoring ===",
              f"* '''Paused:''' {_escape(paused)}",
              f"* '''Statistics:''' {_escape(mon['stats_page'])}"]
    lines += [f"* '''Warning ({_escape(w['wiki'])}):''' {_escape(w['warning'])}"
              for w in mon["community_config_warnings"]]
    lines += ["", "=== Governance ===",
              f"* '''Who can pause:''' {_escape(gov['who_can_pause'])}",
              f"* '''Community configuration:''' <code>{_escape(gov['community_configuration']['page'])}"
              f"</code> on each wiki. {_escape(gov['community_configuration']['rules'])}",
              f"* '''Editing:''' {_escape(gov['editing'])}",
              f"* '''Caps:''' {_escape(json.dumps(gov['caps'], sort_keys=True))}",
              "", "=== Licence ===",
              f"* Code: {_escape(card['licence']['code'])}; data: {_escape(card['licence']['data'])}; "
              f"source: {_escape(card['licence']['source'])}"]
    return "\n".join(lines) + "\n"
