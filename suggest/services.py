"""The suggestion service: the one place a suggestion request flows through, outside Flask.

wiki id -> registry -> page source -> page -> pause check -> cache -> task + backend -> computed
suggestions stored (once per computation) -> signed ids issued and counted as shown -> response.
A cached answer writes nothing to the database: see ``suggest.store.issued_ids``.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import toolforge
from suggest import TOOL_NAME, __version__, backends
from suggest.backends.base import Backend
from suggest.backends.memo import MemoBackend
from suggest.community import CommunityConfigs, CommunityState, rejected_twice
from suggest.config import config_hash, oauth_consumer, wiki_setting
from suggest.memo import Memo
from suggest.ranking.thresholds import operating_threshold
from suggest.store.cache import ResultCache
from suggest.store.events import (
    Check,
    EventStore,
    PendingDecision,
    StoreUnavailable,
    UnknownSuggestion,
    decision_row,
)
from suggest.store.issued_ids import IssuedIds, content_id
from suggest.store.shown import ShownCounter
from suggest.tasks import all_tasks
from suggest.tasks.base import Suggestion, Task, TaskSettings
from suggest.validation import normalize_input_title
from suggest.wiki.api_source import ApiSource, make_session, maxlag_for
from suggest.wiki.dump_source import DumpSource
from suggest.wiki.registry import Wiki, WikiRegistry
from suggest.wiki.source import PageSource, UnsupportedNamespace

log = logging.getLogger(__name__)

PAGE_REVISION_TTL = 60  # seconds a title -> revision lookup is trusted
REJECTED_MEMORY = 10_000  # pages whose rejected labels are remembered (then forgotten at once)
RESULT_FORMAT = 2  # of the cached results: part of their key


ItemCheck = Callable[[dict[str, Any], dict[str, Any]], None]  # (decision sent, suggestion issued)


class TaskDisabled(LookupError):
    """The task exists but is not enabled in this tool's configuration."""


def user_agent(config: dict[str, Any]) -> str:
    """Wikimedia User-Agent policy: tool/version (contact) library/version."""
    return toolforge.set_user_agent(f"{TOOL_NAME}/{__version__}", url=config["CONTACT_URL"],
                                    email=config["CONTACT_EMAIL"])


class SuggestionService:
    def __init__(self, config: dict[str, Any], registry: WikiRegistry, store: EventStore,
                 cache: ResultCache) -> None:
        self.config = config
        self.registry = registry
        self.store = store
        self.cache = cache
        self.tasks: dict[str, Task] = all_tasks(config)
        self.config_hash = config_hash(config)
        self.user_agent = user_agent(config)
        self._sources: dict[str, PageSource] = {}
        self._backend: Backend | None = None
        self._lock = threading.Lock()
        self._rejected: Memo[tuple[str, str, str], tuple[int, tuple[str, ...]]] = Memo(REJECTED_MEMORY)
        self.community = CommunityConfigs(config, cache, self.user_agent)
        self.ids = IssuedIds(str(config["SECRET_KEY"]))
        self.marks_max_age = float(config["CHANGES_SEEN_WITHIN"])
        self._meta: dict[str, dict[str, Any]] = {}
        self.shown = ShownCounter(store.add_shown, float(config["SHOWN_FLUSH_SECONDS"]))

    # -- parts, created once per process --------------------------------------------------------
    @property
    def backend(self) -> Backend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    # Category names recur from article to article: each is embedded once.
                    self._backend = MemoBackend(backends.create(self.config["BACKEND"],
                                                                self.config.get("BACKEND_OPTIONS")))
        return self._backend

    def source(self, wiki: Wiki) -> PageSource:
        with self._lock:
            if wiki.id not in self._sources:
                if wiki.kind == "dump":
                    assert wiki.dump_path
                    self._sources[wiki.id] = DumpSource(wiki.dump_path, wiki_id=wiki.id)
                else:
                    session = make_session(wiki, self.user_agent, float(self.config["WIKI_TIMEOUT"]))
                    self._sources[wiki.id] = ApiSource(
                        wiki, session, maxlag=maxlag_for(wiki))
            return self._sources[wiki.id]

    def task(self, task_id: str) -> Task:
        if task_id not in self.tasks:
            raise KeyError(task_id)
        if task_id not in self.config["TASKS"]:
            raise TaskDisabled(task_id)
        return self.tasks[task_id]

    def settings(self, wiki_id: str, task_id: str, community: CommunityState | None = None,
                 exclude: tuple[str, ...] = ()) -> TaskSettings:
        never = wiki_setting(self.config, wiki_id, "NEVER_SUGGEST")
        blocked = set(never.get(task_id, []) if isinstance(never, dict) else never) | set(exclude)
        threshold = operating_threshold(self.config, task_id, wiki_id)
        max_suggestions = int(wiki_setting(self.config, wiki_id, "MAX_SUGGESTIONS"))
        if community is not None:  # the wiki's own page: raise only, block more, show fewer
            blocked |= set(community.never_suggest(task_id))
            threshold = max(threshold, float(community.settings.get("thresholds", {}).get(task_id, 0.0)))
            max_suggestions = int(community.settings.get("max_suggestions", max_suggestions))
        return TaskSettings(threshold=threshold, max_suggestions=max_suggestions,
                            never_suggest=frozenset(blocked))

    # -- the request ----------------------------------------------------------------------------
    def suggest(self, wiki_id: str, task_id: str, title: str | None = None,
                revid: int | None = None, user: str | None = None) -> dict[str, Any]:
        wiki = self.registry.get(wiki_id)
        task = self.task(task_id)
        decided, audited = self.store.change_marks(max_age=self.marks_max_age)
        pauses = self.store.pauses_for(wiki.id, audit_mark=audited)
        community = self.community.get(wiki)
        meta = self.meta(task, pauses)
        meta["community_config"] = {"page": community.page, "status": community.status,
                                    "revid": community.revid}
        if not community.task_enabled(task.id):
            meta["paused"][task.id] = True
            return {"suggestions": [], "page": {"title": title, "revid": revid},
                    "pause": {"reason": f"This wiki's community has turned the {task.id} task off "
                                        f"on {community.page}.", "since": None, "by": "community"},
                    "meta": meta}
        if task.id in pauses:
            pause = pauses[task.id]
            return {"suggestions": [], "page": {"title": title, "revid": revid},
                    "pause": {"reason": pause["reason"], "since": pause["paused_at"].isoformat()},
                    "meta": meta}
        cap = int(community.settings.get("daily_user_cap")
                  or wiki_setting(self.config, wiki.id, "DAILY_USER_CAP") or 0)
        if user and cap and self.store.decisions_today(wiki.id, user) >= cap:
            return {"suggestions": [], "page": {"title": title, "revid": revid}, "pause": None,
                    "limit": {"reason": "daily_user_cap", "cap": cap,
                              "message": f"You have decided on {cap} suggestions on this wiki today, "
                                         "its daily limit. Thank you! More tomorrow."},
                    "meta": meta}
        source = self.source(wiki)
        # The wiki is asked for the title the lookup is cached under, not for the text as sent.
        title = normalize_input_title(title) if title is not None else None
        page_key = self.cache.key("revision", wiki.id, title or "", revid)
        known, _ = self.cache.get(page_key)
        page = None
        if known is None:
            page = source.get_page(title=title, revid=revid)
            known = {"title": page.title, "revid": page.revid, "page_id": page.page_id,
                     "namespace": page.namespace}
            self.cache.set(page_key, known, ttl=PAGE_REVISION_TTL)
        if int(known.get("namespace", 0)) not in wiki_setting(self.config, wiki.id, "NAMESPACES"):
            raise UnsupportedNamespace(known["title"])
        rejected = self.rejected(wiki.id, task.id, known["title"], decided)
        # The database's generation: a result cached for another database (restored, or new
        # after a loss) names computed suggestions this one does not have.
        result_key = self.cache.key("suggestions", RESULT_FORMAT, self.store.generation, wiki.id,
                                    known["revid"], task.id,
                                    task.version,
                                    self.backend.info.id, self.backend.info.checksum, self.config_hash,
                                    community.hash, rejected)
        computed, meta["cache"] = self.cache.get(result_key)
        if computed is None:
            page = page or source.get_page(title=known["title"], revid=known["revid"])
            settings = self.settings(wiki.id, task.id, community, rejected)
            found = task.suggest(page, source, self.backend, settings)
            computed = self._store_computed(wiki.id, task, known, found)
            self.cache.set(result_key, computed)
        issued = self._issue(wiki.id, task, computed)
        return {"suggestions": issued, "page": {"title": known["title"], "revid": known["revid"]},
                "pause": None, "meta": meta}

    def rejected(self, wiki_id: str, task_id: str, title: str, mark: int) -> tuple[str, ...]:
        """Labels rejected twice on this page. The lookup joins every suggestion ever issued for
        the page, so its answer is reused until a new decision exists anywhere: ``mark``, the
        highest decision id, read before this call (a decision racing with it only recomputes)."""
        key = (wiki_id, task_id, title)
        known = self._rejected.get(key)
        if known is not None and known[0] == mark:
            return known[1]
        labels = tuple(rejected_twice(self.store.engine, wiki_id, task_id, title))
        self._rejected.keep(key, (mark, labels))
        return labels

    def _store_computed(self, wiki_id: str, task: Task, page: dict[str, Any],
                        found: list[Suggestion]) -> list[dict[str, Any]]:
        """Store what was computed, once, under content ids; return what each issue shows."""
        info = self.backend.info
        rows, shown = [], []
        for rank, suggestion in enumerate(found):
            row = {"wiki": wiki_id, "task": task.id, "task_version": task.version,
                   "page_title": page["title"], "page_id": page.get("page_id"),
                   "revid": page["revid"], "rank": rank, "label": suggestion.label,
                   "wikitext": suggestion.wikitext, "score": suggestion.score,
                   "explanation": suggestion.explanation,
                   "details": json.dumps({"insert": suggestion.insert,
                                          "features": suggestion.features}, sort_keys=True),
                   "backend": info.id, "model_checksum": info.checksum,
                   "config_hash": self.config_hash, "app_version": __version__}
            row["id"] = content_id(row)
            rows.append(row)
            shown.append({"content_id": row["id"], "task": task.id, "label": suggestion.label,
                          "wikitext": suggestion.wikitext, "score": suggestion.score,
                          "confidence": suggestion.confidence,
                          "explanation": suggestion.explanation, "evidence": suggestion.evidence,
                          "insert": suggestion.insert})
        self.store.store_computed(rows)
        return shown

    def _issue(self, wiki_id: str, task: Task, computed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A fresh signed id for each suggestion; nothing is written: the issue is counted."""
        issued = []
        for item in computed:
            body = dict(item)
            body["id"] = self.ids.issue(body.pop("content_id"))
            issued.append(body)
        if issued:
            info = self.backend.info
            self.shown.add_today(wiki_id, task.id, info.id, info.checksum, len(issued))
        return issued

    def decide(self, suggestion_id: str, decision: str, reason: str | None, comment: str | None,
               user: str | None, check: Check, confirmed: bool = False) -> dict[str, Any]:
        """Store an editor's decision on an issued suggestion; returns once it is committed.
        ``check`` sees the suggestion as issued before anything is stored (what it raises is
        raised here). Raises UnknownSuggestion for an id this service did not issue and
        AlreadyDecided for a second decision (see :meth:`decide_many`)."""
        item = {"suggestion_id": suggestion_id, "decision": decision, "reason": reason,
                "comment": comment}
        outcome = self.decide_many([item], user, lambda _item, issued: check(issued), confirmed)[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def decide_many(self, items: list[dict[str, Any]], user: str | None, check: ItemCheck,
                    confirmed: bool = False) -> list[dict[str, Any] | Exception]:
        """Store decisions of one editor (each ``suggestion_id``, ``decision`` and optional
        ``reason`` and ``comment``) on issued suggestions; ``check(item, issued)`` sees each
        suggestion as issued before anything is stored; ``confirmed``: a ticket of the tool's login
        named ``user`` (:mod:`suggest.web.confirm`). The stored row or the exception of each,
        in order, once all are committed: what fails one (UnknownSuggestion for an id this
        service did not issue, AlreadyDecided for a second decision, what the check raises) does
        not fail the others. An unavailable database raises StoreUnavailable.

        A signed id's suggestion is stored with its first decision; the first decisions go into
        one transaction, shared with concurrent ones (``EventStore.record_first_decisions``).
        An unsigned id is accepted only for a suggestion issued before ids were signed: stored
        already, and not an issue of a computed suggestion (those rows have a ``content_id``).
        Any other unsigned id is unknown, among them a bare content id, which can be read from
        any issued id and under which a reviewed suggestion is stored (``suggest.review``).

        StoreUnavailable is raised when none was stored; when some were (the first commits of a
        long batch, say), it is the outcome of each of the others."""
        outcomes: dict[int, dict[str, Any] | BaseException] = {}
        pending: dict[int, PendingDecision] = {}
        for i, item in enumerate(items):
            sid = item["suggestion_id"]
            opened = self.ids.open(sid)
            if opened is not None:
                row = decision_row(sid, item["decision"], item.get("reason"), item.get("comment"),
                                   user, confirmed)
                pending[i] = PendingDecision(row, opened[0], opened[1], functools.partial(check, item))
                continue
            stored = self.store.get_suggestion(sid)
            try:
                if stored is None or stored.get("content_id") is not None:
                    raise UnknownSuggestion(sid)
                check(item, stored)
                outcomes[i] = self.store.record_decision(sid, item["decision"], item.get("reason"),
                                                         item.get("comment"), user, confirmed)
            except Exception as error:  # noqa: BLE001 - that item's own outcome
                outcomes[i] = error
        outcomes.update(zip(pending, self.store.record_first_decisions(list(pending.values())),
                            strict=True))
        if not any(isinstance(o, dict) for o in outcomes.values()):
            unavailable = next((o for o in outcomes.values() if isinstance(o, StoreUnavailable)), None)
            if unavailable is not None:
                raise unavailable  # nothing was stored: the whole request failed
        result: list[dict[str, Any] | Exception] = []
        for i in range(len(items)):
            outcome = outcomes[i]
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # an interrupt, not an outcome
            result.append(outcome)
        return result

    def meta(self, task: Task, pauses: dict[str, Any]) -> dict[str, Any]:
        """What every answer says about how it was made. The parts that cannot change while the
        process runs are built once per task (and shared: they are only ever serialized)."""
        fixed = self._meta.get(task.id)
        if fixed is None:
            info = self.backend.info
            fixed = self._meta[task.id] = {
                "app_version": __version__,
                "task": {"id": task.id, "version": task.version,
                         "reasons": [{"id": r.id, "label": r.label} for r in task.reasons]},
                "backend": {"id": info.id, "model": info.model, "version": info.version,
                            "checksum": info.checksum, "hosting_tier": info.hosting_tier},
                "config_hash": self.config_hash,
                "hosting_tier": self.config["HOSTING_TIER"],
                # Whether /confirm can log editors in (an OAuth consumer is configured): the
                # gadget offers "Confirm your account" only then.
                "account_confirmation": oauth_consumer(self.config) is not None,
            }
        return {**fixed, "paused": {t: t in pauses for t in self.config["TASKS"]}, "cache": "miss"}
