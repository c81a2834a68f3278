"""Recovery and nutrition (RULES.md section 3): a week of short sleep or under-fuelling holds
progression (and, in test_phases.py, the phase advance) rather than advancing. The ``recovery`` hold
covers the strength and running plans and carries their held targets (one advice, not one per plan)."""

from __future__ import annotations

from policy_support import at, day_of, issued, rule, topic, withdrawn

from engine.scenarios import History


def test_rules_3_short_sleep_week_holds_progression(policy, journey):
    """Given four nights averaging 6 h, then recovery.short_sleep at the midnight that completes them, and
    a squat that reached its ladder (60 kg x 15 x 3) is held at 60 kg inside that advice, not raised."""
    j = journey().to_strength()
    for d in range(8, 12):
        j.h.day(d).sleep(6.0)
    j.h.day(12).lift("squat", 60, 15, 3, rpe=8)
    _, events = j.h.replay(policy)
    holds = rule(issued(events), "recovery.short_sleep")
    assert [(h.kind, h.topic, h.decision_time) for h in holds] == [("hold", "recovery", at(12)),
                                                                   ("hold", "recovery", at(12, 8))]
    assert holds[0].rationale == {"average_sleep_h": 6.0, "nights": 4, "short_sleep_hours": 7.0}
    assert holds[-1].target == {"sets": 3, "reps": 15, "squat_kg": 60.0, "squat_sets": 3, "squat_reps": 15}
    assert topic(issued(events), "strength") == []


def test_three_short_nights_are_not_enough_to_judge(policy):
    """Fewer than four nights logged in the week: no sleep hold."""
    h = History()
    for d in range(3):
        h.day(d).sleep(5.0)
    assert rule(h.recommendations(policy, horizon=at(6)), "recovery.short_sleep") == []


def test_seven_hours_is_enough(policy):
    """A week averaging exactly 7 h is not short sleep."""
    h = History()
    for d in range(8):
        h.day(d).sleep(7.0)
    assert rule(h.recommendations(policy), "recovery.short_sleep") == []


def test_rules_3_under_fuelling_holds_progression(policy, journey):
    """Given three under-fuelled days in the last seven, then recovery.under_fuelling, the squat held."""
    j = journey().to_strength()
    for d in (8, 9, 10):
        j.h.day(d).fuel(True)
    j.h.day(11).lift("squat", 60, 15, 3, rpe=8)
    hold = rule(j.h.recommendations(policy), "recovery.under_fuelling")[-1]
    assert (day_of(hold), hold.target["squat_kg"]) == (11, 60.0)
    assert hold.rationale == {"under_fuelled_days": 3, "threshold": 3}


def test_recovery_hold_lifts_when_the_week_recovers(policy, journey):
    """Given good sleep pushing the short nights out of the window, then the recovery hold is withdrawn
    and the strength plan progresses again."""
    j = journey().to_strength()
    for d in range(8, 12):
        j.h.day(d).sleep(6.0)
    for d in range(12, 20):
        j.h.day(d).sleep(8.5)
    j.h.day(20).lift("squat", 60, 12, 3, rpe=8)
    _, events = j.h.replay(policy)
    assert [w.reason for w in withdrawn(events, "recovery")] == ["no_longer_holds"]
    assert topic(issued(events), "strength")[-1].kind == "progress"
