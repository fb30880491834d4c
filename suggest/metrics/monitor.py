"""The monitor job: judge the pre-registered alarms per task and wiki, and pause at once.

Alarms come from configuration (``ALARMS``), fixed before anyone looks at the numbers:

* ``{"rate": "rejection", "above": 0.30}`` triggers when the *lower* Wilson 95% bound of the
  rejection rate is above 30%: we are confident the true rate is too high, not merely unlucky;
* ``{"rate": "acceptance", "below": 0.40}`` triggers when the *upper* bound is below the floor.

A rate is judged only with at least ``ALARM_MIN_DECISIONS`` in its denominator (decisions, or for
the revert rate verified edits whose survival was checked), decided by at least
``ALARM_MIN_EDITORS`` editors among that denominator: user names as the clients report them
(in MediaWiki's form, see :func:`suggest.validation.normalize_user_name`), and every decision without
one counted as a single editor, so that one client (or anonymous ones) cannot pause a task by
itself. With ``ALARM_CONFIRMED_ONLY`` the rates and their editors count only the decisions whose
user name a ticket of the tool's login confirmed (:mod:`suggest.web.confirm`): then decisions
sent under invented names move no alarm, and the decisions of confirmed editors blocked on that
wiki now are left out (:mod:`suggest.metrics.blocks`, when the job is given a block check). The
window is the last ``ALARM_WINDOW_DAYS`` of decisions, and never reaches back before the latest
resume of that task on that wiki: a maintainer who resumes a task gives it a fresh start instead
of an instant re-pause.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select

from suggest.metrics.aggregates import RATES, rates, window_counts, window_filter
from suggest.metrics.blocks import BlockCheck
from suggest.store.events import EventStore, utcnow
from suggest.store.schema import audit_log, decisions, edits, suggestions

log = logging.getLogger(__name__)

ACTOR = "monitor"


@dataclass(frozen=True)
class AlarmResult:
    alarm: str
    wiki: str
    task: str
    rate: str
    value: float | None
    low: float | None
    high: float | None
    total: int
    judged: bool
    editors: int | None
    triggered: bool
    since: dt.datetime
    blocked: int = 0  # confirmed editors blocked on the wiki now, whose decisions were left out

    def describe(self) -> str:
        editors = "" if self.editors is None else f", {self.editors} editors"
        if self.blocked:
            editors += f", {self.blocked} blocked editor{'s' if self.blocked > 1 else ''} left out"
        if not self.judged or self.value is None or self.low is None or self.high is None:
            return f"{self.alarm}: not judged ({self.total} in window{editors})"
        return (f"{self.alarm}: {self.rate} rate {self.value:.0%} "
                f"(95% interval {self.low:.0%}-{self.high:.0%}, n={self.total}{editors}, "
                f"since {self.since:%Y-%m-%d %H:%M} UTC)")


def window_start(store: EventStore, wiki: str, task: str, now: dt.datetime, days: float) -> dt.datetime:
    start = now - dt.timedelta(days=days)
    with store.engine.connect() as conn:
        resumed = conn.execute(select(func.max(audit_log.c.at)).where(
            audit_log.c.action == "resume", audit_log.c.wiki == wiki, audit_log.c.task == task)
        ).scalar()
    if not resumed:
        return start
    # Times are stored to the second: decisions in the resume's own second may predate it, so the
    # fresh start begins with the next second.
    return max(start, resumed + dt.timedelta(seconds=1))


def window_editors(conn: Connection, wiki: str, task: str, since: dt.datetime, now: dt.datetime,
                   denominator: str = "decided", confirmed_only: bool = False,
                   excluded: Collection[str] = ()) -> int:
    """Editors behind a rate's denominator in the window: distinct user names, plus one for all
    the decisions without a name. ``decided``: every decision; ``survival_checked`` (the revert
    rate): the decisions whose verified edit was checked for survival, so that one editor's
    reverted edits cannot pause a task on the strength of others' skips."""
    where = window_filter(wiki, task, since, now, confirmed_only, excluded)
    joined = suggestions.join(decisions, decisions.c.suggestion_id == suggestions.c.id)
    if denominator == "survival_checked":
        joined = joined.join(edits, edits.c.suggestion_id == suggestions.c.id)
        where += [edits.c.status == "verified", edits.c.survival.in_(("kept", "reverted"))]
    unnamed = func.max(case((decisions.c.user_name.is_(None), 1), else_=0))
    named, any_unnamed = conn.execute(select(func.count(func.distinct(decisions.c.user_name)), unnamed)
                                      .select_from(joined).where(*where)).one()
    return int(named) + int(any_unnamed or 0)


def window_names(conn: Connection, wiki: str, task: str, since: dt.datetime, now: dt.datetime,
                 confirmed_only: bool = False) -> list[str]:
    """The user names that decided in the window."""
    return list(conn.execute(
        select(decisions.c.user_name).distinct()
        .select_from(suggestions.join(decisions, decisions.c.suggestion_id == suggestions.c.id))
        .where(*window_filter(wiki, task, since, now, confirmed_only),
               decisions.c.user_name.is_not(None))).scalars())


def judge(alarm: dict[str, Any], counts: dict[str, int], min_total: int, wiki: str, task: str,
          since: dt.datetime, editors: int | None = None, min_editors: int = 0,
          blocked: int = 0) -> AlarmResult:
    rate = rates(counts)[alarm["rate"]]
    judged = (rate.total >= min_total and rate.low is not None and rate.high is not None
              and (editors is None or editors >= min_editors))
    triggered = False
    if judged and rate.low is not None and rate.high is not None:
        if "above" in alarm:
            triggered = rate.low > float(alarm["above"])
        if "below" in alarm:
            triggered = triggered or rate.high < float(alarm["below"])
    return AlarmResult(alarm=str(alarm["id"]), wiki=wiki, task=task, rate=alarm["rate"],
                       value=rate.value, low=rate.low, high=rate.high, total=rate.total,
                       judged=judged, triggered=triggered, since=since, editors=editors,
                       blocked=blocked)


def check_alarms(alarms: Any) -> None:
    """Refuse a malformed ALARMS setting loudly: a silently ignored alarm protects nobody."""
    if not isinstance(alarms, list):
        raise ValueError("ALARMS must be a list")
    for alarm in alarms:
        if not isinstance(alarm, dict) or not alarm.get("id") or alarm.get("rate") not in RATES:
            raise ValueError(f"alarm {alarm!r}: needs an id and a rate among {sorted(RATES)}")
        limits = [alarm[k] for k in ("above", "below") if k in alarm]
        if not limits or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in limits):
            raise ValueError(f"alarm {alarm['id']!r}: give 'above' or 'below' as a share in [0, 1]")


def evaluate(store: EventStore, config: dict[str, Any], now: dt.datetime | None = None,
             blocks: BlockCheck | None = None) -> list[AlarmResult]:
    """Every alarm for every task and wiki with decisions in the window; pauses nothing. With
    ``ALARM_CONFIRMED_ONLY`` and ``blocks``, the decisions of editors blocked now are left out."""
    check_alarms(config["ALARMS"])
    now = now or utcnow()
    days = float(config["ALARM_WINDOW_DAYS"])
    with store.engine.connect() as conn:
        pairs = conn.execute(
            select(suggestions.c.wiki, suggestions.c.task)
            .select_from(suggestions.join(decisions, decisions.c.suggestion_id == suggestions.c.id))
            .where(decisions.c.created_at >= now - dt.timedelta(days=days))
            .group_by(suggestions.c.wiki, suggestions.c.task)).all()
    results = []
    confirmed = bool(config.get("ALARM_CONFIRMED_ONLY"))
    for wiki, task in pairs:
        since = window_start(store, wiki, task, now, days)
        denominators = {RATES[alarm["rate"]][1] for alarm in config["ALARMS"]}
        blocked: set[str] = set()
        if confirmed and blocks is not None:
            with store.engine.connect() as conn:
                names = window_names(conn, wiki, task, since, now, True)
            blocked = blocks.blocked(wiki, names) or set()  # no connection held while the wiki answers
        with store.engine.connect() as conn:
            counts = window_counts(conn, wiki, task, since, now, confirmed, blocked)
            editors = {d: window_editors(conn, wiki, task, since, now, d, confirmed, blocked)
                       for d in sorted(denominators)}
        for alarm in config["ALARMS"]:
            results.append(judge(alarm, counts, int(config["ALARM_MIN_DECISIONS"]), wiki, task, since,
                                 editors[RATES[alarm["rate"]][1]], int(config["ALARM_MIN_EDITORS"]),
                                 len(blocked)))
    return results


def run(store: EventStore, config: dict[str, Any], now: dt.datetime | None = None,
        blocks: BlockCheck | None = None) -> list[AlarmResult]:
    """Evaluate, and pause each task on each wiki where an alarm triggered (with an audit entry).
    Returns the triggered alarms; a task already paused is left as it is."""
    triggered = [r for r in evaluate(store, config, now, blocks) if r.triggered]
    paused: set[tuple[str, str]] = set()
    for result in triggered:
        key = (result.wiki, result.task)
        if key in paused or result.task in store.pauses_for(result.wiki):
            continue
        store.pause(result.wiki, result.task, f"Automatic pause. {result.describe()}", ACTOR)
        paused.add(key)
        log.warning("paused %s on %s: %s", result.task, result.wiki, result.describe())
    return triggered
