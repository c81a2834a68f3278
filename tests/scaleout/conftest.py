"""Scale-out fixtures: a fresh migrated PostgreSQL schema, a flushed Redis database, and dramatiq
worker processes started on demand (``Workers`` from tests/workers/workers_support.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "workers"))

from workers_support import Workers  # noqa: E402


@pytest.fixture
def start_workers(tmp_path) -> Iterator[Callable[..., Workers]]:
    """Start worker processes with an environment; every group is stopped after the test."""
    started: list[Workers] = []

    def start(env: dict[str, str], processes: int = 1, threads: int = 2) -> Workers:
        group = Workers(env, tmp_path / f"workers-{len(started)}.log", processes, threads).start()
        started.append(group)
        return group

    yield start
    for group in started:
        group.terminate()
    for group in started:
        group.stop()
