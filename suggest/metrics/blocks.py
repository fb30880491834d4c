"""Which confirmed editors are blocked now: the monitor leaves their decisions out.

A ticket of the tool's login (:mod:`suggest.web.confirm`) stays valid for ``TICKET_DAYS``, and
the login refuses only accounts blocked when they log in. An account blocked on a wiki after it
confirmed could go on sending confirmed decisions there. So with ``ALARM_CONFIRMED_ONLY`` the
monitor asks each wiki which of the confirmed editors in its window are blocked there now
(``list=users&usprop=blockinfo``, 50 names per query) and judges the alarms without their
decisions. A partial block (some pages or namespaces only) leaves an editor counted: it does not
keep them from the articles they decide on. Global locks are not asked about (a locked account
can no longer log in to confirm again, and its ticket expires).

A wiki without an API (a dump) or one that does not answer leaves its names unchecked: their
decisions stay counted, and the monitor's output names the wiki.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import mwapi

from suggest.validation import normalize_user_name
from suggest.wiki.api_source import make_session, maxlag_for, query
from suggest.wiki.registry import UnknownWiki, Wiki, WikiRegistry
from suggest.wiki.source import WikiUnavailable

log = logging.getLogger(__name__)

NAMES_PER_QUERY = 50  # list=users takes 50 names per query (500 for bots)


def blocked_names(session: mwapi.Session, names: Iterable[str], *, maxlag: int | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> set[str]:
    """The names among ``names`` blocked sitewide on the session's wiki now, in MediaWiki's form.
    Raises :class:`WikiUnavailable` when the wiki does not answer."""
    wanted = sorted({normalize_user_name(n) for n in names} - {""})
    blocked: set[str] = set()
    for start in range(0, len(wanted), NAMES_PER_QUERY):
        chunk = wanted[start:start + NAMES_PER_QUERY]
        doc = query(session, {"list": "users", "ususers": "|".join(chunk), "usprop": "blockinfo"},
                    maxlag=maxlag, sleep=sleep, patient=True)
        users = (doc.get("query") or {}).get("users")
        if not isinstance(users, list):
            raise WikiUnavailable("list=users: no users in the answer")
        for user in users:
            if not isinstance(user, dict) or user.get("missing") or user.get("invalid"):
                continue
            if user.get("blockid") and not user.get("blockpartial"):
                blocked.add(normalize_user_name(str(user.get("name", ""))))
    return blocked & set(wanted)


class BlockCheck:
    """One monitor run's questions about blocks: each wiki is asked once per name, and a wiki
    that failed is not asked again in the run."""

    def __init__(self, registry: WikiRegistry, user_agent: str, timeout: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep,
                 session_for: Callable[[Wiki], mwapi.Session] | None = None) -> None:
        self.registry = registry
        self._sleep = sleep
        self._session_for = session_for or (lambda wiki: make_session(wiki, user_agent, timeout))
        self._sessions: dict[str, mwapi.Session] = {}
        self._known: dict[str, dict[str, bool]] = {}  # wiki -> name -> blocked
        self.unchecked: set[str] = set()  # wikis whose names could not be checked in this run

    def blocked(self, wiki_id: str, names: Iterable[str]) -> set[str] | None:
        """The blocked names among ``names`` on that wiki, or None when it cannot be asked."""
        if wiki_id in self.unchecked:
            return None
        try:
            wiki = self.registry.get(wiki_id)
        except UnknownWiki:
            wiki = None
        if wiki is None or not wiki.api_url:
            self.unchecked.add(wiki_id)
            return None
        known = self._known.setdefault(wiki_id, {})
        wanted = {normalize_user_name(n) for n in names} - {""}
        new = wanted - known.keys()
        if new:
            if wiki_id not in self._sessions:
                self._sessions[wiki_id] = self._session_for(wiki)
            try:
                found = blocked_names(self._sessions[wiki_id], new, sleep=self._sleep,
                                      maxlag=maxlag_for(wiki))
            except WikiUnavailable as error:
                log.warning("blocks on %s not checked: %s (its confirmed decisions stay counted)",
                            wiki_id, error)
                self.unchecked.add(wiki_id)
                return None
            known.update({name: name in found for name in new})
        return {name for name in wanted if known[name]}
