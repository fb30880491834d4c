"""The tool card as wikitext, for its page on Meta-Wiki."""

from __future__ import annotations

import json
from typing import Any

from suggest.toolcard.evaluation import is_interval
from suggest.toolcard.format import (
    NO_VALUE,
    cell,
    misses_by_wiki,
    plain_value,
    reviewer_precision,
    target_text,
)


def _escape(value: Any) -> str:
    text = "" if value is None else str(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "&#124;").replace("[[", "&#91;&#91;").replace("{{", "&#123;&#123;")
            .replace("~~~", "&#126;~~").replace("\n", " "))


def _fmt(value: Any) -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, float):
        return f"{value:.3f}"
    if is_interval(value):
        return f"{value[0]:.3f}–{value[1]:.3f}"
    return _escape(value)


def _json(value: Any) -> str:
    return _escape(json.dumps(value, sort_keys=True, ensure_ascii=False))


def _cell(value: Any) -> str:
    """A table cell, "–" when there is no value ("-" is how a backend says it has none)."""
    return NO_VALUE if value is None or value in ("", "-") else _escape(value)


def _table(header: list[str], rows: list[list[str]], sortable: bool = False,
           classes: str = "") -> list[str]:
    lines = ['{| class="wikitable' + (" sortable" if sortable else "") + (f" {classes}" if classes else "")
             + '"', "! " + " !! ".join(header)]
    for row in rows:
        lines += ["|-", "| " + " || ".join(row)]
    return lines + ["|}"]


def _wikitext_thresholds(thresholds: dict[str, Any]) -> list[str]:
    lines = [f"* '''Thresholds in force''' (backend {_escape(thresholds['evaluated_backend'])}; "
             f"targets: {_escape(target_text(thresholds['targets']))}):"]
    for row in thresholds["in_force"]:
        notes = [row["source"]]
        if row["shows_nothing"]:
            notes.append("above 1: the task shows nothing on this wiki")
        if row["test_precision"] is not None:
            notes.append(f"test precision {row['test_precision']}")
        if row["misses"]:
            notes.append("misses the targets: " + ", ".join(row["misses"]))
        lines.append(f"** {_escape(row['wiki'])}: {_fmt(row['threshold'])} ({_escape('; '.join(notes))})")
    lines.append(f"** {_escape(thresholds['other_wikis'])}")
    lines.append(f"** {_escape(thresholds['measured_on'])}")
    return lines


def _task_status(task: dict[str, Any]) -> list[str]:
    """A task's pauses and the wikis whose community turned it off."""
    status = task.get("status") or {}
    return ([f"* '''Paused on {_escape(p['wiki'])}''' since {_escape(p['since'])}: {_escape(p['reason'])}"
             for p in status.get("paused_on", [])]
            + [f"* '''Turned off on {_escape(wiki)}''' by its community page"
               for wiki in status.get("turned_off_on", [])])


def _version_note(task: dict[str, Any]) -> list[str]:
    note = (task.get("evaluated_version") or {}).get("note")
    return [f"* '''{_escape(note)}'''"] if note else []


def _wikitext_task(task: dict[str, Any]) -> list[str]:
    pipe = task["pipeline"]
    guard = pipe["guardrails"]
    return [
        f"==== {_escape(task['id'])} (version {_escape(task['version'])}"
        f"{'' if task['enabled'] else ', not enabled'}) ====",
        *_task_status(task),
        _escape(task["definition"]),
        *_version_note(task),
        f"* '''Candidates:''' {_escape(pipe.get('candidate_sources'))}",
        f"* '''Features:''' {_escape(', '.join(map(str, pipe.get('features', []))))}",
        f"* '''Ranker:''' {_escape(pipe.get('ranker'))}",
        *_wikitext_thresholds(pipe["thresholds"]),
        f"* '''Guardrails:''' never-suggest list of {len(guard['never_suggest'])}; "
        f"at most {guard['max_suggestions']} suggestions"
        + (f" (per wiki: {_json(guard['max_suggestions_per_wiki'])})" if guard["max_suggestions_per_wiki"]
           else "") + "; " + _escape("; ".join(guard["rules"])),
    ]


def _wikitext_evaluation(card: dict[str, Any]) -> list[str]:
    lines = ["", "=== Evaluation ==="]
    evaluations = card["evaluation"]["results"]
    if not evaluations:
        lines.append(_escape(card["evaluation"]["note"]))
    for ev in evaluations:
        if "results" not in ev:
            continue
        keys = [c["key"] for c in ev["columns"]]
        lines += [f"==== {_escape(ev['task'])}: {_escape(ev['file'])} ====",
                  _escape(ev.get("run", "")),
                  f"Reproduce: <code><nowiki>{ev['reproduce'].replace('</', '&lt;/')}</nowiki></code>",
                  "Figures on the test split; 95% intervals in brackets."]
        lines += _table(["Backend", "Wiki"] + [_escape(c["label"]) for c in ev["columns"]],
                        [[_escape(r["backend"]), _escape(r["wiki"])] + [_escape(cell(r, k)) for k in keys]
                         for r in ev["results"]], sortable=True)
        lines.append(f"* '''Targets:''' {_escape(target_text(ev['targets']))}")
        lines += [f"* Misses the targets: {_escape(text)}" for text in misses_by_wiki(ev["target_misses"])]
        lines += [f"* Dataset <code>{_escape(k)}</code>: <code>{_escape(v)}</code>"
                  for k, v in ev["dataset_checksums"].items()]
    lines += [f"* Not shown: {_escape(old['file'])} ({_escape(old['created'] or 'no date recorded')}), "
              f"an older evaluation of {_escape(old['task'])} than {_escape(old['superseded_by'])}."
              for old in card["evaluation"].get("superseded", [])]
    reviews = card["evaluation"]["reviewer_labels"]
    if isinstance(reviews, list) and reviews:
        lines.append("==== Reviewer labels ====")
        lines += _table(["Wiki", "Task", "Suggestions", "Precision (95% interval)", "Fleiss' kappa"],
                        [[_fmt(r.get(k)) for k in ("wiki", "task", "suggestions")]
                         + [_escape(reviewer_precision(r)), _fmt(r.get("fleiss_kappa"))] for r in reviews])
    return lines


def _wikitext_monitoring(mon: dict[str, Any]) -> list[str]:
    paused = ", ".join(f"{p['wiki']}/{p['task']}" for p in mon["pauses"]) or "nothing"
    lines = ["", "=== Monitoring ===", f"* '''Paused:''' {_escape(paused)}"]
    lines += [f"* '''Alarm {_escape(a['id'])}:''' {_escape(a['rule'])}" for a in mon["alarm_rules"]]
    if mon["rates"]:
        lines.append("* '''Live rates''' (every decision so far, 95% intervals):")
        lines += _table(["Task", "Wiki", "Shown", "Decided", "Acceptance", "Rejection",
                         "Verified edits", "Revert"],
                        [[_escape(r[k]) for k in ("task", "wiki", "shown", "decided", "acceptance",
                                                  "rejection", "verified_acceptance", "revert")]
                         for r in mon["rates"]])
    else:
        lines.append(f"* '''Live rates:''' {_escape(mon['metrics_note'])}")
    lines.append(f"* '''Statistics:''' {_escape(mon['stats_page'])}")
    lines += [f"* '''Warning ({_escape(w['wiki'])}):''' {_escape(w['warning'])}"
              for w in mon["community_config_warnings"]]
    return lines


def _wikitext_system(system: dict[str, Any]) -> list[str]:
    lines = ["", "=== System ===",
             f"* '''Tasks enabled:''' {_escape(plain_value(system.get('tasks_enabled')) or 'none')}",
             f"* '''Backend in use:''' {_escape(system.get('backend'))}",
             f"* '''Wikis:''' {_escape(plain_value(system.get('wikis')))}",
             f"* '''Human in the loop:''' {_escape(system.get('human_in_the_loop'))}",
             "* '''Public configuration''' (every setting but the secret ones):"]
    return lines + _table(["Setting", "Value"],
                          [[f"<code>{_escape(k)}</code>", _cell(plain_value(v))]
                           for k, v in sorted((system.get("configuration") or {}).items())],
                          classes="mw-collapsible mw-collapsed")


def _community_line(row: dict[str, Any]) -> str:
    revision = f" (revision {row['revid']})" if row["revid"] else ""
    return f"** {_escape(row['wiki'])}{revision}: {_escape('; '.join(row['changes']))}"


def _wikitext_caps(caps_: dict[str, Any]) -> list[str]:
    cap, daily = caps_["max_suggestions"], caps_["daily_user_cap"]
    return [f"* '''Suggestions per page and task:''' at most {cap['default']}; per wiki: "
            f"{_json(cap['per_wiki'])}; set by communities: {_json(cap['community'])}",
            f"* '''Decisions per user, wiki and day:''' {daily['default'] or 'no cap'}; per wiki: "
            f"{_json(daily['per_wiki'])}; set by communities: {_json(daily['community'])}"]


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
        lines += _wikitext_task(task)
    lines += ["", "=== Models ==="]
    lines += _table(["Backend", "Model", "Version", "Checksum", "Rankers", "Licence", "Model card",
                     "Hosting", "Data flow"],
                    [[_escape(m.get("id"))]
                     + [_cell(m.get(k)) for k in ("model", "version", "checksum")]
                     + [_cell("; ".join(f"{t}: {r.get('file') or ''} {r.get('checksum') or NO_VALUE}"
                                        .replace("  ", " ") for t, r in (m.get("rankers") or {}).items()))]
                     + [_cell(m.get(k)) for k in ("licence", "model_card", "hosting_tier")]
                     + [_cell(m.get("data_flow") or m.get("note"))] for m in card["models"]])
    lines += _wikitext_system(card["system"])
    lines += ["", "=== Hosting and data flow ===",
              f"* '''Hosting:''' {_escape(card['hosting']['tier'])} tier, "
              f"{_escape(card['hosting']['provider'])}"]
    lines += [f"* '''{_escape(k)}:''' {_escape(v if isinstance(v, str) else json.dumps(v))}"
              for k, v in card["data_flow"].items()]
    lines += _wikitext_evaluation(card)
    lines += ["", "=== Limitations ===", "; Tool-level"]
    lines += [f"* {_escape(item)}" for item in card["limitations"]["tool"]]
    lines.append("; Inherited from the model")
    for backend, items in card["limitations"]["model"].items():
        lines += [f"* {_escape(backend)}: {_escape(item)}" for item in items]
    lines += _wikitext_monitoring(card["monitoring"])
    gov = card["governance"]
    lines += ["", "=== Governance ===",
              f"* '''Who can pause:''' {_escape(gov['who_can_pause'])}",
              f"* '''Community configuration:''' <code>{_escape(gov['community_configuration']['page'])}"
              f"</code> on each wiki. {_escape(gov['community_configuration']['rules'])}",
              *[_community_line(row) for row in gov["community_configuration"].get("in_force", [])],
              f"* '''Editing:''' {_escape(gov['editing'])}",
              *_wikitext_caps(gov["caps"]),
              "", "=== Licence ===",
              f"* Code: {_escape(card['licence']['code'])}; data: {_escape(card['licence']['data'])}; "
              f"source: {_escape(card['licence']['source'])}",
              f"* Models: {_escape(card['licence'].get('models') or NO_VALUE)}"]
    if card["licence"].get("attribution"):
        lines.append(f"* Attribution: {_escape(card['licence']['attribution'])}")
    return "\n".join(lines) + "\n"
