"""PostgreSQL event store (psycopg 3 and its connection pool): the same contract as SQLite.

No skipped events. A reader following the global position (the projector's sweeper, replay, a
notifier) must never pass an event that later commits with a smaller position. Sequences cannot
promise that: two appends take positions 7 and 8, the one holding 8 commits first, a reader sees 8,
moves its checkpoint past 7, and 7 commits a moment later, never to be read. Here every append bumps
a one-row counter (``log_head``) inside its own transaction, as late as possible, and that row lock
is held until commit. Appends therefore take positions one at a time and commit in position order,
so every snapshot a reader can take holds a gap-free prefix ``1..k`` of the log, and a rolled-back
append rolls the counter back too (positions have no holes). The price is that appends are
serialised for the length of their final statement and commit; batches amortise it. docs/store.md
has the reasoning and the alternatives.

Durability: PostgreSQL's default ``synchronous_commit = on``: an append returns only after its commit
record is flushed to disk (and to synchronous standbys, when configured).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, Sequence


import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from engine.clock import Clock, SystemClock, from_micros, to_micros
from engine.store import migrations, sealing
from engine.store import session as tenancy_sql
from engine.store.actor import current_actor
from engine.store.base import (
    AppendResult,
    IdempotencyConflict,
    ProjectionCommit,
    ProjectionRecord,
    StoredEvent,
    StreamHead,
)
from engine.store.base import (  # shared idempotency semantics
    check_expected_version, first_repeat, merged, partition)
from events import Envelope, NewEvent
from events.codec import decode_payload, encode_payload

_COLUMNS = (
    "position, event_id, stream, version, type, occurred_at, recorded_at, "
    "correlation_id, causation_id, source, payload"
)
# iter_raw's rows have the SQLite store's raw shape (ids as 16 bytes, times as epoch microseconds),
# so engine.store.sqlite.row_to_envelope decodes a raw batch from either backend.
_RAW_COLUMNS = (
    "position, uuid_send(event_id), stream, version, type, "
    "(extract(epoch FROM occurred_at) * 1000000)::bigint, "
    "(extract(epoch FROM recorded_at) * 1000000)::bigint, "
    "uuid_send(correlation_id), uuid_send(causation_id), source, payload"
)

# One statement takes the positions, inserts the batch and moves the stream head. It runs after the
# stream's row lock and the checks, so the global counter's lock is held only for this statement and
# the commit.
_APPEND = """
WITH head AS (
    UPDATE log_head SET position = position + %(n)s RETURNING position - %(n)s AS base
), inserted AS (
    INSERT INTO events (position, event_id, stream, version, type, occurred_at, recorded_at,
                        correlation_id, causation_id, source, payload, key_id, org_id)
    SELECT head.base + e.ord, e.event_id, %(stream)s, %(version)s + e.ord, e.type, e.occurred_at,
           %(recorded)s, e.correlation_id, e.causation_id, e.source, e.payload, %(key_id)s, %(org_id)s
    FROM head, unnest(%(ids)s::uuid[], %(types)s::text[], %(occurred)s::timestamptz[],
                      %(correlation)s::uuid[], %(causation)s::uuid[], %(sources)s::text[],
                      %(payloads)s::bytea[])
         WITH ORDINALITY AS e(event_id, type, occurred_at, correlation_id, causation_id, source,
                              payload, ord)
    RETURNING position
)
INSERT INTO streams (stream, version, last_position, last_recorded_at)
SELECT %(stream)s, %(version)s + %(n)s, max(position), %(recorded)s FROM inserted
ON CONFLICT (stream) DO UPDATE SET version = excluded.version,
    last_position = excluded.last_position, last_recorded_at = excluded.last_recorded_at
RETURNING last_position
"""

# A race that the database resolves by aborting one side (two first appends to a new stream, the
# same event id sent to two streams at once): the loser retries and then sees the winner's commit.
_RETRYABLE = (pg_errors.UniqueViolation, pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
_ATTEMPTS = 4
SCRUB_WAIT_S = 10.0
"""How long an erasure waits for older transactions before rewriting the key table."""


def row_to_envelope(row: tuple) -> Envelope:
    """A row of ``_COLUMNS`` (native types from psycopg's binary loaders) to an Envelope."""
    (position, event_id, stream, version, type_, occurred, recorded, corr, caus, source, payload) = row
    return Envelope(
        event_id=event_id,
        stream=stream,
        version=version,
        position=position,
        occurred_at=occurred,
        recorded_at=recorded,
        data=decode_payload(type_, payload),
        correlation_id=corr,
        causation_id=caus,
        source=source,
    )


def _configure(conn: psycopg.Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")


class PostgresEventStore:
    """The EventStore contract on PostgreSQL (thread-safe: a pooled connection per operation)."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        migrate: bool = False,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
    ) -> None:
        """Connects and checks the schema version (``migrate=True`` upgrades it instead)."""
        self.url = url
        self.clock = clock or SystemClock()
        self.erased_skipped = 0
        """Rows of erased athletes that whole-log reads (iter_all, iter_raw) passed over."""
        self._pool = ConnectionPool(
            url, kwargs={"autocommit": True}, min_size=min_size, max_size=max_size,
            configure=_configure, open=False, name="strideline-store",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            with self._pool.connection() as conn:
                if migrate:
                    migrations.upgrade(conn)
                else:
                    migrations.check(conn)
        except BaseException:
            self._pool.close()
            raise

    def close(self) -> None:
        self._pool.close()

    # -- append --------------------------------------------------------------------------------

    def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: int | None = None
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        ids = [e.event_id or uuid.uuid4() for e in events]
        if len(set(ids)) != len(ids):
            raise IdempotencyConflict(first_repeat(ids), "twice in the same batch")
        client_ids = [i for e, i in zip(events, ids) if e.event_id is not None]
        payloads = [encode_payload(e.data) for e in events]
        actor = current_actor()
        with self._pool.connection() as conn:
            for attempt in range(_ATTEMPTS):
                try:
                    with conn.transaction():
                        return self._append_tx(conn, stream, events, ids, client_ids, payloads,
                                               expected_version, actor)
                except _RETRYABLE:
                    if attempt == _ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")

    def _append_tx(self, conn, stream, events, ids, client_ids, payloads, expected_version, actor):
        # 1. The stream's row lock: appends to one stream queue here, not on the global counter.
        head = conn.execute(
            "SELECT version, last_recorded_at FROM streams WHERE stream = %s FOR UPDATE", (stream,)
        ).fetchone()
        version, last_recorded = head if head else (0, None)
        # 2. Tombstone, organisation and the athlete's data key (created on the first append).
        key = tenancy_sql.admit(tenancy_sql.SqlSession(conn, "postgresql"), stream, actor,
                                tenancy_sql.now_iso(self.clock))
        # 3. Idempotency, checked under that lock so a concurrent retry of the same batch is seen;
        #    a re-sent superset writes only its new events.
        existing = {k: sealing.opened_row(k, v, key) for k, v in _existing(conn, client_ids).items()} if client_ids else {}
        split = partition(stream, ids, payloads, [to_micros(e.occurred_at) for e in events], existing)
        if not split.new:
            return merged(stream, split, [])
        if split.stored:
            events, ids, payloads = ([seq[i] for i in split.new] for seq in (events, ids, payloads))
        # 4. Optimistic concurrency.
        check_expected_version(stream, expected_version, version, split)
        # 5. Positions, events and the stream head in one statement, then commit (on exit).
        seal = sealing.sealer(key, stream, len(ids))
        recorded = to_micros(self.clock.now())
        if last_recorded is not None:  # strictly after the previous batch: one instant per batch
            recorded = max(recorded, to_micros(last_recorded) + 1)
        (last_position,) = conn.execute(_APPEND, {
            "n": len(events),
            "stream": stream,
            "version": version,
            "recorded": from_micros(recorded),
            "ids": ids,
            "types": [e.data.__struct_config__.tag for e in events],
            "occurred": [e.occurred_at for e in events],
            "correlation": [e.correlation_id for e in events],
            "causation": [e.causation_id for e in events],
            "sources": [e.source for e in events],
            "payloads": [seal(i.bytes, p) for i, p in zip(ids, payloads)],
            "key_id": None if actor is None else actor.key_id,
            "org_id": None if actor is None else actor.org_id,
        }).fetchone()
        first = last_position - len(events) + 1
        stored = [StoredEvent(event_id, version + 1 + i, first + i) for i, event_id in enumerate(ids)]
        return merged(stream, split, stored)

    # -- reads ---------------------------------------------------------------------------------

    def read_stream(self, stream: str, from_version: int = 1, limit: int | None = None) -> list[Envelope]:
        with self._pool.connection() as conn:
            rows = conn.cursor(binary=True).execute(
                f"SELECT {_COLUMNS} FROM events WHERE stream = %s AND version >= %s "
                "ORDER BY version LIMIT %s",
                (stream, from_version, limit),
            ).fetchall()
            opened = list(_open_rows(rows, _keys_for(conn, rows)))
        return [row_to_envelope(r) for r in opened]

    def stream_version(self, stream: str) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT version FROM streams WHERE stream = %s AND NOT erased",
                               (stream,)).fetchone()
        return row[0] if row else 0

    def iter_all(self, from_position: int = 0, batch_size: int = 1000) -> Iterator[Envelope]:
        """Every event with position > from_position, in global order (keyset pages)."""
        for page in self._page_rows(_COLUMNS, from_position, batch_size, native=True):
            yield from map(row_to_envelope, page)

    def iter_raw(self, from_position: int = 0, batch_size: int = 1000) -> Iterator[list[tuple]]:
        """Raw rows in global order, a batch at a time, shaped as the SQLite store's raw rows."""
        return self._page_rows(_RAW_COLUMNS, from_position, batch_size)

    def _page_rows(self, columns: str, from_position: int, batch_size: int,
                   native: bool = False) -> Iterator[list[tuple]]:
        # Each page is its own short statement on a pooled connection: no transaction stays open
        # while the caller works, and each page's snapshot is a gap-free prefix of the log.
        query = f"SELECT {columns} FROM events WHERE position > %s ORDER BY position LIMIT %s"
        position = from_position
        while True:
            with self._pool.connection() as conn:
                rows = conn.cursor(binary=True).execute(query, (position, batch_size)).fetchall()
                opened = list(_open_rows(rows, _keys_for(conn, rows), native=native))
            if not rows:
                return
            self.erased_skipped += len(rows) - len(opened)
            if opened:
                yield opened
            position = rows[-1][0]

    def stream_heads(self) -> Iterator[StreamHead]:
        """Every stream's head, by stream name, fetched in keyset pages."""
        after = ""
        while True:
            with self._pool.connection() as conn:
                rows = conn.execute(
                    "SELECT stream, version, last_position FROM streams WHERE stream > %s AND NOT erased "
                    "ORDER BY stream LIMIT 1000",
                    (after,),
                ).fetchall()
            if not rows:
                return
            for stream, version, position in rows:
                yield StreamHead(stream, version, position)
            after = rows[-1][0]

    def last_position(self) -> int:
        with self._pool.connection() as conn:
            (position,) = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        return position

    def get_event(self, event_id: uuid.UUID) -> Envelope | None:
        with self._pool.connection() as conn:
            row = conn.cursor(binary=True).execute(
                f"SELECT {_COLUMNS} FROM events WHERE event_id = %s", (event_id,)
            ).fetchone()
            opened = [] if row is None else list(_open_rows([row], _keys_for(conn, [row])))
        return row_to_envelope(opened[0]) if opened else None

    # -- projections ---------------------------------------------------------------------------

    def load_projection(self, athlete_id: str, name: str) -> ProjectionRecord | None:
        with self._pool.connection() as conn:
            row = conn.cursor(binary=True).execute(
                "SELECT state, checkpoint FROM projections WHERE athlete = %s AND name = %s",
                (athlete_id, name),
            ).fetchone()
            if row is None:
                return None
            state = bytes(row[0])
            if sealing.is_sealed(state):
                key, _ = tenancy_sql.projection_key(tenancy_sql.SqlSession(conn, "postgresql"), athlete_id)
                state = sealing.unseal(key, state, sealing.projection_aad(athlete_id, name))
        return None if state is None else ProjectionRecord(state, row[1])

    def save_projection(
        self, athlete_id: str, name: str, state: bytes, checkpoint: int, expected_checkpoint: int | None
    ) -> bool:
        return self.commit_projection(athlete_id, name, checkpoint, expected_checkpoint, state).saved

    def commit_projection(
        self, athlete_id: str, name: str, checkpoint: int, expected_checkpoint: int | None,
        state: bytes | None = None, output_stream: str | None = None, outputs: Sequence[NewEvent] = (),
        expected_revision: int | None = None,
    ) -> ProjectionCommit:
        """The snapshot (``projections``) and the checkpoint (``checkpoints``, narrow) are two
        tables: a checkpoint may run ahead of the snapshot (engine.pipeline)."""
        ids = [e.event_id or uuid.uuid4() for e in outputs]
        if len(set(ids)) != len(ids):
            raise IdempotencyConflict(first_repeat(ids), "twice in the same batch")
        client_ids = [i for e, i in zip(outputs, ids) if e.event_id is not None]
        payloads = [encode_payload(e.data) for e in outputs]
        actor = current_actor()
        with self._pool.connection() as conn:
            if state:
                state = tenancy_sql.sealed_projection(tenancy_sql.SqlSession(conn, "postgresql"), athlete_id,
                                                      name, state)
                if state is None:
                    return ProjectionCommit(False)  # an erased athlete's state is never written again
            for attempt in range(_ATTEMPTS):
                try:
                    with conn.transaction() as tx:
                        appended = None
                        if outputs:
                            appended = self._append_tx(conn, output_stream, list(outputs), ids, client_ids,
                                                       payloads, None, actor)
                        revision = tenancy_sql.move_checkpoint(tenancy_sql.SqlSession(conn, "postgresql"), athlete_id, name,
                                                               checkpoint, expected_checkpoint, expected_revision)
                        if revision is None:
                            raise psycopg.Rollback(tx)
                        if state is not None:
                            conn.execute(
                                "INSERT INTO projections (athlete, name, state, checkpoint) "
                                "VALUES (%s, %s, %s, %s) ON CONFLICT (athlete, name) DO UPDATE "
                                "SET state = excluded.state, checkpoint = excluded.checkpoint",
                                (athlete_id, name, state, checkpoint),
                            )
                        return ProjectionCommit(True, appended, revision)
                    return ProjectionCommit(False)  # rolled back: the checkpoint had moved
                except _RETRYABLE:
                    if attempt == _ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")

    def projection_checkpoint(self, athlete_id: str, name: str) -> tuple[int, int] | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT checkpoint, revision FROM checkpoints WHERE name = %s AND athlete = %s",
                               (name, athlete_id)).fetchone()
        return None if row is None else (row[0], row[1])

    def projection_checkpoints(self, name: str) -> dict[str, int]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT athlete, checkpoint FROM checkpoints WHERE name = %s", (name,)
            ).fetchall()
        return dict(rows)

    def delete_projections(self, name: str, athlete_id: str | None = None) -> None:
        """Drop saved projection state and checkpoints (a rebuild starts from scratch). Events are untouched."""
        where, args = ("name = %s", (name,)) if athlete_id is None else ("name = %s AND athlete = %s",
                                                                          (name, athlete_id))
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(f"DELETE FROM projections WHERE {where}", args)
            conn.execute(f"DELETE FROM checkpoints WHERE {where}", args)


    # -- tenancy and erasure (engine.tenancy runs its statements through these) ------------------

    @contextlib.contextmanager
    def sql_session(self) -> Iterator[tenancy_sql.SqlSession]:
        """A pooled connection in autocommit mode (reads, single statements)."""
        with self._pool.connection() as conn:
            yield tenancy_sql.SqlSession(conn, "postgresql")

    @contextlib.contextmanager
    def sql_transaction(self) -> Iterator[tenancy_sql.SqlSession]:
        with self._pool.connection() as conn, conn.transaction():
            yield tenancy_sql.SqlSession(conn, "postgresql")

    def erase_athlete(self, athlete_id: str, *, by_key: str | None = None) -> tenancy_sql.Erasure:
        """Crypto-shred an athlete (engine.store.session.erase), then vacuum the tables whose rows
        were deleted, so the destroyed key's tuple does not linger in a page."""
        with self.sql_transaction() as db:
            db.one("SELECT 1 FROM streams WHERE stream = ? FOR UPDATE", (athlete_id,))  # no append races it
            result = tenancy_sql.erase(db, athlete_id, by_key=by_key, now=tenancy_sql.now_iso(self.clock))
        self.scrub()
        return result

    def scrub(self, wait_s: float = SCRUB_WAIT_S) -> bool:
        """Rewrite the key table (and vacuum the projections) once no transaction that began before
        now is still open in this database: such a transaction may still see a deleted key, and
        VACUUM keeps what anyone may still see. Waits at most ``wait_s`` for them, and as long for
        the table's lock (a reader still in a transaction on it holds that); False when either was
        still held: the key's tuple then lingers until the next vacuum after they end."""
        with self._pool.connection() as conn:
            deadline = time.monotonic() + wait_s
            (since,) = conn.execute("SELECT clock_timestamp()").fetchone()
            while (older := conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                    "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND xact_start < %s", (since,)).fetchone()[0]) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            rewritten = True
            try:  # a small table, rewritten: no page keeps the key; never blocked for long by a reader
                conn.execute(f"SET lock_timeout = '{max(100, int(wait_s * 1000))}ms'")
                conn.execute("VACUUM (FULL) data_keys")
            except pg_errors.LockNotAvailable:
                rewritten = False
                conn.execute("VACUUM data_keys")  # what a reader permits: the dead tuple's space is freed
            finally:
                conn.execute("RESET lock_timeout")
            conn.execute("VACUUM projections")
        return older == 0 and rewritten




def _keys_for(conn, rows: list[tuple]) -> dict[str, bytes]:
    athletes = list({sealing.athlete_of(r[2]) for r in rows if sealing.is_sealed(bytes(r[10]))})
    if not athletes:
        return {}
    return tenancy_sql.data_keys(tenancy_sql.SqlSession(conn, "postgresql"), athletes)


def _open_rows(rows: list[tuple], keys: dict[str, bytes], native: bool = True) -> Iterator[tuple]:
    """Rows with payloads opened; an erased athlete's rows (key gone) are dropped."""
    return sealing.open_rows(rows, keys, native_ids=native)


def _existing(conn: psycopg.Connection, ids: list[uuid.UUID]) -> dict[bytes, tuple]:
    """Stored events among ``ids``, shaped for the shared idempotency check."""
    rows = conn.cursor(binary=True).execute(
        "SELECT event_id, stream, version, position, occurred_at, payload FROM events "
        "WHERE event_id = ANY(%s)",
        (ids,),
    ).fetchall()
    return {
        event_id.bytes: (stream, version, position, to_micros(occurred), payload)
        for event_id, stream, version, position, occurred, payload in rows
    }
