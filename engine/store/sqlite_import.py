"""``SQLiteEventStore.import_envelopes``: an exported log back into an empty SQLite file, with its
event ids, streams, versions, positions and times unchanged (replay's ``strideline import``,
docs/replay.md). Every invariant the append path keeps is checked; a refusal writes nothing."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable

from engine.clock import from_micros, to_micros
from engine.store import sealing
from engine.store import session as tenancy_sql
from engine.store.base import StoreError
from engine.store.sqlite_append import COLUMNS, uuid_bytes
from events import Envelope
from events.codec import encode_payload

class ImportConflict(StoreError):
    """An import was refused: the store is not empty, or the log breaks the store's invariants."""


def import_locked(conn: sqlite3.Connection, envelopes: Iterable[Envelope], batch_size: int) -> int:
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
                     to_micros(e.occurred_at), recorded_us, uuid_bytes(e.correlation_id),
                     uuid_bytes(e.causation_id), e.source, _sealed_for_import(db, keys, e)))
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
        conn.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    except sqlite3.IntegrityError as exc:
        for r in rows:  # the failing row: its id is stored already, at another position
            stored = conn.execute("SELECT position FROM events WHERE event_id = ?", (r[1],)).fetchone()
            if stored is not None and stored[0] != r[0]:
                raise ImportConflict(f"event {uuid.UUID(bytes=r[1])} (position {r[0]}) repeats the event id "
                                     f"of position {stored[0]}") from None
        raise ImportConflict(f"the log breaks a store constraint: {exc}") from None
    return len(rows)
