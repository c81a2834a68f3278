"""The in-process pipeline end to end: ingest -> store -> StubBroker wake-up -> projector -> notifiers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from engine import pipeline
from engine.decisions import advance
from engine.notifiers import LogNotifier, delivery_id
from engine.runtime import build_runtime
from events import recommendation_stream
from projections.athlete import AthleteState, encode
from workers import actors
from workers.inprocess import InProcessPipeline

POLICY_SPEC = "engine.policies.baseline:BaselinePolicy"


def enrol(athlete_id: str, at: dt.datetime) -> list[dict]:
    return [{"occurred_at": at.isoformat(), "data": {
        "type": "athlete.enrolled", "body_mass_kg": 70, "time_zone": "Europe/London",
        "pre_injury_weekly_km": 30, "pre_injury_longest_run_km": 12}},
        {"occurred_at": at.isoformat(), "data": {
            "type": "injury.reported", "injury_type": "tendinopathy", "onset_date": "2026-02-20"}}]


def diary(day: int, at: dt.datetime) -> list[dict]:
    return [{"occurred_at": at.isoformat(), "data": {"type": "pain.reported", "score": max(0, 5 - day), "context": "rest"}},
            {"occurred_at": at.isoformat(), "data": {"type": "lift.logged", "exercise": "squat",
                                                     "load_kg": 40 + day, "reps": 6, "sets": 4, "rpe": 8}}]


def feed(runtime, clock, athletes: int, days: int) -> None:
    for a in range(athletes):
        runtime.ingestor.append(f"ath-{a}", enrol(f"ath-{a}", clock.now()))
    for day in range(days):
        clock.advance(dt.timedelta(days=1))
        for a in range(athletes):
            runtime.ingestor.append(f"ath-{a}", diary(day, clock.now()))


def replay(store, athlete_id: str, horizon: dt.datetime | None):
    state = AthleteState(athlete_id=athlete_id)
    recs = advance(state, store.read_stream(athlete_id), build_runtime(store=store).policy, horizon)
    return state, recs


@pytest.fixture
def runtime(store, clock):
    return build_runtime(store=store, clock=clock, policy_spec=POLICY_SPEC, notifiers={"log": LogNotifier()})


def test_events_flow_to_projections_recommendations_and_notifiers(runtime, store, clock):
    """Every appended event is projected; recommendations are stored and delivered."""
    with InProcessPipeline(runtime, threads=2) as live:
        feed(runtime, clock, athletes=3, days=12)
        live.drain()
    for a in range(3):
        state, checkpoint = pipeline.load_state(store, f"ath-{a}")
        assert checkpoint == store.stream_version(f"ath-{a}") == 2 + 12 * 2
        assert state.phase.phase == "strength"
    stored = sum(len(pipeline.recommendations(store, f"ath-{a}")) for a in range(3))
    assert stored > 0 and runtime.notifiers["log"].delivered == stored


def test_live_processing_equals_a_replay_of_the_same_log(runtime, store, clock):
    """Live recommendations (same ids, same content) equal an in-process replay of the log."""
    with InProcessPipeline(runtime, threads=2) as live:
        feed(runtime, clock, athletes=4, days=10)
        clock.advance(dt.timedelta(days=9))
        live.tick_all()
        live.drain()
    for a in range(4):
        _, recs = replay(store, f"ath-{a}", runtime.horizon())
        assert pipeline.recommendations(store, f"ath-{a}") == recs
        assert any(r.rule_id == "adherence.no_logs" for r in recs)


def test_a_redelivered_wake_up_appends_nothing(runtime, store, clock):
    """Projecting again (a redelivery) stores no new recommendation and leaves the checkpoint."""
    feed(runtime, clock, athletes=1, days=5)
    first = pipeline.project_athlete(store, "ath-0", runtime.policy)
    version = store.stream_version(recommendation_stream("ath-0"))
    again = pipeline.project_athlete(store, "ath-0", runtime.policy)
    assert first.recommendations and not again.recommendations
    assert store.stream_version(recommendation_stream("ath-0")) == version


def test_a_crash_between_appending_recommendations_and_saving_state_is_harmless(runtime, store, clock):
    """If the state save is lost, the redo recomputes the same ids and appends nothing twice."""
    feed(runtime, clock, athletes=1, days=6)
    outcome = pipeline.project_athlete(store, "ath-0", runtime.policy)
    store.delete_projections(pipeline.PROJECTION, "ath-0")  # as if the save never happened
    redo = pipeline.project_athlete(store, "ath-0", runtime.policy)
    assert redo.recommendations == outcome.recommendations
    assert len(pipeline.recommendations(store, "ath-0")) == len(outcome.recommendations)


def test_racing_projectors_never_corrupt_a_projection(runtime, store, clock):
    """Compare-and-set on the checkpoint: concurrent projectors end at the from-scratch state."""
    feed(runtime, clock, athletes=1, days=3)
    errors = []

    def work():
        try:
            for _ in range(10):
                pipeline.project_athlete(store, "ath-0", runtime.policy)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for day in range(3, 15):
        runtime.ingestor.append("ath-0", diary(day, clock.now()))
        if day == 4:
            for t in threads:
                t.start()
    for t in threads:
        t.join()
    pipeline.project_athlete(store, "ath-0", runtime.policy)
    assert not errors
    state, _ = pipeline.load_state(store, "ath-0")
    expected, recs = replay(store, "ath-0", None)
    assert encode(state) == encode(expected)
    ids = [delivery_id(r) for r in pipeline.recommendations(store, "ath-0")]  # issued and withdrawn
    assert len(ids) == len(set(ids)) and set(ids) == {delivery_id(r) for r in recs}


def test_the_sweeper_wakes_athletes_whose_wake_up_was_lost(runtime, store, clock):
    """Appends whose wake-up never arrived are found by comparing heads with checkpoints."""
    feed(runtime, clock, athletes=3, days=2)  # no pipeline running: every wake-up is lost
    assert {a for a, _, _ in pipeline.lagging_athletes(store)} == {"ath-0", "ath-1", "ath-2"}
    with InProcessPipeline(runtime) as live:
        runtime.ingestor.wake = lambda athlete_id: None
        actors.sweep.send()
        live.drain()
    assert list(pipeline.lagging_athletes(store)) == []


class _Captured:
    """A notifier that keeps what it was given (the outbox calls it like any channel)."""

    channel = "log"

    def __init__(self) -> None:
        self.seen: list = []

    def deliver(self, event) -> None:
        self.seen.append(event)


def test_a_correction_reaches_the_notifiers_as_a_withdrawal(store, clock):
    """Given a red pain score whose deload was delivered, when the app amends the typo, the live
    pipeline delivers a withdrawal of that deload with reason correction."""
    captured = _Captured()
    runtime = build_runtime(store=store, clock=clock, policy_spec=POLICY_SPEC, notifiers={"log": captured})
    with InProcessPipeline(runtime, threads=2) as live:
        runtime.ingestor.append("ath-0", enrol("ath-0", clock.now()))
        typo = runtime.ingestor.append("ath-0", [{"occurred_at": clock.now().isoformat(), "data": {
            "type": "pain.reported", "score": 8, "context": "rest"}}])
        live.drain()
        [deload] = [e for e in captured.seen if getattr(e, "rule_id", "") == "pain.traffic_light_red"]
        clock.advance(dt.timedelta(minutes=30))
        runtime.ingestor.append("ath-0", [{"occurred_at": clock.now().isoformat(), "data": {
            "type": "entry.amended", "target_event_id": str(typo.events[0].event_id),
            "replacement": {"type": "pain.reported", "score": 1, "context": "rest"}}}])
        live.drain()
    withdrawals = [e for e in captured.seen if delivery_id(e) != getattr(e, "recommendation_id", None)]
    assert [(w.recommendation_id, w.reason) for w in withdrawals] == [(deload.recommendation_id, "correction")]
