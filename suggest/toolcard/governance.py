"""What limits the suggestions: the thresholds in force per wiki, the guardrails of each task, the
caps, and the alarm rules and live rates of monitoring."""

from __future__ import annotations

from typing import Any

from suggest.community import REJECTIONS_TO_BLOCK
from suggest.config import wiki_overrides
from suggest.ranking.thresholds import evaluated, operating_threshold
from suggest.tasks.references import PER_STATEMENT, UNSOURCED_FACTOR
from suggest.toolcard.evaluation import target_misses
from suggest.toolcard.format import cell, misses_by_wiki, rate_cell

# What each task itself never suggests (the service's own guardrails are added to these).
TASK_GUARDRAILS = {
    "categories": [
        "categories already on the page and hidden (maintenance) categories are never suggested",
        "categories on the never-suggest lists (configuration and the wiki's community page) are "
        "never suggested",
        f"a category rejected by {REJECTIONS_TO_BLOCK} editors on a page is not suggested on it again",
    ],
    "references": [
        "a reference the statement already cites is never suggested for it",
        f"at most {PER_STATEMENT} suggestions per statement; the score of a statement without a "
        f"citation-needed mark is multiplied by {UNSOURCED_FACTOR}",
        "references from domains on the never-suggest lists (configuration, and reference_domains "
        "on the wiki's community page; subdomains included) are never suggested",
        f"a reference rejected by {REJECTIONS_TO_BLOCK} editors on a page is not suggested on it again",
    ],
}


def _per_wiki(config: dict[str, Any], key: str) -> dict[str, Any]:
    """A setting configured per wiki (``WIKIS.<id>.<key>``, any case), by lower-case wiki id."""
    wikis = {str(w).lower() for w in (config.get("WIKIS") or {})}
    found = {}
    for wiki in sorted(wikis):
        values = {str(k).upper(): v for k, v in wiki_overrides(config, wiki).items()}
        if key in values:
            found[wiki] = values[key]
    return found


def _evaluated_entries(data: dict[str, Any], task_id: str) -> dict[str, dict[str, float]]:
    """This task's entries of the thresholds file only, by backend."""
    by_backend = data.get("by_backend", {}).get(task_id)
    found = ({str(b): dict(v) for b, v in by_backend.items() if isinstance(v, dict)}
             if isinstance(by_backend, dict) else {})
    chosen = data.get("tasks", {}).get(task_id)
    if isinstance(chosen, dict):
        found.setdefault(str(data.get("backend", {}).get(task_id) or "any backend"), dict(chosen))
    return found


def _measured(evaluations: list[dict[str, Any]], task_id: str, backend: str) -> dict[str, dict[str, Any]]:
    """The test figures of the configured backend, by wiki, for one task."""
    return {r["wiki"]: r for e in evaluations if e.get("task") == task_id
            for r in e.get("results", []) if r["backend"] == backend}


def _threshold_row(config: dict[str, Any], task_id: str, wiki: str, evaluated_value: float | None,
                   configured: Any, community: Any, measured: dict[str, Any] | None,
                   targets: dict[str, float]) -> dict[str, Any]:
    """The threshold the service runs ``task_id`` with on ``wiki`` (the community's may only
    raise it), where it comes from, and the wiki's test figures against the targets."""
    operating = operating_threshold(config, task_id, wiki)
    in_force = max(operating, float(community)) if community is not None else operating
    source = ("community" if community is not None and float(community) > operating else
              "configured" if configured is not None else
              "evaluated" if evaluated_value is not None else "default")
    misses = (target_misses([{"backend": "", "wiki": wiki, "threshold": None, **measured}], targets)
              if measured else [])
    return {
        "wiki": wiki, "threshold": in_force, "source": source, "evaluated": evaluated_value,
        "configured": configured, "community": community, "shows_nothing": in_force > 1,
        "test_precision": cell(measured, "precision_at_threshold") if measured else None,
        "meets_target": None if measured is None or not targets else not misses,
        "misses": [text.split(": ", 1)[1] for text in misses_by_wiki(misses)],
    }


def task_thresholds(config: dict[str, Any], task_id: str, backend: str, data: dict[str, Any],
                    evaluations: list[dict[str, Any]], community: dict[str, Any]) -> dict[str, Any]:
    """The threshold in force on each evaluated or configured wiki, as the service computes it."""
    entries = _evaluated_entries(data, task_id)
    community_values = {w: s["settings"].get("thresholds", {}).get(task_id) for w, s in community.items()
                        if s["settings"].get("thresholds", {}).get(task_id) is not None}
    configured = _per_wiki(config, "THRESHOLD")
    wikis = sorted({w for values in entries.values() for w in values} | set(configured)
                   | set(community_values))
    targets = next((e["targets"] for e in evaluations if e.get("task") == task_id and e.get("targets")),
                   {"precision_at_threshold": data["target_precision"]}
                   if isinstance(data.get("target_precision"), int | float) else {})
    measured = _measured(evaluations, task_id, backend)
    rows = [_threshold_row(config, task_id, w, evaluated(data, task_id, backend, w), configured.get(w),
                           community_values.get(w), measured.get(w), targets) for w in wikis]
    default = float(config["THRESHOLD"])
    return {
        "default": default,
        "per_wiki": configured,
        "evaluated_file": config.get("THRESHOLDS_PATH") if data else None,
        "evaluated_backend": backend,
        "evaluated": entries,
        "community": community_values,
        "in_force": rows,
        "shows_nothing_on": [r["wiki"] for r in rows if r["shows_nothing"]],
        "targets": targets,
        "misses_target_on": [r["wiki"] for r in rows if r["meets_target"] is False],
        "other_wikis": f"Any other wiki uses the default threshold {default:g} (THRESHOLD), with no "
                       "measured precision.",
        "measured_on": MEASURED_ON.get(task_id, MEASURED_ON["categories"]),
    }


# Where each task's test figures come from, and why they do not carry over to a live wiki.
MEASURED_ON = {
    "categories": "The test precision was measured on the development dumps (the first few "
                  "hundred articles of each wiki), where categories have few members and "
                  "neighbours come from the dump; on the live wiki category sizes and neighbours "
                  "differ, so its precision there is what the edit-acceptance figures "
                  "(monitoring) show, not these.",
    "references": "The test figures were measured on the development dumps (the first few "
                  "hundred articles of each wiki), by removing a citation and asking for it back; "
                  "on the live wiki an unsourced statement may have no source in the article or "
                  "its links at all, so its precision there is what the edit-acceptance figures "
                  "(monitoring) show, not these.",
}


def task_guardrails(config: dict[str, Any], task: Any, community: dict[str, Any]) -> dict[str, Any]:
    never = config.get("NEVER_SUGGEST") or {}
    list_key = "categories" if task.id == "categories" else "reference_domains"
    rules = TASK_GUARDRAILS.get(task.id, [])
    return {
        "rules": rules,
        "never_suggest": list(never.get(task.id, []) if isinstance(never, dict) else never),
        "never_suggest_per_wiki": _per_wiki(config, "NEVER_SUGGEST"),
        "community_never_suggest": {w: len(s["settings"].get("never_suggest", {}).get(list_key, []))
                                    for w, s in community.items()},
        "max_suggestions": int(config["MAX_SUGGESTIONS"]),
        "max_suggestions_per_wiki": _per_wiki(config, "MAX_SUGGESTIONS"),
        "rejected_pairs": next((r for r in rules if "rejected" in r), "not applied by this task"),
    }


def caps(config: dict[str, Any], community: dict[str, Any]) -> dict[str, Any]:
    """Suggestions per page and task, and decisions per user, wiki and day: the configured global
    and per-wiki values and the communities' own."""
    def community_values(key: str) -> dict[str, Any]:
        return {w: s["settings"][key] for w, s in community.items() if key in s["settings"]}

    return {
        "max_suggestions": {"default": int(config["MAX_SUGGESTIONS"]),
                            "per_wiki": _per_wiki(config, "MAX_SUGGESTIONS"),
                            "community": community_values("max_suggestions")},
        "daily_user_cap": {"default": int(config.get("DAILY_USER_CAP") or 0),
                           "per_wiki": _per_wiki(config, "DAILY_USER_CAP"),
                           "community": community_values("daily_user_cap"),
                           "note": "decisions one user may make per wiki and day; 0 = no cap; a "
                                   "community's value, when set and not 0, replaces the configured one"},
    }


def alarm_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Each configured alarm in words, as the monitor judges it."""
    minimum, days = config.get("ALARM_MIN_DECISIONS"), config.get("ALARM_WINDOW_DAYS")
    editors = config.get("ALARM_MIN_EDITORS")
    counted = ("decisions from accounts confirmed with the tool's login only, less those of "
               "accounts blocked on the wiki when the monitor runs"
               if config.get("ALARM_CONFIRMED_ONLY") else "all decisions, with the user names the "
               "clients send")
    rules = []
    for alarm in config.get("ALARMS") or []:
        rate = alarm.get("rate")
        parts = [f"the {bound} 95% bound of the {rate} rate is {side} {float(alarm[side]):.0%}"
                 for side, bound in (("above", "lower"), ("below", "upper")) if side in alarm]
        rules.append({**alarm, "rule": f"pauses the task on a wiki when {' or '.join(parts)}, judged "
                                       f"with at least {minimum} in the rate's denominator, from at "
                                       f"least {editors} editors, over the last {days} days (since "
                                       f"the latest resume), counting {counted}"})
    return rules


def live_rates(metrics: Any) -> list[dict[str, Any]]:
    """Acceptance, rejection, verified edit-acceptance and revert rates per task and wiki from the
    live metrics."""
    if not isinstance(metrics, list):
        return []
    return [{"task": r.get("task"), "wiki": r.get("wiki"), "shown": r.get("shown"),
             "decided": r.get("decided"),
             **{name: rate_cell((r.get("rates") or {}).get(name))
                for name in ("acceptance", "rejection", "verified_acceptance", "revert")}}
            for r in metrics]


def community_in_force(community: dict[str, Any], tasks_enabled: list[str]) -> list[dict[str, Any]]:
    """Each wiki whose community page is in force (read, or kept after a later invalid read), its
    revision, the enabled tasks it turns off and what it changes, in words."""
    rows = []
    for wiki, state in sorted(community.items()):
        if state.get("status") != "page" and state.get("revid") is None:
            continue
        settings = state.get("settings") or {}
        enabled = settings.get("enabled_tasks")
        off = [t for t in tasks_enabled if t not in enabled] if enabled is not None else []
        rows.append({"wiki": wiki, "revid": state.get("revid"), "tasks_off": off,
                     "changes": _community_changes(settings, off)})
    return rows


def _community_changes(settings: dict[str, Any], off: list[str]) -> list[str]:
    parts = ["tasks off: " + ", ".join(off)] if off else []
    for key, items in sorted((settings.get("never_suggest") or {}).items()):
        if items:
            parts.append(f"never suggest ({key.replace('_', ' ')}): " + ", ".join(map(str, items)))
    for task_id, value in sorted((settings.get("thresholds") or {}).items()):
        parts.append(f"{task_id} threshold raised to {float(value):.3f}")
    if settings.get("max_suggestions") is not None:
        parts.append(f"at most {settings['max_suggestions']} suggestions per page and task")
    if settings.get("daily_user_cap") is not None:
        parts.append(f"decisions per user and day: {settings['daily_user_cap'] or 'no cap'}")
    if settings.get("citation_needed_templates"):
        parts.append("citation-needed templates: " + ", ".join(settings["citation_needed_templates"]))
    return parts or ["the page changes nothing"]


def task_status(task_id: str, pauses: list[dict[str, Any]],
                in_force: list[dict[str, Any]]) -> dict[str, Any]:
    """Where a task is paused (since when, why) and where a community page turned it off."""
    return {"paused_on": [{"wiki": p["wiki"], "since": p["paused_at"], "reason": p["reason"]}
                          for p in pauses if p["task"] == task_id],
            "turned_off_on": [row["wiki"] for row in in_force if task_id in row["tasks_off"]]}
