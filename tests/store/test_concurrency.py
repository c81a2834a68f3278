"""Concurrent writers and readers, on both backends: real threads against one store."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.store import IdempotencyConflict, VersionConflict

WRITERS = 8


def race(workers: int, task) -> list:
    """Run ``task(i)`` in ``workers`` threads released together; return results or exceptions."""
    gate = threading.Barrier(workers)

    def run(i: int):
        gate.wait()
        try:
            return task(i)
        except Exception as exc:  # collected, asserted by the test
            return exc

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, range(workers)))


def test_racing_appends_with_expected_version_win_once_per_version(store, sleep):
    """Rounds of 8 threads all expecting version r-1: each round exactly one wins, seven conflict."""
    for round_ in range(1, 6):
        outcomes = race(WRITERS, lambda i: store.append("shared", [sleep()], expected_version=round_ - 1))
        wins = [o for o in outcomes if not isinstance(o, Exception)]
        conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
        assert len(wins) == 1 and len(conflicts) == WRITERS - 1, outcomes
        assert wins[0].last_version == round_
        assert {(c.expected, c.actual) for c in conflicts} == {(round_ - 1, round_)}
    assert [e.version for e in store.read_stream("shared")] == [1, 2, 3, 4, 5]
    assert store.last_position() == 5


def test_free_running_appenders_never_duplicate_a_version(store, sleep):
    """Threads that read the version then append with it: versions stay 1..N, one event each."""

    def writer(i: int) -> int:
        won = 0
        for _ in range(15):
            try:
                store.append("shared", [sleep()], expected_version=store.stream_version("shared"))
                won += 1
            except VersionConflict:
                pass
        return won

    outcomes = race(WRITERS, writer)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    versions = [e.version for e in store.read_stream("shared")]
    assert versions == list(range(1, sum(outcomes) + 1))
    assert [e.position for e in store.iter_all()] == list(range(1, sum(outcomes) + 1))


def test_concurrent_retries_of_one_batch_store_it_once(store, sleep):
    """The same batch sent by 8 threads at once is stored once; every caller gets its places."""
    batch = [sleep(float(h), event_id=uuid.uuid4()) for h in range(3)]
    outcomes = race(WRITERS, lambda i: store.append("a", batch))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len({tuple(o.events) for o in outcomes}) == 1
    assert sorted(o.deduplicated for o in outcomes) == [False] + [True] * (WRITERS - 1)
    assert store.last_position() == 3


def test_one_event_id_raced_into_different_streams_lands_in_one(store, sleep):
    """8 threads send the same event id to 8 streams: one stores it, the others are refused."""
    event = sleep(event_id=uuid.uuid4())
    outcomes = race(WRITERS, lambda i: store.append(f"s{i}", [event]))
    assert Counter(type(o).__name__ for o in outcomes) == {
        "AppendResult": 1, "IdempotencyConflict": WRITERS - 1}
    assert all(isinstance(o, IdempotencyConflict) for o in outcomes if isinstance(o, Exception))
    assert store.last_position() == 1


@pytest.mark.parametrize("seed", [1, 2])
def test_reader_following_positions_never_skips_an_event(store, sleep, seed):
    """While writers commit concurrently, a reader polling from its checkpoint sees 1, 2, 3, ...
    with nothing skipped: no event ever commits behind a position the reader has passed."""
    batches_per_writer = 40
    done = threading.Event()
    seen: list[int] = []
    problems: list[str] = []

    def reader() -> None:
        checkpoint = 0
        final_pass = False
        while True:
            for envelope in store.iter_all(from_position=checkpoint, batch_size=5):
                if envelope.position != checkpoint + 1:
                    problems.append(f"after {checkpoint} came {envelope.position}")
                checkpoint = envelope.position
                seen.append(checkpoint)
            if final_pass:
                return
            final_pass = done.is_set()  # one more pass after the writers stopped

    def writer(i: int) -> None:
        rng = random.Random(seed * 100 + i)
        for _ in range(batches_per_writer):
            size = rng.randint(1, 4)
            if rng.random() < 0.3:  # contended stream: some appends are refused and roll back
                try:
                    store.append("shared", [sleep() for _ in range(size)],
                                 expected_version=store.stream_version("shared"))
                except VersionConflict:
                    pass
            else:
                store.append(f"w{i}", [sleep() for _ in range(size)])

    follower = threading.Thread(target=reader)
    follower.start()
    try:
        outcomes = race(WRITERS, writer)
    finally:
        done.set()
        follower.join()
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert problems == []
    assert seen == list(range(1, store.last_position() + 1))
