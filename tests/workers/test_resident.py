"""Athletes' states kept in a worker's memory (engine.pipeline.ResidentStates): every wake-up commits
its recommendations and the checkpoint, the state is snapshotted every N events or T seconds (and at
shutdown), and whoever finds the checkpoint ahead of its state re-folds from the last snapshot with
nothing lost or duplicated. Each worker process is one ResidentStates here; a kill is dropping one."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from workers_support import diary, enrolment, open_test_store, replay

from engine import pipeline
from engine.ingest import Ingestor
from engine.notifiers import delivery_id
from engine.pipeline import ResidentStates, project_athlete, tick_athlete
from engine.policies.base import load_policy
from engine.runtime import DEFAULT_POLICY
from projections.athlete import decode

ATHLETE = "ath-res"
NEVER = 1e9


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(store_path, clock):
    s = open_test_store(store_path, clock)
    yield s
    s.close()


@pytest.fixture
def policy():
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def log_day(store, clock):
    """Append the athlete's enrolment (day 0) or one day's diary (2 events) at the clock's day."""
    ingestor = Ingestor(store, clock=clock)

    def append(day: int) -> None:
        if day == 0:
            ingestor.append(ATHLETE, enrolment(clock.now()))
        else:
            clock.advance(dt.timedelta(days=1))
            ingestor.append(ATHLETE, diary(day, clock.now()))

    return append


def snapshot_version(store) -> int:
    return store.load_projection(ATHLETE, pipeline.PROJECTION).checkpoint


def stored_ids(store) -> Counter:
    return Counter(delivery_id(r) for r in pipeline.recommendations(store, ATHLETE))


def test_each_wake_up_commits_checkpoint_and_recommendations_while_the_snapshot_waits(store, policy, log_day):
    """Given a worker snapshotting rarely, when each day is projected, then the checkpoint and the
    recommendations are stored at every wake-up and the saved state stays at its first snapshot."""
    resident = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(6):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=resident)
        assert store.projection_checkpoints(pipeline.PROJECTION)[ATHLETE] == store.stream_version(ATHLETE)
    assert snapshot_version(store) == 2
    assert pipeline.recommendations(store, ATHLETE) == replay(store, ATHLETE, None, policy)[1]
    assert resident.hits == 5


def test_the_snapshot_is_saved_every_n_events(store, policy, log_day):
    """Given N = 4 and 2 events a day, when days are projected one by one, then a snapshot is saved
    at the first wake-up and whenever 4 or more events were folded since the last one."""
    resident = ResidentStates(snapshot_every=4, snapshot_after_s=NEVER)
    versions = []
    for day in range(5):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=resident)
        versions.append(snapshot_version(store))
    assert versions == [2, 2, 6, 6, 10]


def test_an_athlete_quiet_for_the_interval_is_snapshotted_by_the_flush(store, policy, log_day):
    """Given changes 3 s apart left unsaved, when the flush runs 4.9 s after the last one, then 5.1 s
    after, then it saves nothing first and then the state, equal to a from-scratch replay."""
    clock = FakeMonotonic()
    resident = ResidentStates(snapshot_every=1000, snapshot_after_s=5.0, clock=clock)
    for day in range(3):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=resident)
        clock.now += 3.0
    clock.now += 1.9
    assert resident.flush(store) == 0 and snapshot_version(store) == 2
    clock.now += 0.2
    assert resident.flush(store) == 1 and snapshot_version(store) == 6
    state = decode(store.load_projection(ATHLETE, pipeline.PROJECTION).state)
    assert state == replay(store, ATHLETE, None, policy)[0]


def test_shutdown_saves_every_unsaved_state(store, policy, log_day):
    """Given a deferred change not yet due, when the worker shuts down (flush everything), then the
    saved state reaches the checkpoint."""
    resident = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(3):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=resident)
    assert resident.flush(store, everything=True) == 1
    assert snapshot_version(store) == store.stream_version(ATHLETE)


def test_a_killed_worker_is_refolded_from_the_last_snapshot_with_nothing_lost_or_duplicated(store, policy, log_day):
    """Given a worker killed between snapshots (its states in memory gone), when another worker
    projects the next days, then it re-folds from the snapshot: the recommendations equal a replay,
    each stored once, and the state it saves equals the replay's."""
    doomed = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(5):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=doomed)
    before = stored_ids(store)
    del doomed  # kill -9: nothing flushed
    survivor = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(5, 8):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=survivor)
    expected_state, expected_recs = replay(store, ATHLETE, None, policy)
    assert pipeline.recommendations(store, ATHLETE) == expected_recs
    assert max(stored_ids(store).values()) == 1 and set(before) <= set(stored_ids(store))
    assert survivor.misses == 1 and survivor.hits == 2
    survivor.flush(store, everything=True)
    assert decode(store.load_projection(ATHLETE, pipeline.PROJECTION).state) == expected_state


def test_a_worker_whose_athlete_moved_on_elsewhere_reloads_instead_of_using_its_memory(store, policy, log_day):
    """Given worker A holding the athlete and worker B projecting newer days, when A is woken again,
    then A sees the checkpoint moved, re-folds from the snapshot, and stores nothing twice."""
    a = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    b = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(3):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=a)
    log_day(3)
    project_athlete(store, ATHLETE, policy, resident=b)
    log_day(4)
    project_athlete(store, ATHLETE, policy, resident=a)
    assert (a.hits, a.misses) == (2, 2)  # the first wake-up and the one after B's commit
    assert pipeline.recommendations(store, ATHLETE) == replay(store, ATHLETE, None, policy)[1]
    assert max(stored_ids(store).values()) == 1


def test_a_tick_elsewhere_makes_the_state_in_memory_stale_and_it_is_never_saved(store, policy, log_day, clock):
    """Given worker A holding an unsaved state and worker B ticking the athlete's day boundaries
    (no new version, a new revision), when A flushes at shutdown, then A saves nothing and the
    saved state is B's."""
    a = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(3):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=a)
    b = ResidentStates(snapshot_every=1, snapshot_after_s=0)
    tick_athlete(store, ATHLETE, policy, clock.now() + dt.timedelta(days=3), resident=b)
    saved_by_b = store.load_projection(ATHLETE, pipeline.PROJECTION).state
    assert a.flush(store, everything=True) == 0
    assert store.load_projection(ATHLETE, pipeline.PROJECTION).state == saved_by_b


def test_wake_ups_spread_over_processes_save_the_state_every_time(store, policy, log_day):
    """Given two workers taking turns on the athlete (no affinity), when most wake-ups find the
    state in memory outdated, then each wake-up saves the state, so the other worker reloads a
    current snapshot instead of re-folding."""
    a = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    b = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(44):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=(a, b)[day % 2])
    assert a.shared and b.shared
    assert snapshot_version(store) == store.stream_version(ATHLETE)
    assert pipeline.recommendations(store, ATHLETE) == replay(store, ATHLETE, None, policy)[1]


def test_readers_see_the_checkpoint_while_the_snapshot_waits(store, policy, log_day):
    """Given a worker holding the athlete with its snapshot deferred, when a reader asks for the
    current state (the coach's view), then it is the worker's state at the checkpoint, not the
    older snapshot."""
    resident = ResidentStates(snapshot_every=1000, snapshot_after_s=NEVER)
    for day in range(6):
        log_day(day)
        project_athlete(store, ATHLETE, policy, resident=resident)
    held = resident.take(ATHLETE, store.projection_checkpoint(ATHLETE, pipeline.PROJECTION)).state

    current = pipeline.current_state(store, ATHLETE, policy)

    assert snapshot_version(store) < store.stream_version(ATHLETE)
    assert current.version == store.stream_version(ATHLETE)
    assert pipeline.encode(current) == pipeline.encode(held)
