# SPDX-License-Identifier: GPL-3.0-or-later
"""Monitoring: simulated editors' decisions cross a pre-registered alarm, the monitor pauses the
task on that wiki, the suggestions API stops issuing, resuming works, and the audit log shows it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from suggest.metrics import monitor
from suggest.store.events import utcnow
from suggest.store.schema import decisions, suggestions
from tests.conftest import app_config

WIKI, TASK = "fixture-viwiki", "categories"  # the smallest fixture dump: quickest to load
TITLES = ("A", "B", "C", "D", "E", "F")
ALARMS = [{"id": "rejection-high", "rate": "rejection", "above": 0.30},
          {"id": "revert-high", "rate": "revert", "above": 0.20},
          {"id": "acceptance-low", "rate": "acceptance", "below": 0.40}]


def issued_count(app: Any) -> int:
    with app.extensions["wiki_suggest"].store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(suggestions)).scalar_one())


def ask(client: Any, title: str) -> dict[str, Any]:
    response = client.get("/api/v1/suggestions", query_string={"wiki": WIKI, "title": title, "task": TASK})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def suggestion_ids(client: Any, needed: int) -> list[str]:
    ids: list[str] = []
    while len(ids) < needed:
        for title in TITLES:
            ids += [s["id"] for s in ask(client, title)["suggestions"]]
    return ids[:needed]


def run_monitor(app: Any) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=["monitor"])
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.output)
    return found


def test_a_stream_of_rejections_pauses_the_task_and_resume_restores_it(sqlite_url: str) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, ALARMS=ALARMS, ALARM_MIN_DECISIONS=50))
    client = app.test_client()
    ids = suggestion_ids(client, 70)
    # 3 of every 5 editors reject (60%), 2 accept: far above the 30% rejection alarm.
    for n, sid in enumerate(ids):
        reject = n % 5 < 3
        body = {"suggestion_id": sid, "decision": "reject" if reject else "accept",
                "user": f"Editor {n % 7}"}
        if reject:
            body["reason"] = ("wrong_topic", "too_general")[n % 2]
        assert client.post("/api/v1/decisions", json=body).status_code == 201
        if n + 1 == 40:
            # 24 rejections of 40: too few decisions to judge, whatever the rate.
            assert run_monitor(app)["triggered"] == []
            assert ask(client, TITLES[0])["pause"] is None
        if n + 1 == 60:
            triggered = run_monitor(app)["triggered"]
            assert len(triggered) == 1 and "rejection-high" in triggered[0]
            break

    before = issued_count(app)
    paused = ask(client, TITLES[0])
    assert paused["suggestions"] == [] and paused["meta"]["paused"] == {TASK: True}
    assert "rejection-high" in paused["pause"]["reason"] and "n=60" in paused["pause"]["reason"]
    assert issued_count(app) == before  # nothing issued while paused
    # Deciding on a suggestion issued before the pause is still recorded.
    assert client.post("/api/v1/decisions", json={"suggestion_id": ids[60], "decision": "skip"}
                       ).status_code == 201
    assert run_monitor(app)["triggered"]  # still alarming, but not paused twice
    store = app.extensions["wiki_suggest"].store
    assert [e["action"] for e in store.audit_entries()] == ["pause"]

    resumed = app.test_cli_runner().invoke(
        args=["resume", WIKI, TASK, "--reason", "Rejections were a bad dump; model fixed"])
    assert resumed.exit_code == 0, resumed.output
    again = ask(client, TITLES[0])
    assert again["pause"] is None and again["suggestions"]
    # The window starts at the resume: the old rejections do not pause it again at once.
    assert run_monitor(app)["triggered"] == []
    assert ask(client, TITLES[1])["pause"] is None

    audit = store.audit_entries()
    assert [(e["action"], e["actor"]) for e in audit] == [("resume", "operator"), ("pause", "monitor")]
    assert audit[0]["reason"] == "Rejections were a bad dump; model fixed"
    public = client.get("/api/v1/stats").get_json()
    assert [e["action"] for e in public["audit_log"]] == ["resume", "pause"]
    assert public["pauses"] == []
    page = client.get("/stats").get_data(as_text=True)
    assert "Rejections were a bad dump; model fixed" in page and "rejection-high" in page


def counts(**values: int) -> dict[str, int]:
    base = {"decided": 0, "accepted": 0, "rejected": 0, "skipped": 0, "kept": 0, "reverted": 0}
    return {**base, **values}


SINCE = dt.datetime(2026, 1, 1)


@pytest.mark.parametrize(("alarm", "values", "triggered"), [
    # 36% rejected of 50: the point estimate is above 30%, the Wilson lower bound (24%) is not.
    (ALARMS[0], counts(decided=50, rejected=18, accepted=32), False),
    (ALARMS[0], counts(decided=50, rejected=25, accepted=25), True),   # low bound 36.6%
    (ALARMS[0], counts(decided=49, rejected=49), False),               # too few to judge
    (ALARMS[1], counts(decided=200, kept=20, reverted=40), True),      # 67% reverted, low 54%
    (ALARMS[1], counts(decided=200, kept=10, reverted=30), False),     # only 40 checked edits
    (ALARMS[2], counts(decided=60, accepted=20, rejected=40), False),  # 33%, upper bound 46%
    (ALARMS[2], counts(decided=100, accepted=25, rejected=75), True),  # 25%, upper bound 34%
])
def test_alarms_are_judged_on_the_wilson_bound(alarm: dict[str, Any], values: dict[str, int],
                                               triggered: bool) -> None:
    result = monitor.judge(alarm, values, 50, WIKI, TASK, SINCE)
    assert result.triggered is triggered, result.describe()


def test_revert_alarm_at_half_is_triggered_by_the_bound() -> None:
    # 30 of 60 checked edits reverted: 50%, Wilson 95% from 37.7% -> above the 20% alarm.
    result = monitor.judge(ALARMS[1], counts(decided=200, kept=30, reverted=30), 50, WIKI, TASK, SINCE)
    assert result.low is not None and result.low > 0.3 and result.triggered


def test_monitor_leaves_a_manually_paused_task_alone(sqlite_url: str) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url))
    store = app.extensions["wiki_suggest"].store
    store.pause(WIKI, TASK, "checking the model", "Maintainer")
    assert monitor.run(store, app.config, now=utcnow()) == []
    assert store.pauses_for(WIKI)[TASK]["paused_by"] == "Maintainer"


def test_jobs_file_schedules_the_three_commands_and_each_runs(sqlite_url: str) -> None:
    from pathlib import Path

    import yaml

    from suggest.web import create_app

    jobs = yaml.safe_load((Path(__file__).parents[1] / "toolforge" / "jobs.yaml").read_text())
    schedules = {job["name"]: (job["command"], job["schedule"]) for job in jobs}
    assert schedules == {"verify": ("flask --app app verify", "@hourly"),
                         "monitor": ("flask --app app monitor", "@hourly"),
                         "purge": ("flask --app app purge", "@daily")}
    runner = create_app(app_config(sqlite_url)).test_cli_runner()
    for name, (command, _) in schedules.items():
        result = runner.invoke(args=command.split()[3:])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["job"] == name


def test_jobs_say_in_one_line_that_the_database_is_away() -> None:
    """The database unreachable (nothing listens on the port): every job and control command
    prints one JSON line with a stable error and exits with 1 - no traceback, no database host."""
    from suggest.web import create_app

    runner = create_app(app_config("mysql+pymysql://root@127.0.0.1:9/nothing")).test_cli_runner()
    for args in (["verify"], ["monitor"], ["purge"], ["pause", "enwiki", "categories", "--reason", "r"],
                 ["resume", "enwiki", "categories", "--reason", "r"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        line = json.loads(result.output)
        assert (line["job"], line["error"]) == (args[0], "database_unavailable")
        assert "Traceback" not in result.output and "127.0.0.1" not in result.output


@pytest.mark.parametrize("alarms", [
    [{"id": "x", "rate": "happiness", "above": 0.3}],
    [{"id": "x", "rate": "rejection"}],
    [{"id": "x", "rate": "rejection", "above": 30}],
    {"id": "x"},
])
def test_malformed_alarms_stop_the_monitor_loudly(sqlite_url: str, alarms: Any) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, ALARMS=alarms))
    result = app.test_cli_runner().invoke(args=["monitor"])
    assert result.exit_code != 0 and "configuration:" in result.output
    with pytest.raises(ValueError):
        monitor.check_alarms(alarms)
    monitor.check_alarms(ALARMS)  # the defaults' shape is fine


@pytest.mark.parametrize(("users", "editors"), [
    ([None], 1), (["Mallory"], 1), ([None, "A", "B", "C"], 4),
    (["Mallory", "mallory", "Mallory_", " Mallory", "Mallory "], 1),  # one name, spelled five ways
    (["ßob", "SSob", "ﬁxer", "FIxer"], 4),  # four accounts on the wiki (Python's upper() joins them)
    (["ნიკა", "Ნიკა", "ǅemal", "Ǆemal"], 4),  # four on Wikimedia's wikis (Mkhedruli, ǅ stay)
])
def test_fewer_editors_than_the_minimum_cannot_pause_a_task(sqlite_url: str, users: list[str | None],
                                                            editors: int) -> None:
    """Sixty rejections from one client, named or not (or from four editors, the unnamed ones
    counting as one): the rate is not judged, nothing is paused."""
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, ALARMS=ALARMS, ALARM_MIN_DECISIONS=50, ALARM_MIN_EDITORS=5))
    client = app.test_client()
    for n, sid in enumerate(suggestion_ids(client, 60)):
        body = {"suggestion_id": sid, "decision": "reject", "reason": "wrong_topic"}
        if users[n % len(users)] is not None:
            body["user"] = users[n % len(users)]
        assert client.post("/api/v1/decisions", json=body).status_code == 201
    found = run_monitor(app)
    assert found["triggered"] == []
    assert ask(client, TITLES[0])["pause"] is None
    [rejection] = [r for r in monitor.evaluate(app.extensions["wiki_suggest"].store, app.config)
                   if r.alarm == "rejection-high"]
    assert (rejection.judged, rejection.total, rejection.editors) == (False, 60, editors)
    assert rejection.low is not None and rejection.low > 0.3  # the rate alone would have paused it
    assert rejection.describe() == f"rejection-high: not judged (60 in window, {editors} editors)"


def test_the_revert_alarm_counts_the_editors_of_the_checked_edits(sqlite_url: str) -> None:
    """One editor's fifty accepted, saved and reverted edits cannot pause a task because four
    others skipped a suggestion each: the revert rate's editors are those of its checked edits."""
    from sqlalchemy import update

    from suggest.store.schema import edits
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, ALARMS=ALARMS, ALARM_MIN_DECISIONS=50, ALARM_MIN_EDITORS=5))
    client = app.test_client()
    store = app.extensions["wiki_suggest"].store
    ids = suggestion_ids(client, 54)
    for n, sid in enumerate(ids):
        user = "Solo" if n < 50 else f"Other {n}"
        body = {"suggestion_id": sid, "decision": "accept" if n < 50 else "skip", "user": user}
        assert client.post("/api/v1/decisions", json=body).status_code == 201
    for n, sid in enumerate(ids[:50]):  # (one computed suggestion may be issued under several ids)
        assert client.post("/api/v1/edits", json={"suggestion_ids": [sid], "revid": 1000 + n,
                                                  "user": "Solo"}).status_code == 201
    with store.engine.begin() as conn:  # as the verify job leaves them: verified, then reverted
        conn.execute(update(edits).values(status="verified", survival="reverted",
                                          survival_reason="removed"))

    def revert() -> Any:
        [found] = [r for r in monitor.evaluate(store, app.config) if r.alarm == "revert-high"]
        return found

    result = revert()
    assert (result.total, result.editors, result.judged, result.triggered) == (50, 1, False, False)
    assert run_monitor(app)["triggered"] == [] and ask(client, TITLES[0])["pause"] is None
    # The same reverts from five editors are judged, and pause the task.
    with store.engine.begin() as conn:
        for n, sid in enumerate(ids[:50]):
            conn.execute(update(edits).where(edits.c.suggestion_id == sid).values(user_name=f"E{n % 5}"))
            conn.execute(update(decisions).where(decisions.c.suggestion_id == sid)
                         .values(user_name=f"E{n % 5}"))
    result = revert()
    assert (result.editors, result.judged, result.triggered) == (5, True, True)


def test_the_window_ends_at_now(sqlite_url: str) -> None:
    """Judged as of an earlier moment, the window holds only the decisions made by then."""
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, ALARMS=ALARMS, ALARM_MIN_DECISIONS=1, ALARM_MIN_EDITORS=1))
    client = app.test_client()
    for sid in suggestion_ids(client, 3):
        body = {"suggestion_id": sid, "decision": "reject", "reason": "wrong_topic", "user": "A"}
        assert client.post("/api/v1/decisions", json=body).status_code == 201
    store = app.extensions["wiki_suggest"].store
    now = [r for r in monitor.evaluate(store, app.config) if r.alarm == "rejection-high"]
    earlier = [r for r in monitor.evaluate(store, app.config, now=utcnow() - dt.timedelta(minutes=5))
               if r.alarm == "rejection-high"]
    assert [r.total for r in now] == [3]
    assert [r.total for r in earlier] in ([], [0])
