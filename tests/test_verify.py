# SPDX-License-Identifier: GPL-3.0-or-later
"""Verification of accepted suggestions against saved revisions.

With the local MediaWiki: real users save real edits through the API (bot passwords), and the job
reads them back: a saved edit that adds the suggestion is verified; another user's edit, an edit on
another page, one whose diff does not add the text, one saved before the decision, one reported
under another name than the decider's and a second acceptance of the same addition are not; a
reverted edit is detected, a category whose link was only respelled is kept.
Without it: API failures are retried with back-off and finally given up."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import mwapi
import pytest
from sqlalchemy import select, update

from suggest.metrics.verify import Verifier, adds_text, normalize_user
from suggest.store.events import EventStore, utcnow
from suggest.store.schema import decisions, edits, suggestions
from tests.conftest import app_config
from tests.support.mediawiki import LocalMediaWiki, free_port

USER_AGENT = "wiki-suggest-tests/0 (tests@example.org)"
WIKI = "localtestwiki"


def row(sid: str, title: str, page_id: int | None, wikitext: str, wiki: str = WIKI) -> dict[str, Any]:
    return {"id": sid, "wiki": wiki, "task": "categories", "task_version": "1", "page_title": title,
            "page_id": page_id, "revid": 1, "rank": 0, "label": wikitext, "wikitext": wikitext,
            "score": 0.5, "explanation": "", "details": "{}", "backend": "tfidf",
            "model_checksum": "c", "config_hash": "h", "app_version": "0"}


def accept_and_link(store: EventStore, sid: str, revid: int, user: str | None) -> None:
    store.record_decision(sid, "accept", None, None, user)
    store.record_edit([sid], revid, user)


class Editor:
    """A wiki account that edits through the action API, logged in with a bot password."""

    def __init__(self, wiki: LocalMediaWiki, name: str) -> None:
        wiki.create_user(name, "Editor-password-123456")
        login, password = wiki.create_bot_password(name, f"t{uuid.uuid4().hex[:8]}",
                                                   grants=("basic", "editpage", "createeditmovepage"))
        self.session = mwapi.Session(wiki.url, user_agent=USER_AGENT, api_path="/api.php",
                                     formatversion=2)
        token = self.session.get(action="query", meta="tokens", type="login")["query"]["tokens"]
        result = self.session.post(action="login", lgname=login, lgpassword=password,
                                   lgtoken=token["logintoken"])["login"]
        assert result["result"] == "Success", result

    def edit(self, title: str, **params: Any) -> dict[str, Any]:
        token = self.session.get(action="query", meta="tokens")["query"]["tokens"]["csrftoken"]
        result: dict[str, Any] = self.session.post(action="edit", title=title, token=token,
                                                   **params)["edit"]
        assert result["result"] == "Success", result
        return result


@pytest.mark.mediawiki
def test_saved_edits_are_verified_against_the_wiki(mediawiki_factory: Any, sqlite_url: str) -> None:
    wiki = mediawiki_factory("en")
    tag = uuid.uuid4().hex[:6]
    editor, other = Editor(wiki, f"Verify editor {tag}"), Editor(wiki, f"Other editor {tag}")
    page, elsewhere, reverted, removed, unnamed = (
        f"Verify {tag} {n}" for n in ("page", "other", "undo", "removed", "unnamed"))
    cat, cat_undo, cat_removed, cat_unnamed = (
        f"[[Category:Verified {tag} {n}]]" for n in ("a", "b", "c", "d"))

    # The suggestions are shown and decided before the edits are saved (set below: the rows are
    # stored after the edits, once their page ids are known).
    decided_at = utcnow() - dt.timedelta(seconds=1)
    base = editor.edit(page, text="Lorem ipsum.", summary="new page")
    added = editor.edit(page, text=f"Lorem ipsum.\n\n{cat}", summary="add a category")
    reworded = editor.edit(page, text=f"Lorem ipsum dolor.\n\n{cat}", summary="copy edit")
    other_page = editor.edit(elsewhere, text="Another article.")
    editor.edit(reverted, text="Text.")
    to_undo = editor.edit(reverted, text=f"Text.\n\n{cat_undo}")
    # An undo by an autopatrolled user (the admin): MediaWiki tags the undone edit mw-reverted at
    # once; an unpatrolled undo would wait for patrol.
    admin = mwapi.Session(wiki.url, user_agent=USER_AGENT, api_path="/api.php", formatversion=2)
    admin.login(wiki.admin_user, wiki.admin_password)
    token = admin.get(action="query", meta="tokens")["query"]["tokens"]["csrftoken"]
    undone = admin.post(action="edit", title=reverted, undo=to_undo["newrevid"], token=token)["edit"]
    assert undone["result"] == "Success", undone
    editor.edit(removed, text="Body.")
    to_remove = editor.edit(removed, text=f"Body.\n\n{cat_removed}")
    other.edit(removed, text="Body, rewritten without the category.")
    # A new page with its category in its first revision (no parent), and a later edit that
    # only gives the category link a sort key and another spelling: the category stays.
    anonymous = editor.edit(unnamed, text=f"Text.\n\n{cat_unnamed}")
    other.edit(unnamed, text=f"Text.\n\n[[category:Verified_{tag}_d|Sort key]]")
    wiki.run_jobs()  # the mw-reverted tag is added by a job

    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, EXTRA_WIKIS={WIKI: {"api_url": wiki.api_url, "lang": "en"}}))
    svc = app.extensions["wiki_suggest"]
    store: EventStore = svc.store
    pid = int(base["pageid"])
    store.issue([
        row("ok", page, pid, cat),                                   # verified
        row("anon", unnamed, int(anonymous["pageid"]), cat_unnamed),  # verified, no user given
        row("twice", page, pid, cat),                                # the same addition, counted once
        row("reported", page, pid, cat),                             # reported under another name
        row("older", page, pid, cat),                                # decided after the save
        row("by_other", page, pid, cat),                             # decided by someone else
        row("wrong_page", elsewhere, int(other_page["pageid"]), cat),  # revision of another page
        row("not_added", page, pid, "[[Category:Never added]]"),     # text not in the diff
        row("kept_only", page, pid, cat),                            # present, but not added here
        row("gone", page, pid, cat),                                 # no such revision
        row("undone", reverted, int(to_undo["pageid"]), cat_undo),   # later undone (tag)
        row("removed", removed, int(to_remove["pageid"]), cat_removed),  # later removed by hand
    ])
    name = f"Verify editor {tag}"
    accept_and_link(store, "ok", added["newrevid"], name.replace(" ", "_"))
    accept_and_link(store, "anon", anonymous["newrevid"], None)
    accept_and_link(store, "twice", added["newrevid"], name)
    store.record_decision("reported", "accept", None, None, f"Other editor {tag}")
    store.record_edit(["reported"], added["newrevid"], name)
    accept_and_link(store, "older", added["newrevid"], name)
    accept_and_link(store, "by_other", added["newrevid"], f"Other editor {tag}")
    accept_and_link(store, "wrong_page", added["newrevid"], name)
    accept_and_link(store, "not_added", added["newrevid"], name)
    accept_and_link(store, "kept_only", reworded["newrevid"], name)
    accept_and_link(store, "gone", 987654321, name)
    accept_and_link(store, "undone", to_undo["newrevid"], name)
    accept_and_link(store, "removed", to_remove["newrevid"], name)
    with store.engine.begin() as conn:
        conn.execute(update(suggestions).values(created_at=decided_at))
        conn.execute(update(decisions).values(created_at=decided_at))
        conn.execute(update(decisions).where(decisions.c.suggestion_id == "older")
                     .values(created_at=utcnow() + dt.timedelta(minutes=10)))

    result = app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["verified"] == 4 and report["kept"] == 0 and report["reverted"] == 0  # not yet due
    assert report["not_verified"] == {"other_user": 1, "other_page": 1, "not_in_diff": 2, "missing": 1,
                                      "duplicate": 1, "other_reporter": 1, "before_decision": 1}

    def states() -> dict[str, tuple[Any, ...]]:
        with store.engine.connect() as conn:
            return {r.suggestion_id: (r.status, r.reason, r.survival, r.survival_reason)
                    for r in conn.execute(select(edits))}

    first = states()
    assert first["ok"][:2] == ("verified", None) and first["anon"][:2] == ("verified", None)
    assert first["twice"][:2] == ("not_verified", "duplicate")
    assert first["reported"][:2] == ("not_verified", "other_reporter")
    assert first["older"][:2] == ("not_verified", "before_decision")
    assert first["by_other"][:2] == ("not_verified", "other_user")
    assert first["wrong_page"][:2] == ("not_verified", "other_page")
    assert first["not_added"][:2] == ("not_verified", "not_in_diff")
    assert first["kept_only"][:2] == ("not_verified", "not_in_diff")
    assert first["gone"][:2] == ("not_verified", "missing")
    assert first["undone"][:2] == ("verified", None) and first["removed"][:2] == ("verified", None)

    verifier = Verifier(store.engine, svc.registry, svc.user_agent, sleep=lambda s: None)
    later = verifier.run(now=utcnow() + dt.timedelta(hours=49))
    assert (later.verified, later.kept, later.reverted) == (0, 2, 2)
    second = states()
    assert second["ok"][2:] == ("kept", None) and second["anon"][2:] == ("kept", None)
    assert second["undone"][2:] == ("reverted", "mw-reverted")
    assert second["removed"][2:] == ("reverted", "removed")
    # Idempotent: nothing left to do, nothing changes.
    again = verifier.run(now=utcnow() + dt.timedelta(hours=50))
    assert again.as_dict() == {"verified": 0, "not_verified": {}, "unverifiable": 0, "retry_later": 0,
                               "failed": 0, "kept": 0, "reverted": 0}
    assert states() == second


def test_api_failures_back_off_then_give_up(sqlite_url: str) -> None:
    from suggest.web import create_app

    dead = f"http://127.0.0.1:{free_port()}/api.php"  # nothing listens there
    app = create_app(app_config(sqlite_url, EXTRA_WIKIS={"deadwiki": {"api_url": dead}}))
    svc = app.extensions["wiki_suggest"]
    store: EventStore = svc.store
    store.issue([row("x", "Page", 1, "[[Category:X]]", wiki="deadwiki"),
                 row("y", "Page", 1, "[[Category:Y]]", wiki="deadwiki"),
                 row("d", "Page", 1, "[[Category:X]]", wiki="fixture-enwiki")])
    accept_and_link(store, "x", 5, "Someone")
    accept_and_link(store, "y", 6, "Someone")
    accept_and_link(store, "d", 5, "Someone")
    sleeps: list[float] = []
    verifier = Verifier(store.engine, svc.registry, svc.user_agent, timeout=1.0, max_attempts=3,
                        sleep=sleeps.append)
    now = utcnow()

    def edit_row(sid: str) -> Any:
        with store.engine.connect() as conn:
            return conn.execute(select(edits).where(edits.c.suggestion_id == sid)).one()

    first = verifier.run(now=now)
    assert (first.retry_later, first.unverifiable) == (2, 1)
    # Quick retries inside the run, doubling, for the first edit only: the wiki's other edits
    # wait for the next run instead of each asking (and waiting) again.
    assert sleeps == [0.5, 1.0]
    assert edit_row("y").attempts == 1
    assert edit_row("d").status == "unverifiable" and edit_row("d").reason == "no_api"
    x = edit_row("x")
    assert x.status is None and x.attempts == 1 and x.next_check_at == now + dt.timedelta(minutes=10)
    assert verifier.run(now=now + dt.timedelta(minutes=5)).retry_later == 0  # still backing off
    assert verifier.run(now=now + dt.timedelta(minutes=11)).retry_later == 2
    assert edit_row("x").next_check_at == now + dt.timedelta(minutes=31)  # 11 + 20 minutes
    assert verifier.run(now=now + dt.timedelta(minutes=40)).failed == 2
    assert (edit_row("x").status, edit_row("x").reason, edit_row("x").attempts) == ("failed", "api_error", 3)
    # The survival check of verified edits on a wiki that fails: asked once per run too.
    with store.engine.begin() as conn:
        conn.execute(update(edits).where(edits.c.suggestion_id.in_(["x", "y"]))
                     .values(status="verified", created_at=now - dt.timedelta(days=30)))
    sleeps.clear()
    assert verifier.run(now=now + dt.timedelta(days=1)).kept == 0
    assert sleeps == [0.5, 1.0]
    assert edit_row("x").survival is None and edit_row("y").survival is None  # the next run


@pytest.mark.parametrize(("new", "parent", "text", "added"), [
    ("a [[C:X]]", "a", "[[C:X]]", True),
    ("a [[C:X]]", "a [[C:X]]", "[[C:X]]", False),          # already there
    ("[[C:X]] b [[C:X]]", "[[C:X]] b", "[[C:X]]", True),   # a second copy is added
    ("a", "a [[C:X]]", "[[C:X]]", False),                  # removed, not added
    ("a", "a", "", False),
])
def test_adds_text(new: str, parent: str, text: str, added: bool) -> None:
    assert adds_text(new, parent, text) is added


def test_normalize_user() -> None:
    assert normalize_user("some_user  name") == "Some user name"
    assert normalize_user("") is None and normalize_user(None) is None
