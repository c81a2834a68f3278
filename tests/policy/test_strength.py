"""The week's strength plan (RULES.md sections 5 and 8, Beyer 2015): ONE ``strength`` advice carrying
every recent exercise's target (``<ex>_kg`` / ``<ex>_sets`` / ``<ex>_reps``, plus the ladder's
``sets`` and ``reps``), computed from the sessions before the current Monday-based week, so it
changes at most once a week. Loads are the Epley inverse of the e1RM at the ladder's reps, raised by
the load step once the last session reached the ladder's sets x reps; bodyweight work gets reps."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_support import STRENGTH_DAY, at, day_of, topic

from engine.scenarios import History
from events.vocabulary import InjuryReported


def _plans(policy, j, horizon=None):
    return topic(j.h.recommendations(policy, horizon=horizon), "strength")


def _squat(policy, journey, load, reps, sets, day=8):
    """The strength plan issued for a squat (load, reps, sets) logged on ``day`` in the strength phase."""
    j = journey().to_strength()
    j.h.day(day).lift("squat", load, reps, sets, rpe=8)
    return _plans(policy, j)


def test_rules_5_targets_an_athlete_can_lift_a_six_rep_squatter_gets_3x15_at_56_kg(policy, journey):
    """Given a squat of 70 kg x 6 in week 1 (ladder 3x15), then the plan is 3x15 at 56 kg (the Epley
    inverse of the 84 kg e1RM at 15 reps), not 70 kg; a lowered load is a ``hold``, never ``progress``."""
    [plan] = _squat(policy, journey, 70, 6, 3)
    assert (plan.kind, plan.rule_id) == ("hold", "strength.hsr_hold")
    assert plan.target == {"sets": 3, "reps": 15, "squat_kg": 56.0, "squat_sets": 3, "squat_reps": 15}
    assert "56 kg 3x15" in plan.explanation and "about 84 kg 1RM" in plan.explanation


def test_progress_when_the_last_session_reached_the_ladder(policy, journey):
    """Given 3x15 at 60 kg in week 1 (the ladder's 3x15), then the plan progresses by 5% to 63 kg."""
    [plan] = _squat(policy, journey, 60, 15, 3)
    assert (plan.kind, plan.rule_id) == ("progress", "strength.hsr_progress")
    assert plan.target == {"sets": 3, "reps": 15, "squat_kg": 63.0, "squat_sets": 3, "squat_reps": 15}
    assert plan.rationale == {"ladder_week": 1, "target_sets": 3, "target_reps": 15, "load_step": 0.05,
                              "mode": "progress"}


def test_hold_when_reps_fall_short(policy, journey):
    """Given 3x13 at 60 kg against 3x15, then no step: the load for 15 reps at that e1RM (86 kg), 57.5 kg
    (loads round to 0.5 kg), a hold."""
    [plan] = _squat(policy, journey, 60, 13, 3)
    assert (plan.kind, plan.target["squat_kg"], plan.target["squat_reps"]) == ("hold", 57.5, 15)


def test_hold_when_sets_fall_short(policy, journey):
    """Given 2x15 at 60 kg against 3x15, then the load stays at 60 kg: a hold."""
    [plan] = _squat(policy, journey, 60, 15, 2)
    assert (plan.kind, plan.target["squat_kg"], plan.target["squat_sets"]) == ("hold", 60.0, 3)


@pytest.mark.parametrize(("week", "sets", "reps"), [(1, 3, 15), (2, 3, 12), (3, 3, 12), (4, 4, 10), (5, 4, 10),
                                                    (6, 4, 8), (8, 4, 8), (9, 4, 6), (12, 4, 6), (15, 4, 6)])
def test_rules_5_heavy_slow_resistance_ladder_by_week(policy, journey, week, sets, reps):
    """The plan follows the HSR ladder by weeks since strength began: wk1 3x15, wk2-3 3x12, wk4-5 4x10,
    wk6-8 4x8, wk9+ 4x6 (a session at the ladder's sets x reps progresses)."""
    [plan] = _squat(policy, journey, 60, reps, sets, day=STRENGTH_DAY + 7 * (week - 1) + 1)
    assert plan.rationale["ladder_week"] == week
    assert (plan.target["sets"], plan.target["reps"], plan.target["squat_sets"], plan.target["squat_reps"]) == (
        sets, reps, sets, reps)
    assert plan.kind == "progress"


def test_light_load_progresses_by_the_minimum_step(policy, journey):
    """5% of 10 kg is below the 1 kg minimum step: 10 kg x 15 x 3 gives 11 kg."""
    [plan] = _squat(policy, journey, 10, 15, 3)
    assert plan.target["squat_kg"] == 11.0


def test_previous_injury_halves_the_load_step(policy):
    """With a previous running injury the step is 2.5%: 60 kg x 15 x 3 progresses to 61.5 kg."""
    injury = InjuryReported(injury_type="tendinopathy", onset_date=dt.date(2026, 2, 20), previous_running_injuries=2)
    h = History(injury=injury)
    for d in range(11):
        h.day(d).pain(1, "rest")
    h.day(11).lift("squat", 60, 15, 3, rpe=8)
    [plan] = topic(h.recommendations(policy), "strength")
    assert (plan.kind, plan.target["squat_kg"], plan.rationale["load_step"]) == ("progress", 61.5, 0.025)


def test_rules_5_bodyweight_work_gets_reps_not_kilograms(policy, journey):
    """Given single-leg calf raises at bodyweight (0 kg) x 15 x 3, then the plan adds 2 reps and carries
    no ``_kg`` target (never "0.0 kg")."""
    j = journey().to_strength()
    j.h.day(8).lift("calf_raise_single_leg", 0, 15, 3, rpe=8)
    [plan] = _plans(policy, j)
    assert plan.target == {"sets": 3, "reps": 15, "calf_raise_single_leg_sets": 3, "calf_raise_single_leg_reps": 17}
    assert plan.kind == "progress"
    assert "kg" not in plan.explanation.split(": ", 1)[1]


def test_rules_8_progress_never_lowers_a_target(policy, journey):
    """Given a squat that reached its ladder (raised) and a 6-rep deadlift (lowered to the 15-rep load)
    in one week, then the plan carries both targets and its kind is ``hold``, not ``progress``."""
    j = journey().to_strength()
    with j.h.day(8).batch():
        j.h.lift("squat", 60, 15, 3, rpe=8).lift("deadlift", 80, 6, 3, rpe=8)
    [plan] = _plans(policy, j)
    assert (plan.target["squat_kg"], plan.target["deadlift_kg"]) == (63.0, 64.0)
    assert plan.kind == "hold"


def test_rules_8_one_plan_carries_every_exercise(policy, journey):
    """Given squat, deadlift and bodyweight calf raises in one session, then one ``strength`` advice with
    every exercise's targets, and no per-exercise topics."""
    j = journey().to_strength()
    with j.h.day(8).batch():
        j.h.lift("squat", 60, 15, 3, rpe=8).lift("deadlift", 80, 15, 3, rpe=8)
        j.h.lift("calf_raise_single_leg", 0, 15, 3, rpe=8)
    recs = j.h.recommendations(policy)
    [plan] = topic(recs, "strength")
    assert {k for k in plan.target if k.endswith("_sets")} == {
        "squat_sets", "deadlift_sets", "calf_raise_single_leg_sets"}
    assert not [r for r in recs if r.topic.startswith("strength:")]


def test_the_plan_changes_at_most_once_a_week(policy, journey):
    """Given a squat in week 1 (day 8), then squats on days 15, 17 and 19 at rising loads, then the plan
    changes only on Mondays (days 14 and 21), each from the sessions before that week."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8)
    for i, d in enumerate((15, 17, 19)):
        j.h.day(d).lift("squat", 65 + 2.5 * i, 12, 3, rpe=8)
    plans = _plans(policy, j, horizon=at(22))
    assert [(p.decision_time, p.target["squat_kg"], p.target["squat_reps"]) for p in plans] == [
        (at(8, 8), 63.0, 15), (at(14), 64.5, 12), (at(21), 73.5, 12)]


def test_the_first_plan_comes_from_the_first_lifting_day_and_new_exercises_join_next_week(policy, journey):
    """Given a first squat on day 8, then another squat and a first deadlift on day 10, then the plan is
    issued once in week 1 (from day 8's session) and the deadlift joins it on Monday day 14."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8)
    j.h.day(10).lift("squat", 62, 15, 3, rpe=8).lift("deadlift", 80, 6, 3, rpe=8)
    plans = _plans(policy, j, horizon=at(15))
    assert [(day_of(p), sorted(k for k in p.target if k.endswith("_kg"))) for p in plans] == [
        (8, ["squat_kg"]), (14, ["deadlift_kg", "squat_kg"])]


def test_no_strength_plan_while_settling(policy):
    """Lifts logged in settle get no strength plan (low-load work only)."""
    h = History()
    h.day(0).pain(1, "rest").lift("squat", 20, 15, 3, rpe=5)
    assert topic(h.recommendations(policy), "strength") == []


def test_an_exercise_not_logged_for_ten_days_leaves_the_plan(policy, journey):
    """Given a squat on day 8 and nothing else, then the plan holds it through week 2 and the plan is
    withdrawn (``no_longer_holds``) at Monday day 21, more than 10 days after the squat."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8)
    for d in range(9, 22):
        j.h.day(d).pain(1, "rest")
    _, events = j.h.replay(policy)
    plans = [e for e in events if e.topic == "strength"]
    assert [(type(e).__name__, day_of(e)) for e in plans] == [
        ("RecommendationIssued", 8), ("RecommendationIssued", 14), ("RecommendationWithdrawn", 21)]
    assert plans[-1].reason == "no_longer_holds"
