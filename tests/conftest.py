"""Shared fixtures. Real servers only: Redis and PostgreSQL tests skip with a reason outside CI
when none is reachable, and fail under CI=true (as dramatiq's own conftest does)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import redis

from engine.clock import ManualClock
from engine.store import SQLiteEventStore

sys.path.insert(0, str(Path(__file__).parent))  # tests/ports.py, shared by the suites' support modules

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


def with_search_path(url: str, schema: str) -> str:
    """The libpq URL with ``search_path`` set to ``schema`` (a test's private schema)."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new empty schema, dropped after the test."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield with_search_path(postgres_url, schema)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[str]:
    """The test Redis database, empty before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()
