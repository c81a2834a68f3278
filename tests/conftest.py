"""Shared fixtures. Real servers only: Redis and PostgreSQL tests skip with a reason outside CI
when none is reachable, and fail under CI=true (as dramatiq's own conftest does)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from urllib.parse import urlparse

import pytest

from engine.clock import ManualClock
from engine.store import SQLiteEventStore

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("STRIDELINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("STRIDELINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)  # a Monday


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), 1):
            return True
    except OSError:
        return False


def require_server(url: str, default_port: int, what: str) -> str:
    if _reachable(url, default_port):
        return url
    message = f"{what} is not reachable at {url}; the README's test command starts one"
    if IN_CI:
        pytest.fail(message + " (CI=true: these tests must run)")
    pytest.skip(message)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store(tmp_path, clock) -> SQLiteEventStore:
    s = SQLiteEventStore(tmp_path / "events.sqlite3", clock=clock)
    yield s
    s.close()


@pytest.fixture
def redis_url() -> str:
    return require_server(REDIS_URL, 6379, "Redis")


@pytest.fixture
def postgres_url() -> str:
    return require_server(POSTGRES_URL, 5432, "PostgreSQL")
