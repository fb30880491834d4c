"""The verification job: is an accepted suggestion really in the revision the editor reported?

An acceptance linked to a revision (``POST /api/v1/edits``) counts as a verified edit only when,
read back from the wiki's API (the registry's URL for the suggestion's wiki, never one from
input):

1. the edit was reported under the name of the user who decided, when both gave one
                                                           else ``other_reporter``
2. the revision exists and its text is visible            else ``missing``
3. it is on the page the suggestion was made for           else ``other_page``
4. it was made by the user who decided                     else ``other_user``
   (the decision's user name; only when the decision has none, the name the edit was reported
   under; neither given: not checked)
5. it was saved after the suggestion was shown and decided else ``before_decision``
   (its timestamp is not older than the issue and the decision time, less ``CLOCK_SKEW`` for the
   wiki's and the service's clocks and a decision sent as the save is submitted)
6. its diff against its parent adds the suggested wikitext else ``not_in_diff``
   (the text occurs more often in the revision than in its parent)
7. the copies it adds are not all proven already           else ``duplicate``
   (a revision verifies as many acceptances of one text on its page as copies of it the diff
   adds, and a category at most once: one edit is never counted as several, whichever ids of
   one computed suggestion, or of several with the same text, were linked to it. The store
   already refuses a second id of a computed suggestion for a revision; this also covers links
   stored before it did, and equal suggestions computed for different page revisions.)

API failures are retried with back-off: a few quick retries inside the run, then the edit waits
``next_check_at`` (doubling each time) until ``VERIFY_MAX_ATTEMPTS`` is spent (``failed``).

``VERIFY_DELAY`` hours after the save, a verified edit's survival is checked: ``reverted`` when the
revision carries the ``mw-reverted`` tag or the page's latest revision no longer has the addition,
else ``kept``. For a category "still there" means the latest text still puts the page in that
category (its category links parsed with mwparserfromhell, names normalised, any of the wiki's
names of the category namespace): a later edit that only changes the sort key or the spelling of
the link keeps it. For other tasks the latest text must have as many copies of the suggested
wikitext as the verified revision.

Every write is conditional on the row still being unchecked, so running the job twice (or two runs
at once) changes no row judged already. (The ``duplicate`` check reads the edits verified before:
two runs at once judging two links of one revision could each verify one; the scheduled job runs
once an hour, and the store's refusal of a second id of a computed suggestion stands anyway.)
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
from suggest.validation import normalize_user_name
from suggest.wiki import wikitext as wt
from suggest.wiki.api_source import make_session, maxlag_for, namespace_names, query
from suggest.wiki.registry import UnknownWiki, Wiki, WikiRegistry
from suggest.wiki.source import WikiUnavailable

log = logging.getLogger(__name__)

FIRST_BACKOFF = dt.timedelta(minutes=10)
MAX_BACKOFF = dt.timedelta(hours=12)
REVERTED_TAG = "mw-reverted"
CATEGORIES_TASK = "categories"
# A revision may carry a timestamp this much older than the decision it verifies: the wiki's and
# the service's clocks differ a little, and a decision may still be on its way as the save is made.
CLOCK_SKEW = dt.timedelta(seconds=5)


def normalize_user(name: str | None) -> str | None:
    """MediaWiki's form of a user name (:func:`suggest.validation.normalize_user_name`), or None."""
    return normalize_user_name(name) if name else None


def adds_text(new_text: str, parent_text: str, wikitext: str) -> bool:
    return copies_added(new_text, parent_text, wikitext) > 0


def copies_added(new_text: str, parent_text: str, wikitext: str) -> int:
    """How many more copies of ``wikitext`` the new text has than its parent (0 when none)."""
    if not wikitext:
        return 0
    return max(0, new_text.count(wikitext) - parent_text.count(wikitext))


def revision_time(revision: dict[str, Any]) -> dt.datetime | None:
    """A revision's timestamp as naive UTC (the store's form); None when absent or malformed."""
    value = revision.get("timestamp")
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at


def still_categorized(suggested: str, latest_text: str, category_prefixes: list[str]) -> bool | None:
    """Whether ``latest_text`` still puts its page in the category the suggested link adds; None
    when ``suggested`` is no category link (then the caller compares the text)."""
    names = wt.category_links(suggested, category_prefixes)
    if not names:
        return None
    return names[0] in wt.category_links(latest_text, category_prefixes)


class WikiReader:
    """The few revision lookups verification needs, with bounded quick retries."""

    def __init__(self, session: mwapi.Session, maxlag: int | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = session
        self.maxlag = maxlag
        self._sleep = sleep
        self._category_prefixes: list[str] | None = None

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

    def category_prefixes(self) -> list[str]:
        """Every name of the wiki's category namespace (local, canonical, aliases); read once."""
        if self._category_prefixes is None:
            info = self._query(meta="siteinfo", siprop="namespaces|namespacealiases").get("query")
            if not isinstance(info, dict) or not isinstance(info.get("namespaces"), dict):
                raise WikiUnavailable("malformed siteinfo")
            self._category_prefixes = list(dict.fromkeys(
                [*namespace_names(info, wt.CATEGORY_NS), "Category"]))
        return list(self._category_prefixes)


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
            maxlag=maxlag_for(wiki), sleep=sleep))

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
                        decisions.c.created_at.label("decided_at"),
                        suggestions.c.created_at.label("issued_at"),
                        suggestions.c.wiki, suggestions.c.task, suggestions.c.page_id,
                        suggestions.c.page_title, suggestions.c.wikitext)
                 .select_from(edits.join(suggestions, suggestions.c.id == edits.c.suggestion_id)
                              .outerjoin(decisions, decisions.c.suggestion_id == edits.c.suggestion_id))
                 .where(edits.c.status.is_(None),
                        or_(edits.c.next_check_at.is_(None), edits.c.next_check_at <= now))
                 .order_by(edits.c.created_at, edits.c.suggestion_id).limit(limit))
        with self.engine.connect() as conn:
            pending = [dict(r._mapping) for r in conn.execute(query)]
        away: set[str] = set()  # wikis that failed in this run: not asked again until the next
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
                if wiki.id in away:
                    raise WikiUnavailable("failed earlier in this run")
                reason = self.judge(self.reader(wiki), item)
            except WikiUnavailable as error:
                if wiki.id not in away:
                    log.warning("verify %s on %s: %s (its other edits wait for the next run)",
                                item["revid"], wiki.id, error)
                away.add(wiki.id)
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
        """None when the revision proves the edit; otherwise the reason it does not (the
        module's list, in the order checked)."""
        decider = normalize_user(item.get("decision_user"))
        reporter = normalize_user(item.get("edit_user"))
        if decider is not None and reporter is not None and reporter != decider:
            # The name sent with the edit is the client's word: it never replaces the decider's.
            return "other_reporter"
        revision = reader.revision(int(item["revid"]))
        if revision is None or revision.get("texthidden") or revision["content"] is None:
            return "missing"
        if item["page_id"] is not None:
            same_page = revision.get("pageid") == int(item["page_id"])
        else:
            same_page = revision.get("title") == item["page_title"]
        if not same_page:
            return "other_page"
        expected = decider or reporter
        if expected is not None and (revision.get("userhidden")
                                     or normalize_user(revision.get("user")) != expected):
            return "other_user"
        saved_at = revision_time(revision)
        if saved_at is None:
            return "missing"
        shown = [at for at in (item.get("issued_at"), item.get("decided_at")) if at is not None]
        if shown and saved_at < max(shown) - CLOCK_SKEW:
            return "before_decision"
        parent_text = ""
        if revision.get("parentid"):
            parent = reader.revision(int(revision["parentid"]))
            if parent is None or parent["content"] is None:
                return "missing"
            parent_text = parent["content"]
        added = copies_added(revision["content"], parent_text, item["wikitext"])
        if added == 0:
            return "not_in_diff"
        if item.get("task") == CATEGORIES_TASK:
            added = 1  # a page is in a category once, however often the link is written
        if self._proven_already(item) >= added:
            return "duplicate"
        return None

    def _proven_already(self, item: dict[str, Any]) -> int:
        """Other acceptances of the same text on the same wiki verified by the same revision."""
        query = (select(edits.c.suggestion_id, suggestions.c.wikitext)
                 .select_from(edits.join(suggestions, suggestions.c.id == edits.c.suggestion_id))
                 .where(edits.c.revid == item["revid"], edits.c.status == "verified",
                        edits.c.suggestion_id != item["suggestion_id"],
                        suggestions.c.wiki == item["wiki"]))
        with self.engine.connect() as conn:
            # Compared here, not in SQL: MariaDB's collation would equate texts that differ in case.
            return sum(1 for _, text in conn.execute(query) if text == item["wikitext"])

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
        query = (select(edits.c.suggestion_id, edits.c.revid, suggestions.c.wiki, suggestions.c.task,
                        suggestions.c.wikitext)
                 .select_from(edits.join(suggestions, suggestions.c.id == edits.c.suggestion_id))
                 .where(edits.c.status == "verified", edits.c.survival.is_(None),
                        edits.c.created_at <= now - self.delay)
                 .order_by(edits.c.created_at).limit(limit))
        with self.engine.connect() as conn:
            due = [dict(r._mapping) for r in conn.execute(query)]
        away: set[str] = set()  # as in verify_pending
        for item in due:
            if item["wiki"] in away:
                continue
            try:
                wiki = self.registry.get(item["wiki"])
                outcome = self.survival(self.reader(wiki), item)
            except (UnknownWiki, WikiUnavailable) as error:
                log.warning("survival of %s: %s (next run)", item["revid"], type(error).__name__)
                away.add(item["wiki"])
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
        if revision is None:
            return "reverted", "removed"  # the revision itself was deleted (with its page)
        if REVERTED_TAG in (revision.get("tags") or []):
            return "reverted", REVERTED_TAG
        latest = reader.latest(int(revision["pageid"]))
        if latest is None or latest["content"] is None:
            return "reverted", "removed"
        wikitext = item["wikitext"]
        present: bool | None = None
        if item.get("task") == CATEGORIES_TASK:
            present = still_categorized(wikitext, latest["content"], reader.category_prefixes())
        if present is None and revision["content"] is None:
            # Its text hidden since (a revision deletion, as in copyright clean-ups, which hide
            # whole ranges): the addition survives if the page still has it.
            present = wikitext in latest["content"]
        elif present is None:
            present = latest["content"].count(wikitext) >= revision["content"].count(wikitext)
        return ("kept", None) if present else ("reverted", "removed")

    @staticmethod
    def _set_survival(conn: Connection, suggestion_id: str, survival: str, reason: str | None,
                      now: dt.datetime) -> None:
        conn.execute(edits.update()
                     .where(edits.c.suggestion_id == suggestion_id, edits.c.survival.is_(None))
                     .values(survival=survival, survival_reason=reason, survival_checked_at=now))
