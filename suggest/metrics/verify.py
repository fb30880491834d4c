"""The verification job: is an accepted suggestion really in the revision the editor reported?

An acceptance linked to a revision (``POST /api/v1/edits``) counts as a verified edit only when,
read back from the wiki's API (the registry's URL for the suggestion's wiki, never one from
input):

1. the revision exists and its text is visible            else ``missing``
2. it is on the page the suggestion was made for           else ``other_page``
3. it was made by the user who decided, when one was given else ``other_user``
4. its diff against its parent adds the suggested wikitext else ``not_in_diff``
   (the text occurs more often in the revision than in its parent).

API failures are retried with back-off: a few quick retries inside the run, then the edit waits
``next_check_at`` (doubling each time) until ``VERIFY_MAX_ATTEMPTS`` is spent (``failed``).

``VERIFY_DELAY`` hours after the save, a verified edit's survival is checked: ``reverted`` when the
revision carries the ``mw-reverted`` tag or the page's latest revision no longer has the text, else
``kept``. Every write is conditional on the row still being unchecked, so running the job twice
(or two runs at once) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mwapi
from sqlalchemy import Connection, or_, select
from sqlalchemy.engine import Engine

from suggest.store.events import utcnow
from suggest.store.schema import decisions, edits, suggestions
from suggest.wiki.api_source import make_session, query
from suggest.wiki.registry import UnknownWiki, Wiki, WikiRegistry
from suggest.wiki.source import WikiUnavailable

log = logging.getLogger(__name__)

FIRST_BACKOFF = dt.timedelta(minutes=10)
MAX_BACKOFF = dt.timedelta(hours=12)
REVERTED_TAG = "mw-reverted"


def normalize_user(name: str | None) -> str | None:
    """MediaWiki's form of a user name: spaces not underscores, first letter upper case."""
    if not name:
        return None
    name = " ".join(name.replace("_", " ").split())
    return name[:1].upper() + name[1:]


def adds_text(new_text: str, parent_text: str, wikitext: str) -> bool:
    return bool(wikitext) and new_text.count(wikitext) > parent_text.count(wikitext)


class WikiReader:
    """The few revision lookups verification needs, with bounded quick retries."""

    def __init__(self, session: mwapi.Session, maxlag: int | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = session
        self.maxlag = maxlag
        self._sleep = sleep

    def _query(self, **params: Any) -> dict[str, Any]:
        # A background job: every failure is worth a bounded number of quick retries.
        return query(self.session, params, maxlag=self.maxlag, sleep=self._sleep, patient=True)

    @staticmethod
    def _first_revision(doc: dict[str, Any]) -> dict[str, Any] | None:
        query = doc.get("query", {})
        if query.get("badrevids"):
            return None
        pages = query.get("pages", [])
        if not pages or pages[0].get("missing") or not pages[0].get("revisions"):
            return None
        page = pages[0]
        revision = dict(page["revisions"][0])
        revision["pageid"] = page.get("pageid")
        revision["title"] = page.get("title")
        content = revision.get("slots", {}).get("main", {}).get("content")
        revision["content"] = content if isinstance(content, str) else None
        return revision

    def revision(self, revid: int) -> dict[str, Any] | None:
        return self._first_revision(self._query(
            prop="revisions", revids=revid, rvprop="ids|user|content|tags|timestamp", rvslots="main"))

    def latest(self, pageid: int) -> dict[str, Any] | None:
        return self._first_revision(self._query(
            prop="revisions", pageids=pageid, rvprop="ids|content", rvslots="main"))


@dataclass
class VerifyReport:
    verified: int = 0
    not_verified: dict[str, int] = field(default_factory=dict)
    unverifiable: int = 0
    retry_later: int = 0
    failed: int = 0
    kept: int = 0
    reverted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Verifier:
    def __init__(self, engine: Engine, registry: WikiRegistry, user_agent: str,
                 timeout: float = 10.0, delay_hours: float = 48, max_attempts: int = 6,
                 sleep: Callable[[float], None] = time.sleep,
                 reader_for: Callable[[Wiki], WikiReader] | None = None) -> None:
        self.engine = engine
        self.registry = registry
        self.delay = dt.timedelta(hours=delay_hours)
        self.max_attempts = max_attempts
        self._readers: dict[str, WikiReader] = {}
        self._reader_for = reader_for or (lambda wiki: WikiReader(
            make_session(wiki, user_agent, timeout),
            maxlag=5 if wiki.kind == "wikimedia" else None, sleep=sleep))

    def reader(self, wiki: Wiki) -> WikiReader:
        if wiki.id not in self._readers:
            self._readers[wiki.id] = self._reader_for(wiki)
        return self._readers[wiki.id]

    def run(self, now: dt.datetime | None = None, limit: int = 500) -> VerifyReport:
        now = now or utcnow()
        report = VerifyReport()
        self.verify_pending(now, limit, report)
        self.check_survival(now, limit, report)
        return report

    # -- step 1: the saved revision ---------------------------------------------------------------
    def verify_pending(self, now: dt.datetime, limit: int, report: VerifyReport) -> None:
        query = (select(edits.c.suggestion_id, edits.c.revid, edits.c.attempts,
                        edits.c.user_name.label("edit_user"), decisions.c.user_name.label("decision_user"),
                        suggestions.c.wiki, suggestions.c.page_id, suggestions.c.page_title,
                        suggestions.c.wikitext)
                 .select_from(edits.join(suggestions, suggestions.c.id == edits.c.suggestion_id)
                              .outerjoin(decisions, decisions.c.suggestion_id == edits.c.suggestion_id))
                 .where(edits.c.status.is_(None),
                        or_(edits.c.next_check_at.is_(None), edits.c.next_check_at <= now))
                 .order_by(edits.c.created_at).limit(limit))
        with self.engine.connect() as conn:
            pending = [dict(r._mapping) for r in conn.execute(query)]
        for item in pending:
            try:
                wiki = self.registry.get(item["wiki"])
            except UnknownWiki:
                wiki = None
            if wiki is None or not wiki.api_url:
                self._finish(item, "unverifiable", "no_api", now)
                report.unverifiable += 1
                continue
            try:
                reason = self.judge(self.reader(wiki), item)
            except WikiUnavailable as error:
                log.warning("verify %s on %s: %s", item["revid"], wiki.id, error)
                if self._postpone(item, now):
                    report.retry_later += 1
                else:
                    report.failed += 1
                continue
            if reason is None:
                self._finish(item, "verified", None, now)
                report.verified += 1
            else:
                self._finish(item, "not_verified", reason, now)
                report.not_verified[reason] = report.not_verified.get(reason, 0) + 1

    def judge(self, reader: WikiReader, item: dict[str, Any]) -> str | None:
        """None when the revision proves the edit; otherwise the reason it does not."""
        revision = reader.revision(int(item["revid"]))
        if revision is None or revision.get("texthidden") or revision["content"] is None:
            return "missing"
        if item["page_id"] is not None:
            same_page = revision.get("pageid") == int(item["page_id"])
        else:
            same_page = revision.get("title") == item["page_title"]
        if not same_page:
            return "other_page"
        expected = normalize_user(item["edit_user"] or item["decision_user"])
        if expected is not None and (revision.get("userhidden")
                                     or normalize_user(revision.get("user")) != expected):
            return "other_user"
        parent_text = ""
        if revision.get("parentid"):
            parent = reader.revision(int(revision["parentid"]))
            if parent is None or parent["content"] is None:
                return "missing"
            parent_text = parent["content"]
        if not adds_text(revision["content"], parent_text, item["wikitext"]):
            return "not_in_diff"
        return None

    def _finish(self, item: dict[str, Any], status: str, reason: str | None, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(edits.update()
                         .where(edits.c.suggestion_id == item["suggestion_id"], edits.c.status.is_(None))
                         .values(status=status, reason=reason, checked_at=now,
                                 attempts=(item["attempts"] or 0) + 1, next_check_at=None))

    def _postpone(self, item: dict[str, Any], now: dt.datetime) -> bool:
        """Back off after an API failure; False when the attempts are spent (marked failed)."""
        attempts = (item["attempts"] or 0) + 1
        if attempts >= self.max_attempts:
            self._finish({**item, "attempts": attempts - 1}, "failed", "api_error", now)
            return False
        wait = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempts - 1))
        with self.engine.begin() as conn:
            conn.execute(edits.update()
                         .where(edits.c.suggestion_id == item["suggestion_id"], edits.c.status.is_(None))
                         .values(attempts=attempts, next_check_at=now + wait))
        return True

    # -- step 2: did it survive? ------------------------------------------------------------------
    def check_survival(self, now: dt.datetime, limit: int, report: VerifyReport) -> None:
        query = (select(edits.c.suggestion_id, edits.c.revid, suggestions.c.wiki, suggestions.c.wikitext)
                 .select_from(edits.join(suggestions, suggestions.c.id == edits.c.suggestion_id))
                 .where(edits.c.status == "verified", edits.c.survival.is_(None),
                        edits.c.created_at <= now - self.delay)
                 .order_by(edits.c.created_at).limit(limit))
        with self.engine.connect() as conn:
            due = [dict(r._mapping) for r in conn.execute(query)]
        for item in due:
            try:
                wiki = self.registry.get(item["wiki"])
                outcome = self.survival(self.reader(wiki), item)
            except (UnknownWiki, WikiUnavailable) as error:
                log.warning("survival of %s: %s (next run)", item["revid"], type(error).__name__)
                continue
            with self.engine.begin() as conn:
                self._set_survival(conn, item["suggestion_id"], *outcome, now)
            if outcome[0] == "reverted":
                report.reverted += 1
            else:
                report.kept += 1

    @staticmethod
    def survival(reader: WikiReader, item: dict[str, Any]) -> tuple[str, str | None]:
        revision = reader.revision(int(item["revid"]))
        if revision is None or revision["content"] is None:
            return "reverted", "removed"  # the revision itself was deleted
        if REVERTED_TAG in (revision.get("tags") or []):
            return "reverted", REVERTED_TAG
        latest = reader.latest(int(revision["pageid"]))
        wikitext = item["wikitext"]
        if latest is None or latest["content"] is None or \
                latest["content"].count(wikitext) < revision["content"].count(wikitext):
            return "reverted", "removed"
        return "kept", None

    @staticmethod
    def _set_survival(conn: Connection, suggestion_id: str, survival: str, reason: str | None,
                      now: dt.datetime) -> None:
        conn.execute(edits.update()
                     .where(edits.c.suggestion_id == suggestion_id, edits.c.survival.is_(None))
                     .values(survival=survival, survival_reason=reason, survival_checked_at=now))
