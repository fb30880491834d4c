# SPDX-License-Identifier: GPL-3.0-or-later
"""Blocked editors and the monitor: with ALARM_CONFIRMED_ONLY, the decisions of confirmed editors
who are blocked on the wiki now are left out of the alarms (a ticket outlives a block).

With the local MediaWiki: real accounts, one blocked sitewide with MediaWiki's own maintenance
script and one blocked from a single page through the action API, asked about with
list=users&usprop=blockinfo. Without it: a wiki that does not answer, and a dump wiki without
an API, leave the decisions counted and are named in the job's output."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import mwapi
import pytest

from suggest.metrics import monitor
from suggest.metrics.blocks import BlockCheck, blocked_names
from suggest.store.events import EventStore, utcnow
from tests.conftest import app_config
from tests.support.mediawiki import LocalMediaWiki, free_port
from tests.test_verify import USER_AGENT, WIKI, row

ALARM = {"ALARMS": [{"id": "rejection-high", "rate": "rejection", "above": 0.30}],
         "ALARM_MIN_DECISIONS": 4, "ALARM_MIN_EDITORS": 2, "ALARM_WINDOW_DAYS": 1,
         "ALARM_CONFIRMED_ONLY": True}


def decide(store: EventStore, wiki: str, decisions: list[tuple[str, str]]) -> None:
    """Confirmed decisions, one suggestion each: (user name, decision)."""
    tag = uuid.uuid4().hex[:8]
    store.issue([row(f"{tag}-{n}", f"Page {n}", None, f"[[Category:C{n}]]", wiki=wiki)
                 for n in range(len(decisions))])
    for n, (user, decision) in enumerate(decisions):
        store.record_decision(f"{tag}-{n}", decision, "too_general" if decision == "reject" else None,
                              None, user, confirmed=True)


def stream(blocked: str, partial: str, other: str) -> list[tuple[str, str]]:
    """Six rejections from the blocked editor: 7 of 10 with them (the alarm's lower bound is above
    30 %), 1 of 4 without them, still judged (4 decisions, 2 editors)."""
    return [(blocked, "reject")] * 6 + [(partial, "reject"), (partial, "accept")] + [(other, "accept")] * 2


@pytest.mark.mediawiki
def test_confirmed_editors_blocked_on_the_wiki_are_left_out(mediawiki_factory: Any, sqlite_url: str) -> None:
    wiki: LocalMediaWiki = mediawiki_factory("en")
    tag = uuid.uuid4().hex[:6]
    blocked, partial, other = (f"Block test {tag} {n}" for n in ("sitewide", "partial", "free"))
    for name in (blocked, partial, other):
        wiki.create_user(name, "Editor-password-123456")
    wiki.php("blockUsers.php", "--reason=wiki-suggest test", input_text=blocked + "\n")
    admin = mwapi.Session(wiki.url, user_agent=USER_AGENT, api_path="/api.php", formatversion=2)
    admin.login(wiki.admin_user, wiki.admin_password)
    token = admin.get(action="query", meta="tokens")["query"]["tokens"]["csrftoken"]
    answer = admin.post(action="block", user=partial, partial=1, pagerestrictions="Main Page",
                        allowusertalk=1, reason="wiki-suggest test", token=token)
    assert answer["block"]["partial"] is True

    # The wiki's own answer, in whatever spelling the names come (underscores, lower case first).
    session = mwapi.Session(wiki.url, user_agent=USER_AGENT, api_path="/api.php", formatversion=2)
    asked = [blocked.replace(" ", "_"), partial, other[0].lower() + other[1:], f"Nobody {tag}"]
    assert blocked_names(session, asked) == {blocked}

    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, **ALARM,
                                EXTRA_WIKIS={WIKI: {"api_url": wiki.api_url, "lang": "en"}}))
    svc = app.extensions["wiki_suggest"]
    decide(svc.store, WIKI, stream(blocked, partial, other))
    later = utcnow() + dt.timedelta(minutes=1)
    config = {**svc.config, **ALARM}

    # Without the check, the blocked editor's rejections would pause the task.
    (counted,) = monitor.evaluate(svc.store, config, later)
    assert counted.triggered and counted.total == 10 and counted.editors == 3

    check = BlockCheck(svc.registry, USER_AGENT)
    (judged,) = monitor.evaluate(svc.store, config, later, check)
    assert judged.judged and not judged.triggered
    assert (judged.total, judged.editors, judged.blocked) == (4, 2, 1)
    assert "1 blocked editor left out" in judged.describe() and check.unchecked == set()

    # The job as Toolforge runs it: no pause, and the wiki's blocks were checked.
    result = app.test_cli_runner().invoke(args=["monitor"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"job": "monitor", "triggered": [], "blocks_unchecked": []}
    assert "categories" not in svc.store.pauses_for(WIKI)

    # Unblocked, their rejections count again.
    wiki.php("blockUsers.php", "--unblock", "--reason=wiki-suggest test", input_text=blocked + "\n")
    (again,) = monitor.evaluate(svc.store, config, later, BlockCheck(svc.registry, USER_AGENT))
    assert again.triggered and again.blocked == 0


def test_a_wiki_that_cannot_be_asked_leaves_the_decisions_counted(sqlite_url: str) -> None:
    from suggest.web import create_app

    down = f"http://127.0.0.1:{free_port()}/w/api.php"  # nothing listens there
    app = create_app(app_config(sqlite_url, **ALARM, WIKI_TIMEOUT=1.0,
                                EXTRA_WIKIS={WIKI: {"api_url": down, "lang": "en"}}))
    svc = app.extensions["wiki_suggest"]
    decide(svc.store, WIKI, stream("Blocked", "Partial", "Other"))
    decide(svc.store, "fixture-ukwiki", stream("Blocked", "Partial", "Other"))  # a dump: no API
    later = utcnow() + dt.timedelta(minutes=1)
    check = BlockCheck(svc.registry, USER_AGENT, timeout=1.0, sleep=lambda s: None)
    results = monitor.evaluate(svc.store, {**svc.config, **ALARM}, later, check)
    assert sorted((r.wiki, r.triggered, r.total, r.blocked) for r in results) == [
        ("fixture-ukwiki", True, 10, 0), (WIKI, True, 10, 0)]
    assert check.unchecked == {WIKI, "fixture-ukwiki"}

    result = app.test_cli_runner().invoke(args=["monitor"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["blocks_unchecked"] == sorted([WIKI, "fixture-ukwiki"])
    assert len(output["triggered"]) == 2


def test_blocks_are_asked_only_when_the_alarms_count_confirmed_decisions(sqlite_url: str) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, **{**ALARM, "ALARM_CONFIRMED_ONLY": False},
                                EXTRA_WIKIS={WIKI: {"api_url": "http://127.0.0.1:9/api.php", "lang": "en"}}))
    svc = app.extensions["wiki_suggest"]
    decide(svc.store, WIKI, stream("Blocked", "Partial", "Other"))

    def no_session(wiki: Any) -> mwapi.Session:
        raise AssertionError(f"asked {wiki.id} about blocks")

    check = BlockCheck(svc.registry, USER_AGENT, session_for=no_session)
    (result,) = monitor.evaluate(svc.store, svc.config, utcnow() + dt.timedelta(minutes=1), check)
    assert result.triggered and result.blocked == 0 and check.unchecked == set()


def test_names_are_asked_fifty_at_a_time_and_once_per_run() -> None:
    """list=users takes 50 names per query; a second question about the same names in one run
    (another task on the same wiki) asks nothing."""
    asked: list[list[str]] = []

    class Session:
        def get(self, **params: Any) -> dict[str, Any]:
            names = params["ususers"].split("|")
            asked.append(names)
            block = {"blockid": 7, "blockedby": "Admin"}
            return {"query": {"users": [{"name": n, "userid": 1, **(block if n.endswith("3") else {})}
                                        for n in names]}}

    class Registry:
        def get(self, wiki_id: str) -> Any:
            from suggest.wiki.registry import Wiki
            return Wiki(id=wiki_id, kind="mediawiki", lang="en", name=wiki_id, api_url="http://127.0.0.1:9/api.php")

    names = [f"Editor {n}" for n in range(120)]
    check = BlockCheck(Registry(), USER_AGENT, session_for=lambda wiki: Session())  # type: ignore[arg-type,return-value]
    found = check.blocked(WIKI, names)
    assert [len(chunk) for chunk in asked] == [50, 50, 20]
    assert found == {n for n in names if n.endswith("3")}
    assert check.blocked(WIKI, [n.replace(" ", "_") for n in names[:10]]) == {"Editor 3"}
    assert len(asked) == 3
