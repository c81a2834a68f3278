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
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path


from engine.clock import Clock, SystemClock, from_micros, to_micros
from engine.store import sealing, sqlite_schema
from engine.store import session as tenancy_sql
from engine.store.actor import current_actor
from engine.store.sqlite_append import COLUMNS as _COLUMNS, SQLiteAppends
from engine.store.sqlite_import import ImportConflict, import_locked
from engine.store.base import (
    first_repeat,
    IdempotencyConflict,
    ProjectionCommit,
    ProjectionRecord,
    StreamHead,
)
from events import Envelope, NewEvent
from events.codec import decode_payload, encode_payload


DEFAULT_PATH = Path("var/strideline.sqlite3")
__all__ = ["DEFAULT_PATH", "ImportConflict", "SQLiteEventStore", "row_to_envelope"]


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


class SQLiteEventStore(SQLiteAppends):
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
        ``engine.store.sqlite_append``); each caller still gets its own result or its own error."""
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
        self._init_appends(group_commit)
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
    # The saved state (a snapshot, ``projections``) and the checkpoint (``checkpoints``, narrow) are
    # two tables: a checkpoint may run ahead of the snapshot, and reading checkpoints never walks a
    # state blob's overflow pages.

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
        return self.commit_projection(athlete_id, name, checkpoint, expected_checkpoint, state).saved

    def commit_projection(
        self, athlete_id: str, name: str, checkpoint: int, expected_checkpoint: int | None,
        state: bytes | None = None, output_stream: str | None = None, outputs: Sequence[NewEvent] = (),
        expected_revision: int | None = None,
    ) -> ProjectionCommit:
        conn = self._conn()
        if state:
            state = tenancy_sql.sealed_projection(tenancy_sql.SqlSession(conn, "sqlite"), athlete_id, name, state)
            if state is None:
                return ProjectionCommit(False)  # an erased athlete's state is never written again
        if outputs:
            ids = [e.event_id or uuid.uuid4() for e in outputs]
            if len(set(ids)) != len(ids):
                raise IdempotencyConflict(first_repeat(ids), "twice in the same batch")
            payloads = [encode_payload(e.data) for e in outputs]
            occurred = [to_micros(e.occurred_at) for e in outputs]
        heads: dict[str, tuple] = {}
        with self._write_turn():
            conn.execute("BEGIN IMMEDIATE")
            try:
                appended = None
                if outputs:
                    appended = self._append_locked(conn, output_stream, outputs, ids, payloads, occurred,
                                                   None, current_actor(), heads=heads)
                revision = tenancy_sql.move_checkpoint(tenancy_sql.SqlSession(conn, "sqlite"), athlete_id, name,
                                                       checkpoint, expected_checkpoint, expected_revision)
                if revision is None:
                    conn.execute("ROLLBACK")
                    return ProjectionCommit(False)
                if state is not None:
                    conn.execute(
                        "INSERT INTO projections (athlete, name, state, checkpoint) VALUES (?,?,?,?) "
                        "ON CONFLICT (athlete, name) DO UPDATE SET state = excluded.state, "
                        "checkpoint = excluded.checkpoint",
                        (athlete_id, name, state, checkpoint),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._remember_heads(heads)
        return ProjectionCommit(True, appended, revision)

    def projection_checkpoint(self, athlete_id: str, name: str) -> tuple[int, int] | None:
        row = self._conn().execute(
            "SELECT checkpoint, revision FROM checkpoints WHERE name = ? AND athlete = ?", (name, athlete_id)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def projection_checkpoints(self, name: str) -> dict[str, int]:
        rows = self._conn().execute(
            "SELECT athlete, checkpoint FROM checkpoints WHERE name = ?", (name,)
        ).fetchall()
        return dict(rows)

    def delete_projections(self, name: str, athlete_id: str | None = None) -> None:
        """Drop saved projection state and checkpoints (a rebuild starts from scratch). Events are untouched."""
        where, args = ("name = ?", (name,)) if athlete_id is None else ("name = ? AND athlete = ?",
                                                                       (name, athlete_id))
        with self.sql_transaction() as db:
            db.run(f"DELETE FROM projections WHERE {where}", args)
            db.run(f"DELETE FROM checkpoints WHERE {where}", args)

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
            count = import_locked(conn, envelopes, batch_size)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return count


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only (SQLite gives its WAL the same mode)."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass



def _open_rows(rows: list[tuple], keys: dict[str, bytes]) -> Iterator[tuple]:
    """Rows with their payloads opened; rows of an athlete whose key is gone (erased) are dropped."""
    return sealing.open_rows(rows, keys)
