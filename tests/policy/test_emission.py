"""Emit on change (engine/decisions.py): a recommendation goes out only when a topic's advice changes,
with a deterministic id, naming the advice it supersedes on its topic; advice that disappears is
withdrawn explicitly (RULES.md 7, 8); the same advice repeated across many events is said once."""

from __future__ import annotations

from policy_support import (
    RecordingPolicy,
    at,
    day_of,
    emissions,
    expected_emissions,
    in_force,
    issued,
    rule,
    topic,
    withdrawn,
)

from engine.clock import to_micros
from engine.decisions import recommendation_id, withdrawal_id
from engine.policies.baseline import BaselinePolicy
from engine.scenarios import History
from events.vocabulary import RecommendationWithdrawn


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


def test_a_changed_target_is_news_and_supersedes_the_previous_advice(policy, journey):
    """A squat a week at rising loads changes the week's plan every Monday: one recommendation per week,
    each naming the one it supersedes on its topic."""
    j = journey().to_strength()
    for i, d in enumerate((8, 15, 22)):
        j.h.day(d).lift("squat", 60 + 5 * i, 10, 3, rpe=8)
    plans = topic(j.h.recommendations(policy, horizon=at(22)), "strength")
    assert [(day_of(r), r.target["squat_kg"]) for r in plans] == [(8, 53.5), (14, 57.0), (21, 62.0)]
    assert [r.supersedes for r in plans] == [None, plans[0].recommendation_id, plans[1].recommendation_id]


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


# -- withdrawals ------------------------------------------------------------------------------


def test_a_withdrawal_names_the_advice_it_ends(policy):
    """Given amber rest pain on day 0 and nothing after, then the hold is withdrawn (no_longer_holds) when
    the pain picture expires, naming the recommendation it ends; nothing is in force afterwards."""
    h = History().day(0).pain(4, "rest")
    _, events = h.replay(policy, horizon=at(4))
    [hold] = issued(events)
    [gone] = withdrawn(events, "pain")
    assert (gone.recommendation_id, gone.kind, gone.rule_id) == (hold.recommendation_id, "hold",
                                                                 "pain.traffic_light_amber")
    assert (gone.reason, gone.superseded_by, gone.decision_time) == ("no_longer_holds", None, at(3))
    assert in_force(events) == {}


def test_the_phase_advice_is_never_withdrawn(journey):
    """Over the whole compliant journey, advice on every topic comes and goes, but a phase change stays
    in force until the next one: no withdrawal names the phase topic."""
    _, events = journey().to_integration().h.replay(BaselinePolicy(), horizon=at(160))
    assert withdrawn(events, "phase") == []
    assert in_force(events)["phase"].target == {"phase": "integration"}


def test_withdrawal_ids_are_deterministic(policy, journey):
    """Withdrawal ids come from (athlete, policy, version, topic, time, position): equal on replay."""
    j = journey().to_return_to_run()
    first, second = j.h.replay(policy)[1], j.h.replay(BaselinePolicy())[1]
    gone = [e for e in first if isinstance(e, RecommendationWithdrawn)]
    assert gone and gone == [e for e in second if isinstance(e, RecommendationWithdrawn)]
    w = gone[0]
    assert w.withdrawal_id == withdrawal_id(w.athlete_id, policy, w.topic, to_micros(w.decision_time),
                                            w.trigger_position)
