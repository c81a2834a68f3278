"""Adherence gauges: computed from the saved projections on scrape, equal to what the coach's view
of each athlete says, cached for a while, and honest about projections that are behind."""

from __future__ import annotations

import collections
import datetime as dt

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from engine import metrics, pipeline
from engine.clock import ManualClock
from engine.store.sqlite import SQLiteEventStore
from engine.views import athlete_view
from ops_support import samples, total
from projections.phase import PHASES


def _scrape(store, now: dt.datetime) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics.AdherenceCollector(store, lambda: now, ttl=0))
    return generate_latest(registry).decode()


def _expected(store, now: dt.datetime) -> dict:
    """The same numbers, athlete by athlete, from the full projection through engine.views."""
    athletes, meeting, sessions, heavy = (collections.Counter() for _ in range(4))
    dropoffs, days = collections.Counter(), collections.defaultdict(list)
    for athlete_id in pipeline.athletes(store):
        state, _ = pipeline.load_state(store, athlete_id)
        view = athlete_view(state, now)
        phase = view.phase.phase
        athletes[phase] += 1
        meeting[phase] += view.adherence.meets_strength_target_last_week
        sessions[phase] += view.capacity.strength_sessions_last_week
        heavy[phase] += view.capacity.heavy_sessions_last_week
        for topic in state.memory:
            if topic.startswith("dropoff:"):
                dropoffs["no_logs" if topic == "dropoff:silent" else topic[len("dropoff:"):]] += 1
        if view.adherence.days_since_last_log is not None:
            days[phase].append(view.adherence.days_since_last_log)
    return {"athletes": athletes, "meeting": meeting, "sessions": sessions, "heavy": heavy,
            "dropoffs": dropoffs, "days": days}


@pytest.mark.parametrize("days_later", [0, 3, 10])
def test_adherence_gauges_match_the_coach_views(api_cohort, days_later):
    """Athletes by phase, strength target, heavy share, drop-off flags and days since the last log
    equal the per-athlete views summed, at the cohort's end and as days pass without logs."""
    now = api_cohort.end + dt.timedelta(days=days_later)
    store = SQLiteEventStore(api_cohort.store_path)
    try:
        text, want = _scrape(store, now), _expected(store, now)
    finally:
        store.close()
    for phase in PHASES:
        n = want["athletes"][phase]
        assert total(text, "strideline_athletes", phase=phase) == n
        assert total(text, "strideline_athletes_meeting_strength_target", phase=phase) == want["meeting"][phase]
        assert total(text, "strideline_strength_sessions_last_week", phase=phase) == want["sessions"][phase]
        assert total(text, "strideline_heavy_sessions_last_week", phase=phase) == want["heavy"][phase]
        if n:
            assert total(text, "strideline_strength_target_ratio", phase=phase) == pytest.approx(
                want["meeting"][phase] / n)
        if want["sessions"][phase]:
            assert total(text, "strideline_heavy_session_ratio", phase=phase) == pytest.approx(
                want["heavy"][phase] / want["sessions"][phase])
        days = want["days"][phase]
        assert total(text, "strideline_days_since_last_log_count", phase=phase) == len(days)
        assert total(text, "strideline_days_since_last_log_sum", phase=phase) == sum(days)
        for le in metrics.DAYS_SINCE_LOG_BUCKETS:
            assert total(text, "strideline_days_since_last_log_bucket", phase=phase, le=str(le)) == \
                sum(1 for d in days if d <= le)
    for point in metrics.DROPOFF_POINTS:
        assert total(text, "strideline_dropoff_flags_active", point=point) == want["dropoffs"][point]
    assert sum(want["athletes"].values()) == 10


def test_the_cohort_gives_the_gauges_something_to_say(api_cohort):
    """The simulated cohort spreads over phases, meets targets, has someone off target or flagged,
    and goes quiet once the simulation ends (so the equality above is not about zeros)."""
    store = SQLiteEventStore(api_cohort.store_path)
    try:
        at_end = _scrape(store, api_cohort.end)
        later = _scrape(store, api_cohort.end + dt.timedelta(days=10))
    finally:
        store.close()
    assert sum(1 for p in PHASES if total(at_end, "strideline_athletes", phase=p)) >= 2
    meeting = total(at_end, "strideline_athletes_meeting_strength_target")
    assert 0 < meeting and (meeting < 10 or total(at_end, "strideline_dropoff_flags_active") > 0)
    assert total(later, "strideline_athletes_meeting_strength_target") == 0
    assert total(later, "strideline_days_since_last_log_bucket", le="7") == 0


def test_scans_are_cached_for_the_ttl(store, clock):
    """Within the TTL a scrape reuses the last scan; a new athlete shows up once it expires."""
    from engine.ingest import Ingestor
    from engine.policies.baseline import BaselinePolicy

    ingest, policy = Ingestor(store, clock=clock), BaselinePolicy()
    enrol = {"type": "athlete.enrolled", "body_mass_kg": 70.0, "time_zone": "UTC",
             "pre_injury_weekly_km": 30.0, "pre_injury_longest_run_km": 12.0}
    ingest.append("ath-1", [{"data": enrol, "occurred_at": clock.now().isoformat()}])
    pipeline.project_athlete(store, "ath-1", policy)
    cached = metrics.AdherenceCollector(store, clock.now, ttl=3600)
    fresh = metrics.AdherenceCollector(store, clock.now, ttl=0)
    first = cached.collect()
    ingest.append("ath-2", [{"data": enrol, "occurred_at": clock.now().isoformat()}])
    pipeline.project_athlete(store, "ath-2", policy)
    assert cached.collect() is first
    athletes = next(f for f in fresh.collect() if f.name == "strideline_athletes")
    assert sum(s.value for s in athletes.samples) == 2


def test_projections_behind_counts_athletes_not_yet_projected(store, clock):
    """An athlete whose events are stored but not folded yet is one projection behind."""
    from engine.ingest import Ingestor

    enrol = {"type": "athlete.enrolled", "body_mass_kg": 70.0, "time_zone": "UTC",
             "pre_injury_weekly_km": 30.0, "pre_injury_longest_run_km": 12.0}
    Ingestor(store, clock=clock).append("ath-1", [{"data": enrol, "occurred_at": clock.now().isoformat()}])
    text = _scrape(store, clock.now())
    assert total(text, "strideline_projections_behind") == 1
    assert total(text, "strideline_athletes") == 0
    assert [s for s in samples(text) if s.name == "strideline_broker_up"] == []


def test_an_empty_phase_has_counts_but_no_ratio(store, clock):
    """Counts are 0 for an empty phase; ratios are left out rather than divided by zero."""
    text = _scrape(store, ManualClock(dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)).now())
    assert total(text, "strideline_athletes", phase="integration") == 0
    assert not [s for s in samples(text) if s.name == "strideline_strength_target_ratio"]
