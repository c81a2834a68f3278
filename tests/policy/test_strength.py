"""Heavy slow resistance (RULES.md section 5, Beyer 2015): per-exercise targets that progress when
every set reached the ladder's reps with green pain, hold on amber, deload on red."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_support import STRENGTH_DAY, day_of, topic

from engine.scenarios import History
from events.vocabulary import InjuryReported


def _squat(policy, journey, *lifts, day=8, pain=None):
    """Advice on the squat after ``lifts`` ((load, reps, sets, rpe), ...) logged from ``day``."""
    j = journey().to_strength()
    for offset, (load, reps, sets, rpe) in enumerate(lifts):
        j.h.day(day + 2 * offset).lift("squat", load, reps, sets, rpe=rpe)
    if pain is not None:
        j.h.pain(pain, "after")
    return topic(j.h.recommendations(policy), "strength:squat")


def test_progress_when_all_sets_reach_target_reps(policy, journey):
    """Week 1 is 3x15: 3x15 at 60 kg with green pain progresses by 5% to 63 kg."""
    [rec] = _squat(policy, journey, (60, 15, 3, 8))
    assert (rec.kind, rec.rule_id) == ("progress", "strength.hsr_progress")
    assert rec.target == {"exercise": "squat", "load_kg": 63.0, "sets": 3, "reps": 15}
    assert rec.rationale["ladder_week"] == 1
    assert rec.rationale["load_step"] == 0.05
    assert (rec.rationale["last_load_kg"], rec.rationale["last_reps"], rec.rationale["last_sets"]) == (60, 15, 3)


def test_hold_when_reps_fall_short(policy, journey):
    """3x13 against a 3x15 target holds the load."""
    [rec] = _squat(policy, journey, (60, 13, 3, 8))
    assert (rec.kind, rec.rule_id) == ("hold", "strength.hsr_hold")
    assert rec.target == {"exercise": "squat", "load_kg": 60, "sets": 3, "reps": 15}


def test_hold_when_sets_fall_short(policy, journey):
    """2 sets against a 3-set target hold the load."""
    [rec] = _squat(policy, journey, (60, 15, 2, 8))
    assert rec.kind == "hold"


def test_hold_on_amber_pain(policy, journey):
    """Target reached but pain 5 after: hold at the same load."""
    recs = _squat(policy, journey, (60, 15, 3, 8), pain=5)
    assert [(r.kind, r.target["load_kg"]) for r in recs] == [("progress", 63.0), ("hold", 60)]
    assert recs[-1].rationale["pain"] == "amber"


def test_deload_on_red_pain(policy, journey):
    """Pain 7 after the session: deload the squat by 10% to 54 kg."""
    recs = _squat(policy, journey, (60, 15, 3, 8), pain=7)
    assert (recs[-1].kind, recs[-1].rule_id) == ("deload", "strength.deload_red")
    assert recs[-1].target == {"exercise": "squat", "load_kg": 54.0, "sets": 3, "reps": 15}


@pytest.mark.parametrize(("week", "sets", "reps"), [(1, 3, 15), (2, 3, 12), (3, 3, 12), (4, 4, 10), (5, 4, 10),
                                                    (6, 4, 8), (8, 4, 8), (9, 4, 6), (12, 4, 6), (15, 4, 6)])
def test_ladder_sets_and_reps_by_week(policy, journey, week, sets, reps):
    """The target follows the HSR ladder: wk1 3x15, wk2-3 3x12, wk4-5 4x10, wk6-8 4x8, wk9+ 4x6."""
    recs = _squat(policy, journey, (60, reps, sets, 8), day=STRENGTH_DAY + 7 * (week - 1) + 1)
    assert recs[-1].rationale["ladder_week"] == week
    assert (recs[-1].target["sets"], recs[-1].target["reps"]) == (sets, reps)
    assert recs[-1].kind == "progress"


def test_light_load_progresses_by_the_minimum_step(policy, journey):
    """5% of 10 kg is below the 1 kg minimum step: the target is 11 kg."""
    [rec] = _squat(policy, journey, (10, 15, 3, 8))
    assert rec.target["load_kg"] == 11.0


def test_previous_injury_halves_the_load_step(policy):
    """With a previous running injury the step is 2.5%: 60 kg progresses to 61.5 kg."""
    injury = InjuryReported(injury_type="tendinopathy", onset_date=dt.date(2026, 2, 20), previous_running_injuries=2)
    h = History(injury=injury)
    for d in range(11):
        h.day(d).pain(1, "rest")
    h.day(11).lift("squat", 60, 15, 3, rpe=8)
    [rec] = topic(h.recommendations(policy), "strength:squat")
    assert rec.kind == "progress"
    assert rec.target["load_kg"] == 61.5
    assert rec.rationale["load_step"] == 0.025


def test_no_strength_targets_while_settling(policy):
    """Lifts logged in settle get no strength target (low-load work only)."""
    h = History()
    h.day(0).pain(1, "rest").lift("squat", 20, 15, 3, rpe=5)
    assert topic(h.recommendations(policy), "strength:squat") == []


def test_each_exercise_gets_its_own_target(policy, journey):
    """Squat and calf raise progress independently."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8).lift("calf_raise_single_leg", 20, 12, 3, rpe=8)
    recs = j.h.recommendations(policy)
    assert topic(recs, "strength:squat")[-1].kind == "progress"
    assert topic(recs, "strength:calf_raise_single_leg")[-1].kind == "hold"


def test_an_exercise_not_logged_for_ten_days_drops_its_target(policy, journey):
    """After 10 days without a squat the target is withdrawn; the next squat is news again."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 15, 3, rpe=8)
    for d in range(9, 21):
        j.h.day(d).pain(1, "rest")
    j.h.day(21).lift("squat", 60, 15, 3, rpe=8)
    squat = topic(j.h.recommendations(policy), "strength:squat")
    # day 14: week 2 of the ladder (3x12); day 19: withdrawn silently; day 21: the same advice, news again
    assert [(day_of(r), r.target["load_kg"], r.target["reps"]) for r in squat] == [
        (8, 63.0, 15), (14, 63.0, 12), (21, 63.0, 12)]
