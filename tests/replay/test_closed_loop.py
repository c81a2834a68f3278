"""Closed loop: simulated athletes live under each policy, following or ignoring its advice."""

from __future__ import annotations

import datetime as dt

from engine.replay import PolicySpec, simulate
from engine.replay.closedloop import advice_from
from events.vocabulary import RecommendationIssued
from projections.athlete import AthleteState

BASELINE = "engine.policies.baseline:BaselinePolicy"
T = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)


def rec(topic: str, kind: str, **target) -> RecommendationIssued:
    import uuid

    return RecommendationIssued(recommendation_id=uuid.uuid4(), athlete_id="a", kind=kind, topic=topic,
                                rule_id="r", explanation="", policy_name="p", policy_version="1",
                                decision_time=T, trigger_position=1, target=target)


def test_advice_is_folded_from_the_recommendations_in_force():
    """Phase, kinds (not the strength plan's), the lowest walk-run level, volume, cap, flags."""
    state = AthleteState(athlete_id="a")
    state.phase.phase = "return_to_run"
    advice = advice_from(state, {
        "strength": rec("strength", "hold", squat_kg=50.0, sets=3, reps=12),
        "run": rec("run", "progress", weekly_km=12.5, long_run_cap_km=6.6),
        "bsi": rec("bsi", "deload", walk_run_level=3, no_running_days=3),
        "dropoff:3": rec("dropoff:3", "flag", drop_off_point=3),
    })
    assert advice.phase == "return_to_run"
    assert advice.kinds == {"progress", "deload"}
    assert dict(advice.targets) == {"walk_run_level": 3, "weekly_km": 12.5, "long_run_km": 6.6}
    assert advice.flags == {"drop_off_3"}


def test_the_same_cohort_gives_the_same_outcomes_serial_or_parallel(tmp_path):
    """Deterministic: two runs (one in two processes) give identical rows and intervals."""
    serial = simulate([BASELINE], athletes=4, seeds=2, weeks=4)
    parallel = simulate([BASELINE], athletes=4, seeds=2, weeks=4, workers=2)
    assert serial.athlete_rows == parallel.athlete_rows
    assert serial.intervals == parallel.intervals


def test_each_day_the_athlete_is_handed_the_advice_in_force(monkeypatch):
    """Day 0 (onboarding) gets no advice; each later day gets the engine's phase as of its local midnight."""
    from engine.replay.closedloop import run_athlete
    from engine.policies.baseline import BaselinePolicy
    from engine.simulation import SimulatedAthlete

    handed = []
    original = SimulatedAthlete.day

    def spy(self, date, advice=None):
        handed.append((date, advice))
        return original(self, date, advice)

    monkeypatch.setattr(SimulatedAthlete, "day", spy)
    row = run_athlete(1, 1, dt.date(2026, 1, 5), 8, "baseline", BaselinePolicy())
    assert handed[0][1] is None and all(a is not None for _, a in handed[1:])
    assert row["days_to_strength"] is not None
    first_strength = next(i for i, (_, a) in enumerate(handed) if a is not None and a.phase == "strength")
    # advanced at a midnight: that morning's advice; after an event during the day: the next morning's
    assert first_strength - row["days_to_strength"] in (0, 1)
    assert {a.phase for _, a in handed[1:first_strength]} == {"settle"}


def test_the_same_cohort_responds_differently_to_different_policies(tmp_path):
    """Same seeds, same athletes; a policy that never leaves settle changes what they log."""
    stuck = PolicySpec(BASELINE, overrides=(("phases.settle_days", 1000),), label="stuck")
    result = simulate([BASELINE, stuck], athletes=4, seeds=1, weeks=6)
    base = [r for r in result.athlete_rows if r["policy"] == "baseline"]
    other = [r for r in result.athlete_rows if r["policy"] == "stuck"]
    assert [(r["index"], r["habit"]) for r in base] == [(r["index"], r["habit"]) for r in other]
    assert all(r["final_phase"] == "settle" for r in other)
    assert any(a["events"] != b["events"] for a, b in zip(base, other))


def test_outcomes_come_with_intervals_across_seeds_and_paired_differences(tmp_path):
    """Each metric: mean with a 95% t-interval over the seeds, and the paired difference to the first policy."""
    bold = PolicySpec(BASELINE, overrides=(("run.weekly_step", 0.3),), label="bold")
    result = simulate([BASELINE, bold], athletes=5, seeds=3, weeks=6, out_dir=tmp_path / "out")
    adherence = result.interval("baseline", "adherence")
    assert adherence["seeds"] == 3 and adherence["low"] <= adherence["mean"] <= adherence["high"]
    per_seed = [r["adherence"] for r in result.per_seed if r["policy"] == "baseline"]
    assert abs(adherence["mean"] - sum(per_seed) / 3) < 1e-12
    paired = result.interval("bold", "reinjury_rate", "minus baseline")
    assert paired["seeds"] == 3
    for name in ("closed_loop.parquet", "closed_loop.csv", "closed_loop_seeds.parquet", "closed_loop_athletes.parquet",
                 "report.html", "charts/closed_loop.png"):
        assert (tmp_path / "out" / name).is_file(), name
