"""The event store: computed and issued suggestions, editors' decisions, saved edits, pauses, the
audit log and the counts of suggestions shown.

A decision acknowledged with 201 has been committed: every write runs in one transaction that is
committed before the API answers. Any database failure surfaces as :class:`StoreUnavailable`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DisconnectionError, IntegrityError, SQLAlchemyError
from sqlalchemy.schema import CreateColumn

from suggest.memo import Memo
from suggest.store.engine import make_engine, named_lock, opened_elsewhere, sqlite_file, unreachable
from suggest.store.group_commit import GroupCommit
from suggest.store.prepared import PreparedGet, PreparedInsert
from suggest.store.schema import (
    audit_log,
    computed,
    decisions,
    edits,
    issued_row,
    metadata,
    pauses,
    store_info,
    suggestions,
)
from suggest.store.shown import ShownKey, add_shown, shown_key
from suggest.store.writer_lock import WriterLock

log = logging.getLogger(__name__)


COMPUTED_KEPT = 20_000  # computed suggestions remembered per process (a few MB)
RECHECK_SECONDS = 5.0  # a database found unreachable is tried again by one request after this
PAUSES_KEPT = 10_000  # wikis whose pauses are remembered under an audit-log mark
GENERATION = select(store_info.c.value).where(store_info.c.name == "generation")
# Read together, at most about once a second on the suggestion path (change_marks).
CHANGE_MARKS = select(select(func.max(decisions.c.id)).scalar_subquery(),
                      select(func.max(audit_log.c.id)).scalar_subquery(),
                      GENERATION.scalar_subquery())


class StoreUnavailable(RuntimeError):
    """The database could not be reached or failed; nothing was written."""


class UnknownSuggestion(LookupError):
    """No suggestion with that id was issued."""


class AlreadyDecided(RuntimeError):
    """The suggestion already has a decision."""


class NotAccepted(RuntimeError):
    """An edit was reported for a suggestion that was not accepted (or is linked elsewhere)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


Check = Callable[[dict[str, Any]], None]


def decision_row(suggestion_id: str, decision: str, reason: str | None, comment: str | None,
                 user_name: str | None, confirmed: bool = False) -> dict[str, Any]:
    """``confirmed``: a ticket of the tool's login named ``user_name`` (suggest.web.confirm).
    The store adds the suggestion's ``wiki`` when it stores the row."""
    return {"suggestion_id": suggestion_id, "decision": decision, "reason": reason,
            "comment": comment, "user_name": user_name, "created_at": utcnow(),
            "confirmed": confirmed}


@dataclass
class PendingDecision:
    """A first decision waiting for the group commit: its row, and the computed suggestion and
    issue time its issued suggestion is made from (``issued``, filled in the batch, which also
    gives the row the suggestion's ``wiki``)."""

    row: dict[str, Any]
    content_id: str
    issued_at: dt.datetime
    check: Check | None = None
    issued: dict[str, Any] | None = None


class EventStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.ready = False  # schema checked; a database down at start is checked again on use
        self.generation: str | None = None  # the database's random id (store_info), once read
        self._schema_lock = threading.Lock()
        self._unavailable_until = 0.0  # monotonic time before which a failed check is not repeated
        self._pauses: Memo[str, tuple[int, dict[str, dict[str, Any]]]] = Memo(PAUSES_KEPT)
        self._marks: tuple[float, tuple[int, int]] | None = None  # (read at, marks)
        self._computed: Memo[str, dict[str, Any]] = Memo(COMPUTED_KEPT)  # content id -> row (immutable)
        self._decisions = GroupCommit[PendingDecision, dict[str, Any]](self._decide_batch)
        dialect = self.engine.dialect  # the decision path's statements, compiled once
        self._insert_suggestion = PreparedInsert(suggestions, dialect)
        self._insert_decision = PreparedInsert(decisions, dialect)
        self._get_computed = PreparedGet(computed, "id", [c.name for c in computed.columns], dialect)
        self._writer = WriterLock(url)
        self._file = sqlite_file(self.engine.url)

    # -- schema ---------------------------------------------------------------------------------
    def upgrade(self) -> None:
        """Create missing tables and add columns added to the schema since the database was made.
        Workers starting together take turns (:meth:`_upgrade_once`); one that still fails on
        the DDL (a named lock given up after NAMED_LOCK_WAIT) retries and finds it done."""
        with self._schema_lock:
            for attempt in range(3):
                started = time.monotonic()
                try:
                    self._upgrade_to_ready()
                    return
                except StoreUnavailable:
                    # A race on the DDL fails at once; an attempt that took long waited for an
                    # unreachable database, and another would only wait as long again.
                    if attempt == 2 or time.monotonic() - started > 1.0:
                        raise
                    time.sleep(0.2 * (attempt + 1))

    def _check_on_use(self) -> None:
        """The schema check a request makes while the database has not been reachable: one
        attempt at a time and at most one per RECHECK_SECONDS. The other requests meanwhile fail
        at once with StoreUnavailable instead of queueing behind a database that hangs (each
        attempt can take the driver's whole read timeout), so the workers' threads stay free for
        the health check and for the requests that need no database."""
        if time.monotonic() < self._unavailable_until or not self._schema_lock.acquire(blocking=False):
            raise StoreUnavailable("the database is not available")
        try:
            if self.ready:
                return
            self._upgrade_to_ready()
        except StoreUnavailable:
            self._unavailable_until = time.monotonic() + self._recheck_after
            raise
        finally:
            self._schema_lock.release()

    def _upgrade_to_ready(self) -> None:
        """One schema check; on success the store is ready, and requests stop being refused."""
        self._upgrade_once()
        self.generation = self._read_generation()
        self.ready, self._unavailable_until = True, 0.0

    def _read_generation(self) -> str:
        """The database's random id, made by the first worker that finds none. Read again each
        time the database is found again after being away, which is when it may be another, and
        with the change marks (a database restored in place, :meth:`new_generation`)."""
        try:
            with self._connect() as conn:
                if conn.execute(GENERATION).scalar() is None:
                    conn.execute(store_info.insert().values(name="generation", value=uuid.uuid4().hex))
        except IntegrityError:
            pass  # another worker starting at the same time made it first
        with self._connect() as conn:
            return str(conn.execute(GENERATION).scalar_one())

    def new_generation(self) -> str:
        """Give the database a new random id, after it was restored from a backup: results cached
        for it before (naming computed suggestions made after the backup) are not served again.
        Running workers see it within a second (:meth:`change_marks`)."""
        value = uuid.uuid4().hex
        with self._begin() as conn:
            if conn.execute(store_info.update().where(store_info.c.name == "generation")
                            .values(value=value)).rowcount == 0:
                conn.execute(store_info.insert().values(name="generation", value=value))
        self.generation, self._marks = value, None
        return value

    def _upgrade_once(self) -> None:
        # Workers starting together take turns: SQLite's through the writer lock file, MariaDB's
        # through a named lock of the server. Without it all but one failed on the DDL race and
        # logged a database error at every start before their retry found the schema made.
        with self._writer.hold(), self._connect() as conn, named_lock(conn, "schema"):
            metadata.create_all(conn)
            inspector = inspect(conn)
            for table in metadata.sorted_tables:
                present = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in present:
                        # Rows already there have no value: the added column must allow NULL
                        # (SQLite refuses a NOT NULL column without a default).
                        added = Column(column.name, column.type, nullable=True, comment=column.comment)
                        Table(table.name, MetaData(), added)
                        ddl = CreateColumn(added).compile(dialect=conn.dialect)
                        conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))
                        log.info("added column %s.%s", table.name, column.name)
                indexes = {i["name"] for i in inspector.get_indexes(table.name)}
                for index in table.indexes:
                    if index.name not in indexes:  # added to the schema after the table was made
                        index.create(conn)
                        log.info("added index %s", index.name)
            # Decisions stored before they carried their suggestion's wiki (or since, by a
            # process of an older version): found through ix_decisions_wiki_id, so a check
            # with none to fill costs one index lookup.
            filled = conn.execute(
                decisions.update().where(decisions.c.wiki.is_(None))
                .values(wiki=select(suggestions.c.wiki)
                        .where(suggestions.c.id == decisions.c.suggestion_id).scalar_subquery())
            ).rowcount
            if filled:
                log.info("filled decisions.wiki: %d rows", filled)

    def ping(self) -> None:
        """Reach the database now (the readiness check), also while requests are told it is
        unreachable: a success ends that at once."""
        if not self.ready:
            with self._schema_lock:
                if not self.ready:
                    self._upgrade_to_ready()
        with self._connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- suggestions and decisions --------------------------------------------------------------
    def issue(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store issued suggestions and count them as shown, in one transaction; returns once it
        is committed. (The service itself issues signed ids and stores a suggestion with its
        first decision: :meth:`record_first_decision`. This is for importing issued suggestions.)"""
        if not rows:
            return
        stamped = [{"created_at": utcnow(), **r} for r in rows]
        counts: dict[ShownKey, int] = {}
        for r in stamped:
            key = shown_key(r["created_at"], r["wiki"], r["task"], r["backend"], r["model_checksum"])
            counts[key] = counts.get(key, 0) + 1
        with self._begin() as conn:
            conn.execute(suggestions.insert(), stamped)
            add_shown(conn, counts)

    def store_computed(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store computed suggestions under their content ids; ones already stored are kept as
        they are (the same id is the same content). Returns once committed."""
        if not rows:
            return
        for attempt in range(2):
            try:
                with self._begin() as conn:
                    ids = [r["id"] for r in rows]
                    have = set(conn.execute(select(computed.c.id).where(computed.c.id.in_(ids))).scalars())
                    new = [{"created_at": utcnow(), **r} for r in rows if r["id"] not in have]
                    if new:
                        conn.execute(computed.insert(), new)
                self._remember_computed(new)
                return
            except IntegrityError:  # another worker stored the same content meanwhile
                if attempt:
                    raise StoreUnavailable("computed suggestions could not be stored") from None

    def get_computed(self, content_id: str) -> dict[str, Any] | None:
        """A computed suggestion by content id. Its content never changes (the id is its hash),
        so rows read or stored lately are answered from memory (bounded)."""
        known = self._computed.get(content_id)
        if known is None:
            with self._begin() as conn:
                known = self._computed_rows(conn, [content_id]).get(content_id)
        return dict(known) if known is not None else None

    def _computed_rows(self, conn: Connection, content_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The computed suggestions among ``content_ids``: from memory, else read (and kept)."""
        known = {c: self._computed.get(c) for c in content_ids}
        read = [self._get_computed.get(conn, c) for c, row in known.items() if row is None]
        found = [row for row in read if row is not None]
        self._remember_computed(found)
        known.update((row["id"], row) for row in found)
        return {c: row for c, row in known.items() if row is not None}

    def _remember_computed(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            self._computed.keep(row["id"], dict(row))

    def add_shown(self, counts: dict[ShownKey, int]) -> None:
        """Add to the per-day counts of suggestions shown, in one transaction."""
        if counts:
            with self._begin() as conn:
                add_shown(conn, counts)

    def get_suggestion(self, suggestion_id: str) -> dict[str, Any] | None:
        with self._begin() as conn:
            row = conn.execute(select(suggestions).where(suggestions.c.id == suggestion_id)).first()
        return dict(row._mapping) if row else None

    def record_decision(self, suggestion_id: str, decision: str, reason: str | None,
                        comment: str | None, user_name: str | None, confirmed: bool = False
                        ) -> dict[str, Any]:
        """Store a decision on a suggestion stored already (issued before ids were signed), once
        per suggestion id; returns once it is committed."""
        row = decision_row(suggestion_id, decision, reason, comment, user_name, confirmed)
        self._decide_one(row, None)
        self._marks = None
        return row

    def record_first_decision(self, suggestion_id: str, content_id: str, issued_at: dt.datetime,
                              decision: str, reason: str | None, comment: str | None,
                              user_name: str | None, check: Check | None = None) -> dict[str, Any]:
        """Store the first decision on an issued id together with the suggestion it was issued
        for (computed suggestion ``content_id``, issued at ``issued_at``), so there is never one
        without the other, and a second decision on the id fails on either unique key. Returns
        once it is committed. ``check`` sees the issued suggestion first: what it raises is
        raised here, and nothing is stored. Concurrent first decisions of this process share a
        transaction and its commit (group commit)."""
        row = decision_row(suggestion_id, decision, reason, comment, user_name)
        outcome = self.record_first_decisions([PendingDecision(row, content_id, issued_at, check)])[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def record_first_decisions(self, pending: Sequence[PendingDecision]
                               ) -> list[dict[str, Any] | BaseException]:
        """Several first decisions (as :meth:`record_first_decision`, each with its own checks),
        committed together with whatever else is waiting; the stored row or the exception of
        each, once all are committed: StoreUnavailable for those an unavailable database did not
        store. Many waiting decisions can split ``pending`` over several commits, and the
        database may fail after the first: then the stored ones are rows and the others
        StoreUnavailable (the caller tells a request that stored nothing)."""
        outcomes = self._decisions.submit_many(pending)
        self._marks = None
        return outcomes

    def _decide_one(self, row: dict[str, Any], issued: dict[str, Any] | None) -> dict[str, Any]:
        """Store ``row`` with its issued suggestion, or (``issued`` None) on a suggestion stored
        already; the row gets the suggestion's wiki."""
        try:
            with self._writer.hold(), self._begin() as conn:
                if issued is not None:
                    self._insert_suggestion.execute(conn, [issued])
                    row["wiki"] = issued["wiki"]
                else:
                    stored = conn.execute(select(suggestions.c.wiki)
                                          .where(suggestions.c.id == row["suggestion_id"])).first()
                    if stored is None:
                        raise UnknownSuggestion(row["suggestion_id"])
                    row["wiki"] = stored.wiki
                self._insert_decision.execute(conn, [row])
        except IntegrityError:
            raise AlreadyDecided(row["suggestion_id"]) from None
        return row

    def _decide_batch(self, batch: Sequence[PendingDecision]) -> list[dict[str, Any] | BaseException]:
        """First decisions in one transaction: the computed suggestions not in memory are read,
        each decision checked, and the passing ones stored with their issued suggestions. If
        one of them was decided already (or twice in the batch), or one of them fails in a way
        of its own, that transaction is rolled back and each is stored on its own, so only the
        late (or failing) ones fail; an unavailable database fails them all."""
        refused: dict[int, BaseException] = {}
        resolved = False
        try:
            with self._writer.hold(), self._begin() as conn:
                refused = self._resolve(conn, batch)
                resolved = True
                ready = [p for i, p in enumerate(batch) if i not in refused]
                self._insert_suggestion.execute(conn, [p.issued for p in ready if p.issued])
                self._insert_decision.execute(conn, [p.row for p in ready])
            return [refused.get(i, p.row) for i, p in enumerate(batch)]
        except IntegrityError:
            pass
        except StoreUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - one item's own failure: found below, alone
            if len(batch) == 1 or not resolved:
                raise
            log.warning("a batch of decisions failed (%s); storing them one by one", type(error).__name__)
        outcomes: list[dict[str, Any] | BaseException] = []
        for i, pending in enumerate(batch):
            try:
                outcomes.append(refused[i] if i in refused else self._decide_one(pending.row, pending.issued))
            except Exception as error:  # noqa: BLE001 - handed to that caller only
                outcomes.append(error)
        return outcomes

    def _resolve(self, conn: Connection, batch: Sequence[PendingDecision]) -> dict[int, BaseException]:
        """Give each pending decision its issued suggestion and run its check; what refuses one
        (an unknown content id, its check's exception), by position in the batch."""
        known = self._computed_rows(conn, [p.content_id for p in batch])
        refused: dict[int, BaseException] = {}
        for i, pending in enumerate(batch):
            content = known.get(pending.content_id)
            if content is None:
                refused[i] = UnknownSuggestion(pending.row["suggestion_id"])
                continue
            pending.issued = issued_row(content, pending.row["suggestion_id"], pending.issued_at)
            pending.row["wiki"] = pending.issued["wiki"]
            if pending.check is not None:
                try:
                    pending.check(pending.issued)
                except Exception as error:  # noqa: BLE001 - the caller's own check: handed back
                    refused[i] = error
        return refused

    def decisions_today(self, wiki: str, user_name: str) -> int:
        """Decisions this user made on this wiki since midnight UTC (for the daily cap)."""
        midnight = utcnow().replace(hour=0, minute=0, second=0)
        query = (select(func.count()).select_from(decisions)
                 .where(decisions.c.wiki == wiki, decisions.c.user_name == user_name,
                        decisions.c.created_at >= midnight))
        with self._begin() as conn:
            return int(conn.execute(query).scalar_one())

    def change_marks(self, max_age: float = 0.0) -> tuple[int, int]:
        """(highest decision id, highest audit-log id), 0 when empty, in one statement that also
        reads the database's generation (:attr:`generation`). Decisions
        and audit entries are only ever added, and every pause or resume writes an audit entry in
        its transaction: an unchanged mark means nothing derived from those tables changed.

        With ``max_age`` the marks read up to that many seconds ago are reused; this store's own
        writes (decisions, pauses, resumes) make them stale at once, so only another process's
        write can take up to ``max_age`` to be seen."""
        now = time.monotonic()
        known = self._marks
        if known is not None and now - known[0] < max_age:
            return known[1]
        with self._begin() as conn:
            row = conn.execute(CHANGE_MARKS).one()
        marks = int(row[0] or 0), int(row[1] or 0)
        if row[2] is None:  # restored from a backup made before the database had an id
            self.generation = self._read_generation()
        elif row[2] != self.generation:
            log.info("the database has another generation: results cached before are not served")
            self.generation = str(row[2])
        self._marks = (now, marks)
        return marks

    def get_decision(self, suggestion_id: str) -> dict[str, Any] | None:
        with self._begin() as conn:
            found = conn.execute(
                select(decisions).where(decisions.c.suggestion_id == suggestion_id)).first()
        return dict(found._mapping) if found else None

    def record_edit(self, suggestion_ids: Sequence[str], revid: int,
                    user_name: str | None) -> int:
        """Link accepted suggestions to the revision they were saved in; all or nothing.
        Reporting the same link again is harmless (clients retry).

        One saved revision is one edit of a computed suggestion: every showing of a suggestion
        gets an id of its own, but a revision is linked to a computed suggestion (``content_id``)
        under one id only. An id whose computed suggestion is already linked to the revision
        under another id, or two ids of one computed suggestion in the request, refuse the whole
        request (:class:`NotAccepted`, the API's 409 ``not_accepted``): nothing of it is stored,
        and the link stored first stays as it was (a link the API acknowledged is never undone
        or replaced). Reports racing with ids of one computed suggestion are serialized on its
        ``computed`` row (``SELECT ... FOR UPDATE``, the transaction's first statement, so the
        reads after it see what the first report committed; SQLite's writers queue on the writer
        lock): one is stored, the others are refused. (Suggestions stored without a content id,
        from before ids were signed, are each their own computed suggestion.)"""
        ids = list(dict.fromkeys(suggestion_ids))
        with self._writer.hold(), self._begin() as conn:
            conn.execute(select(computed.c.id)
                         .select_from(computed.join(suggestions, suggestions.c.content_id == computed.c.id))
                         .where(suggestions.c.id.in_(ids))
                         .with_for_update()).all()
            accepted = dict(conn.execute(
                select(decisions.c.suggestion_id, suggestions.c.content_id)
                .select_from(decisions.join(suggestions, suggestions.c.id == decisions.c.suggestion_id))
                .where(decisions.c.suggestion_id.in_(ids), decisions.c.decision == "accept")
            ).tuples().all())
            missing = [i for i in ids if i not in accepted]
            if missing:
                raise NotAccepted(", ".join(missing[:3]))
            linked = dict(conn.execute(
                select(edits.c.suggestion_id, edits.c.revid).where(edits.c.suggestion_id.in_(ids))
            ).tuples().all())
            if any(r != revid for r in linked.values()):
                raise NotAccepted("already linked to another revision")
            self._refuse_second_links(conn, ids, accepted, revid)
            new = [{"suggestion_id": i, "revid": revid, "user_name": user_name,
                    "created_at": utcnow()} for i in ids if i not in linked]
            if new:
                conn.execute(edits.insert(), new)
        return len(ids)

    @staticmethod
    def _refuse_second_links(conn: Connection, ids: Sequence[str], content_of: dict[str, str | None],
                             revid: int) -> None:
        """Raise :class:`NotAccepted` when one of ``ids`` is a second id of a computed suggestion
        for revision ``revid``: another id of it in the request, or linked to it already."""
        by_content: dict[str, list[str]] = {}
        for sid in ids:
            content = content_of.get(sid)
            if content is not None:
                by_content.setdefault(content, []).append(sid)
        twice = [group for group in by_content.values() if len(group) > 1]
        if twice:
            raise NotAccepted(f"{', '.join(twice[0][:3])}: ids of the same suggestion; "
                              "a revision is linked to a suggestion once")
        if not by_content:
            return
        earlier = conn.execute(
            select(edits.c.suggestion_id, suggestions.c.content_id)
            .select_from(edits.join(suggestions, suggestions.c.id == edits.c.suggestion_id))
            .where(edits.c.revid == revid, suggestions.c.content_id.in_(list(by_content)))
        ).tuples().all()
        for linked_id, content in earlier:
            if content is not None and linked_id not in by_content[content]:
                raise NotAccepted(f"{by_content[content][0]}: the same suggestion is already linked "
                                  f"to revision {revid} under another id")

    # -- pauses and audit -----------------------------------------------------------------------
    def pauses_for(self, wiki: str, audit_mark: int | None = None) -> dict[str, dict[str, Any]]:
        """The wiki's paused tasks. With ``audit_mark`` (from :meth:`change_marks`) the answer
        read under the same mark is reused: pauses change only together with the audit log."""
        if audit_mark is not None:
            known = self._pauses.get(wiki)
            if known is not None and known[0] == audit_mark:
                return {task: dict(row) for task, row in known[1].items()}
        with self._begin() as conn:
            rows = conn.execute(select(pauses).where(pauses.c.wiki == wiki)).all()
        found = {r.task: dict(r._mapping) for r in rows}
        if audit_mark is not None:
            self._pauses.keep(wiki, (audit_mark, {task: dict(row) for task, row in found.items()}))
        return found

    def pause(self, wiki: str, task: str, reason: str, actor: str) -> None:
        with self._begin() as conn:
            conn.execute(pauses.delete().where(pauses.c.wiki == wiki, pauses.c.task == task))
            conn.execute(pauses.insert(), {"wiki": wiki, "task": task, "reason": reason,
                                           "paused_by": actor, "paused_at": utcnow()})
            self._audit(conn, actor, "pause", wiki, task, reason)
        self._marks = None

    def resume(self, wiki: str, task: str, reason: str, actor: str) -> None:
        with self._begin() as conn:
            conn.execute(pauses.delete().where(pauses.c.wiki == wiki, pauses.c.task == task))
            self._audit(conn, actor, "resume", wiki, task, reason)
        self._marks = None

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._begin() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    @staticmethod
    def _audit(conn: Connection, actor: str, action: str, wiki: str | None, task: str | None,
               reason: str | None) -> None:
        conn.execute(audit_log.insert(), {"at": utcnow(), "actor": actor, "action": action,
                                          "wiki": wiki, "task": task, "reason": reason})

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def _recheck_after(self) -> float:
        """How long requests are refused at once before the next check. A server may hang each
        check for the driver's timeouts; a SQLite file opens at once or fails at once, so the
        next request checks again (a decision retried when the file is back is not refused)."""
        return 0.0 if self.engine.dialect.name == "sqlite" else RECHECK_SECONDS

    @staticmethod
    def _same_file(conn: Connection, path: str) -> None:
        """Before a commit: the SQLite file the connection writes is still the one at ``path``.
        A file removed meanwhile (its folder deleted) takes the writes with it when the last
        connection closes, so they are rolled back and refused rather than acknowledged."""
        if opened_elsewhere(conn.connection.info, path):
            raise DisconnectionError("the SQLite file was removed or replaced")

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        if not self.ready:
            self._check_on_use()
        with self._connect() as conn:
            yield conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
                if self._file is not None:
                    self._same_file(conn, self._file)
        except (IntegrityError, UnknownSuggestion, NotAccepted):
            raise
        except SQLAlchemyError as error:
            log.error("database error: %s", type(error).__name__)
            if unreachable(error):
                # Checked again on use, by one request at a time (_check_on_use): the others
                # get their 503 at once instead of each waiting for the driver's timeouts.
                self.ready = False
                self._unavailable_until = time.monotonic() + self._recheck_after
                if self._file is not None:
                    # Pooled SQLite connections may hold a removed file, or be read-only since
                    # they were opened (the decision path's statements run on the DBAPI cursor,
                    # past the engine's error hook): new ones open what is there now.
                    self.engine.dispose()
            raise StoreUnavailable("the database is not available") from error
