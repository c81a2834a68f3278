"""The peer: the Python ``eventsourcing`` library (9.x) on the same events.

Each athlete is one aggregate; its first event (athlete.enrolled) is the aggregate's created event
and every later event is a ``Logged`` event carrying the same payload (msgspec builtins: the event's
fields as JSON-able values) and its ``occurred_at``. Persistence is the library's own SQLite module
(``PERSISTENCE_MODULE=eventsourcing.sqlite``, ``SQLITE_DBNAME``): WAL journal and SQLite's default
``synchronous=FULL`` (the module sets no synchronous pragma; we check it). The aggregate's ``apply``
does the least work possible (count, keep the last payload per type), so the rebuild figure is the
library's read + decode + reconstruct cost: the peer's best case.

Install: ``.venv/bin/pip install -e '.[bench]'`` (the bench extra; never a runtime dependency).
"""

from __future__ import annotations

import multiprocessing as mp
import time

import msgspec

from bench.data import Stopwatch
from events import NewEvent


def available() -> bool:
    try:
        import eventsourcing  # noqa: F401
    except ImportError:
        return False
    return True


def _types():
    """The peer's application and aggregate classes (module level in bench.peer_model, imported
    here so that Strideline's own benchmarks run without the bench extra installed)."""
    from bench.peer_model import PeerApp, PeerAthlete

    return PeerApp, PeerAthlete


def open_app(path: str):
    app_type, _ = _types()
    return app_type(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path})


def durability(app) -> dict:
    """The pragmas the peer's connections actually run with."""
    pool = app.factory.datastore.pool
    conn = pool.get_connection(is_writer=False)
    try:
        raw = conn._sqlite_conn
        return {"journal_mode": raw.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                    raw.execute("PRAGMA synchronous").fetchone()[0]]}
    finally:
        pool.put_connection(conn)


def _new(athlete_id: str, event: NewEvent):
    _, aggregate_type = _types()
    return aggregate_type(athlete_id=athlete_id, occurred_at=event.occurred_at,
                          data=msgspec.to_builtins(event.data))


def append_single(path: str, per_athlete: dict[str, list[NewEvent]]) -> dict:
    """One event per ``save``: one transaction (and one fsync) per event."""
    app = open_app(path)
    n, clock = 0, Stopwatch()
    for athlete_id, events in per_athlete.items():
        agg = _new(athlete_id, events[0])
        app.save(agg)
        for event in events[1:]:
            agg.log(event)
            app.save(agg)
        n += len(events)
    figures = clock.figures(n)
    info = durability(app)
    app.close()
    return figures | info


def append_batched(path: str, per_athlete: dict[str, list[NewEvent]], batch: int = 1000) -> dict:
    """Every event of an athlete (up to ``batch``) triggered, then one ``save``."""
    app = open_app(path)
    n, clock = 0, Stopwatch()
    for athlete_id, events in per_athlete.items():
        agg = _new(athlete_id, events[0])
        for i, event in enumerate(events[1:], start=2):
            agg.log(event)
            if i % batch == 0:
                app.save(agg)
        app.save(agg)
        n += len(events)
    figures = clock.figures(n)
    app.close()
    return figures


def load(path: str, per_athlete: dict[str, list[NewEvent]]) -> None:
    """Fill a peer store for the rebuild benchmark (batched saves; not measured)."""
    append_batched(path, per_athlete)


def _rebuild(args: tuple[str, list[str]]) -> tuple[int, float, float]:
    path, athletes = args
    app = open_app(path)
    _, aggregate_type = _types()
    n, began, cpu = 0, time.perf_counter(), time.process_time()
    for athlete_id in athletes:
        agg = app.repository.get(aggregate_type.create_id(athlete_id))
        n += agg.events
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    app.close()
    return n, seconds, cpu


def rebuild(path: str, athletes: list[str], processes: int = 1) -> dict:
    """``repository.get`` of every athlete aggregate: read, decode, reconstruct, apply."""
    parts = [(path, athletes[i::processes]) for i in range(processes)]
    _types()  # import (and register the topics of) the peer's classes once, before forking
    began = time.perf_counter()
    if processes == 1:
        results = [_rebuild(parts[0])]
    else:
        with mp.get_context("fork").Pool(processes) as pool:
            results = pool.map(_rebuild, parts)
    seconds = time.perf_counter() - began
    n, cpu = sum(r[0] for r in results), sum(r[2] for r in results)
    return {"processes": processes, "events": n, "seconds": round(seconds, 3),
            "events_per_s": round(n / seconds), "cpu_s": round(cpu, 3), "events_per_cpu_s": round(n / cpu)}
