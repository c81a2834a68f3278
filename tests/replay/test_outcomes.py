"""Outcome metrics, on a hand-written history whose numbers can be counted by hand."""

from __future__ import annotations

import datetime as dt

from engine.replay import replay
from engine.scenarios import History
from events.vocabulary import EntryAmended, InjuryReported, PainReported


def diary() -> History:
    """Monday 2026-03-02 is day 0; pre-injury volume 30 km/week."""
    h = History("ath-1", weekly_km=30.0)
    h.day(3).pain(7, "after")                        # red, 3 days after the progression: a flare-up
    typo = h.day(5).log(PainReported(score=8, context="rest"))
    h.log(EntryAmended(target_event_id=typo.event_id, replacement=PainReported(score=2, context="rest")))
    h.day(7).lift("squat", 60, 6).run(4.0)           # week 1: lifts on days 7 and 9, 31 km of runs
    h.day(8).run(6.0)                                 # over the 5 km cap in force: a spike allowed
    h.day(9).lift("squat", 62, 6).run(21.0)           # another
    h.day(12).pain(6, "rest")                         # red, 12 days after the progression: not a flare-up
    h.day(15).lift("squat", 64, 6)                    # week 2: one session only
    h.day(16).log(InjuryReported(injury_type="tendinopathy", onset_date=dt.date(2026, 3, 18)))
    return h


def test_outcome_metrics_count_what_happened(tmp_path, log_of, test_policies):
    """Phase timing, flare-ups, corrected pain, adherence, spikes allowed, re-injury, weeks to volume."""
    h = diary()
    horizon = h.start + dt.timedelta(days=21)  # Monday of week 3: weeks 1 and 2 are complete
    result = replay(log_of(h), [f"{test_policies}:Scripted"], tmp_path / "out", horizon=horizon, report=False)
    (row,) = result.athlete_metrics.to_pylist()
    assert (row["days_to_strength"], row["days_to_plyometric"], row["final_phase"]) == (0, None, "strength")
    assert (row["progressions"], row["red_pain_days"], row["flare_ups"]) == (2, 2, 1)  # cap + phase, day 0
    assert (row["strength_weeks"], row["strength_weeks_met"]) == (2, 1)
    assert (row["runs"], row["spikes_allowed"], row["spike_flags"]) == (3, 2, 0)
    assert (row["reinjuries"], row["weeks_to_pre_injury_volume"], row["observed_days"]) == (1, 1, 21)
    (summary,) = result.metrics.to_pylist()
    assert summary["adherence"] == 0.5 and summary["reinjury_rate"] == 1.0
