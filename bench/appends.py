"""Strideline's append figures, through the Python API (``Ingestor.append``), durable by default.

The store runs WAL with ``synchronous=FULL`` (its default, the same as the peer's): every commit
fsyncs the WAL before the call returns.
"""

from __future__ import annotations

import threading
import time

from bench.data import Stopwatch
from engine.ingest import Ingestor
from engine.store.sqlite import SQLiteEventStore
from events import NewEvent


def _durability(store: SQLiteEventStore) -> dict:
    conn = store._conn()
    return {"journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
            "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                conn.execute("PRAGMA synchronous").fetchone()[0]]}


def append_single(path: str, per_athlete: dict[str, list[NewEvent]], **store_options) -> dict:
    """One event per ``Ingestor.append`` call: one transaction and one fsync each."""
    store = SQLiteEventStore(path, **store_options)
    ingest = Ingestor(store)
    n, clock = 0, Stopwatch()
    for athlete_id, events in per_athlete.items():
        for event in events:
            ingest.append(athlete_id, [event])
        n += len(events)
    figures = clock.figures(n)
    info = _durability(store)
    store.close()
    return figures | info


def append_batched(path: str, per_athlete: dict[str, list[NewEvent]], batch: int = 1000,
                   **store_options) -> dict:
    """Each athlete's events in batches of up to ``batch`` (the API's limit is 1,000)."""
    store = SQLiteEventStore(path, **store_options)
    ingest = Ingestor(store)
    n, clock = 0, Stopwatch()
    for athlete_id, events in per_athlete.items():
        for start in range(0, len(events), batch):
            ingest.append(athlete_id, events[start:start + batch])
        n += len(events)
    figures = clock.figures(n)
    store.close()
    return figures


def append_concurrent(path: str, per_athlete: dict[str, list[list[NewEvent]]], clients: int,
                      **store_options) -> dict:
    """``clients`` threads, each appending its athletes' batches one per call (``[[e] for e in
    events]`` for single-event calls; the simulator's submissions for what apps send): many
    clients at once, which is what group commit is for."""
    store = SQLiteEventStore(path, **store_options)
    ingest = Ingestor(store)
    athletes = list(per_athlete)
    shares = [athletes[i::clients] for i in range(clients)]
    errors: list[BaseException] = []
    latencies: list[float] = []
    start = threading.Barrier(clients + 1)

    def client(mine: list[str]) -> None:
        local = []
        start.wait()
        try:
            for athlete_id in mine:
                for batch in per_athlete[athlete_id]:
                    t = time.perf_counter()
                    ingest.append(athlete_id, batch)
                    local.append((time.perf_counter() - t, len(batch)))
        except BaseException as exc:  # reported, not swallowed
            errors.append(exc)
        latencies.extend(local)

    threads = [threading.Thread(target=client, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    start.wait()
    clock = Stopwatch()
    for t in threads:
        t.join()
    figures = clock.figures(sum(size for _, size in latencies))
    store.close()
    if errors:
        raise errors[0]
    latencies.sort()
    calls = len(latencies)
    return figures | {
        "clients": clients, "calls": calls, "calls_per_s": round(calls / figures["seconds"]),
        "p50_ms": round(latencies[calls // 2][0] * 1000, 2),
        "p99_ms": round(latencies[int(calls * 0.99)][0] * 1000, 2)}


def cpu_split(path: str, per_athlete: dict[str, list[NewEvent]], batch: int = 1000) -> dict:
    """Where the CPU of the batched append goes, in microseconds per event (``time.process_time``
    around each part): validation, the store's own Python, SQLite's calls (by statement), the rest
    of ingest. Measuring adds a little to each part; compare runs of the same harness."""
    import collections

    import engine.ingest as ingest_module

    parts: collections.Counter = collections.Counter()

    class TimedConnection:
        def __init__(self, conn) -> None:
            self.conn = conn

        def __getattr__(self, name):
            return getattr(self.conn, name)

        def execute(self, sql, *args):
            started = time.process_time()
            try:
                return self.conn.execute(sql, *args)
            finally:
                parts["sqlite " + " ".join(sql.split()[:1])] += time.process_time() - started

        def executemany(self, sql, *args):
            started = time.process_time()
            try:
                return self.conn.executemany(sql, *args)
            finally:
                parts["sqlite executemany " + sql.split()[2]] += time.process_time() - started

    def timed(name, function):
        def call(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                parts[name] += time.process_time() - started
        return call

    store = SQLiteEventStore(path)
    plain_conn, plain_validated = store._conn, ingest_module._validated
    store._conn = lambda: TimedConnection(plain_conn())  # type: ignore[method-assign]
    ingest_module._validated = timed("validation", plain_validated)
    try:
        ingest = Ingestor(store)
        store.append = timed("store", store.append)  # type: ignore[method-assign]
        n, started = 0, time.process_time()
        for athlete_id, events in per_athlete.items():
            for start in range(0, len(events), batch):
                ingest.append(athlete_id, events[start:start + batch])
            n += len(events)
        total = time.process_time() - started
    finally:
        ingest_module._validated = plain_validated
        store.close()
    sqlite = sum(v for k, v in parts.items() if k.startswith("sqlite"))
    per_event = {"total": total, "validation": parts["validation"], "store, Python": parts["store"] - sqlite,
                 "store, SQLite": sqlite, "ingest, rest": total - parts["store"] - parts["validation"]}
    per_event |= {k: v for k, v in parts.items() if k.startswith("sqlite")}
    return {"events": n, "us_per_event": {k: round(v / n * 1e6, 2) for k, v in per_event.items()}}
