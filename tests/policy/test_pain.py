"""The pain traffic light (RULES.md section 4, Silbernagel 2007): green progresses, amber holds and must
be green by next morning, red (>= 6, or next morning more than 1 point above the baseline) deloads.
Amber and red give ONE ``pain`` advice that covers the strength and running plans and carries their
held or reduced targets; one pain picture per day gives one colour at every decision point."""

from __future__ import annotations

import pytest
from policy_support import at, day_of, in_force, issued, rule, topic, withdrawn


def _strength_athlete(journey):
    """In the strength phase from day 7 with a squat of 60 kg x 15 x 3 on day 8 (plan: 63 kg 3x15)."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8)
    return j


def test_rules_4_red_pain_deloads_with_every_reduced_target(policy, journey):
    """Given pain 6 during activity, then one pain deload (load factor 0.9) carrying the squat at 54 kg
    (60 kg less 10%), and the strength plan is withdrawn as superseded by it."""
    j = _strength_athlete(journey)
    j.h.pain(6, "during")
    _, events = j.h.replay(policy)
    [red] = rule(issued(events), "pain.traffic_light_red")
    assert (red.kind, red.topic) == ("deload", "pain")
    assert red.target == {"load_factor": 0.9, "sets": 3, "reps": 15, "squat_kg": 54.0, "squat_sets": 3,
                          "squat_reps": 15}
    assert red.rationale["recent_pain"] == 6 and red.rationale["amber_max"] == 5
    [gone] = withdrawn(events, "strength")
    assert (gone.reason, gone.superseded_by) == ("superseded", red.recommendation_id)


def test_rules_4_amber_pain_holds_the_plan(policy, journey):
    """Given pain 4 after activity, then one pain hold naming the squat at its last load (60 kg) in words;
    its target is only ``hold`` (the held loads are the last ones), so a new plan week alone does not
    re-issue it."""
    j = _strength_athlete(journey)
    j.h.pain(4, "after")
    [amber] = rule(j.h.recommendations(policy), "pain.traffic_light_amber")
    assert (amber.kind, amber.target, amber.rationale["recent_pain"]) == ("hold", {"hold": True}, 4)
    assert "squat 60 kg 3x15" in amber.explanation
    assert amber.rationale["green_max"] == 3


def test_green_pain_lets_load_progress(policy, journey):
    """Given pain 3 (still green), then no pain advice and the strength plan still progresses."""
    j = _strength_athlete(journey)
    j.h.pain(3, "after")
    recs = j.h.recommendations(policy)
    assert topic(recs, "pain") == []
    assert topic(recs, "strength")[-1].kind == "progress"


def test_amber_not_green_by_next_morning_turns_red(policy, journey):
    """Given amber pain after activity on day 8 and next-morning pain 4 on day 9, then red: deload."""
    j = _strength_athlete(journey)
    j.h.pain(4, "after")
    j.h.day(9).pain(4, "next_morning")
    red = rule(j.h.recommendations(policy), "pain.traffic_light_red")[-1]
    assert red.rationale["reason"] == "amber pain (4/10) not back to green by next morning (4/10)"
    assert (day_of(red), red.rationale["next_morning_pain"]) == (9, 4)


def test_amber_back_to_green_by_next_morning_is_not_red(policy, journey):
    """Given amber yesterday and next-morning pain 1 today, then no deload (the hold is withdrawn)."""
    j = _strength_athlete(journey)
    j.h.pain(4, "after")
    j.h.day(9).pain(1, "next_morning")
    _, events = j.h.replay(policy)
    assert rule(issued(events), "pain.traffic_light_red") == []
    assert [(day_of(w), w.reason) for w in withdrawn(events, "pain")] == [(9, "no_longer_holds")]


def test_rules_4_next_morning_tolerance_baseline_0_and_a_morning_of_2_deloads(policy, journey):
    """Given a week of next-morning pain 0, then a morning of 2 (more than 1 point above the baseline 0)
    is red; a morning of 1 the day after is within the tolerance and the deload is withdrawn."""
    j = journey().to_strength()
    for d in range(8, 15):
        j.h.day(d, hour=7).pain(0, "next_morning")
    j.h.day(15, hour=7).pain(2, "next_morning")
    j.h.day(16, hour=7).pain(1, "next_morning")
    _, events = j.h.replay(policy)
    [red] = rule(issued(events), "pain.traffic_light_red")
    assert day_of(red) == 15
    assert (red.rationale["baseline"], red.rationale["next_morning_pain"]) == (0.0, 2)
    assert red.rationale["reason"] == "next-morning pain 2/10 is more than 1 above your baseline 0"
    assert [(day_of(w), w.reason) for w in withdrawn(events, "pain")] == [(16, "no_longer_holds")]


def test_next_morning_one_point_above_the_baseline_is_not_red(policy, journey):
    """Given a week of next-morning pain 2, then 3 (one point above the baseline 2): no pain advice."""
    j = journey().to_strength()
    for d in range(8, 15):
        j.h.day(d, hour=7).pain(2, "next_morning")
    j.h.day(15, hour=7).pain(3, "next_morning")
    assert rule(j.h.recommendations(policy, horizon=at(17)), "pain.traffic_light_red") == []


def test_red_next_morning_pain_deloads(policy, journey):
    """Given next-morning pain 6, then red on its own, without any baseline."""
    j = journey().to_strength()
    j.h.day(8).pain(6, "next_morning")
    [red] = rule(j.h.recommendations(policy), "pain.traffic_light_red")
    assert red.rationale["reason"] == "next-morning pain 6/10 is red"


@pytest.mark.parametrize("where", ["lift", "plyometric", "run", "readiness", "isometric", "cross_training"])
def test_rules_4_pain_on_any_activity_counts(policy, journey, where):
    """Given pain 7 logged on a lift, a plyometric session, a run, a readiness test, an isometric hold or
    a cross-training session (no pain.reported at all), then the light is red: one pain deload."""
    j = journey().to_plyometric()
    h = j.h.day(j.d)
    {"lift": lambda: h.lift("squat", 60, 6, 3, rpe=8, pain=7),
     "plyometric": lambda: h.plyo("pogo", 60, pain=7),
     "run": lambda: h.run(2.0, 20, rpe=3, kind="walk_run", level=1, pain=7),
     "readiness": lambda: h.readiness("single_leg_squat_10", pain=7),
     "isometric": lambda: h.hold("calf_raise_single_leg", 45, pain=7),
     "cross_training": lambda: h.cross("cycling", 40, pain=7)}[where]()
    [red] = rule(j.h.recommendations(policy), "pain.traffic_light_red")
    assert (red.kind, day_of(red), red.rationale["recent_pain"]) == ("deload", j.d, 7)


def test_rules_4_plyometric_pain_of_6_to_7_is_red(policy, journey):
    """Given a pogo session with pain 6 and one with pain 7 in the plyometric phase, then red: one pain
    deload carrying the strength targets, not ignored."""
    j = journey().to_plyometric()
    with j.h.day(j.d).batch():
        j.h.plyo("pogo", 60, pain=6).plyo("pogo", 40, pain=7)
    [red] = topic(j.h.recommendations(policy), "pain")
    assert (red.kind, red.rule_id, red.rationale["recent_pain"]) == ("deload", "pain.traffic_light_red", 7)
    assert red.target["load_factor"] == 0.9 and "squat_kg" in red.target


def test_rules_4_one_pain_picture_one_light_unchanged_amber_never_flips_at_midnight(policy, journey):
    """Given rest and activity pain 4/10 every day for five days, then one amber hold at every decision
    point (batches and midnights): no deload, no hold/deload flip-flop, withdrawn only two days after
    the last pain is logged."""
    j = _strength_athlete(journey)
    for d in range(9, 14):
        with j.h.day(d).batch():
            j.h.pain(4, "rest").pain(4, "during")
    _, events = j.h.replay(policy, horizon=at(17))
    pain = [e for e in events if e.topic == "pain"]
    assert {(type(e).__name__, e.kind) for e in pain} == {("RecommendationIssued", "hold"),
                                                          ("RecommendationWithdrawn", "hold")}
    assert rule(issued(events), "pain.traffic_light_red") == []
    assert [(day_of(w), w.reason) for w in withdrawn(events, "pain")] == [(16, "no_longer_holds")]


def test_rules_4_the_same_pain_gives_the_same_colour_at_midnight_as_after_the_event(policy, journey):
    """Given red pain 7 logged at 20:00, then the deload issued at that batch is still the advice in force
    at the next midnight (nothing is re-issued or withdrawn at 00:00)."""
    j = _strength_athlete(journey)
    j.h.day(9, hour=20).pain(7, "during")
    _, events = j.h.replay(policy, horizon=at(10, 12))
    [red] = rule(issued(events), "pain.traffic_light_red")
    assert in_force(events, at(10))["pain"] == red
    assert [e for e in events if e.decision_time == at(10)] == []


def test_rules_8_the_pain_hold_names_the_held_plan_in_plain_words(policy, journey):
    """Given amber pain after the walk-run ladder, then the pain hold names the week's running plan (km and
    long-run cap) as one sentence, ending with a single full stop."""
    j = journey(weekly_km=40.0).to_return_to_run().walk_run()
    for d in (120, 122, 124):
        j.h.day(d).run(3, rpe=3)
    j.h.day(126).pain(4, "during")
    [hold] = topic(j.h.recommendations(policy), "pain")
    assert "km this week" in hold.explanation and "longest run at most" in hold.explanation
    assert hold.explanation.endswith(".") and not hold.explanation.endswith("..")
