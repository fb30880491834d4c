# SPDX-License-Identifier: GPL-3.0-or-later
"""Account confirmation: /confirm hands a logged-in editor's gadget a signed ticket, and a decision
sent with it is stored as confirmed. Through the WSGI app with the OAuth fake of test_auth (the
OAuth extension cannot run here; the fake replays recorded answers), on real SQLite and MariaDB."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from typing import Any

import pytest
from itsdangerous import timed
from sqlalchemy import select

from suggest.metrics import monitor
from suggest.store.schema import decisions
from suggest.web import confirm, create_app
from tests.conftest import app_config
from tests.test_auth import CONSUMER_KEY, FakeMediaWiki, consumer, log_in, provider
from tests.test_decision_batch import issued_ids

__all__ = ["provider"]  # the OAuth fake, a fixture of test_auth

USER = "Example Maintainer"  # the recorded identity's user name
WIKI_ORIGIN = "https://uk.wikipedia.org"  # a wiki on the packaged list


@pytest.fixture(params=["sqlite", "mariadb"])
def app(request: pytest.FixtureRequest, provider: FakeMediaWiki) -> Any:
    return create_app(app_config(request.getfixturevalue(f"{request.param}_url"),
                                 OAUTH=consumer(provider.mw_uri)))


def ticket_from(page: str) -> dict[str, str]:
    """The data attributes /confirm hands its script."""
    found = re.search(r'<div id="confirm-ticket"([^>]*)>', page)
    assert found, page
    return {k: html.unescape(v) for k, v in re.findall(r'data-(\w+)="([^"]*)"', found.group(1))}


def confirmed_ticket(app: Any) -> str:
    client = app.test_client()
    log_in(client, next_path=f"/confirm?origin={WIKI_ORIGIN}")
    page = client.get("/confirm", query_string={"origin": WIKI_ORIGIN})
    assert page.status_code == 200
    return ticket_from(page.get_data(as_text=True))["ticket"]


def stored(app: Any) -> dict[str, tuple[str, str | None, Any]]:
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        return {r.suggestion_id: (r.decision, r.user_name, r.confirmed)
                for r in conn.execute(select(decisions))}


def test_the_popup_logs_in_and_hands_a_ticket_to_the_wiki_that_opened_it(app: Any) -> None:
    client = app.test_client()
    anonymous = client.get("/confirm", query_string={"origin": WIKI_ORIGIN})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=/confirm")

    done = log_in(client, next_path=f"/confirm?origin={WIKI_ORIGIN}")
    assert done.status_code == 302 and done.headers["Location"] == f"/confirm?origin={WIKI_ORIGIN}"
    page = client.get(done.headers["Location"])
    assert page.status_code == 200
    data = ticket_from(page.get_data(as_text=True))
    assert data["origin"] == WIKI_ORIGIN and data["user"] == USER
    assert data["type"] == confirm.MESSAGE_TYPE
    assert abs(int(data["expires"]) - (time.time() + confirm.TICKET_SECONDS)) < 60
    assert confirm.confirms(app.secret_key, data["ticket"], USER)
    assert "/static/confirm.js" in page.get_data(as_text=True)

    # Only to a wiki on the list: another site asking gets no ticket.
    for origin in ("https://evil.example", "", "https://uk.wikipedia.org.evil.example"):
        refused = client.get("/confirm", query_string={"origin": origin})
        assert refused.status_code == 400
        assert "confirm-ticket" not in refused.get_data(as_text=True)


def test_the_answers_say_whether_the_tool_can_confirm_accounts(app: Any, sqlite_url: str) -> None:
    """The gadget offers "Confirm your account" only when the service has a login to do it with."""
    query = {"wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}
    with_login = app.test_client().get("/api/v1/suggestions", query_string=query).get_json()
    without = create_app(app_config(sqlite_url)).test_client().get(
        "/api/v1/suggestions", query_string=query).get_json()
    # A consumer without its secret cannot log anyone in (/login says so): no control either.
    incomplete = create_app(app_config(sqlite_url, OAUTH={"consumer_key": CONSUMER_KEY}))
    half = incomplete.test_client().get("/api/v1/suggestions", query_string=query).get_json()
    assert incomplete.test_client().get("/login").status_code == 503
    assert with_login["meta"]["account_confirmation"] is True
    assert without["meta"]["account_confirmation"] is False
    assert half["meta"]["account_confirmation"] is False


def test_a_decision_with_its_users_ticket_is_stored_as_confirmed(app: Any) -> None:
    ticket = confirmed_ticket(app)
    client = app.test_client()
    with_ticket, plain, batched, unnamed_batch = issued_ids(client)[:4]
    answer = client.post("/api/v1/decisions", json={
        "suggestion_id": with_ticket, "decision": "accept", "user": "Example_Maintainer",
        "ticket": ticket})
    assert answer.status_code == 201 and answer.get_json()["confirmed"] is True
    answer = client.post("/api/v1/decisions", json={
        "suggestion_id": plain, "decision": "skip", "user": USER})
    assert answer.status_code == 201 and answer.get_json()["confirmed"] is False
    batch = client.post("/api/v1/decisions/batch", json={
        "user": USER, "ticket": ticket, "decisions": [{"suggestion_id": batched, "decision": "skip"}]})
    assert batch.status_code == 200 and batch.get_json()["results"][0]["confirmed"] is True
    rows = stored(app)
    assert rows[with_ticket] == ("accept", USER, True)
    assert rows[batched] == ("skip", USER, True)
    assert not rows[plain][2]
    assert unnamed_batch not in rows
    (totals,) = client.get("/api/v1/stats").get_json()["totals"]
    assert (totals["decided"], totals["confirmed"]) == (3, 2)
    assert "decided by confirmed accounts" in client.get("/stats").get_data(as_text=True)


@pytest.mark.parametrize("kind", ["forged", "tampered", "another user", "no user", "another salt"])
def test_a_bad_ticket_is_refused_and_nothing_is_stored(app: Any, kind: str) -> None:
    ticket = confirmed_ticket(app)
    client = app.test_client()
    single, *batch = issued_ids(client)[:3]
    user: str | None = USER
    if kind == "forged":
        ticket = confirm.issue("not the tool's key", USER)[0]
    elif kind == "tampered":
        ticket = ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB")
    elif kind == "another user":
        user = "Someone Else"
    elif kind == "no user":
        user = None
    else:  # signed with the tool's key for another purpose
        from itsdangerous import URLSafeTimedSerializer
        ticket = URLSafeTimedSerializer(app.secret_key).dumps({"user": USER})
    named = {} if user is None else {"user": user}
    single_answer = client.post("/api/v1/decisions", json={
        "suggestion_id": single, "decision": "accept", "ticket": ticket, **named})
    batch_answer = client.post("/api/v1/decisions/batch", json={
        "ticket": ticket, **named, "decisions": [{"suggestion_id": s, "decision": "skip"} for s in batch]})
    for answer in (single_answer, batch_answer):
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == "invalid_ticket"
    assert stored(app) == {}
    # Sent again without the ticket, as the gadget does, the same decisions are stored.
    again = client.post("/api/v1/decisions", json={"suggestion_id": single, "decision": "accept", **named})
    assert again.status_code == 201 and again.get_json()["confirmed"] is False


def test_an_expired_ticket_leaves_the_decision_unconfirmed(app: Any, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    past = time.time() - confirm.TICKET_SECONDS - 3600
    monkeypatch.setattr(timed.time, "time", lambda: past)  # itsdangerous stamps with time.time()
    old = confirm.issue(app.secret_key, USER)[0]
    monkeypatch.undo()
    client = app.test_client()
    sid = issued_ids(client)[0]
    answer = client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "accept",
                                                    "user": USER, "ticket": old})
    assert answer.status_code == 201 and answer.get_json()["confirmed"] is False
    assert stored(app)[sid] == ("accept", USER, False)


def test_malformed_tickets_fail_validation(app: Any) -> None:
    client = app.test_client()
    sid = issued_ids(client)[0]
    for ticket in ("", "a b", "x" * 401, 42):
        answer = client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "skip",
                                                        "user": USER, "ticket": ticket})
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_body"
    assert stored(app) == {}


def test_the_monitor_can_judge_confirmed_decisions_only(app: Any) -> None:
    """Invented decisions under many names would pause the task; counting confirmed decisions
    only, they do not, and confirmed rejections still do."""
    svc = app.extensions["wiki_suggest"]
    client = app.test_client()
    ids = issued_ids(client)
    assert len(ids) >= 8
    config = {**svc.config, "ALARMS": [{"id": "rejection-high", "rate": "rejection", "above": 0.3}],
              "ALARM_MIN_DECISIONS": 4, "ALARM_MIN_EDITORS": 2, "ALARM_WINDOW_DAYS": 1}
    invented = ids[:4]
    for n, sid in enumerate(invented):
        assert client.post("/api/v1/decisions", json={"suggestion_id": sid, "decision": "reject",
                                                      "reason": "too_general",
                                                      "user": f"Invented {n}"}).status_code == 201
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=1)
    assert [r.alarm for r in monitor.evaluate(svc.store, config, later) if r.triggered] == [
        "rejection-high"]
    strict = {**config, "ALARM_CONFIRMED_ONLY": True}
    (judged,) = monitor.evaluate(svc.store, strict, later)
    assert not judged.judged and judged.total == 0

    secret = app.secret_key
    for n, sid in enumerate(ids[4:8]):
        user = f"Confirmed {n % 2}"
        assert client.post("/api/v1/decisions", json={
            "suggestion_id": sid, "decision": "reject", "reason": "too_general", "user": user,
            "ticket": confirm.issue(secret, user)[0]}).get_json()["confirmed"] is True
    (judged,) = monitor.evaluate(svc.store, strict, later)
    assert judged.triggered and judged.total == 4 and judged.editors == 2
    assert monitor.run(svc.store, strict, later)[0].alarm == "rejection-high"
    assert "categories" in svc.store.pauses_for("fixture-ukwiki")


@pytest.mark.parametrize("confirmed_only", [False, True])
def test_the_tool_card_says_whose_decisions_the_alarms_count(sqlite_url: str, confirmed_only: bool
                                                             ) -> None:
    app = create_app(app_config(sqlite_url, ALARM_CONFIRMED_ONLY=confirmed_only))
    card = app.test_client().get("/toolcard.json").get_json()
    monitoring = card["monitoring"]
    assert monitoring["alarm_confirmed_only"] is confirmed_only
    counted = "confirmed with the tool's login only" if confirmed_only else "with the user names"
    assert monitoring["alarm_rules"]
    assert all(counted in rule["rule"] for rule in monitoring["alarm_rules"])
    assert all(("blocked on the wiki when the monitor runs" in rule["rule"]) is confirmed_only
               for rule in monitoring["alarm_rules"])
    limitation = [t for t in card["limitations"]["tool"] if "user name" in t]
    assert len(limitation) == 1
    assert ("invented decisions cannot pause a task" in limitation[0]) is confirmed_only
    assert ("blocked on the wiki when the monitor runs" in limitation[0]) is confirmed_only
