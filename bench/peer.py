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

import datetime as dt
import multiprocessing as mp
import time
import uuid
from typing import Any

import msgspec

from events import NewEvent

NAMESPACE = uuid.UUID("0e7f3a52-4b8e-4d59-a0f2-7d6f3c8e9b11")


def available() -> bool:
    try:
        import eventsourcing  # noqa: F401
    except ImportError:
        return False
    return True


def _classes():
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate

    class PeerAthlete(Aggregate):
        class Enrolled(Aggregate.Created):
            athlete_id: str
            occurred_at: dt.datetime
            data: dict

        class Logged(Aggregate.Event):
            event_type: str
            occurred_at: dt.datetime
            data: dict

            def apply(self, aggregate: Any) -> None:
                aggregate.events += 1
                aggregate.last[self.event_type] = self.data

        def __init__(self, athlete_id: str, occurred_at: dt.datetime, data: dict) -> None:
            self.athlete_id = athlete_id
            self.events = 1
            self.last = {"athlete.enrolled": data}

        @staticmethod
        def create_id(athlete_id: str, **_: Any) -> uuid.UUID:
            return uuid.uuid5(NAMESPACE, athlete_id)

        def log(self, event: NewEvent) -> None:
            self.trigger_event(PeerAthlete.Logged, event_type=event.data.__struct_config__.tag,
                               occurred_at=event.occurred_at, data=msgspec.to_builtins(event.data))

    class PeerApp(Application):
        pass

    return PeerApp, PeerAthlete


_cache: dict[str, Any] = {}


def _types():
    if not _cache:
        _cache["app"], _cache["aggregate"] = _classes()
    return _cache["app"], _cache["aggregate"]


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
    n, began = 0, time.perf_counter()
    for athlete_id, events in per_athlete.items():
        agg = _new(athlete_id, events[0])
        app.save(agg)
        for event in events[1:]:
            agg.log(event)
            app.save(agg)
        n += len(events)
    seconds = time.perf_counter() - began
    info = durability(app)
    app.close()
    return {"events": n, "seconds": round(seconds, 3), "events_per_s": round(n / seconds), **info}


def append_batched(path: str, per_athlete: dict[str, list[NewEvent]], batch: int = 1000) -> dict:
    """Every event of an athlete (up to ``batch``) triggered, then one ``save``."""
    app = open_app(path)
    n, began = 0, time.perf_counter()
    for athlete_id, events in per_athlete.items():
        agg = _new(athlete_id, events[0])
        for i, event in enumerate(events[1:], start=2):
            agg.log(event)
            if i % batch == 0:
                app.save(agg)
        app.save(agg)
        n += len(events)
    seconds = time.perf_counter() - began
    app.close()
    return {"events": n, "seconds": round(seconds, 3), "events_per_s": round(n / seconds)}


def load(path: str, per_athlete: dict[str, list[NewEvent]]) -> None:
    """Fill a peer store for the rebuild benchmark (batched saves; not measured)."""
    append_batched(path, per_athlete)


def _rebuild(args: tuple[str, list[str]]) -> tuple[int, float]:
    path, athletes = args
    app = open_app(path)
    _, aggregate_type = _types()
    n, began = 0, time.perf_counter()
    for athlete_id in athletes:
        agg = app.repository.get(aggregate_type.create_id(athlete_id))
        n += agg.events
    seconds = time.perf_counter() - began
    app.close()
    return n, seconds


def rebuild(path: str, athletes: list[str], processes: int = 1) -> dict:
    """``repository.get`` of every athlete aggregate: read, decode, reconstruct, apply."""
    parts = [(path, athletes[i::processes]) for i in range(processes)]
    began = time.perf_counter()
    if processes == 1:
        results = [_rebuild(parts[0])]
    else:
        with mp.get_context("fork").Pool(processes) as pool:
            results = pool.map(_rebuild, parts)
    seconds = time.perf_counter() - began
    n = sum(r[0] for r in results)
    return {"processes": processes, "events": n, "seconds": round(seconds, 3),
            "events_per_s": round(n / seconds)}
