"""Scale-out fixtures: a fresh migrated PostgreSQL schema, a flushed Redis database, and dramatiq
worker processes started on demand (``Workers`` from tests/workers/workers_support.py)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "workers"))

from workers_support import Workers  # noqa: E402


def with_search_path(url: str, schema: str) -> str:
    """The libpq URL with ``search_path`` set to ``schema``."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new empty schema, dropped after the test."""
    schema = f"scaleout_{uuid.uuid4().hex[:16]}"
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
