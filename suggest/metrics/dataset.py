"""The published datasets, for researchers: the decisions (one record per decision) and the
reviewers' labels (one record per suggestion reviewers labelled).

Decisions (/api/v1/dataset/decisions, /dataset/decisions.csv):

What was suggested, on which page, by which task version and model, and what the editor decided
(with the rejection reason), plus what became of an accepted suggestion's edit. A record carries no
user name, no comment and no time of day: only the day (UTC). Decisions appear the day after
they are made, so a record cannot be matched, as it appears, with who was editing a page just then.
Records come in the order they were stored, a page at a time: ``after`` is the last id of the page
before.

Reviews (/api/v1/dataset/reviews, /dataset/reviews.csv): what was suggested and how many reviewers
labelled it correct, incorrect or unsure, counted as reviewer precision counts them (each reviewer
once, with their latest label), and its majority label; never who reviewed or when. Records come
in the order of the suggestions' ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, select

from suggest.metrics import aggregates
from suggest.store.events import utcnow
from suggest.store.schema import decisions, edits, suggestions

LICENCE = "CC BY-SA 4.0"
# What the tool card and the data page say of it.
PUBLISHED = ("one record per decision, published the day after it was made (UTC): the wiki, task "
             "and model, the page and what was suggested, the decision and its rejection reason, "
             "whether the account was confirmed, and what became of the saved edit; never the user "
             "name, the comment or the time of day. A record can still often be matched with "
             "an edit saved with the tool on the same page that day, which the wiki shows with "
             "its author. A wiki's community can withhold its wiki's records (\"publish_decisions\": "
             "false on MediaWiki:Wiki-suggest.json); they are also left out while that page cannot "
             "be read and no valid one is known, and each page of records names the wikis left "
             "out. Licence " + LICENCE + ".")
ATTRIBUTION = ("wiki-suggest's editors' decisions; page titles and suggested categories and "
               "references come from the Wikipedia named in each record (CC BY-SA)")
# Every field of a record, in order, with what it means (the data page and the JSON show these).
FIELDS: dict[str, str] = {
    "id": "Record id: increases in the order decisions were stored (the 'after' of the next page)",
    "day": "Day the decision was made (UTC, YYYY-MM-DD); no time of day is published",
    "wiki": "Wiki id (database name)",
    "task": "Task id",
    "task_version": "Task version that made the suggestion",
    "backend": "Model backend id",
    "page_title": "Title of the page the suggestion was for",
    "rank": "Position in the list shown (0 = first)",
    "label": "What the editor was shown (a category, or a reference)",
    "score": "Model score in [0, 1]",
    "decision": "accept, reject or skip",
    "reason": "Rejection reason id (the task's list, /api/v1/tasks); empty unless rejected",
    "confirmed": "Whether the editor's account was confirmed with the tool's login",
    "edit": "For an accepted suggestion whose saved edit was reported: pending, verified, "
            "not_verified, unverifiable or failed (the verification job); else empty",
    "survival": "For a verified edit checked after the delay: kept or reverted; else empty",
}

# What a suggestion was, in a record of either dataset.
SUGGESTED = ("wiki", "task", "task_version", "backend", "page_title", "rank", "label", "score")
REVIEWED = tuple(name for name in SUGGESTED if name != "rank")  # a review is of no position
REVIEW_FIELDS: dict[str, str] = {
    "id": "The computed suggestion's id (content id); records come in its order (the 'after' of "
          "the next page)",
    **{name: FIELDS[name] for name in REVIEWED},
    **{label: f"Reviewers whose latest label on it is {label}" for label in aggregates.REVIEW_LABELS},
    "majority": "The label most of its reviewers gave (unsure also for a tie), as reviewer "
                "precision counts it",
}
PUBLISHED_REVIEWS = ("one record per suggestion reviewers labelled: what was suggested, and how "
                     "many reviewers labelled it correct, incorrect or unsure, with the majority; "
                     "never who reviewed or when. Licence " + LICENCE + ".")


@dataclass(frozen=True)
class Selection:
    """Which records, asked for at ``asked_at``: of a wiki and task (None: all), decided on days
    ``since``..``until`` (inclusive, None: unbounded; never on the day asked or later), after
    ``after``, at most ``limit``. ``after`` is a record id for the decisions, a suggestion id for
    the reviews, which take no days."""

    wiki: str | None = None
    task: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    after: int | str | None = None
    limit: int = 1000
    asked_at: dt.datetime = field(default_factory=utcnow)


def last_published_day(now: dt.datetime) -> dt.date:
    """Decisions are published the day after they are made (UTC)."""
    return now.date() - dt.timedelta(days=1)


def records(conn: Connection, chosen: Selection) -> tuple[list[dict[str, Any]], bool]:
    """The decisions of ``chosen`` in id order, and whether more follow the last of them."""
    until = last_published_day(chosen.asked_at)
    if chosen.until is not None:
        until = min(until, chosen.until)
    joined = decisions.join(suggestions, suggestions.c.id == decisions.c.suggestion_id).outerjoin(
        edits, edits.c.suggestion_id == decisions.c.suggestion_id)
    query = (select(decisions.c.id, decisions.c.created_at, *(suggestions.c[n] for n in SUGGESTED),
                    decisions.c.decision, decisions.c.reason, decisions.c.confirmed,
                    edits.c.suggestion_id.label("edit_reported"), edits.c.status, edits.c.survival)
             .select_from(joined)
             .where(decisions.c.id > int(chosen.after or 0),
                    decisions.c.created_at < _midnight(until + dt.timedelta(days=1)))
             .order_by(decisions.c.id).limit(chosen.limit + 1))
    if chosen.since is not None:
        query = query.where(decisions.c.created_at >= _midnight(chosen.since))
    if chosen.wiki is not None:  # the decisions' own wiki: read in id order from ix_decisions_wiki_id
        query = query.where(decisions.c.wiki == chosen.wiki)
    if chosen.task is not None:
        query = query.where(suggestions.c.task == chosen.task)
    found = [_record(row._mapping) for row in conn.execute(query)]
    return found[:chosen.limit], len(found) > chosen.limit


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _suggested(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """What was suggested, as either dataset prints it (the score to 4 decimals)."""
    found = {name: row[name] for name in names}
    found["score"] = round(float(row["score"]), 4)
    return found


def _record(row: Any) -> dict[str, Any]:
    reported = row["edit_reported"] is not None
    return {
        "id": row["id"], "day": row["created_at"].date().isoformat(),
        **_suggested(row, SUGGESTED), "decision": row["decision"],
        "reason": row["reason"], "confirmed": bool(row["confirmed"]),
        "edit": (row["status"] or "pending") if reported else None,
        "survival": row["survival"] or None,
    }


def review_records(conn: Connection, chosen: Selection) -> tuple[list[dict[str, Any]], bool]:
    """The labelled suggestions of ``chosen``'s wiki and task with an id after its ``after``, in
    id order, and whether more follow the last of them."""
    after = str(chosen.after or "")
    counted = aggregates.review_label_counts(conn, aggregates.Filters(wiki=chosen.wiki, task=chosen.task))
    items = sorted((item, counts) for per_wiki in counted.values() for item, counts in per_wiki.items()
                   if item > after)
    page = items[:chosen.limit]
    ids = {item for item, _ in page}
    described: dict[str, dict[str, Any]] = {}
    if ids:  # the row under the content id (stored with the first label), or an issued one
        rows = conn.execute(select(suggestions).where(
            or_(suggestions.c.id.in_(sorted(ids)), suggestions.c.content_id.in_(sorted(ids)))))
        for row in rows:
            item = row.id if row.id in ids else row.content_id
            if item not in described or row.id == item:
                described[item] = dict(row._mapping)
    found = []
    for item, counts in page:
        what = described[item]
        found.append({"id": item, **_suggested(what, REVIEWED),
                      **{label: counts.get(label, 0) for label in aggregates.REVIEW_LABELS},
                      "majority": aggregates.majority_label(counts)})
    return found, len(items) > chosen.limit
