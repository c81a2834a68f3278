"""SQLite event store: one file, WAL mode, the embedded default.

Durability: ``synchronous=FULL`` by default, so a committed append survives power loss (in WAL mode
the WAL is fsynced at every commit). ``NORMAL`` is available for analysts' scratch stores, where a
power cut may lose the last transactions but never corrupts the file. See docs/store.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path


from engine.clock import Clock, SystemClock, from_micros, to_micros
from engine.store import sealing, sqlite_schema
from engine.store import session as tenancy_sql
from engine.store.actor import current_actor
from engine.store.base import (
    AppendResult,
    check_expected_version,
    first_repeat,
    IdempotencyConflict,
    merged,
    partition,
    ProjectionRecord,
    StoredEvent,
    StreamHead,
)
from events import Envelope, NewEvent
from events.codec import decode_payload, encode_payload


_COLUMNS = (
    "position, event_id, stream, version, type, occurred_at, recorded_at, "
    "correlation_id, causation_id, source, payload"
)
_INSERT = f"INSERT INTO events ({_COLUMNS}, key_id, org_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
DEFAULT_PATH = Path("var/strideline.sqlite3")


def _uuid_bytes(value: uuid.UUID | None) -> bytes | None:
    return None if value is None else value.bytes


def row_to_envelope(row: tuple) -> Envelope:
    (position, event_id, stream, version, type_, occurred, recorded, corr, caus, source, payload) = row
    return Envelope(
        event_id=uuid.UUID(bytes=event_id),
        stream=stream,
        version=version,
        position=position,
        occurred_at=from_micros(occurred),
        recorded_at=from_micros(recorded),
        data=decode_payload(type_, payload),
        correlation_id=None if corr is None else uuid.UUID(bytes=corr),
        causation_id=None if caus is None else uuid.UUID(bytes=caus),
        source=source,
    )


class SQLiteEventStore:
    """The EventStore contract on one SQLite file (thread-safe: a connection per thread)."""

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        clock: Clock | None = None,
        synchronous: str = "FULL",
        group_commit: bool = False,
    ) -> None:
        """``group_commit=True``: concurrent appends share one transaction and one fsync (see
        ``_group_append``); each caller still gets its own result or its own error."""
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA", "OFF"}:
            raise ValueError(f"synchronous must be FULL, NORMAL, EXTRA or OFF, not {synchronous!r}")
        self.path = str(path)
        if self.path != ":memory:" and not self.path.startswith("file:"):
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
        self.clock = clock or SystemClock()
        self.erased_skipped = 0
        """Rows of erased athletes that whole-log reads (iter_all, iter_raw) passed over."""
        self.synchronous = synchronous.upper()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._turn_fds: list[int] = []
        self._lock = threading.Lock()
        self.group_commit = group_commit
        self._group_lock = threading.Lock()
        self._group_queue: list[_PendingAppend] = []
        self._group_leader = False
        with self._write_turn():
            try:
                sqlite_schema.upgrade(self._conn())
            except BaseException:
                if self._conn().in_transaction:
                    self._conn().execute("ROLLBACK")
                raise

    # -- connections ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA secure_delete=ON")  # deleted rows (keys, projections) are zeroed
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _write_turn(self) -> Iterator[None]:
        """Hold the store's writer turn: an advisory ``flock`` on ``<file>.writers``, taken before
        SQLite's own write lock by every writer of this store, in any thread or process.

        SQLite makes a writer that finds the lock taken poll for it with sleeps of up to 100 ms
        (its busy handler), so with several writing processes (ingest, workers) most of the time
        goes to sleeping. Waiting on the kernel's lock instead wakes the next writer as soon as the
        previous one commits. Nothing else changes: transactions, durability and results are the
        same, and a writer that does not take the turn (another tool) is still serialised by SQLite.
        """
        fd = getattr(self._local, "turn", None)
        if fd is None:
            if self.path == ":memory:" or self.path.startswith("file:"):
                yield
                return
            fd = self._local.turn = os.open(self.path + ".writers", os.O_RDWR | os.O_CREAT, 0o600)
            with self._lock:
                self._turn_fds.append(fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            for fd in self._turn_fds:
                os.close(fd)
            self._turn_fds.clear()
        self._local = threading.local()

    # -- append --------------------------------------------------------------------------------

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
        with self._write_turn():
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._append_locked(conn, stream, events, ids, payloads, occurred,
                                             expected_version, actor)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return result

    # -- group commit ----------------------------------------------------------------------------
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
            pending.done.wait()
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
                    successor.done.set()
                else:
                    self._group_leader = False
        return pending.outcome()

    def _commit_group(self, group: list[_PendingAppend]) -> None:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            rows, heads = self._plan_group(conn, group)
            if rows:
                conn.executemany(_INSERT, rows)
                conn.executemany(
                    "INSERT INTO streams (stream, version, last_position, last_recorded_at) "
                    "VALUES (?,?,?,?) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, "
                    "last_position = excluded.last_position, last_recorded_at = excluded.last_recorded_at",
                    [(stream, *head) for stream, head in heads.items()],
                )
            conn.execute("COMMIT")
        except BaseException as exc:  # the transaction itself failed: nothing of the group is stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for item in group:
                if item.error is None:
                    item.result, item.error = None, exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for item in group:
                item.lead = False
                item.done.set()

    def _plan_group(self, conn, group: list[_PendingAppend]) -> tuple[list[tuple], dict[str, tuple]]:
        """Judge each batch in order; return the rows to insert and the new heads of the streams."""
        client_ids = [i.bytes for item in group for e, i in zip(item.events, item.ids)
                      if e.event_id is not None]
        known = _existing(conn, client_ids) if client_ids else {}
        streams = list({item.stream for item in group})
        heads: dict[str, tuple] = {}
        for start in range(0, len(streams), 500):
            chunk = streams[start:start + 500]
            for stream, version, position, recorded in conn.execute(
                "SELECT stream, version, last_position, last_recorded_at FROM streams "
                f"WHERE stream IN ({','.join('?' * len(chunk))})", chunk,
            ):
                heads[stream] = (version, position, recorded)
        (last_position,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        now = to_micros(self.clock.now())
        rows: list[tuple] = []
        changed: dict[str, tuple] = {}
        db = tenancy_sql.SqlSession(conn, "sqlite")
        stamp = tenancy_sql.now_iso(self.clock)
        for item in group:
            try:
                stream, events, ids = item.stream, item.events, item.ids
                key = tenancy_sql.admit(db, stream, item.actor, stamp)
                existing = {i.bytes: sealing.opened_row(i.bytes, known[i.bytes], key) for e, i in zip(events, ids)
                            if e.event_id is not None and i.bytes in known}
                split = partition(stream, ids, item.payloads, item.occurred, existing)
                if not split.new:
                    item.result = merged(stream, split, [])
                    continue
                version, _, last_recorded = heads.get(stream, (0, 0, 0))
                check_expected_version(stream, item.expected_version, version, split)
                recorded = _batch_instant(now, last_recorded)
                stored = []
                for offset, i in enumerate(split.new):
                    event, event_id, payload, occ = events[i], ids[i], item.payloads[i], item.occurred[i]
                    position, v = last_position + 1 + offset, version + 1 + offset
                    sealed = sealing.seal(key, payload, sealing.event_aad(event_id.bytes, stream))
                    rows.append((
                        position, event_id.bytes, stream, v, event.data.__struct_config__.tag, occ,
                        recorded, _uuid_bytes(event.correlation_id), _uuid_bytes(event.causation_id),
                        event.source, sealed, *_actor_columns(item.actor),
                    ))
                    stored.append(StoredEvent(event_id, v, position))
                    known[event_id.bytes] = (stream, v, position, occ, sealed)
                last_position = stored[-1].position
                heads[stream] = changed[stream] = (stored[-1].version, last_position, recorded)
                item.result = merged(stream, split, stored)
            except Exception as exc:  # this batch only: the others go on
                item.error = exc
        return rows, changed

    def _append_locked(self, conn, stream, events, ids, payloads, occurred, expected_version, actor):
        key = tenancy_sql.admit(tenancy_sql.SqlSession(conn, "sqlite"), stream, actor,
                                tenancy_sql.now_iso(self.clock))
        client_ids = [i.bytes for e, i in zip(events, ids) if e.event_id is not None]
        existing = {k: sealing.opened_row(k, v, key) for k, v in _existing(conn, client_ids).items()} if client_ids else {}
        split = partition(stream, ids, payloads, occurred, existing)
        if not split.new:
            return merged(stream, split, [])
        events, ids, payloads, occurred = (
            [seq[i] for i in split.new] for seq in (events, ids, payloads, occurred))
        head = conn.execute(
            "SELECT version, last_position, last_recorded_at FROM streams WHERE stream = ?", (stream,)
        ).fetchone()
        version, _, last_recorded = head if head else (0, 0, 0)
        check_expected_version(stream, expected_version, version, split)
        recorded = _batch_instant(to_micros(self.clock.now()), last_recorded)
        (last_position,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        rows = []
        stored = []
        for offset, (event, event_id, payload, occ) in enumerate(zip(events, ids, payloads, occurred)):
            position = last_position + 1 + offset
            rows.append((
                position, event_id.bytes, stream, version + 1 + offset, event.data.__struct_config__.tag,
                occ, recorded, _uuid_bytes(event.correlation_id), _uuid_bytes(event.causation_id),
                event.source, sealing.seal(key, payload, sealing.event_aad(event_id.bytes, stream)),
                *_actor_columns(actor),
            ))
            stored.append(StoredEvent(event_id, version + 1 + offset, position))
        conn.executemany(_INSERT, rows)
        conn.execute(
            "INSERT INTO streams (stream, version, last_position, last_recorded_at) VALUES (?,?,?,?) "
            "ON CONFLICT (stream) DO UPDATE SET version = excluded.version, "
            "last_position = excluded.last_position, last_recorded_at = excluded.last_recorded_at",
            (stream, stored[-1].version, stored[-1].position, recorded),
        )
        return merged(stream, split, stored)

    # -- reads ---------------------------------------------------------------------------------

    def read_stream(self, stream: str, from_version: int = 1, limit: int | None = None) -> list[Envelope]:
        rows = self._conn().execute(
            f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?",
            (stream, from_version, -1 if limit is None else limit),
        ).fetchall()
        if not rows:
            return []
        keys = self._keys_for(rows)
        return [row_to_envelope(r) for r in _open_rows(rows, keys)]

    def stream_version(self, stream: str) -> int:
        row = self._conn().execute(
            "SELECT version FROM streams WHERE stream = ? AND NOT erased", (stream,)).fetchone()
        return row[0] if row else 0

    def iter_all(self, from_position: int = 0, batch_size: int = 1000) -> Iterator[Envelope]:
        for batch in self.iter_raw(from_position, batch_size):
            yield from map(row_to_envelope, batch)

    def iter_raw(self, from_position: int = 0, batch_size: int = 1000) -> Iterator[list[tuple]]:
        """Rows in global order, a batch at a time (keyset paging: memory stays bounded)."""
        conn = self._conn()
        position = from_position
        while True:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (position, batch_size),
            ).fetchall()
            if not rows:
                return
            opened = list(_open_rows(rows, self._keys_for(rows)))
            self.erased_skipped += len(rows) - len(opened)
            if opened:
                yield opened
            position = rows[-1][0]

    def _keys_for(self, rows: list[tuple]) -> dict[str, bytes]:
        athletes = list({sealing.athlete_of(r[2]) for r in rows if sealing.is_sealed(r[10])})
        return tenancy_sql.data_keys(tenancy_sql.SqlSession(self._conn(), "sqlite"), athletes) if athletes else {}

    def stream_heads(self) -> Iterator[StreamHead]:
        rows = self._conn().execute(
            "SELECT stream, version, last_position FROM streams WHERE NOT erased ORDER BY stream"
        ).fetchall()
        for stream, version, position in rows:
            yield StreamHead(stream, version, position)

    def last_position(self) -> int:
        (position,) = self._conn().execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        return position

    def get_event(self, event_id: uuid.UUID) -> Envelope | None:
        row = self._conn().execute(
            f"SELECT {_COLUMNS} FROM events WHERE event_id = ?", (event_id.bytes,)
        ).fetchone()
        opened = [] if row is None else list(_open_rows([row], self._keys_for([row])))
        return row_to_envelope(opened[0]) if opened else None

    # -- projections ---------------------------------------------------------------------------

    def load_projection(self, athlete_id: str, name: str) -> ProjectionRecord | None:
        row = self._conn().execute(
            "SELECT state, checkpoint FROM projections WHERE athlete = ? AND name = ?",
            (athlete_id, name),
        ).fetchone()
        if row is None:
            return None
        state = bytes(row[0])
        if sealing.is_sealed(state):
            key, _ = tenancy_sql.projection_key(tenancy_sql.SqlSession(self._conn(), "sqlite"), athlete_id)
            opened = sealing.unseal(key, state, sealing.projection_aad(athlete_id, name))
            if opened is None:
                return None
            state = opened
        return ProjectionRecord(state, row[1])

    def save_projection(
        self, athlete_id: str, name: str, state: bytes, checkpoint: int, expected_checkpoint: int | None
    ) -> bool:
        conn = self._conn()
        if state:
            key, erased = tenancy_sql.projection_key(tenancy_sql.SqlSession(self._conn(), "sqlite"), athlete_id)
            if erased:
                return False  # an erased athlete's state is never written again
            if key is not None:
                state = sealing.seal(key, state, sealing.projection_aad(athlete_id, name))
        with self._write_turn():
            if expected_checkpoint is None:
                cur = conn.execute(
                    "INSERT INTO projections (athlete, name, state, checkpoint) VALUES (?,?,?,?) "
                    "ON CONFLICT DO NOTHING",
                    (athlete_id, name, state, checkpoint),
                )
            else:
                cur = conn.execute(
                    "UPDATE projections SET state = ?, checkpoint = ? "
                    "WHERE athlete = ? AND name = ? AND checkpoint = ?",
                    (state, checkpoint, athlete_id, name, expected_checkpoint),
                )
        return cur.rowcount == 1

    def projection_checkpoints(self, name: str) -> dict[str, int]:
        rows = self._conn().execute(
            "SELECT athlete, checkpoint FROM projections WHERE name = ?", (name,)
        ).fetchall()
        return dict(rows)

    def delete_projections(self, name: str, athlete_id: str | None = None) -> None:
        """Drop saved projection state (a rebuild starts from scratch). Events are untouched."""
        with self._write_turn():
            if athlete_id is None:
                self._conn().execute("DELETE FROM projections WHERE name = ?", (name,))
            else:
                self._conn().execute(
                    "DELETE FROM projections WHERE name = ? AND athlete = ?", (name, athlete_id)
                )

    # -- tenancy and erasure (engine.tenancy runs its statements through these) ------------------

    @contextlib.contextmanager
    def sql_session(self) -> Iterator[tenancy_sql.SqlSession]:
        """This thread's connection, outside any transaction (reads, single statements)."""
        yield tenancy_sql.SqlSession(self._conn(), "sqlite")

    @contextlib.contextmanager
    def sql_transaction(self) -> Iterator[tenancy_sql.SqlSession]:
        """A write transaction holding the writer turn; rolled back if the block raises."""
        conn = self._conn()
        with self._write_turn():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield tenancy_sql.SqlSession(conn, "sqlite")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def erase_athlete(self, athlete_id: str, *, by_key: str | None = None) -> tenancy_sql.Erasure:
        """Crypto-shred an athlete (see engine.store.session.erase), then checkpoint and truncate
        the WAL so the destroyed key and the purged states leave no page image behind."""
        with self.sql_transaction() as db:
            result = tenancy_sql.erase(db, athlete_id, by_key=by_key, now=tenancy_sql.now_iso(self.clock))
        self.scrub()
        return result

    def scrub(self) -> bool:
        """Move the WAL into the database and truncate it (deleted pages are zeroed by
        ``secure_delete``). False when a reader kept the WAL from being emptied."""
        if self.path == ":memory:":
            return True
        busy, _, _ = self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0

    # -- import: stored events as they are (replay's `strideline import`) -----------------------
    # Not part of the EventStore protocol: an exported log goes back into an empty SQLite file with
    # its event ids, streams, versions, positions and times unchanged (docs/replay.md).

    def import_envelopes(self, envelopes: Iterable[Envelope], batch_size: int = 5000) -> int:
        """Insert stored events as they are into an empty store, in one transaction.

        Refuses (ImportConflict, nothing written) a store that already holds events, positions that
        do not strictly increase, stream versions that are not 1, 2, 3, ... in order, recorded_at
        going back within a stream, and a repeated event id. Returns the number of events."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            count = _import_locked(conn, envelopes, batch_size)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return count


class _PendingAppend:
    """One caller's batch waiting for a group commit, and then its outcome."""

    __slots__ = ("stream", "events", "ids", "payloads", "occurred", "expected_version", "actor", "done",
                 "lead", "result", "error")

    def __init__(self, stream, events, ids, payloads, occurred, expected_version, actor=None) -> None:
        self.stream, self.events, self.ids, self.actor = stream, events, ids, actor
        self.payloads, self.occurred, self.expected_version = payloads, occurred, expected_version
        self.done = threading.Event()
        self.lead = False
        self.result: AppendResult | None = None
        self.error: BaseException | None = None

    def outcome(self) -> AppendResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only (SQLite gives its WAL the same mode)."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _actor_columns(actor) -> tuple[str | None, str | None]:
    return (None, None) if actor is None else (actor.key_id, actor.org_id)



def _open_rows(rows: list[tuple], keys: dict[str, bytes]) -> Iterator[tuple]:
    """Rows with their payloads opened; rows of an athlete whose key is gone (erased) are dropped."""
    return sealing.open_rows(rows, keys)


def _existing(conn: sqlite3.Connection, ids: list[bytes]) -> dict[bytes, tuple]:
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

# -- import: the checks and inserts behind SQLiteEventStore.import_envelopes ------------------------

from collections.abc import Iterable  # noqa: E402,F811  (kept beside the one section that needs them)

from engine.store.base import StoreError  # noqa: E402


class ImportConflict(StoreError):
    """An import was refused: the store is not empty, or the log breaks the store's invariants."""


def _import_locked(conn: sqlite3.Connection, envelopes: Iterable[Envelope], batch_size: int) -> int:
    if conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None:
        raise ImportConflict("the store already holds events: import only into an empty store")
    heads: dict[str, tuple[int, int]] = {}  # stream -> (version, recorded_at us)
    db, keys = tenancy_sql.SqlSession(conn, "sqlite"), {}
    last_position, count, rows = 0, 0, []
    for e in envelopes:
        if e.position <= last_position:
            raise ImportConflict(f"{_named(e)}: position does not follow position {last_position}")
        version, recorded = heads.get(e.stream, (0, 0))
        recorded_us = to_micros(e.recorded_at)
        if e.version != version + 1:
            raise ImportConflict(f"{_named(e)}: expected stream version {version + 1}")
        if recorded_us < recorded:
            raise ImportConflict(f"{_named(e)}: recorded_at goes back within the stream")
        heads[e.stream] = (e.version, recorded_us)
        last_position = e.position
        rows.append((e.position, e.event_id.bytes, e.stream, e.version, e.data.__struct_config__.tag,
                     to_micros(e.occurred_at), recorded_us, _uuid_bytes(e.correlation_id),
                     _uuid_bytes(e.causation_id), e.source, _sealed_for_import(db, keys, e)))
        if len(rows) >= batch_size:
            count += _insert_imported(conn, rows)
            rows = []
    if rows:
        count += _insert_imported(conn, rows)
    conn.execute(
        "INSERT INTO streams (stream, version, last_position, last_recorded_at) "
        "SELECT stream, max(version), max(position), max(recorded_at) FROM events GROUP BY stream")
    return count


def _sealed_for_import(db, keys: dict[str, bytes], e: Envelope) -> bytes:
    athlete = sealing.athlete_of(e.stream)
    if athlete not in keys:
        keys[athlete] = tenancy_sql.admit(db, e.stream, None, from_micros(0).isoformat())
    return sealing.seal(keys[athlete], encode_payload(e.data), sealing.event_aad(e.event_id.bytes, e.stream))


def _named(e: Envelope) -> str:
    return f"event {e.event_id} (position {e.position}, stream {e.stream!r}, version {e.version})"


def _insert_imported(conn: sqlite3.Connection, rows: list[tuple]) -> int:
    try:
        conn.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    except sqlite3.IntegrityError as exc:
        for r in rows:  # the failing row: its id is stored already, at another position
            stored = conn.execute("SELECT position FROM events WHERE event_id = ?", (r[1],)).fetchone()
            if stored is not None and stored[0] != r[0]:
                raise ImportConflict(f"event {uuid.UUID(bytes=r[1])} (position {r[0]}) repeats the event id "
                                     f"of position {stored[0]}") from None
        raise ImportConflict(f"the log breaks a store constraint: {exc}") from None
    return len(rows)


def _batch_instant(now_us: int, last_recorded_us: int) -> int:
    """A batch's recorded_at: the clock, but strictly after the stream's previous batch, so that
    consecutive batches never share an instant (a batch is one decision point: engine.decisions)."""
    return max(now_us, last_recorded_us + 1) if last_recorded_us else now_us
