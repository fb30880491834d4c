"""Edit-acceptance metrics, counted by the database (GROUP BY), never by looping over rows.

One row per task × wiki × model (backend and model checksum) × week; the week is the Monday (UTC)
of the week the suggestion was shown, so a decision counts in the week its suggestion was shown.

Definitions (the /stats page shows them):

* shown: suggestions issued (the per-day counts of the ``shown`` table); decided: accepted +
  rejected + skipped.
* acceptance rate = accepted / decided; rejection rate = rejected / decided (the Growth team's
  denominators: skips are decisions too).
* verified edit-acceptance rate = verified / decided: decisions that ended in a saved revision the
  verification job confirmed (right page, right user, the diff adds the suggested wikitext).
* revert rate = reverted / (reverted + kept), over verified edits whose survival was checked.
* accepted, not saved: accepted, and no revision was linked within NOT_SAVED_AFTER_HOURS.
* over-acceptance: among users with at least 5 decisions in the window, the share who accepted
  every suggestion they decided on (a sign of rubber-stamping).
* reviewer precision: per computed suggestion (content id) its majority label among its
  reviewers' labels (one per reviewer); of the suggestions whose majority is correct or
  incorrect, the share correct. A tie for the most, or an "unsure" majority, leaves a suggestion
  out. The review page and the tool card show the same figure (:func:`review_precision`).

Every rate comes with a Wilson score 95% interval, which stays inside [0, 1] and is honest for
small counts, unlike the normal approximation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Select,
    Table,
    and_,
    case,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from suggest.config import OVER_ACCEPTANCE_DAYS
from suggest.store.schema import decisions, edits, review_labels, shown, suggestions

Z95 = 1.959963984540054
OVER_ACCEPTANCE_MIN_DECISIONS = 5
GROUP_KEYS = ("task", "wiki", "backend", "model_checksum", "week")
COUNTS = ("shown", "decided", "accepted", "rejected", "skipped", "saved", "verified",
          "not_verified", "kept", "reverted", "not_saved", "confirmed")
RATES = {  # rate -> (numerator, denominator)
    "acceptance": ("accepted", "decided"),
    "rejection": ("rejected", "decided"),
    "skip": ("skipped", "decided"),
    "verified_acceptance": ("verified", "decided"),
    "revert": ("reverted", "survival_checked"),
}


# -- statistics ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    successes: int
    total: int
    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"successes": self.successes, "total": self.total, "value": self.value,
                "low": self.low, "high": self.high}


def wilson(successes: int, total: int, z: float = Z95) -> Rate:
    """Wilson score interval for a binomial proportion; no values when there is no data."""
    if total <= 0:
        return Rate(successes, total, None, None, None)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Rate(successes, total, round(p, 4), round(max(0.0, centre - half), 4),
                round(min(1.0, centre + half), 4))


def rates(counts: dict[str, int]) -> dict[str, Rate]:
    enriched = {**counts, "survival_checked": counts.get("kept", 0) + counts.get("reverted", 0)}
    return {name: wilson(int(enriched.get(num, 0)), int(enriched.get(den, 0)))
            for name, (num, den) in RATES.items()}


# -- SQL helpers ---------------------------------------------------------------------------------
class week_start(FunctionElement[dt.date]):  # noqa: N801 - reads as the SQL function it is
    """The Monday of a timestamp's ISO week, computed in the database (SQLite and MariaDB)."""

    type = Date()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"date({arg}, '-' || ((CAST(strftime('%w', {arg}) AS INTEGER) + 6) % 7) || ' days')"


@compiles(week_start, "mysql")
@compiles(week_start, "mariadb")
def _week_start_mysql(element: week_start, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"DATE(DATE_SUB({arg}, INTERVAL WEEKDAY({arg}) DAY))"


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _as_date_string(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@dataclass
class Filters:
    wiki: str | None = None
    task: str | None = None
    backend: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def apply(self, query: Any) -> Any:
        return self._apply(query, suggestions, suggestions.c.created_at, self.since, self.until)

    def apply_shown(self, query: Any) -> Any:
        """The same filters on the per-day ``shown`` counts: a day counts when it starts in the
        period (periods on the stats page are whole days; a period of N weeks back from now
        leaves out the day it starts in, whose decisions are partly outside)."""
        def first_day_from(at: dt.datetime | None) -> dt.datetime | None:
            if at is None:
                return None
            midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
            return midnight if midnight == at else midnight + dt.timedelta(days=1)
        return self._apply(query, shown, shown.c.day, first_day_from(self.since),
                           first_day_from(self.until))

    def _apply(self, query: Any, table: Table, time: Any, since: dt.datetime | None,
               until: dt.datetime | None) -> Any:
        for column, value in (("wiki", self.wiki), ("task", self.task), ("backend", self.backend)):
            if value:
                query = query.where(table.c[column] == value)
        if since:
            query = query.where(time >= since)
        if until:
            query = query.where(time < until)
        return query


def _joined() -> Any:
    return (suggestions
            .outerjoin(decisions, decisions.c.suggestion_id == suggestions.c.id)
            .outerjoin(edits, edits.c.suggestion_id == suggestions.c.id))


def _count_columns(now: dt.datetime, not_saved_after: dt.timedelta) -> list[Any]:
    decision = decisions.c.decision
    return [
        func.count(suggestions.c.id).label("shown"),
        func.count(decisions.c.id).label("decided"),
        _count_if(decision == "accept").label("accepted"),
        _count_if(decision == "reject").label("rejected"),
        _count_if(decision == "skip").label("skipped"),
        func.count(edits.c.suggestion_id).label("saved"),
        _count_if(edits.c.status == "verified").label("verified"),
        _count_if(edits.c.status == "not_verified").label("not_verified"),
        _count_if(and_(edits.c.status == "verified", edits.c.survival == "kept")).label("kept"),
        _count_if(and_(edits.c.status == "verified", edits.c.survival == "reverted")).label("reverted"),
        _count_if(and_(decision == "accept", edits.c.suggestion_id.is_(None),
                       decisions.c.created_at < now - not_saved_after)).label("not_saved"),
        _count_if(decisions.c.confirmed.is_(True)).label("confirmed"),
    ]


# -- queries -------------------------------------------------------------------------------------
@dataclass
class Report:
    """Everything /stats shows: weekly rows, totals per task and wiki, reasons, over-acceptance."""

    weeks: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def weekly(conn: Connection, filters: Filters, now: dt.datetime,
           not_saved_after: dt.timedelta = dt.timedelta(hours=24),
           by_model: bool = True) -> list[dict[str, Any]]:
    """Counts, reasons and rates per task × wiki × week, and per model (backend and model
    checksum) unless ``by_model`` is False."""
    week = week_start(suggestions.c.created_at)
    keys: list[Any] = [suggestions.c.task, suggestions.c.wiki]
    if by_model:
        keys += [suggestions.c.backend, suggestions.c.model_checksum]
    query = filters.apply(select(*keys, week.label("week"), *_count_columns(now, not_saved_after))
                          .select_from(_joined()))
    query = query.group_by(*keys, week).order_by(*keys, week)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["week"] = _as_date_string(row["week"])
    names = [k.name for k in keys] + ["week"]
    rows = _with_shown(rows, names, _shown(conn, filters, names))
    reasons = _reasons(conn, filters, by_week=True, by_model=by_model)
    for row in rows:
        for name in COUNTS:
            row[name] = int(row[name])
        key = tuple(row[k] for k in GROUP_KEYS if k in row)
        row["rejected_by_reason"] = reasons.get(key, {})
        row["rates"] = {n: r.as_dict() for n, r in rates(row).items()}
    return rows


def totals(conn: Connection, filters: Filters, now: dt.datetime,
           not_saved_after: dt.timedelta = dt.timedelta(hours=24),
           over_acceptance_window: dt.timedelta = dt.timedelta(days=OVER_ACCEPTANCE_DAYS)
           ) -> list[dict[str, Any]]:
    """Counts and rates per task × wiki over the filtered period (all models together)."""
    keys = [suggestions.c.task, suggestions.c.wiki]
    query = filters.apply(select(*keys, *_count_columns(now, not_saved_after)).select_from(_joined()))
    rows = [dict(r._mapping) for r in conn.execute(query.group_by(*keys).order_by(*keys))]
    rows = _with_shown(rows, ["task", "wiki"], _shown(conn, filters, ["task", "wiki"]))
    reasons = _reasons(conn, filters, by_week=False)
    over = over_acceptance(conn, filters, since=now - over_acceptance_window)
    for row in rows:
        for name in COUNTS:
            row[name] = int(row[name])
        row["rejected_by_reason"] = reasons.get((row["task"], row["wiki"]), {})
        row["rates"] = {n: r.as_dict() for n, r in rates(row).items()}
        users, all_accepted = over.get((row["task"], row["wiki"]), (0, 0))
        row["over_acceptance"] = {**wilson(all_accepted, users).as_dict(),
                                  "min_decisions": OVER_ACCEPTANCE_MIN_DECISIONS,
                                  "window_days": over_acceptance_window.days}
    return rows


def _shown(conn: Connection, filters: Filters, names: list[str]) -> dict[tuple[Any, ...], int]:
    """Suggestions shown, summed from the per-day counts, by ``names`` (group keys)."""
    columns: list[Any] = [week_start(shown.c.day).label("week") if n == "week" else shown.c[n]
                          for n in names]
    query: Select[Any] = select(*columns, func.sum(shown.c.shown).label("n"))
    query = filters.apply_shown(query).group_by(*columns)
    found = {}
    for row in conn.execute(query):
        values = list(row)
        if "week" in names:
            at = names.index("week")
            values[at] = _as_date_string(values[at])
        found[tuple(values[:-1])] = int(values[-1] or 0)
    return found


def _with_shown(rows: list[dict[str, Any]], names: list[str],
                counts: dict[tuple[Any, ...], int]) -> list[dict[str, Any]]:
    """Rows with their ``shown`` from the counts, plus rows for groups that were only shown."""
    by_key = {tuple(row[n] for n in names): row for row in rows}
    for key in by_key.keys() - counts.keys():
        by_key[key]["shown"] = 0
    for key, n in counts.items():
        row = by_key.setdefault(key, {**dict(zip(names, key, strict=True)),
                                      **{c: 0 for c in COUNTS}})
        row["shown"] = n
    return [by_key[k] for k in sorted(by_key, key=lambda k: tuple(str(v) for v in k))]


def _reasons(conn: Connection, filters: Filters, by_week: bool,
             by_model: bool = False) -> dict[tuple[Any, ...], dict[str, int]]:
    keys: list[Any] = [suggestions.c.task, suggestions.c.wiki]
    if by_model:
        keys += [suggestions.c.backend, suggestions.c.model_checksum]
    if by_week:
        keys.append(week_start(suggestions.c.created_at).label("week"))
    query = (select(*keys, decisions.c.reason, func.count().label("n"))
             .select_from(suggestions.join(decisions, decisions.c.suggestion_id == suggestions.c.id))
             .where(decisions.c.decision == "reject"))
    query = filters.apply(query).group_by(*keys, decisions.c.reason)
    found: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in conn.execute(query):
        values = list(row)
        key = tuple(values[:-2])
        if by_week:
            key = (*key[:-1], _as_date_string(key[-1]))
        found.setdefault(key, {})[str(values[-2] or "unknown")] = int(values[-1])
    return found


def over_acceptance(conn: Connection, filters: Filters,
                    since: dt.datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """(users with >= 5 decisions, of whom accepted all) per task and wiki, decisions since ``since``."""
    per_user = (select(suggestions.c.task, suggestions.c.wiki, decisions.c.user_name,
                       case((func.sum(case((decisions.c.decision == "accept", 1), else_=0))
                             == func.count(), 1), else_=0).label("all_accepted"))
                .select_from(suggestions.join(decisions, decisions.c.suggestion_id == suggestions.c.id))
                .where(decisions.c.user_name.is_not(None), decisions.c.created_at >= since))
    per_user = (filters.apply(per_user)
                .group_by(suggestions.c.task, suggestions.c.wiki, decisions.c.user_name)
                .having(func.count() >= OVER_ACCEPTANCE_MIN_DECISIONS)
                .subquery())
    query = (select(per_user.c.task, per_user.c.wiki, func.count().label("users"),
                    func.coalesce(func.sum(per_user.c.all_accepted), 0).label("all_accepted"))
             .group_by(per_user.c.task, per_user.c.wiki))
    return {(r.task, r.wiki): (int(r.users), int(r.all_accepted)) for r in conn.execute(query)}


REVIEW_LABELS = ("correct", "incorrect", "unsure")


def majority_label(counts: Mapping[str, int]) -> str:
    """A computed suggestion's majority label: the label most of its reviewers gave. A tie for
    the most between different labels is no majority and counts as "unsure"."""
    ranked = Counter({k: v for k, v in counts.items() if v > 0}).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return "unsure"
    return ranked[0][0]


def reviewer_precision(items: Iterable[Mapping[str, int]]) -> Rate:
    """Reviewer precision over computed suggestions (``items``: each one's label counts): of the
    suggestions whose majority label is correct or incorrect, the share that is correct, with
    its Wilson 95% interval over those suggestions (not over labels). Suggestions whose majority
    is "unsure", or without a majority (a tie), are left out."""
    majority = Counter(majority_label(counts) for counts in items)
    return wilson(majority["correct"], majority["correct"] + majority["incorrect"])


def review_label_counts(conn: Connection, filters: Filters) -> dict[tuple[str, str], dict[str, Counter[str]]]:
    """(task, wiki) -> computed suggestion (content id) -> its reviewers' label counts, counted
    in SQL. Each reviewer counts once per computed suggestion: with their latest label, also
    where labels were stored under several issued ids of it (a suggestion stored before ids were
    signed is its own computed suggestion). Absent ``review_labels`` table -> empty."""
    if not inspect(conn).has_table(review_labels.name):
        return {}
    item = func.coalesce(suggestions.c.content_id, suggestions.c.id)
    joined = review_labels.join(suggestions, suggestions.c.id == review_labels.c.suggestion_id)
    latest = (select(func.max(review_labels.c.id)).select_from(joined)
              .group_by(review_labels.c.reviewer, item))
    query = (select(suggestions.c.task, suggestions.c.wiki, item.label("item"), review_labels.c.label,
                    func.count().label("n"))
             .select_from(joined)
             .where(review_labels.c.id.in_(latest), review_labels.c.label.in_(REVIEW_LABELS)))
    query = filters.apply(query).group_by(suggestions.c.task, suggestions.c.wiki, item,
                                          review_labels.c.label)
    found: dict[tuple[str, str], dict[str, Counter[str]]] = {}
    for row in conn.execute(query):
        items = found.setdefault((row.task, row.wiki), {})
        items.setdefault(str(row.item), Counter())[str(row.label)] += int(row.n)
    return found


def review_precision(conn: Connection, filters: Filters) -> dict[tuple[str, str], dict[str, Any]]:
    """Reviewer precision per task and wiki (:func:`reviewer_precision` over
    :func:`review_label_counts`): the same figure the review page and the tool card show.
    ``successes`` and ``total`` count computed suggestions, not labels."""
    return {key: reviewer_precision(items.values()).as_dict()
            for key, items in review_label_counts(conn, filters).items()}


def models(conn: Connection) -> list[str]:
    """Backends that issued suggestions, for the filter menu."""
    found = set(conn.execute(select(shown.c.backend).distinct()).scalars())
    found |= set(conn.execute(select(suggestions.c.backend).distinct()).scalars())
    return sorted(str(b) for b in found)


def window_filter(wiki: str, task: str, since: dt.datetime, now: dt.datetime,
                  confirmed_only: bool = False, excluded: Collection[str] = ()) -> list[Any]:
    """The monitor's window: one task on one wiki, decisions made since ``since``;
    ``confirmed_only``: only those whose user name a ticket confirmed; ``excluded``: not those of
    these user names (blocked editors, :mod:`suggest.metrics.blocks`)."""
    where = [suggestions.c.wiki == wiki, suggestions.c.task == task,
             decisions.c.created_at >= since, decisions.c.created_at <= now]
    if confirmed_only:
        where.append(decisions.c.confirmed.is_(True))
    if excluded:
        where.append(or_(decisions.c.user_name.is_(None), decisions.c.user_name.not_in(sorted(excluded))))
    return where


def window_counts(conn: Connection, wiki: str, task: str, since: dt.datetime,
                  now: dt.datetime, confirmed_only: bool = False,
                  excluded: Collection[str] = ()) -> dict[str, int]:
    """Counts over the monitor's window (:func:`window_filter`).

    Unlike the weekly rows this is keyed on decision time: the monitor judges recent behaviour."""
    where = window_filter(wiki, task, since, now, confirmed_only, excluded)
    query = select(*_count_columns(now, dt.timedelta(hours=24))).select_from(_joined()).where(*where)
    row = conn.execute(query).one()
    return {name: int(value) for name, value in row._mapping.items()}
