"""Per-wiki community configuration: each wiki's community controls the tool on its own wiki.

The page ``MediaWiki:Wiki-suggest.json`` (editable by that wiki's interface administrators) is read
through the wiki's API, validated against :data:`SCHEMA`, and cached for a short time. A page that
is invalid (bad JSON shape, an unknown task, a threshold below the evaluated minimum) is ignored as a
whole: a warning is shown on the tool card and the stats page, and the last valid page (or the
defaults) stays in force. A community can only make the tool more careful: it can turn tasks off,
raise thresholds, show fewer or more suggestions up to the schema's limit, block suggestions, cap
suggestions per user and day, and withhold its wiki's decisions from the published dataset; it can
never turn on a task the tool has not enabled.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy import Engine, case, func, select

from suggest.config import wiki_setting
from suggest.ranking.thresholds import load as load_evaluated_thresholds
from suggest.store.cache import ResultCache
from suggest.store.schema import decisions, suggestions
from suggest.wiki.api_source import make_session
from suggest.wiki.registry import Wiki

log = logging.getLogger(__name__)

PAGE_TITLE = "MediaWiki:Wiki-suggest.json"
# Which never-suggest list applies to which task.
NEVER_SUGGEST_KEYS = {"categories": "categories", "references": "reference_domains"}
REJECTIONS_TO_BLOCK = 2  # a (page, suggestion) pair rejected by this many editors is not suggested again

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "wiki-suggest community configuration",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "enabled_tasks": {
            "description": "Tasks offered on this wiki (a subset of the tool's enabled tasks).",
            "type": "array", "items": {"type": "string", "pattern": "^[a-z_]{1,32}$"},
            "uniqueItems": True,
        },
        "thresholds": {
            "description": "Minimum score per task; may only raise the tool's evaluated threshold.",
            "type": "object",
            "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "max_suggestions": {
            "description": "At most this many suggestions are shown per task and page.",
            "type": "integer", "minimum": 1, "maximum": 10,
        },
        "never_suggest": {
            "description": "Never suggest these categories (names without prefix) or domains.",
            "type": "object", "additionalProperties": False,
            "properties": {
                "categories": {"type": "array", "maxItems": 5000,
                               "items": {"type": "string", "minLength": 1, "maxLength": 255}},
                "reference_domains": {"type": "array", "maxItems": 5000,
                                      "items": {"type": "string", "minLength": 1, "maxLength": 255}},
            },
        },
        "daily_user_cap": {
            "description": "Suggestions one user may decide on per day (0 = no cap).",
            "type": "integer", "minimum": 0, "maximum": 10000,
        },
        "publish_decisions": {
            "description": "Whether the tool publishes this wiki's decisions in its decisions "
                           "dataset (without user names, the day after); false withholds them.",
            "type": "boolean",
        },
        "citation_needed_templates": {
            "description": "Template names (without prefix) that mark a claim as needing a source.",
            "type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255},
        },
    },
}


class InvalidCommunityConfig(ValueError):
    """The page does not satisfy the schema or the tool's rules."""


@dataclass
class CommunityState:
    """The configuration in force on one wiki, and what happened when the page was last read.

    ``status``: ``default`` (no page, or a wiki without an API), ``page`` (the page is in force),
    ``invalid`` (the page was refused; ``settings`` are the last valid ones or the defaults),
    ``unavailable`` (the wiki did not answer; same fallback).
    """

    wiki: str
    status: str = "default"
    settings: dict[str, Any] = field(default_factory=dict)
    revid: int | None = None  # revision of the page whose settings are in force
    warning: str | None = None
    checked_at: float = 0.0

    @property
    def page(self) -> str:
        return PAGE_TITLE

    def task_enabled(self, task_id: str) -> bool:
        enabled = self.settings.get("enabled_tasks")
        return enabled is None or task_id in enabled

    def never_suggest(self, task_id: str) -> list[str]:
        key = NEVER_SUGGEST_KEYS.get(task_id)
        lists = self.settings.get("never_suggest", {})
        return list(lists.get(key, [])) if key else []

    def withholds_decisions(self) -> str | None:
        """Why this wiki's decisions are not published, or None: its community said so, or its
        page could not be read and no valid page is known, so its answer is not known."""
        if self.settings.get("publish_decisions") is False:
            return f"the wiki's community withholds them (publish_decisions on {PAGE_TITLE})"
        if self.status == "unavailable" and self.revid is None:
            return f"{PAGE_TITLE} could not be read from the wiki"
        return None

    @functools.cached_property
    def hash(self) -> str:
        """Of the settings, for cache keys; computed once (a state is never changed: a new read
        of the page makes a new state)."""
        blob = json.dumps(self.settings, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ROOT = Path(__file__).resolve().parents[1]


def repo_path(path: str | Path) -> Path:
    """A configured path; relative ones are relative to the repository root."""
    return Path(path) if Path(path).is_absolute() else ROOT / path


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        for key in ("threshold", "min_threshold", "value"):
            if key in value:
                return _number(value[key])
    return None


def evaluated_threshold(data: dict[str, Any], task: str, wiki: str, lang: str) -> float | None:
    """The evaluated threshold for ``task`` on ``wiki`` from a thresholds file, whatever its nesting
    (task -> wiki/lang -> value, or wiki/lang -> task -> value; values may be ``{"threshold": x}``)."""
    tasks = data.get("tasks") if isinstance(data.get("tasks"), dict) else data
    by_task = tasks.get(task) if isinstance(tasks, dict) else None
    candidates: list[Any] = []
    if isinstance(by_task, dict):
        for container in (by_task, by_task.get("wikis"), by_task.get("languages")):
            if isinstance(container, dict):
                candidates += [container.get(wiki), container.get(lang)]
        candidates.append(by_task.get("default"))
    for container in (data, data.get("wikis"), data.get("languages")):
        if isinstance(container, dict):
            for key in (wiki, lang):
                entry = container.get(key)
                if isinstance(entry, dict):
                    candidates.append(entry.get(task))
    for candidate in candidates:
        found = _number(candidate)
        if found is not None:
            return found
    return None


class CommunityConfigs:
    """Reads, validates and caches each wiki's community page."""

    def __init__(self, config: dict[str, Any], cache: ResultCache, user_agent: str) -> None:
        self.config = config
        self.cache = cache
        self.user_agent = user_agent
        self._last_valid: dict[str, CommunityState] = {}
        self._latest: dict[str, CommunityState] = {}
        self._no_page: dict[str, CommunityState] = {}

    # -- rules ----------------------------------------------------------------------------------
    def minimum_threshold(self, wiki: Wiki, task: str) -> float:
        """The lowest threshold a community may set: the tool's own (evaluated) threshold."""
        configured = float(wiki_setting(self.config, wiki.id, "THRESHOLD"))
        evaluated = evaluated_threshold(
            load_evaluated_thresholds(self.config.get("THRESHOLDS_PATH")), task, wiki.id, wiki.lang)
        return max(configured, evaluated if evaluated is not None else 0.0)

    def validate(self, wiki: Wiki, document: Any) -> dict[str, Any]:
        """The settings of a page, or :class:`InvalidCommunityConfig` saying what is wrong."""
        errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document),
                        key=lambda e: [str(p) for p in e.absolute_path])
        if errors:
            raise InvalidCommunityConfig("; ".join(
                f"{'/'.join(str(p) for p in e.absolute_path) or 'the page'}: {e.message}"
                for e in errors[:5]))
        known = set(self.config["TASKS"])
        for task in document.get("enabled_tasks", []):
            if task not in known:
                raise InvalidCommunityConfig(
                    f"enabled_tasks: {task!r} is not a task this tool offers ({', '.join(sorted(known))})")
        for task, threshold in document.get("thresholds", {}).items():
            if task not in known:
                raise InvalidCommunityConfig(f"thresholds: {task!r} is not a task this tool offers")
            minimum = self.minimum_threshold(wiki, task)
            if threshold < minimum:
                raise InvalidCommunityConfig(
                    f"thresholds/{task}: {threshold} is below the evaluated minimum {minimum}; "
                    "thresholds may only be raised")
        settings: dict[str, Any] = dict(document)
        return settings

    # -- reading --------------------------------------------------------------------------------
    def get(self, wiki: Wiki) -> CommunityState:
        """The state in force on ``wiki`` (read at most once per ``COMMUNITY_CONFIG_TTL``)."""
        state = self.known(wiki)
        if state is None:
            state = self._read(wiki)
            self.cache.set(self.cache.key("community", wiki.id, wiki.api_url), state.as_dict(),
                           ttl=max(1, int(self.config["COMMUNITY_CONFIG_TTL"])))
            self._latest[wiki.id] = state
        return state

    def known(self, wiki: Wiki) -> CommunityState | None:
        """The state in force on ``wiki`` when it needs no request to the wiki (its page is
        cached, or it has none); else None, and :meth:`get` reads it."""
        if wiki.api_url is None:  # nothing to read, ever: one state per wiki
            if wiki.id not in self._no_page:
                self._no_page[wiki.id] = CommunityState(wiki=wiki.id, status="default",
                                                        checked_at=time.time())
            return self._no_page[wiki.id]
        cached, _ = self.cache.get(self.cache.key("community", wiki.id, wiki.api_url))
        if not isinstance(cached, dict):
            return None
        state = CommunityState(**cached)
        self._latest[wiki.id] = state
        return state

    def latest(self) -> dict[str, CommunityState]:
        """The last state seen for every wiki read by this process (for the tool card)."""
        return dict(self._latest)

    def invalidate(self, wiki: Wiki) -> None:
        """Forget the cached page so that the next request reads it again."""
        if wiki.api_url is not None:
            self.cache.set(self.cache.key("community", wiki.id, wiki.api_url), "stale", ttl=1)

    def _read(self, wiki: Wiki) -> CommunityState:
        now = time.time()
        fallback = self._fallback(wiki)
        try:
            revid, text = self._fetch(wiki)
        except Exception as error:  # noqa: BLE001 - any failure keeps the configuration in force
            log.warning("community page of %s unreadable: %s", wiki.id, type(error).__name__)
            return CommunityState(wiki=wiki.id, status="unavailable", settings=fallback.settings,
                                  revid=fallback.revid, checked_at=now,
                                  warning=f"{PAGE_TITLE} could not be read from the wiki; "
                                          "the last valid configuration stays in force.")
        if text is None:
            state = CommunityState(wiki=wiki.id, status="default", checked_at=now)
            self._last_valid[wiki.id] = state
            return state
        try:
            document = json.loads(text)
            settings = self.validate(wiki, document)
        except (ValueError, InvalidCommunityConfig) as error:
            reason = str(error) if isinstance(error, InvalidCommunityConfig) else "not valid JSON"
            kept = f"revision {fallback.revid}" if fallback.revid else "the defaults"
            log.warning("community page of %s (revision %s) ignored: %s", wiki.id, revid, reason)
            return CommunityState(wiki=wiki.id, status="invalid", settings=fallback.settings,
                                  revid=fallback.revid, checked_at=now,
                                  warning=f"{PAGE_TITLE} (revision {revid}) is invalid and was "
                                          f"ignored: {reason}. In force: {kept}.")
        state = CommunityState(wiki=wiki.id, status="page", settings=settings, revid=revid,
                               checked_at=now)
        self._last_valid[wiki.id] = state
        # Kept longer in the shared cache too, so that another worker (or a restart) falls back
        # to it rather than to the defaults when the page later turns invalid.
        self.cache.set(self.cache.key("community-last-valid", wiki.id), state.as_dict())
        return state

    def _fallback(self, wiki: Wiki) -> CommunityState:
        if wiki.id in self._last_valid:
            return self._last_valid[wiki.id]
        cached, _ = self.cache.get(self.cache.key("community-last-valid", wiki.id))
        return CommunityState(**cached) if isinstance(cached, dict) else CommunityState(wiki=wiki.id)

    def _fetch(self, wiki: Wiki) -> tuple[int | None, str | None]:
        """The page's latest revision id and text, or ``(None, None)`` when there is no page."""
        session = make_session(wiki, self.user_agent, float(self.config["WIKI_TIMEOUT"]))
        doc = session.get(action="query", prop="revisions", titles=PAGE_TITLE,
                          rvprop="ids|content", rvslots="main")
        pages = doc.get("query", {}).get("pages", [])
        if not pages or pages[0].get("missing") or not pages[0].get("revisions"):
            return None, None
        revision = pages[0]["revisions"][0]
        text = revision.get("slots", {}).get("main", {}).get("content")
        return int(revision["revid"]), text if isinstance(text, str) else None


def rejected_twice(engine: Engine, wiki: str, task: str, page_title: str) -> list[str]:
    """Labels rejected for this page by at least REJECTIONS_TO_BLOCK editors: they are not
    suggested again. One editor's rejections count once (the same proposal comes back under a
    new id when they open the editor again); a rejection without a user name (none given, or
    purged after 90 days) counts as its own editor."""
    editors = (func.count(func.distinct(decisions.c.user_name))
               + func.sum(case((decisions.c.user_name.is_(None), 1), else_=0)))
    query = (
        select(suggestions.c.label)
        .join(decisions, decisions.c.suggestion_id == suggestions.c.id)
        .where(suggestions.c.wiki == wiki, suggestions.c.task == task,
               suggestions.c.page_title == page_title, decisions.c.decision == "reject")
        .group_by(suggestions.c.label)
        .having(editors >= REJECTIONS_TO_BLOCK)
    )
    with engine.connect() as conn:
        return sorted(conn.execute(query).scalars())
