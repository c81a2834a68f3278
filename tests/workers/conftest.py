"""Worker fixtures: a flushed Redis database, a temp SQLite store (synchronous NORMAL) fed through a
Redis waker, a signed-webhook receiver, and dramatiq worker processes started on demand."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.ingest import Ingestor

sys.path.insert(0, str(Path(__file__).parent))

from workers_support import Receiver, Workers, open_test_store, worker_env  # noqa: E402


@pytest.fixture
def clock() -> ManualClock:
    """Before the simulated cohorts start (2026-01-05): the simulation moves it forward."""
    return ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))


@pytest.fixture
def store_path(tmp_path) -> Path:
    return tmp_path / "events.sqlite3"


@pytest.fixture
def ingest_store(store_path, clock):
    store = open_test_store(store_path, clock)
    yield store
    store.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def start_workers(tmp_path) -> Iterator[Callable[..., Workers]]:
    """Start worker processes with an environment; every group is stopped after the test."""
    started: list[Workers] = []

    def start(env: dict[str, str], processes: int = 1, threads: int = 2, argv: list[str] | None = None) -> Workers:
        group = Workers(env, tmp_path / f"workers-{len(started)}.log", processes, threads, argv).start()
        started.append(group)
        return group

    yield start
    for group in started:
        group.terminate()
    for group in started:
        group.stop()


@pytest.fixture
def env(redis_db, store_path, receiver) -> dict[str, str]:
    return worker_env(redis_db, store_path, receiver.url)


@pytest.fixture
def ingestor(ingest_store, clock: ManualClock, redis_db) -> Ingestor:
    from workers.wakeup import make_waker

    return Ingestor(ingest_store, clock=clock, wake=make_waker(redis_db))
