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
import threading
import uuid
from collections.abc import Sequence

from engine.clock import to_micros
from engine.store import sealing
from engine.store import session as tenancy_sql
from engine.store.actor import current_actor
from engine.store.base import (
    AppendResult,
    IdempotencyConflict,
    StoredEvent,
    check_expected_version,
    first_repeat,
    merged,
    partition,
)
from events import NewEvent
from events.codec import encode_payload

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
        if len(set(ids)) != len(ids):
            raise IdempotencyConflict(first_repeat(ids), "twice in the same batch")
        payloads = [encode_payload(e.data) for e in events]
        occurred = [to_micros(e.occurred_at) for e in events]
        actor = current_actor()
        if self.group_commit:
            return self._group_append(
                _PendingAppend(stream, events, ids, payloads, occurred, expected_version, actor))
        conn = self._conn()
        heads: dict[str, tuple] = {}
        with self._write_turn():
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._append_locked(conn, stream, events, ids, payloads, occurred,
                                             expected_version, actor, heads=heads)
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
                       *, heads: dict | None = None):
        """Inside the caller's write transaction. ``heads``, when given, receives the stream's new
        head for ``_remember_heads`` once the caller has committed."""
        key = tenancy_sql.admit(tenancy_sql.SqlSession(conn, "sqlite"), stream, actor,
                                tenancy_sql.now_iso(self.clock))
        client_ids = [i.bytes for e, i in zip(events, ids) if e.event_id is not None]
        existing = {k: sealing.opened_row(k, v, key)
                    for k, v in _existing(conn, client_ids).items()} if client_ids else {}
        split = partition(stream, ids, payloads, occurred, existing)
        if not split.new:
            return merged(stream, split, [])
        if len(split.new) != len(events):
            events, ids, payloads, occurred = (
                [seq[i] for i in split.new] for seq in (events, ids, payloads, occurred))
        last_position = self._last_position_checked(conn)
        version, last_recorded = self._head(conn, stream)
        check_expected_version(stream, expected_version, version, split)
        recorded = batch_instant(to_micros(self.clock.now()), last_recorded)
        actor_columns = _actor_columns(actor)
        seal = sealing.sealer(key, stream, len(events))
        rows, stored = [], []
        for offset, (event, event_id, payload, occ) in enumerate(zip(events, ids, payloads, occurred), 1):
            position, v, raw_id = last_position + offset, version + offset, event_id.bytes
            rows.append((
                position, raw_id, stream, v, event.data.__struct_config__.tag, occ, recorded,
                uuid_bytes(event.correlation_id), uuid_bytes(event.causation_id), event.source,
                seal(raw_id, payload), *actor_columns,
            ))
            stored.append(StoredEvent(event_id, v, position))
        conn.executemany(INSERT, rows)
        conn.execute(UPSERT_HEAD, (stream, stored[-1].version, stored[-1].position, recorded))
        if heads is not None:
            heads[stream] = (stored[-1].version, stored[-1].position, recorded)
        return merged(stream, split, stored)

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
        client_ids = [i.bytes for item in group for e, i in zip(item.events, item.ids)
                      if e.event_id is not None]
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
        stamp = tenancy_sql.now_iso(self.clock)
        known_athletes = tenancy_sql.Admissions(db, list({sealing.athlete_of(item.stream) for item in group}))
        for item in group:
            try:
                stream, events, ids = item.stream, item.events, item.ids
                key = tenancy_sql.admit(db, stream, item.actor, stamp, known_athletes)
                existing = {i.bytes: sealing.opened_row(i.bytes, known[i.bytes], key)
                            for e, i in zip(events, ids) if e.event_id is not None and i.bytes in known}
                split = partition(stream, ids, item.payloads, item.occurred, existing)
                if not split.new:
                    item.result = merged(stream, split, [])
                    continue
                version, last_recorded = heads[stream]
                check_expected_version(stream, item.expected_version, version, split)
                recorded = batch_instant(now, last_recorded)
                seal, actor_columns = sealing.sealer(key, stream, len(split.new)), _actor_columns(item.actor)
                stored = []
                for offset, i in enumerate(split.new, 1):
                    event, event_id, occ = events[i], ids[i], item.occurred[i]
                    position, v, raw_id = last_position + offset, version + offset, event_id.bytes
                    sealed = seal(raw_id, item.payloads[i])
                    rows.append((
                        position, raw_id, stream, v, event.data.__struct_config__.tag, occ, recorded,
                        uuid_bytes(event.correlation_id), uuid_bytes(event.causation_id), event.source,
                        sealed, *actor_columns,
                    ))
                    stored.append(StoredEvent(event_id, v, position))
                    known[raw_id] = (stream, v, position, occ, sealed)
                last_position = stored[-1].position
                heads[stream] = (stored[-1].version, recorded)
                changed[stream] = (stored[-1].version, last_position, recorded)
                item.result = merged(stream, split, stored)
            except Exception as exc:  # this batch only: the others go on
                item.error = exc
        return rows, changed


class _PendingAppend:
    """One caller's batch waiting for a group commit, and then its outcome. ``done`` is a lock
    taken at creation: the caller blocks acquiring it until a leader releases it."""

    __slots__ = ("stream", "events", "ids", "payloads", "occurred", "expected_version", "actor", "done",
                 "lead", "result", "error")

    def __init__(self, stream, events, ids, payloads, occurred, expected_version, actor=None) -> None:
        self.stream, self.events, self.ids, self.actor = stream, events, ids, actor
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
