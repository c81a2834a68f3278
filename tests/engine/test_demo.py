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


def test_the_advice_reader_reads_enrolment_and_phase_as_the_full_state_has_them():
    """The demo decodes two fields of a saved state (the rest is skipped): the same values."""
    from engine.demo import _advice_view
    from projections.athlete import encode

    state = AthleteState(athlete_id="ath-1")
    assert (_advice_view.decode(encode(state)).profile.enrolled, _advice_view.decode(encode(state)).phase.phase) \
        == (False, "settle")
    state.profile.enrolled = True
    state.phase.phase = "return_to_run"
    view = _advice_view.decode(encode(state))
    assert (view.profile.enrolled, view.phase.phase) == (True, "return_to_run")

