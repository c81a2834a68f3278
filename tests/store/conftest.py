"""Store fixtures: every test in this folder runs on both backends, SQLite (a temp file) and real
PostgreSQL (a fresh schema per test, dropped after). ``store`` overrides the SQLite-only root one."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from engine.store.factory import open_store, sqlite_target
from events import Context, NewEvent, PainReported, SleepLogged

T0 = dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'events.sqlite3'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url: str, clock):
    s = open_store(store_url, clock, migrate=True)
    yield s
    s.close()


@pytest.fixture
def raw_sql(backend: str, store_url: str) -> Callable[[str], None]:
    """Run one statement on a separate plain connection, as any other client could; the
    backend's refusal is raised as a RuntimeError carrying the database's message."""

    def run(statement: str) -> None:
        try:
            if backend == "sqlite":
                conn = sqlite3.connect(sqlite_target(store_url)[0], isolation_level=None)
                try:
                    conn.execute(statement)
                finally:
                    conn.close()
            else:
                with psycopg.connect(store_url, autocommit=True) as conn:
                    conn.execute(statement)
        except (sqlite3.Error, psycopg.Error) as exc:
            raise RuntimeError(str(exc)) from None

    return run


@pytest.fixture
def snapshot(backend: str, store_url: str, store) -> Callable[[], object]:
    """The store's whole persistent state: the bytes of the database file and its WAL (SQLite), or
    every row of every table in the test's schema, in a canonical order (PostgreSQL)."""

    def sqlite_bytes() -> dict[str, bytes]:
        path = Path(sqlite_target(store_url)[0])
        return {p.name: p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()}

    def postgres_dump() -> dict[str, list[str]]:
        with psycopg.connect(store_url, autocommit=True) as conn:
            tables = [t for (t,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
            )]
            return {t: [r for (r,) in conn.execute(
                f'SELECT row_to_json(t)::text FROM "{t}" t ORDER BY 1')] for t in tables}

    return sqlite_bytes if backend == "sqlite" else postgres_dump


@pytest.fixture
def sleep() -> Callable[..., NewEvent]:
    """A client event (sleep.logged) with an optional id, hours and occurrence time."""

    def make(hours: float = 7.5, *, event_id: uuid.UUID | None = None, at: dt.datetime = T0,
             **envelope) -> NewEvent:
        return NewEvent(data=SleepLogged(hours=hours), occurred_at=at, event_id=event_id, **envelope)

    return make


@pytest.fixture
def pain() -> Callable[..., NewEvent]:
    def make(score: int = 2, *, event_id: uuid.UUID | None = None, at: dt.datetime = T0) -> NewEvent:
        return NewEvent(data=PainReported(score=score, context=Context.AFTER), occurred_at=at,
                        event_id=event_id)

    return make
