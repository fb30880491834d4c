"""The tool card, built at request time from the running tool (never maintained by hand)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
from typing import Any

from suggest import TOOL_NAME, __version__
from suggest.backends.base import BackendInfo
from suggest.community import (
    PAGE_TITLE,
    SCHEMA,
)
from suggest.config import config_hash, public_config
from suggest.metrics.dataset import PUBLISHED, PUBLISHED_REVIEWS
from suggest.ranking.thresholds import load as load_evaluated_thresholds
from suggest.review import ReviewStore
from suggest.services import SuggestionService
from suggest.store.events import StoreUnavailable
from suggest.toolcard.evaluation import latest_per_task, load_evaluations
from suggest.toolcard.governance import (
    alarm_rules,
    caps,
    community_in_force,
    live_rates,
    task_guardrails,
    task_status,
    task_thresholds,
)
from suggest.toolcard.pipeline import describe_kind, task_pipeline

log = logging.getLogger(__name__)


LICENCE = {"code": "GPL-3.0-or-later",
           "data": "Suggestions, the evaluation's data and the test fixtures derive from Wikipedia "
                   "text: CC BY-SA 4.0 (the 2016 sample wiki: CC BY-SA 3.0 and GFDL)",
           "attribution": "Reusing them requires attribution to Wikipedia's contributors (a link "
                          "to the article or its history is enough) and sharing alike, under CC "
                          "BY-SA; the data page and the fixtures' ATTRIBUTION.md say where each "
                          "comes from.",
           "models": "Each model under its own licence (see Models)"}


# What the gadget keeps in the editor's browser (the data page says the same).
BROWSER_OUTBOX = ("The gadget keeps the editor's decisions that the service has not yet confirmed "
                  "(suggestion id, decision, reason, comment, user name) in the browser's local "
                  "storage, sends them when the service answers again, and deletes each once the "
                  "service has answered for it; none is kept longer than 7 days. An editor who "
                  "confirms their account (optional: a login to the tool in a popup) also keeps "
                  "there a ticket naming it, sent with their decisions for 30 days; the tool "
                  "stores only that a decision was confirmed, no token of the wiki.")
REQUIRED_KEYS = ("identity", "tasks", "models", "system", "hosting", "data_flow", "evaluation",
                 "limitations", "monitoring", "governance", "licence")


TOOL_LIMITATIONS = [
    "Scores are comparable within a task and backend only; thresholds are chosen per wiki.",
    "The tool sees one revision of the page; it does not know the editor's intent or talk pages.",
    "Acceptance measures what editors took, not what is right; reviewer labels complement it.",
]
# Who decided: the user name the gadget reports, checked only for confirmed accounts.
NAMES_UNCHECKED = (
    "A decision carries the user name the gadget reports. The tool checks it only for editors who "
    "confirmed their account (the gadget's optional login, counted on the statistics page): a "
    "client that invents decisions can skew the acceptance and rejection rates, and an alarm on "
    "them can pause a task. Only the revert rate rests on edits checked against the wiki. Every "
    "pause is in the public audit log, and maintainers can resume the task.")
NAMES_CONFIRMED = (
    "A decision carries the user name the gadget reports. The tool checks it only for editors who "
    "confirmed their account (the gadget's optional login, counted on the statistics page), and "
    "the alarms count only their decisions, less those of editors blocked on the wiki when the "
    "monitor runs: invented decisions cannot pause a task, but the alarms wait until enough "
    "editors have confirmed. The acceptance and rejection rates shown count every decision.")
# Each task's own, shown when it is enabled.
TASK_LIMITATIONS = {
    "categories": [
        "Suggestions come from the categories of linked and similar articles: a category no "
        "neighbour carries can never be suggested, and a small or new wiki has few neighbours. "
        "Disambiguation pages among them are left out on a live wiki (the wiki marks them); the "
        "evaluation on dumps cannot tell them and keeps them.",
        "Parents and grandparents of the page's own categories, categories without a page (red "
        "links), redirected ones, containers marked with {{Container category}} and those meant "
        "to stay empty are left out, and so is a suggestion that is the parent of another one "
        "shown; a category three or more levels above one the page has, and a container or "
        "project category that is neither hidden nor marked so, can still be suggested (a wiki "
        "can add these to its never-suggest list).",
    ],
    "references": [
        "A reference is suggested only if the article already cites it elsewhere or an article it "
        "links to cites it: a source no nearby article uses can never be suggested.",
        "The tool matches a statement to a reference by the text around it; it does not read the "
        "source, so whether the source supports the statement is for the editor to check.",
        "In VisualEditor's visual mode the gadget finds a statement by its text as the service "
        "reads it (without what templates, footnotes and formulas inside it show), or as the "
        "citation-needed template holding it shows it: a statement whose whole text another "
        "template makes, or whose words read otherwise than in the wikitext, gets no place "
        "there (the source editors find it).",
    ],
}
TASK_PURPOSES = {"categories": "categories", "references": "references for unsourced statements"}


def _limitations(tasks: list[str], confirmed_only: bool) -> list[str]:
    return [f"{task.capitalize()}: {item}" for task in tasks
            for item in TASK_LIMITATIONS.get(task, [])] + TOOL_LIMITATIONS + [
        NAMES_CONFIRMED if confirmed_only else NAMES_UNCHECKED]


def _purpose(tasks: list[str]) -> str:
    what = " and ".join(TASK_PURPOSES.get(t, t) for t in tasks) or "nothing (no task is enabled)"
    return (f"Suggest {what} to the editors of Wikipedia articles, who accept, reject or skip "
            "each suggestion and save every edit themselves.")


def _who_can_pause(config: dict[str, Any]) -> str:
    maintainers = [str(m) for m in config.get("MAINTAINERS") or []]
    web = (f"the tool's maintainers {', '.join(maintainers)}, logged in with Wikimedia OAuth on "
           "/admin" if maintainers else
           "no one on /admin, where no maintainer is configured (MAINTAINERS)")
    return ("The automatic monitor (on a triggered alarm); "
            f"{web}; and the tool account's maintainers on Toolforge (flask pause / flask resume). "
            "Every action is in the public audit log.")


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


def _store_parts(svc: SuggestionService) -> tuple[list[Any], list[Any], list[dict[str, Any]] | str]:
    """(pauses, recent audit entries, reviewer labels) from the store."""
    try:
        audit = [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in e.items()}
                 for e in svc.store.audit_entries(limit=20)]
        return _pauses(svc), audit, ReviewStore(svc.store.engine).summary()
    except StoreUnavailable:
        return [], [], "database unavailable"
    except Exception as error:  # noqa: BLE001 - e.g. a table not created yet
        log.warning("tool card: store read failed: %s", type(error).__name__)
        return [], [], "database unavailable"


def _models(info: BackendInfo, tasks: list[dict[str, Any]],
            evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The backend in use with the ranker files its tasks load, then each other evaluated backend
    with the checksums its evaluation recorded."""
    in_use = {**info.as_dict(), "in_use": True,
              "rankers": {t["id"]: {k: t["pipeline"]["ranker_model"][k] for k in ("file", "checksum")}
                          for t in tasks if t["pipeline"].get("ranker_model")}}
    in_use.pop("limitations", None)
    others: dict[str, dict[str, Any]] = {}
    for entry in evaluations:
        for backend in entry.get("backends", []):
            if backend == info.id:
                continue
            model = others.setdefault(backend, {"id": backend, "in_use": False, "rankers": {},
                                                "note": "evaluated; see evaluation"})
            recorded = entry.get("models", {}).get(backend, {})
            model.update({k: v for k, v in recorded.items() if k != "ranker_checksum" and v is not None
                          and k not in model})
            if recorded.get("ranker_checksum"):
                model["rankers"][entry["task"]] = {"file": None, "checksum": recorded["ranker_checksum"]}
    return [in_use] + [others[b] for b in sorted(others)]


def _monitoring(svc: SuggestionService, pauses: list[Any], audit: list[Any], base_url: str,
                warnings: list[dict[str, Any]]) -> dict[str, Any]:
    config = svc.config
    metrics = _metrics_summary(svc)
    return {
        "pauses": pauses,
        "alarms": config.get("ALARMS"),
        "alarm_rules": alarm_rules(config),
        "alarm_min_decisions": config.get("ALARM_MIN_DECISIONS"),
        "alarm_window_days": config.get("ALARM_WINDOW_DAYS"),
        "alarm_confirmed_only": bool(config.get("ALARM_CONFIRMED_ONLY")),
        "recent_actions": audit,
        "metrics": metrics,
        "rates": live_rates(metrics),
        "metrics_note": ("metrics unavailable" if isinstance(metrics, dict) else
                         "no live metrics module" if metrics is None else
                         None if metrics else "No suggestion has been decided on yet."),
        "stats_page": f"{base_url}/stats",
        "community_config_warnings": warnings,
    }


def _tasks(svc: SuggestionService, thresholds_file: dict[str, Any], evaluations: list[dict[str, Any]],
           community: dict[str, Any]) -> list[dict[str, Any]]:
    config, info = svc.config, svc.backend.info
    return [{
        "id": task.id, "version": task.version, "definition": task.definition,
        "enabled": task.id in config["TASKS"],
        "rejection_reasons": [{"id": r.id, "label": r.label} for r in task.reasons],
        "pipeline": {
            **task_pipeline(task, info, svc.backend),
            "backend": info.id,
            "thresholds": task_thresholds(config, task.id, info.id, thresholds_file, evaluations,
                                          community),
            "guardrails": task_guardrails(config, task, community),
        },
        "evaluation": [{"file": e["file"], "results": e["results"]}
                       for e in evaluations if e.get("task") == task.id],
        "evaluated_version": _evaluated_version(task, evaluations),
    } for task in svc.tasks.values()]


def _evaluated_version(task: Any, evaluations: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the latest evaluation of the task ran the version now running (the version names
    the task's code and its ranker files): its figures describe this task only if so."""
    evaluation = next((e for e in evaluations if e.get("task") == task.id), None)
    recorded = evaluation.get("task_version") if evaluation else None
    same = None if recorded is None else recorded == task.version
    note = (None if same else
            "No committed evaluation of this task was found." if evaluation is None else
            "The latest evaluation does not record the task version it ran." if same is None else
            f"The latest evaluation ran version {recorded}: its figures describe that version, "
            f"not the running {task.version}.")
    return {"evaluated": recorded, "running": task.version, "same": same, "note": note}


def build_card(svc: SuggestionService, base_url: str = "") -> dict[str, Any]:
    config = svc.config
    public = public_config(config)
    info = svc.backend.info
    thresholds_file = load_evaluated_thresholds(config.get("THRESHOLDS_PATH"))
    evaluations, superseded = latest_per_task(load_evaluations(config.get("EVAL_DIR") or "eval"))
    community = {wiki: state.as_dict() for wiki, state in sorted(svc.community.latest().items())}
    warnings = [{"wiki": wiki, "warning": s["warning"]} for wiki, s in community.items() if s["warning"]]
    tasks = _tasks(svc, thresholds_file, evaluations, community)
    pauses, audit, reviews = _store_parts(svc)
    in_force = community_in_force(community, list(config["TASKS"]))
    for task in tasks:
        task["status"] = task_status(task["id"], pauses, in_force)
    evaluated_backends = sorted({b for e in evaluations for b in e.get("backends", [])})

    data_flow = {
        "backends": {info.id: info.data_flow},
        "wikis": "The service reads page text, categories and search results from the wiki's public "
                 "API with a User-Agent naming the tool; it never writes to a wiki.",
        "stored": f"{base_url}/data",
        "published_decisions": f"{base_url}/api/v1/dataset/decisions and "
                               f"{base_url}/dataset/decisions.csv: {PUBLISHED}",
        "published_reviews": f"{base_url}/api/v1/dataset/reviews and "
                             f"{base_url}/dataset/reviews.csv: {PUBLISHED_REVIEWS}",
        "cache": "Recomputable results only, keyed by hashes, with a time limit; nothing personal.",
        "logged": "Method, path, status, size and duration of requests; no IP addresses, no user agents.",
        "browser": BROWSER_OUTBOX,
    }
    card = {
        "identity": {
            "name": TOOL_NAME, "version": __version__,
            "kind": describe_kind(info),
            "purpose": _purpose(list(config["TASKS"])),
            "url": config.get("CONTACT_URL"), "contact": config.get("CONTACT_EMAIL"),
            "source": config.get("SOURCE_URL"),
            "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "config_hash": config_hash(config),
        },
        "tasks": tasks,
        "models": _models(info, tasks, evaluations),
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
            "superseded": superseded,
            "backends_side_by_side": evaluated_backends,
            "reviewer_labels": reviews,
            "note": None if evaluations else "No committed evaluation results were found under eval/.",
        },
        "limitations": {
            "tool": _limitations(list(config["TASKS"]), bool(config.get("ALARM_CONFIRMED_ONLY"))),
            "model": {info.id: list(info.limitations)},
        },
        "monitoring": _monitoring(svc, pauses, audit, base_url, warnings),
        "governance": {
            "who_can_pause": _who_can_pause(config),
            "community_configuration": {
                "page": PAGE_TITLE,
                "schema": f"{base_url}/toolcard.json#community-schema",
                "settings": sorted(SCHEMA["properties"]),
                "rules": "Tasks can be turned off, thresholds only raised (never below the evaluated "
                         "minimum), suggestions capped and blocked, and the wiki's decisions withheld "
                         "from the published dataset; an invalid page is ignored with a warning and "
                         "the last valid one stays in force.",
                "wikis": community,
                "in_force": in_force,
            },
            "editing": "The tool never edits by itself: every edit is saved by a person under their own "
                       "account, so no bot approval applies.",
            "caps": caps(config, community),
            "reviewers": f"{base_url}/review",
        },
        "licence": {**LICENCE, "source": config.get("SOURCE_URL")},
        "community_schema": SCHEMA,
    }
    return card
