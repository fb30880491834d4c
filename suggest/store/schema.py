"""The event store's tables. Every column is documented on the public data page (/data).

Comments on columns are what that page shows; retention is given per table in ``info``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _what_was_suggested(label_comment: str, wiki_index: bool = False) -> list[Column[Any]]:
    """The columns a computed suggestion and an issued one share (new Column objects per table)."""
    return [
        Column("wiki", String(64), nullable=False, index=wiki_index, comment="Wiki id (dbname)"),
        Column("task", String(32), nullable=False, comment="Task id"),
        Column("task_version", String(16), nullable=False, comment="Task version"),
        Column("page_title", String(512), nullable=False, comment="Title of the article"),
        Column("page_id", BigInteger, comment="Page id on the wiki"),
        Column("revid", BigInteger, comment="Revision the suggestion was computed for"),
        Column("rank", Integer, nullable=False, comment="Position in the list shown (0 = first)"),
        Column("label", String(512), nullable=False, comment=label_comment),
        Column("wikitext", Text, nullable=False, comment="The wikitext proposed for insertion"),
        Column("score", Float, nullable=False, comment="Model score in [0, 1]"),
        Column("explanation", Text, nullable=False, comment="Explanation shown to the editor"),
        Column("details", Text, nullable=False, comment="JSON: insertion place and ranking features"),
        Column("backend", String(64), nullable=False, comment="Model backend id"),
        Column("model_checksum", String(80), nullable=False, comment="Checksum of the model weights"),
        Column("config_hash", String(16), nullable=False, comment="Hash of the public configuration"),
        Column("app_version", String(40), nullable=False, comment="Version of the service"),
    ]


# What an issued suggestion copies from the computed suggestion it is an issue of.
SUGGESTED_COLUMNS = tuple(column.name for column in _what_was_suggested(""))


def issued_row(computed_row: Mapping[str, Any], suggestion_id: str,
               issued_at: dt.datetime) -> dict[str, Any]:
    """The ``suggestions`` row of one issue of a computed suggestion (``computed_row``)."""
    row = {name: computed_row[name] for name in SUGGESTED_COLUMNS}
    row.update(id=suggestion_id, created_at=issued_at, content_id=computed_row["id"])
    return row

computed = Table(
    "computed", metadata,
    Column("id", String(32), primary_key=True,
           comment="Content id: a hash of the suggestion, its page revision, model and settings"),
    Column("created_at", DateTime, nullable=False, index=True, comment="When it was first computed (UTC)"),
    *_what_was_suggested("What the editor is shown"),
    Index("ix_computed_wiki_task", "wiki", "task"),
    info={"retention": "kept (no personal data)",
          "purpose": "what the service suggested, and why, stored once per computation"},
)

shown = Table(
    "shown", metadata,
    Column("day", DateTime, primary_key=True, comment="Day the suggestions were shown (UTC midnight)"),
    Column("wiki", String(64), primary_key=True, comment="Wiki id"),
    Column("task", String(32), primary_key=True, comment="Task id"),
    Column("backend", String(64), primary_key=True, comment="Model backend id"),
    Column("model_checksum", String(80), primary_key=True, comment="Checksum of the model weights"),
    Column("shown", BigInteger, nullable=False,
           comment="Suggestions issued to clients that day (counted in memory, written every few seconds)"),
    info={"retention": "kept (counts only)", "purpose": "the 'shown' denominator of the metrics"},
)

suggestions = Table(
    "suggestions", metadata,
    Column("id", String(32), primary_key=True,
           comment="Id the service issued (signed; stored when it is first decided on or reviewed)"),
    Column("created_at", DateTime, nullable=False, index=True, comment="When it was issued (UTC)"),
    *_what_was_suggested("What the editor was shown", wiki_index=True),
    Column("content_id", String(32), comment="The computed suggestion it is an issue of"),
    # Earlier rejections of a page's suggestions are looked up on every suggestion request.
    Index("ix_suggestions_page", "wiki", "task", "page_title"),
    info={"retention": "kept (no personal data)",
          "purpose": "the suggestions editors decided on or reviewers labelled, as issued"},
)

decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True, comment="Row id"),
    Column("suggestion_id", String(32), ForeignKey("suggestions.id"), nullable=False,
           comment="The suggestion decided on"),
    # The suggestion's wiki again, so that a wiki's decisions are read in id order from the
    # decisions' own index (the published dataset's pages). Written with every decision; rows
    # stored before the column existed (or by a worker of an older version still running during
    # a deploy) are filled by the schema check that every start runs (events.py), the service's
    # and each of its hourly jobs'.
    Column("wiki", String(64), comment="Wiki id (dbname) of the suggestion decided on, copied from it"),
    Column("decision", String(8), nullable=False, comment="accept, reject or skip"),
    Column("reason", String(32), comment="Rejection reason id (task's list)"),
    Column("comment", Text, comment="Optional free-text comment of the editor"),
    Column("user_name", String(255), comment="Wiki user name, if the client gave one"),
    Column("created_at", DateTime, nullable=False, index=True, comment="When it was decided (UTC)"),
    Column("confirmed", Boolean,
           comment="True when a ticket from the tool's login (OAuth) named the user: the name was "
                   "checked; false or empty when it is only what the client said"),
    UniqueConstraint("suggestion_id", name="uq_decisions_suggestion"),
    Index("ix_decisions_wiki_id", "wiki", "id"),  # a wiki's decisions in id order
    Index("ix_decisions_user_day", "user_name", "created_at"),  # a user's decisions today (daily cap)
    info={"retention": "user name and comment removed after 90 days; counts kept",
          "purpose": "edit-acceptance metrics, monitoring, reviewer feedback, and the published "
                     "decisions dataset (without user names, comments or times of day)"},
)

edits = Table(
    "edits", metadata,
    Column("suggestion_id", String(32), ForeignKey("suggestions.id"), primary_key=True,
           comment="An accepted suggestion"),
    Column("revid", BigInteger, nullable=False, comment="Revision the editor saved it in"),
    Column("user_name", String(255), comment="Wiki user name, if the client gave one"),
    Column("created_at", DateTime, nullable=False, comment="When the client reported the save"),
    Column("status", String(16),
           comment="Verification: empty = pending, verified, not_verified, unverifiable, failed"),
    Column("reason", String(16),
           comment="Why not verified: missing, other_page, other_user, other_reporter, "
                   "before_decision, not_in_diff, duplicate, api_error, no_api"),
    Column("attempts", Integer, comment="API attempts made by the verification job"),
    Column("next_check_at", DateTime, comment="Earliest next attempt after an API error (back-off)"),
    Column("checked_at", DateTime, comment="When the revision was verified or rejected (UTC)"),
    Column("survival", String(16), comment="After the delay: kept or reverted (empty = not yet)"),
    Column("survival_reason", String(16),
           comment="How a revert was seen: mw-reverted tag, or removed by a later revision"),
    Column("survival_checked_at", DateTime, comment="When survival was checked (UTC)"),
    info={"retention": "user name removed after 90 days", "purpose": "verify accepted edits"},
)

pauses = Table(
    "pauses", metadata,
    Column("wiki", String(64), primary_key=True, comment="Wiki id"),
    Column("task", String(32), primary_key=True, comment="Task id"),
    Column("reason", Text, nullable=False, comment="Why the task is paused on this wiki"),
    Column("paused_by", String(255), nullable=False, comment="Monitor or maintainer who paused"),
    Column("paused_at", DateTime, nullable=False, comment="When (UTC)"),
    info={"retention": "while paused", "purpose": "stop a task on a wiki when its quality drops"},
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True, comment="Row id"),
    Column("at", DateTime, nullable=False, index=True, comment="When (UTC)"),
    Column("actor", String(255), nullable=False, comment="Maintainer name or 'monitor'"),
    Column("action", String(32), nullable=False, comment="pause, resume, ..."),
    Column("wiki", String(64), comment="Wiki id"),
    Column("task", String(32), comment="Task id"),
    Column("reason", Text, comment="Stated reason"),
    info={"retention": "kept, public", "purpose": "public record of every control action"},
)

store_info = Table(
    "store_info", metadata,
    Column("name", String(32), primary_key=True, comment="What the value is ('generation')"),
    Column("value", String(64), nullable=False, comment="The value"),
    info={"retention": "kept (no personal data)",
          "purpose": "the database's identity: 'generation' is a random id made with the database "
                     "and part of the result cache's keys, so a restored or new database is never "
                     "given suggestions cached for another one"},
)

review_labels = Table(
    "review_labels", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True, comment="Row id"),
    Column("suggestion_id", String(32), ForeignKey("suggestions.id"), nullable=False, index=True,
           comment="The suggestion a reviewer labelled"),
    Column("reviewer", String(255), nullable=False,
           comment="Wiki user name of the reviewer (logged in with OAuth)"),
    Column("label", String(16), nullable=False, comment="correct, incorrect or unsure"),
    Column("created_at", DateTime, nullable=False, comment="When it was labelled (UTC)"),
    UniqueConstraint("suggestion_id", "reviewer", name="uq_review_labels_reviewer"),
    info={"retention": "kept (reviewer names are public wiki user names; pages and the published "
                       "reviews dataset show counts only)",
          "purpose": "reviewer precision and agreement between reviewers"},
)
