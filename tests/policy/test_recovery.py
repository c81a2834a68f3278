"""Recovery and nutrition (RULES.md section 3): a week of short sleep or under-fuelling holds
progression (and, in test_phases.py, the phase advance) rather than advancing."""

from __future__ import annotations

from policy_support import at, day_of, rule, topic

from engine.scenarios import History


def test_short_sleep_week_holds_progression(policy, journey):
    """Four nights averaging 6 h: recovery.short_sleep, and a squat that hit its target is held."""
    j = journey().to_strength()
    for d in range(8, 12):
        j.h.day(d).sleep(6.0)
    j.h.day(12).lift("squat", 60, 15, 3, rpe=8)
    recs = j.h.recommendations(policy)
    [hold] = rule(recs, "recovery.short_sleep")
    assert (hold.kind, hold.topic, day_of(hold)) == ("hold", "recovery", 12)
    assert hold.rationale == {"average_sleep_h": 6.0, "nights": 4, "short_sleep_hours": 7.0}
    assert topic(recs, "strength:squat")[-1].kind == "hold"


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


def test_under_fuelling_holds_progression(policy, journey):
    """Three under-fuelled days in the last seven: recovery.under_fuelling, squat held."""
    j = journey().to_strength()
    for d in (8, 9, 10):
        j.h.day(d).fuel(True)
    j.h.day(11).lift("squat", 60, 15, 3, rpe=8)
    recs = j.h.recommendations(policy)
    [hold] = rule(recs, "recovery.under_fuelling")
    assert day_of(hold) == 11
    assert hold.rationale == {"under_fuelled_days": 3, "threshold": 3}
    assert topic(recs, "strength:squat")[-1].kind == "hold"


def test_recovery_hold_lifts_when_the_week_recovers(policy, journey):
    """Good sleep pushes the short nights out of the window: the squat progresses again."""
    j = journey().to_strength()
    for d in range(8, 12):
        j.h.day(d).sleep(6.0)
    for d in range(12, 20):
        j.h.day(d).sleep(8.5)
    j.h.day(20).lift("squat", 60, 12, 3, rpe=8)
    assert topic(j.h.recommendations(policy), "strength:squat")[-1].kind == "progress"
