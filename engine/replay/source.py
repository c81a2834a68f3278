"""Where a replay reads from: a store URL, or an exported log (JSONL/Parquet).

An exported log is first streamed into a scratch SQLite file (``import_envelopes``), so every worker
process can read its athletes' streams by key; nothing is ever loaded whole.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.clock import to_micros
from engine.replay.errors import ReplayError
from engine.replay.logio import import_log, is_log_file
from engine.store.base import EventStore
from engine.store.factory import open_store
from events import Envelope
from events.envelope import is_recommendation_stream

READ_CHUNK = 2000


@dataclass
class Source:
    """An opened replay source: the URL workers open, and the scratch dir to remove after."""

    url: str
    scratch: Path | None = None
    description: str = ""

    def open(self) -> EventStore:
        return open_store(self.url)

    def close(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def open_source(source: str | Path, progress=None) -> Source:
    """A store URL or path as is; an exported log imported into a scratch SQLite file."""
    text = str(source)
    if not is_log_file(text):
        if Path(text).suffix.lower() in (".jsonl", ".ndjson", ".parquet", ".pq"):
            raise ReplayError(f"{text}: no such exported log")
        from engine.store.factory import backend_of, resolve_url, sqlite_target

        if backend_of(text) == "sqlite":
            path, _ = sqlite_target(resolve_url(text))
            if path == ":memory:" or not Path(path).is_file():
                raise ReplayError(f"{text}: no such SQLite store (replay reads an existing file)")
        return Source(text, None, text)
    from engine.store.sqlite import SQLiteEventStore

    scratch = Path(tempfile.mkdtemp(prefix="strideline-replay-"))
    path = scratch / "log.sqlite3"
    store = SQLiteEventStore(path, synchronous="OFF")
    try:
        import_log(store, text, progress=progress)
    except BaseException:
        store.close()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    store.close()
    return Source(str(path), scratch, text)


def athlete_streams(store: EventStore) -> list[tuple[str, int]]:
    """(athlete, stream version) of every athlete stream, sorted by athlete id."""
    return sorted((h.stream, h.version) for h in store.stream_heads() if not is_recommendation_stream(h.stream))


def last_recorded_at(store: EventStore) -> dt.datetime | None:
    """The latest ``recorded_at`` in the whole log (athlete and recommendation streams)."""
    latest = None
    for head in store.stream_heads():
        last = store.read_stream(head.stream, head.version, 1)
        if last and (latest is None or last[0].recorded_at > latest):
            latest = last[0].recorded_at
    return latest


def read_athlete(store: EventStore, athlete_id: str, horizon: dt.datetime, chunk: int = READ_CHUNK) -> Iterator[Envelope]:
    """The athlete's events recorded by ``horizon``, in version order, a chunk at a time.

    ``recorded_at`` never goes back within a stream, so the first later event ends the read."""
    horizon_us = to_micros(horizon)
    version = 1
    while True:
        batch = store.read_stream(athlete_id, version, chunk)
        for envelope in batch:
            if to_micros(envelope.recorded_at) > horizon_us:
                return
            yield envelope
        if len(batch) < chunk:
            return
        version = batch[-1].version + 1
