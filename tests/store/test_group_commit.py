"""Group commit on the SQLite store: concurrent appends share one transaction, each caller keeps
its own result or its own error. (SQLite only: ``group_commit=True`` is a SQLite store option.)"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.clock import ManualClock
from engine.store import IdempotencyConflict, VersionConflict
from engine.store.sqlite import SQLiteEventStore
from events import Context, NewEvent, PainReported

T0 = dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.timezone.utc)
WAIT = 10.0


def pain(score: int = 1, event_id: uuid.UUID | None = None) -> NewEvent:
    return NewEvent(data=PainReported(score=score, context=Context.REST), occurred_at=T0, event_id=event_id)


class GateClock(ManualClock):
    """A clock whose first reading blocks until the test opens the gate: it holds the group
    leader inside its transaction, so the appends that arrive meanwhile queue into one group."""

    def __init__(self) -> None:
        super().__init__(T0)
        self.inside = threading.Event()
        self.gate = threading.Event()
        self._first = True

    def now(self) -> dt.datetime:
        if self._first:
            self._first = False
            self.inside.set()
            assert self.gate.wait(WAIT), "the test never opened the gate"
        return super().now()


@pytest.fixture
def gated(tmp_path):
    clock = GateClock()
    store = SQLiteEventStore(tmp_path / "events.sqlite3", clock=clock, group_commit=True)
    yield store, clock
    store.close()


def queued(store: SQLiteEventStore, count: int) -> None:
    """Wait until ``count`` appends are queued behind the leader (an observable condition)."""
    done = threading.Event()
    for _ in range(int(WAIT / 0.001)):
        with store._group_lock:
            if len(store._group_queue) >= count:
                return
        done.wait(0.001)
    raise AssertionError(f"{count} appends never queued")


def run_grouped(store, clock, leader, others):
    """Start ``leader``, hold it in its transaction, queue ``others`` behind it, then release."""
    pool = ThreadPoolExecutor(1 + len(others))
    first = pool.submit(leader)
    assert clock.inside.wait(WAIT)
    rest = []
    for task in others:
        rest.append(pool.submit(task))
        queued(store, len(rest))
    clock.gate.set()
    results = []
    for future in [first, *rest]:
        try:
            results.append(future.result(WAIT))
        except Exception as exc:  # collected, asserted by the test
            results.append(exc)
    pool.shutdown()
    return results


def test_a_lone_append_commits_at_once(tmp_path):
    """With no other appender, a group-commit store appends like the plain one."""
    store = SQLiteEventStore(tmp_path / "e.sqlite3", clock=ManualClock(T0), group_commit=True)
    result = store.append("ath-1", [pain(), pain(2)])
    assert [(e.version, e.position) for e in result.events] == [(1, 1), (2, 2)]
    assert [e.data.score for e in store.read_stream("ath-1")] == [1, 2]
    store.close()


def test_queued_appends_commit_together_each_with_its_own_result(gated):
    """Appends queued behind the leader land in one group, each caller told where its events went."""
    store, clock = gated
    results = run_grouped(store, clock, lambda: store.append("ath-0", [pain()]),
                          [lambda i=i: store.append(f"ath-{i}", [pain(i), pain(i)]) for i in range(1, 4)])
    assert all(not isinstance(r, Exception) for r in results), results
    positions = sorted(e.position for r in results for e in r.events)
    assert positions == list(range(1, 8))
    for i, result in enumerate(results):
        assert result.stream == f"ath-{i}"
        stored = store.read_stream(f"ath-{i}")
        assert [(e.version, e.position) for e in stored] == [(e.version, e.position) for e in result.events]


def test_a_version_conflict_fails_only_its_own_batch(gated):
    """In one group, the batch expecting a wrong version is refused; the batches around it are stored."""
    store, clock = gated
    store_append = store.append
    results = run_grouped(store, clock, lambda: store_append("ath-a", [pain()]), [
        lambda: store_append("ath-b", [pain()]),
        lambda: store_append("ath-a", [pain(5)], expected_version=7),
        lambda: store_append("ath-c", [pain()]),
    ])
    leader, before, conflict, after = results
    assert isinstance(conflict, VersionConflict) and conflict.actual == 1
    assert [e.data.score for e in store.read_stream("ath-a")] == [1]
    assert store.stream_version("ath-b") == 1 and store.stream_version("ath-c") == 1
    assert sorted(r.last_position for r in (leader, before, after)) == [1, 2, 3]
    assert store.last_position() == 3


def test_an_idempotency_conflict_fails_only_its_own_batch(gated):
    """An event id reused with another payload in the same group is refused alone."""
    store, clock = gated
    shared = uuid.uuid4()
    results = run_grouped(store, clock, lambda: store.append("ath-a", [pain(1, shared)]), [
        lambda: store.append("ath-a", [pain(9, shared)]),
        lambda: store.append("ath-b", [pain()]),
    ])
    assert isinstance(results[1], IdempotencyConflict)
    assert not isinstance(results[2], Exception) and results[2].last_position == 2
    assert [e.data.score for e in store.read_stream("ath-a")] == [1]


def test_a_retried_batch_in_the_same_group_is_deduplicated(gated):
    """The same batch twice in one group stores its events once; the retry is told so."""
    store, clock = gated
    ids = [uuid.uuid4(), uuid.uuid4()]
    batch = [pain(1, ids[0]), pain(2, ids[1])]
    first, retry = run_grouped(store, clock, lambda: store.append("ath-a", batch),
                               [lambda: store.append("ath-a", batch)])
    assert not first.deduplicated and retry.deduplicated
    assert retry.events == first.events
    assert store.stream_version("ath-a") == 2 and store.last_position() == 2


def test_a_resent_superset_in_the_same_group_stores_only_its_new_events(gated):
    """Given a batch and, in the same group, that batch re-sent with one new event, then the new
    event is written once after the first batch and the superset is told which were stored."""
    store, clock = gated
    ids = [uuid.uuid4(), uuid.uuid4()]
    first, superset = run_grouped(store, clock, lambda: store.append("ath-a", [pain(1, ids[0])]),
                                  [lambda: store.append("ath-a", [pain(1, ids[0]), pain(2, ids[1])])])
    assert superset.duplicates == frozenset({0}) and superset.events[0] == first.events[0]
    assert superset.events[1].version == 2
    assert [e.data.score for e in store.read_stream("ath-a")] == [1, 2]


def test_racing_group_appends_leave_no_gaps(tmp_path):
    """Eight threads appending version-checked single events: every stream and the log stay gapless."""
    store = SQLiteEventStore(tmp_path / "e.sqlite3", clock=ManualClock(T0), group_commit=True)
    gate = threading.Barrier(8)

    def writer(i: int) -> int:
        gate.wait()
        for version in range(50):
            store.append(f"ath-{i}", [pain()], expected_version=version)
        return i

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(writer, range(8))) == list(range(8))
    positions = [e.position for e in store.iter_all()]
    assert positions == list(range(1, 401))
    for i in range(8):
        assert [e.version for e in store.read_stream(f"ath-{i}")] == list(range(1, 51))
    store.close()


def test_organisations_are_checked_per_batch_within_one_group(gated):
    """Given a group where one organisation's key registers a new athlete and, behind it, another
    organisation's key appends for that same athlete, then the second batch is refused as not
    visible (the athletes rows are read once per group and kept current), the first is stored."""
    from engine.store.base import AthleteNotVisible
    from engine.store.actor import Actor, acting_as

    store, clock = gated

    def as_org(org: str, stream: str):
        def append():
            with acting_as(Actor(key_id=f"k-{org}", org_id=org)):
                return store.append(stream, [pain()])
        return append

    leader, same_org, rival = run_grouped(store, clock, as_org("acme", "ath-x"),
                                          [as_org("acme", "ath-new"), as_org("rival", "ath-new")])
    assert not isinstance(leader, Exception) and not isinstance(same_org, Exception)
    assert isinstance(rival, AthleteNotVisible)
    assert [e.version for e in store.read_stream("ath-new")] == [1]
