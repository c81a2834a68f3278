"""Emit on change (engine/decisions.py): a recommendation goes out only when a topic's advice changes,
with a deterministic id; the same advice repeated across many events is said once."""

from __future__ import annotations

from policy_support import RecordingPolicy, at, emissions, expected_emissions, rule, topic

from engine.clock import to_micros
from engine.decisions import recommendation_id
from engine.policies.baseline import BaselinePolicy
from engine.scenarios import History


def test_unchanged_advice_is_said_once_across_many_events(policy):
    """Amber rest pain reported three times a day for three weeks gives one amber hold, nothing else."""
    h = History()
    for d in range(21):
        for hour in (8, 13, 20):
            h.day(d, hour=hour).pain(4, "rest")
    recs = h.recommendations(policy, horizon=at(22))
    assert [(r.rule_id, r.trigger_position) for r in recs] == [("pain.traffic_light_amber", 3)]


def test_rationale_changes_alone_emit_nothing(policy):
    """Amber 4 then amber 5: the numbers differ but the advice (hold) is the same."""
    h = History().day(0).pain(4, "rest").pain(5, "rest").pain(4, "during")
    assert len(rule(h.recommendations(policy), "pain.traffic_light_amber")) == 1


def test_a_changed_target_is_news(policy, journey):
    """Each squat session at a new load changes the hold target: one recommendation per session."""
    j = journey().to_strength()
    for i, d in enumerate((8, 10, 12)):
        j.h.day(d).lift("squat", 60 + 2.5 * i, 10, 3, rpe=8)
    holds = topic(j.h.recommendations(policy), "strength:squat")
    assert [r.target["load_kg"] for r in holds] == [60, 62.5, 65]


def test_withdrawn_advice_is_news_when_it_returns(policy):
    """Amber, then green (withdrawn), then amber again: two amber holds."""
    h = History().day(0).pain(4, "rest").day(2).pain(1, "rest").day(4).pain(4, "rest")
    assert [r.trigger_position for r in rule(h.recommendations(policy), "pain.traffic_light_amber")] == [3, 5]


def test_emitted_exactly_when_advice_changes_over_a_whole_rehab(journey):
    """Over the compliant journey and a silent month after, recommendations are exactly the changes."""
    j = journey().to_integration()
    recorder = RecordingPolicy(BaselinePolicy())
    recs = j.h.recommendations(recorder, horizon=at(140))
    assert len(recorder.decisions) > len(j.h.envelopes)  # events and day boundaries
    assert emissions(recs) == expected_emissions(recorder.decisions)
    per_topic = {}
    for r in recs:
        if r.kind not in ("advance_phase", "regress_phase"):
            per_topic.setdefault(r.topic, []).append(r)
    assert all(len(rs) < len(recorder.decisions) / 4 for rs in per_topic.values())


def test_ids_are_deterministic_and_unique(policy, journey):
    """Ids come from (athlete, policy, version, topic, time, position): equal on replay, never shared."""
    j = journey().to_return_to_run()
    first, second = j.h.recommendations(policy), j.h.recommendations(BaselinePolicy())
    assert [r.recommendation_id for r in first] == [r.recommendation_id for r in second]
    assert len({r.recommendation_id for r in first}) == len(first)
    r = first[0]
    assert r.recommendation_id == recommendation_id(r.athlete_id, policy, r.topic, to_micros(r.decision_time),
                                                    r.trigger_position)


def test_another_policy_version_gives_other_ids(journey):
    """The policy name and version are part of the id: a new version's advice is a new recommendation."""

    class Tuned(BaselinePolicy):
        version = "1.0.1"

    j = journey().to_strength()
    a, b = j.h.recommendations(BaselinePolicy()), j.h.recommendations(Tuned())
    assert [r.rule_id for r in a] == [r.rule_id for r in b]
    assert not {r.recommendation_id for r in a} & {r.recommendation_id for r in b}
    assert {(r.policy_name, r.policy_version) for r in b} == {("baseline", "1.0.1")}
