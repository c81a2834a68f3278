"""PostgreSQL's answer to the gap problem, shown step by step: an append cannot take a position
while an earlier append is still uncommitted, so readers only ever see a gap-free prefix."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from engine.store.postgres import PostgresEventStore
from events import SleepLogged
from events.codec import encode_payload

pytestmark = pytest.mark.postgres


def wait_until_blocked_by(url: str, blocker_pid: int, timeout: float = 10.0) -> None:
    """Poll pg_stat_activity until some session waits on a lock held by ``blocker_pid``."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            (waiting,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                (blocker_pid,),
            ).fetchone()
            if waiting:
                return
    raise AssertionError("no session ever waited for the in-flight append")


@pytest.fixture
def pg_store(pg_schema_url, clock):
    store = PostgresEventStore(pg_schema_url, clock=clock, migrate=True)
    yield store
    store.close()


@pytest.mark.parametrize("in_flight_ends", ["commit", "rollback"])
def test_append_waits_for_an_in_flight_append_before_taking_a_position(
    pg_store, pg_schema_url, sleep, in_flight_ends
):
    """While an append holding position 2 is uncommitted, a second append waits and readers see
    only position 1; after it ends, the second append takes the next position, with no hole."""
    pg_store.append("a", [sleep()])
    in_flight = psycopg.connect(pg_schema_url)  # a transaction, like a store append mid-way
    try:
        in_flight.execute("UPDATE log_head SET position = position + 1")
        in_flight.execute(
            "INSERT INTO events (position, event_id, stream, version, type, occurred_at, "
            "recorded_at, payload) VALUES (2, gen_random_uuid(), 'b', 1, 'sleep.logged', now(), "
            "now(), %s)",
            (encode_payload(SleepLogged(hours=6.0)),),
        )
        results = []
        appender = threading.Thread(target=lambda: results.append(pg_store.append("c", [sleep()])))
        appender.start()
        wait_until_blocked_by(pg_schema_url, in_flight.info.backend_pid)

        assert results == []
        assert [e.position for e in pg_store.iter_all()] == [1]
        getattr(in_flight, in_flight_ends)()
        appender.join()
    finally:
        in_flight.close()
    expected = 3 if in_flight_ends == "commit" else 2
    assert results[0].last_position == expected
    assert [e.position for e in pg_store.iter_all()] == list(range(1, expected + 1))
