"""The pain traffic light (RULES.md section 4, Silbernagel 2007): green progresses, amber holds and
must be green by next morning, red (>= 6 or next morning worse than baseline) deloads."""

from __future__ import annotations

from policy_support import day_of, rule, topic


def _strength_athlete(journey):
    """In the strength phase from day 7 with a squat of 60 kg x 15 x 3 on day 8."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8)
    return j


def test_red_pain_deloads(policy, journey):
    """Pain 6 during activity is red: a pain deload, and the squat target drops by 10%."""
    j = _strength_athlete(journey)
    j.h.pain(6, "during")
    recs = j.h.recommendations(policy)
    [red] = rule(recs, "pain.traffic_light_red")
    assert red.kind == "deload" and red.target == {"load_factor": 0.9}
    assert red.rationale["recent_pain"] == 6 and red.rationale["amber_max"] == 5
    squat = topic(recs, "strength:squat")[-1]
    assert (squat.kind, squat.rule_id) == ("deload", "strength.deload_red")
    assert squat.target == {"exercise": "squat", "load_kg": 54.0, "sets": 3, "reps": 15}


def test_amber_pain_holds(policy, journey):
    """Pain 4 after activity is amber: hold, and the squat target stays at the last load."""
    j = _strength_athlete(journey)
    j.h.pain(4, "after")
    recs = j.h.recommendations(policy)
    [amber] = rule(recs, "pain.traffic_light_amber")
    assert amber.kind == "hold" and amber.rationale["recent_pain"] == 4
    assert amber.rationale["green_max"] == 3
    squat = topic(recs, "strength:squat")[-1]
    assert (squat.kind, squat.rule_id, squat.target["load_kg"]) == ("hold", "strength.hsr_hold", 60)


def test_green_pain_lets_load_progress(policy, journey):
    """Pain 3 is still green: the squat progresses and no pain advice is given."""
    j = _strength_athlete(journey)
    j.h.pain(3, "after")
    recs = j.h.recommendations(policy)
    assert topic(recs, "pain") == []
    assert topic(recs, "strength:squat")[-1].kind == "progress"


def test_amber_not_green_by_next_morning_turns_red(policy, journey):
    """Amber yesterday and next-morning pain 4 today: red, deload."""
    j = _strength_athlete(journey)
    j.h.pain(4, "after")
    j.h.day(9).pain(4, "next_morning")
    recs = j.h.recommendations(policy)
    red = rule(recs, "pain.traffic_light_red")[-1]
    assert red.rationale["reason"] == "amber pain not back to green by next morning"
    assert red.rationale["next_morning_pain"] == 4


def test_amber_back_to_green_by_next_morning_is_not_red(policy, journey):
    """Amber yesterday and next-morning pain 1 today: no deload."""
    j = _strength_athlete(journey)
    j.h.pain(4, "after")
    j.h.day(9).pain(1, "next_morning")
    assert rule(j.h.recommendations(policy), "pain.traffic_light_red") == []


def test_next_morning_worse_than_baseline_is_red(policy, journey):
    """A week of next-morning pain 2, then 3: worse than the athlete's baseline, so red."""
    j = journey().to_strength()
    for d in range(8, 15):
        j.h.day(d).pain(2, "next_morning")
    j.h.day(15).pain(3, "next_morning")
    recs = j.h.recommendations(policy)
    [red] = rule(recs, "pain.traffic_light_red")
    assert day_of(red) == 15
    assert red.rationale["reason"] == "next-morning pain worse than baseline"
    assert (red.rationale["baseline"], red.rationale["next_morning_pain"]) == (2.0, 3)


def test_next_morning_at_baseline_is_not_red(policy, journey):
    """Next-morning pain equal to the baseline changes nothing."""
    j = journey().to_strength()
    for d in range(8, 16):
        j.h.day(d).pain(2, "next_morning")
    assert topic(j.h.recommendations(policy), "pain") == []


def test_red_next_morning_pain_deloads(policy, journey):
    """Next-morning pain 6 is red on its own, without any baseline."""
    j = journey().to_strength()
    j.h.day(8).pain(6, "next_morning")
    [red] = rule(j.h.recommendations(policy), "pain.traffic_light_red")
    assert red.rationale["reason"] == "next-morning pain red"
