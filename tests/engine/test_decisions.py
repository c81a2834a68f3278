"""Decision points: after each event and at each local midnight; no look-ahead; deterministic ids."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.decisions import advance, recommendation_id
from engine.policies.base import Advice
from engine.policies.baseline import BaselinePolicy
from engine.scenarios import History
from projections.athlete import AthleteState

POLICY = BaselinePolicy()


class EchoPolicy:
    """Advises the current stream version on one topic, so every event changes the advice."""

    name, version, config = "echo", "1", None

    def decide(self, state, decision_time):
        return [Advice(topic="echo", kind="hold", rule_id="echo", explanation="echo",
                       target={"version": state.version, "at": decision_time.isoformat()})]


class ConstantPolicy:
    """Always the same advice: it must be emitted once, not at every decision point."""

    name, version, config = "constant", "1", None

    def decide(self, state, decision_time):
        return [Advice(topic="t", kind="hold", rule_id="constant", explanation="hold")]


def silent_athlete() -> History:
    h = History(time_zone="America/New_York")
    for offset in range(3):
        h.day(offset, hour=14).pain(1)
    return h


def test_the_policy_runs_after_every_event_and_at_local_midnights():
    """Decision times are each event's recorded_at plus each local midnight between events."""
    h = History(time_zone="America/New_York").day(0, hour=14).pain(1).day(2, hour=14).pain(1)
    recs = h.recommendations(EchoPolicy())
    times = [r.decision_time for r in recs]
    event_times = [e.recorded_at for e in h.envelopes]
    midnights = [dt.datetime(2026, 3, 3, 5, tzinfo=dt.timezone.utc), dt.datetime(2026, 3, 4, 5, tzinfo=dt.timezone.utc)]
    assert times == sorted(event_times + midnights)


def test_day_boundaries_run_up_to_the_horizon_when_nothing_is_logged():
    """Time passing with no logs is decided at the athlete's local midnights (drop-off rules)."""
    h = silent_athlete()
    horizon = h.start + dt.timedelta(days=12)
    recs = h.recommendations(POLICY, horizon=horizon)
    silent = [r for r in recs if r.rule_id == "adherence.no_logs"]
    assert len(silent) == 1
    # last log 4 March; five days later is local midnight of 9 March, 04:00 UTC after the DST change
    assert silent[0].decision_time == dt.datetime(2026, 3, 9, 4, tzinfo=dt.timezone.utc)
    assert silent[0].rationale["days_since_last_log"] == 5


def test_an_event_recorded_after_t_does_not_change_decisions_at_or_before_t():
    """No look-ahead: the recommendations up to T are the same with or without later events."""
    h = History()
    for offset in range(20):
        h.day(offset).pain(1).lift("squat", 50 + offset, 6, 4, rpe=8)
    cut = h.envelopes[25].recorded_at
    full = h.recommendations(POLICY)
    h.envelopes = [e for e in h.envelopes if e.recorded_at <= cut]
    early = h.recommendations(POLICY)
    assert [r for r in full if r.decision_time <= cut] == early


def test_the_same_log_gives_the_same_recommendations_with_the_same_ids():
    """Deterministic: replaying a log twice gives identical recommendations and ids."""
    h = silent_athlete()
    horizon = h.start + dt.timedelta(days=30)
    assert h.recommendations(POLICY, horizon) == h.recommendations(POLICY, horizon)


def test_processing_in_chunks_equals_one_pass():
    """Live processing folds events as they arrive; the result equals a single replay."""
    h = History()
    for offset in range(15):
        h.day(offset).pain(offset % 4).lift("squat", 60, 6, 4, rpe=8)
    whole = h.recommendations(POLICY)
    state, parts = AthleteState(athlete_id=h.athlete_id), []
    for start in range(0, len(h.envelopes), 7):
        parts += advance(state, h.envelopes[start:start + 7], POLICY)
    assert parts == whole


def test_unchanged_advice_is_emitted_once():
    """A recommendation goes out when the advice changes, not at every decision point."""
    h = History()
    for offset in range(10):
        h.day(offset).pain(1)
    recs = h.recommendations(ConstantPolicy())
    assert len(recs) == 1


def test_recommendation_ids_depend_on_policy_topic_time_and_trigger():
    """Ids are uuid5 of athlete, policy name and version, topic, decision time and position."""
    ids = {recommendation_id("a", POLICY, "t", 1, 2), recommendation_id("a", POLICY, "t", 1, 3),
           recommendation_id("a", POLICY, "u", 1, 2), recommendation_id("b", POLICY, "t", 1, 2),
           recommendation_id("a", EchoPolicy(), "t", 1, 2)}
    assert len(ids) == 5
    assert recommendation_id("a", POLICY, "t", 1, 2) == recommendation_id("a", BaselinePolicy(), "t", 1, 2)


def test_a_gap_in_stream_versions_is_refused():
    """The runner folds a stream in order; a missing version is a bug upstream, not skipped."""
    h = History().day(0).pain(1).pain(2)
    state = AthleteState(athlete_id=h.athlete_id)
    with pytest.raises(ValueError, match="expected version 2"):
        advance(state, [h.envelopes[0], h.envelopes[2]], POLICY)


def test_recommendations_carry_policy_rule_rationale_and_trigger():
    """Each recommendation names its policy, version, rule, rationale numbers and trigger."""
    h = History().day(0).pain(7, "during")
    rec = next(r for r in h.recommendations(POLICY) if r.rule_id == "pain.traffic_light_red")
    assert (rec.policy_name, rec.policy_version, rec.kind) == ("baseline", POLICY.version, "deload")
    assert rec.trigger_position == h.envelopes[-1].position
    assert rec.rationale["recent_pain"] == 7 and rec.explanation
