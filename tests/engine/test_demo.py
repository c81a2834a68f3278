"""`strideline demo` on a small cohort: it coaches, it summarises, and live equals replay."""

from __future__ import annotations

import datetime as dt

from engine import pipeline
from engine.decisions import advance
from engine.demo import run_demo, summarise
from engine.policies.baseline import BaselinePolicy
from engine.store import SQLiteEventStore
from projections.athlete import AthleteState


def test_a_simulated_cohort_is_coached_and_live_equals_replay(tmp_path):
    """Every athlete is projected to its head; recommendations equal a from-scratch replay."""
    path = tmp_path / "demo.sqlite3"
    result = run_demo(athletes=12, weeks=6, seed=3, store_path=path, threads=2, start=dt.date(2026, 1, 5))
    assert result.athletes == 12 and result.events > 1000 and result.recommendations > 0
    store = SQLiteEventStore(path)
    assert list(pipeline.lagging_athletes(store)) == []
    policy = BaselinePolicy()
    for athlete_id in pipeline.athletes(store):
        state = AthleteState(athlete_id=athlete_id)
        replayed = advance(state, store.read_stream(athlete_id), policy, result.end)
        assert pipeline.recommendations(store, athlete_id) == replayed
        saved, _ = pipeline.load_state(store, athlete_id)
        assert saved == state
    summary = summarise(store, result.end)
    assert sum(summary["phases"].values()) == 12
    assert sum(summary["kinds"].values()) == result.recommendations
    assert summary["timelines"]



def test_the_advice_reader_gets_the_state_held_in_memory_or_refolds_a_dropped_one(tmp_path):
    """The demo defers snapshots, so it reads states from the projector's memory; given an athlete
    whose state was dropped from memory, it is re-folded from its snapshot and the events after."""
    from engine.clock import ManualClock
    from engine.demo import _held_states
    from engine.ingest import Ingestor
    from engine.pipeline import ResidentStates, project_athlete
    from events import NewEvent
    from events.vocabulary import AthleteEnrolled, Context, PainReported

    at = dt.datetime(2026, 1, 5, 8, tzinfo=dt.timezone.utc)
    store = SQLiteEventStore(tmp_path / "s.sqlite3", clock=ManualClock(at + dt.timedelta(hours=1)))
    ingest, policy = Ingestor(store, clock=store.clock), BaselinePolicy()
    states = ResidentStates(snapshot_every=1000, snapshot_after_s=3600)
    ingest.append("ath-1", [NewEvent(data=AthleteEnrolled(body_mass_kg=60, time_zone="UTC", pre_injury_weekly_km=30,
                                                          pre_injury_longest_run_km=12), occurred_at=at)])
    project_athlete(store, "ath-1", policy, resident=states)
    ingest.append("ath-1", [NewEvent(data=PainReported(score=3, context=Context.REST), occurred_at=at)])
    project_athlete(store, "ath-1", policy, resident=states)
    state_of = _held_states(store, states, policy)
    held = state_of("ath-1")
    assert held is not None and held.version == 2 and held.profile.enrolled
    assert state_of("ath-nobody") is None
    states.take("ath-1", (0, 0))  # a stale revision: the entry is dropped
    assert state_of("ath-1") == held
    store.close()
