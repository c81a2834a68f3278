"""docs/policy.md's worked example, as a test: a run synced three days late (RULES.md 5 and 7)."""

from __future__ import annotations

import datetime as dt

from engine.policies.baseline import BaselinePolicy
from events.vocabulary import RecommendationIssued, RecommendationWithdrawn
from policy_support import START


def _late_spike(journey):
    """An athlete past the walk-run ladder builds up to 8 km within the +10% cap, then runs 12 km two
    days later; the 12 km run is uploaded three days after it happened, with that evening's rest pain."""
    j = journey().to_return_to_run().walk_run()
    h = j.h
    for step, km in enumerate((5.5, 6.0, 6.6, 7.2, 7.9)):
        with h.day(j.d + 2 * step).batch():
            h.run(km, rpe=3)
    d0 = j.d + 8
    with h.day(d0 + 2).batch():
        h.run(8.0, rpe=3)
    with h.day(d0 + 7, hour=18).batch():
        with h.happened(h.start + dt.timedelta(days=d0 + 4, hours=7)):
            h.run(12.0, rpe=4)
        h.pain(1, "rest")
    return h, d0


def test_a_late_spike_is_flagged_when_it_arrives_against_the_30_days_before_its_own_day(journey):
    """Then the batch's decision point flags the 12 km run: 50% over the 8 km run before it."""
    h, d0 = _late_spike(journey)
    spikes = [r for r in h.recommendations(BaselinePolicy()) if r.rule_id == "run.single_run_spike"]
    [late] = spikes  # the build-up within the cap was never a spike
    assert late.decision_time == h.start + dt.timedelta(days=d0 + 7, hours=18)
    assert late.target == {"run_km": 12.0, "run_date": (START + dt.timedelta(days=d0 + 4)).date().isoformat()}
    assert (late.rationale["longest_30d_km"], late.rationale["increase"]) == (8.0, 0.5)


def test_a_late_spike_does_not_raise_the_cap_it_broke(journey):
    """Then the next week's running plan still caps the long run from the 8 km run, not the 12 km."""
    h, d0 = _late_spike(journey)
    horizon = h.start + dt.timedelta(days=d0 + 14)
    plans = [r for r in h.recommendations(BaselinePolicy(), horizon) if r.topic == "run"]
    assert plans[-1].target["long_run_cap_km"] == 8.8


def test_a_late_spike_flag_is_withdrawn_a_week_after_the_run(journey):
    """Then, seven days after the run's own day, the flag is withdrawn as no longer holding."""
    h, d0 = _late_spike(journey)
    _, events = h.replay(BaselinePolicy(), h.start + dt.timedelta(days=d0 + 16))
    [withdrawn] = [e for e in events if isinstance(e, RecommendationWithdrawn) and e.topic == "run:spike"]
    assert withdrawn.reason == "no_longer_holds"
    assert withdrawn.decision_time == h.start + dt.timedelta(days=d0 + 4 + 7)
    assert not [e for e in events if isinstance(e, RecommendationIssued) and e.topic == "run:spike"
                and e.decision_time > withdrawn.decision_time]
