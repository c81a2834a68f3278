"""The SQLite store's append path: plain appends, group commit, and the cache of stream heads.

Split from ``sqlite.py`` (the store mixes it in): appends are the hot path, tuned on their own.

* **Stream heads cached.** An append needs its stream's head (version, last ``recorded_at``). The
  store remembers the heads it committed, valid as long as nobody else wrote: every append reads
  ``max(position)`` inside its write transaction anyway (the next position), and positions only
  grow, so a maximum other than the one this store last committed means a foreign write (another
  process, another store object, or a projector transaction) and the cache is dropped before use.
  A stale head can never be used, and the check costs nothing extra.
* **Group commit** (``group_commit=True``): see ``_group_append``. Waiting callers block on their
  own pre-acquired lock, which the leader releases once the group is durable: one C call per
  waiter, no ``threading.Event`` (a Python-level condition and notify each).
"""

from __future__ import annotations

import _thread
import datetime as dt
import threading
import uuid
from collections.abc import Sequence

from engine.clock import EPOCH, to_micros
from engine.store import sealing
from engine.store import session as tenancy_sql
from engine.store.actor import current_actor
from engine.store.base import (
    AppendResult,
    IdempotencyConflict,
    Partition,
    StoredEvent,
    check_expected_version,
    first_repeat,
    merged,
    partition,
)
from events import NewEvent
from events.codec import encode_payloads

COLUMNS = (
    "position, event_id, stream, version, type, occurred_at, recorded_at, "
    "correlation_id, causation_id, source, payload"
)
INSERT = f"INSERT INTO events ({COLUMNS}, key_id, org_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
UPSERT_HEAD = (
    "INSERT INTO streams (stream, version, last_position, last_recorded_at) VALUES (?,?,?,?) "
    "ON CONFLICT (stream) DO UPDATE SET version = excluded.version, "
    "last_position = excluded.last_position, last_recorded_at = excluded.last_recorded_at"
)
MAX_CACHED_HEADS = 100_000
ONE_MICROSECOND = dt.timedelta(microseconds=1)


class SQLiteAppends:
    """Mixed into ``SQLiteEventStore``: uses its ``_conn``, ``_write_turn`` and ``clock``."""

    def _init_appends(self, group_commit: bool) -> None:
        self.group_commit = group_commit
        self._group_lock = threading.Lock()
        self._group_queue: list[_PendingAppend] = []
        self._group_leader = False
        self._heads: dict[str, tuple[int, int]] = {}
        """stream -> (version, last recorded_at us), as of position ``_heads_at``."""
        self._heads_at = -1
        self._heads_cacheable = self.path != ":memory:" and not self.path.startswith("file:")
        """Only where every writer takes the writer turn, which orders commits and cache updates."""

    def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: int | None = None
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        ids = [e.event_id or uuid.uuid4() for e in events]
        raw_ids = [i.int.to_bytes(16, "big") for i in ids]  # UUID.bytes without its Python frame
        if len(set(raw_ids)) != len(raw_ids):
            raise IdempotencyConflict(first_repeat(ids), "twice in the same batch")
        payloads = encode_payloads(events)
        occurred = [(e.occurred_at - EPOCH) // ONE_MICROSECOND for e in events]  # to_micros, in C
        actor = current_actor()
        if self.group_commit:
            return self._group_append(
                _PendingAppend(stream, events, ids, payloads, occurred, expected_version, actor, raw_ids))
        conn = self._conn()
        heads: dict[str, tuple] = {}
        with self._write_turn():
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._append_locked(conn, stream, events, ids, payloads, occurred,
                                             expected_version, actor, heads=heads, raw_ids=raw_ids)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._remember_heads(heads)
        return result

    # -- the cache of stream heads (see the module docstring) --------------------------------------

    def _last_position_checked(self, conn) -> int:
        """``max(position)`` inside the write transaction; drops the cached heads when another
        writer moved it since this store's last commit."""
        (last_position,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        if last_position != self._heads_at or not self._heads_cacheable:
            self._heads.clear()
            self._heads_at = last_position
        return last_position

    def _remember_heads(self, heads: dict[str, tuple]) -> None:
        """After a COMMIT (never before: a rolled-back head must not be remembered)."""
        if not heads or not self._heads_cacheable:
            return
        if len(self._heads) > MAX_CACHED_HEADS:
            self._heads.clear()
        for stream, (version, position, recorded) in heads.items():
            self._heads[stream] = (version, recorded)
            self._heads_at = max(self._heads_at, position)

    def _head(self, conn, stream: str) -> tuple[int, int]:
        head = self._heads.get(stream)
        if head is None:
            row = conn.execute(
                "SELECT version, last_recorded_at FROM streams WHERE stream = ?", (stream,)).fetchone()
            head = self._heads[stream] = (row[0], row[1]) if row else (0, 0)
        return head

    # -- plain append (also the projector's outputs, inside its own transaction) -------------------

    def _append_locked(self, conn, stream, events, ids, payloads, occurred, expected_version, actor,
                       *, heads: dict | None = None, raw_ids: list[bytes] | None = None):
        """Inside the caller's write transaction. ``heads``, when given, receives the stream's new
        head for ``_remember_heads`` once the caller has committed; ``raw_ids``: ``ids`` as bytes."""
        key = tenancy_sql.admit(tenancy_sql.SqlSession(conn, "sqlite"), stream, actor,
                                tenancy_sql.now_iso(self.clock))
        if raw_ids is None:
            raw_ids = [i.bytes for i in ids]
        client_ids = [r for e, r in zip(events, raw_ids) if e.event_id is not None]
        found = _existing(conn, client_ids) if client_ids else None
        if found:
            existing = {k: sealing.opened_row(k, v, key) for k, v in found.items()}
            split = partition(stream, ids, payloads, occurred, existing)
            if not split.new:
                return merged(stream, split, [])
            if len(split.new) != len(events):
                events, ids, raw_ids, payloads, occurred = (
                    [seq[i] for i in split.new] for seq in (events, ids, raw_ids, payloads, occurred))
        else:
            split = None
        last_position = self._last_position_checked(conn)
        version, last_recorded = self._head(conn, stream)
        check_expected_version(stream, expected_version, version, split or _all_new(len(ids)))
        recorded = batch_instant(to_micros(self.clock.now()), last_recorded)
        sealed = sealing.seal_batch(key, stream, raw_ids, payloads)
        rows, stored = _rows(stream, events, ids, raw_ids, occurred, sealed, last_position, version, recorded,
                             _actor_columns(actor))
        conn.executemany(INSERT, rows)
        conn.execute(UPSERT_HEAD, (stream, stored[-1].version, stored[-1].position, recorded))
        if heads is not None:
            heads[stream] = (stored[-1].version, stored[-1].position, recorded)
        return merged(stream, split, stored) if split is not None else AppendResult(stream, stored, False)

    # -- group commit ------------------------------------------------------------------------------
    #
    # Leader/follower group commit: an appender that finds no commit in progress becomes the leader
    # and commits what is queued (its own batch first, plus whatever arrived meanwhile) in one
    # transaction and one fsync. While the leader waits on the fsync, new appenders queue; when it
    # is done it hands the lead to the oldest queued appender, so every caller returns as soon as
    # its own transaction is durable. Alone, an appender leads at once: no thread hand-off.
    #
    # Each batch is judged on its own, in queue order, against the log as the batches before it in
    # the group leave it (the same rules as ``_append_locked``: idempotency, expected version): a
    # refused batch gets its own error and writes nothing, the others go on. The group's rows are
    # then written with one statement per table. Only a failure of the transaction itself (disk
    # full, I/O error) fails every batch of the group, and then nothing of it is stored.

    def _group_append(self, pending: _PendingAppend) -> AppendResult:
        with self._group_lock:
            self._group_queue.append(pending)
            lead = not self._group_leader
            if lead:
                self._group_leader = True
        if not lead:
            pending.done.acquire()  # released by a leader: our group is committed, or we lead next
            if not pending.lead:
                return pending.outcome()
        with self._group_lock:  # the leader: take everything queued so far (its own batch too)
            group, self._group_queue = self._group_queue, []
        try:
            with self._write_turn():
                self._commit_group(group)
        finally:
            with self._group_lock:
                if self._group_queue:
                    successor = self._group_queue[0]
                    successor.lead = True
                    successor.done.release()
                else:
                    self._group_leader = False
        return pending.outcome()

    def _commit_group(self, group: list[_PendingAppend]) -> None:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            rows, heads = self._plan_group(conn, group)
            if rows:
                conn.executemany(INSERT, rows)
                conn.executemany(UPSERT_HEAD, [(stream, *head) for stream, head in heads.items()])
            conn.execute("COMMIT")
            self._remember_heads(heads)
        except BaseException as exc:  # the transaction itself failed: nothing of the group is stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for item in group:
                if item.error is None:
                    item.result, item.error = None, exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for item in group:  # every lock is held here (the leader's own too): release them all
                item.lead = False
                item.done.release()

    def _plan_group(self, conn, group: list[_PendingAppend]) -> tuple[list[tuple], dict[str, tuple]]:
        """Judge each batch in order; return the rows to insert and the new heads of the streams."""
        client_ids = [r for item in group for e, r in zip(item.events, item.raw_ids) if e.event_id is not None]
        known = _existing(conn, client_ids) if client_ids else {}
        last_position = self._last_position_checked(conn)
        missing = list({item.stream for item in group if item.stream not in self._heads})
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            found = dict.fromkeys(chunk, (0, 0))
            for stream, version, recorded in conn.execute(
                "SELECT stream, version, last_recorded_at FROM streams "
                f"WHERE stream IN ({','.join('?' * len(chunk))})", chunk,
            ):
                found[stream] = (version, recorded)
            self._heads.update(found)
        heads = {item.stream: self._heads[item.stream] for item in group}
        now = to_micros(self.clock.now())
        rows: list[tuple] = []
        changed: dict[str, tuple] = {}
        db = tenancy_sql.SqlSession(conn, "sqlite")
        stamp = tenancy_sql.now_iso(self.clock) if any(  # only a new athlete's registration uses it
            item.actor is not None and item.actor.org_id for item in group) else ""
        known_athletes = tenancy_sql.Admissions(db, list({sealing.athlete_of(item.stream) for item in group}))
        group_of_many = len(group) > 1
        for item in group:
            try:
                stream, events, ids, raw_ids = item.stream, item.events, item.ids, item.raw_ids
                key = tenancy_sql.admit(db, stream, item.actor, stamp, known_athletes)
                existing = {r: sealing.opened_row(r, known[r], key)
                            for e, r in zip(events, raw_ids) if e.event_id is not None and r in known
                            } if known else None
                if existing:
                    split = partition(stream, ids, item.payloads, item.occurred, existing)
                    if not split.new:
                        item.result = merged(stream, split, [])
                        continue
                    new = split.new
                else:
                    split, new = None, None
                version, last_recorded = heads[stream]
                check_expected_version(stream, item.expected_version, version, split or _all_new(len(ids)))
                recorded = batch_instant(now, last_recorded)
                payloads, occurred = item.payloads, item.occurred
                if new is not None and len(new) != len(events):
                    events, ids, raw_ids, payloads, occurred = (
                        [seq[i] for i in new] for seq in (events, ids, raw_ids, payloads, occurred))
                sealed = sealing.seal_batch(key, stream, raw_ids, payloads)
                batch_rows, stored = _rows(stream, events, ids, raw_ids, occurred, sealed, last_position, version,
                                           recorded, _actor_columns(item.actor))
                rows += batch_rows
                if group_of_many:  # a later batch of the group may re-send these ids
                    for row in batch_rows:
                        known[row[1]] = (stream, row[3], row[0], row[5], row[10])
                last_position = stored[-1].position
                heads[stream] = (stored[-1].version, recorded)
                changed[stream] = (stored[-1].version, last_position, recorded)
                item.result = merged(stream, split, stored) if split is not None else AppendResult(
                    stream, stored, False)
            except Exception as exc:  # this batch only: the others go on
                item.error = exc
        return rows, changed


class _PendingAppend:
    """One caller's batch waiting for a group commit, and then its outcome. ``done`` is a lock
    taken at creation: the caller blocks acquiring it until a leader releases it."""

    __slots__ = ("stream", "events", "ids", "raw_ids", "payloads", "occurred", "expected_version", "actor",
                 "done", "lead", "result", "error")

    def __init__(self, stream, events, ids, payloads, occurred, expected_version, actor, raw_ids) -> None:
        self.stream, self.events, self.ids, self.raw_ids, self.actor = stream, events, ids, raw_ids, actor
        self.payloads, self.occurred, self.expected_version = payloads, occurred, expected_version
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.lead = False
        self.result: AppendResult | None = None
        self.error: BaseException | None = None

    def outcome(self) -> AppendResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _all_new(count: int) -> Partition:
    """The partition of a batch none of whose ids is stored (``check_expected_version``'s input)."""
    return Partition({}, list(range(count)))


def _rows(stream, events, ids, raw_ids, occurred, sealed, last_position, version, recorded, actor_columns):
    """The ``events`` rows of one stream's new events, and where each landed (one comprehension each)."""
    key_id, org_id = actor_columns
    rows = [
        (last_position + n, raw_id, stream, version + n, type(event.data).__struct_config__.tag, occ, recorded,
         None if event.correlation_id is None else event.correlation_id.bytes,
         None if event.causation_id is None else event.causation_id.bytes, event.source, payload, key_id, org_id)
        for n, (event, raw_id, occ, payload) in enumerate(zip(events, raw_ids, occurred, sealed), 1)
    ]
    return rows, [StoredEvent(event_id, version + n, last_position + n) for n, event_id in enumerate(ids, 1)]


def uuid_bytes(value: uuid.UUID | None) -> bytes | None:
    return None if value is None else value.bytes


def batch_instant(now_us: int, last_recorded_us: int) -> int:
    """A batch's recorded_at: the clock, but strictly after the stream's previous batch, so that
    consecutive batches never share an instant (a batch is one decision point: engine.decisions)."""
    return max(now_us, last_recorded_us + 1) if last_recorded_us else now_us


def _actor_columns(actor) -> tuple[str | None, str | None]:
    return (None, None) if actor is None else (actor.key_id, actor.org_id)


def _existing(conn, ids: list[bytes]) -> dict[bytes, tuple]:
    found: dict[bytes, tuple] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT event_id, stream, version, position, occurred_at, payload FROM events "
            f"WHERE event_id IN ({marks})", chunk,
        ):
            found[row[0]] = row[1:]
    return found
