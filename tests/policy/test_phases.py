"""Phase transitions of the baseline policy (RULES.md section 1): given a diary, then the advance or
regress it must produce, on which day, by which rule, with the numbers it compared."""

from __future__ import annotations

import datetime as dt

from policy_support import (
    INTEGRATION_DAY,
    PLYOMETRIC_DAY,
    READINESS,
    RUN_DAY,
    STRENGTH_DAY,
    at,
    day_of,
    in_force,
    issued,
    phase_changes,
    rule,
)

from engine.policies.baseline import BaselineConfig, BaselinePolicy, ModifierConfig
from engine.scenarios import History
from events.vocabulary import AssessmentRecorded, InjuryReported
from projections import phase as ph


def test_settle_to_strength_after_seven_settled_days(policy):
    """Seven complete days of rest pain <= 2 move the athlete to strength at the next day boundary."""
    h = History()
    for d in range(8):
        h.day(d).pain(1, "rest")
    recs = h.recommendations(policy)
    [advance] = rule(recs, "phase.settle_exit")
    assert advance.kind == "advance_phase" and advance.target == {"phase": "strength"}
    assert advance.decision_time == at(STRENGTH_DAY)
    assert advance.rationale["settled_days_reported"] == 7
    assert advance.rationale["days_rest_pain_above_max"] == 0
    assert advance.rationale["rest_pain_max"] == 2


def test_settle_waits_while_rest_pain_is_above_two(policy):
    """One day of rest pain 3 in the window keeps the athlete settling until seven clean days pass."""
    h = History()
    for d in range(13):
        h.day(d).pain(3 if d == 4 else 1, "rest")
    [(rule_id, phase, when)] = phase_changes(h.recommendations(policy))
    assert (rule_id, phase, when) == ("phase.settle_exit", "strength", at(12))


def test_strength_to_plyometric_when_milestones_met(policy, journey):
    """Six heavy weeks, a rising squat e1RM >= body mass and 20 calf raises open plyometrics."""
    j = journey().to_plyometric()
    recs = j.h.recommendations(policy)
    [advance] = rule(recs, "phase.strength_exit")
    assert advance.target == {"phase": "plyometric"}
    assert advance.decision_time == at(PLYOMETRIC_DAY)
    why = advance.rationale
    assert why["heavy_weeks"] == why["min_weeks"] == 6
    assert why["key_lift_e1rm_recent"] > why["key_lift_e1rm_before"]
    assert why["key_lift_bodyweight_ratio"] >= why["min_ratio"] == 1.0
    assert why["calf_raise_reps"] >= why["calf_raise_min_reps"] == 20


def test_strength_needs_squat_of_body_mass(policy, journey):
    """A heavier athlete (squat e1RM below body mass) does not leave strength on the same diary."""
    j = journey(body_mass_kg=100.0).to_plyometric()
    state, recs = j.h.replay(policy)
    assert rule(recs, "phase.strength_exit") == []
    assert state.phase.phase == "strength"


def test_pain_free_athlete_without_strength_never_reaches_running(policy):
    """Pain settling is not recovery: ten pain-free weeks with no lifting stay in strength."""
    h = History()
    for d in range(70):
        h.day(d).pain(0, "rest")
    state, recs = h.replay(policy)
    assert [p for _, p, _ in phase_changes(recs)] == ["strength"]
    assert state.phase.phase == "strength"
    assert not [r for r in recs if r.topic.startswith("run:")]


def test_plyometric_to_return_to_run_after_readiness_tests(policy, journey):
    """All four readiness tests passed pain-free after 4+ plyometric sessions begin the walk-run."""
    j = journey().to_return_to_run()
    recs = j.h.recommendations(policy)
    [advance] = rule(recs, "phase.plyometric_exit")
    assert advance.target == {"phase": "return_to_run"}
    assert day_of(advance) == RUN_DAY
    assert advance.rationale["readiness_tests_outstanding"] == ""
    assert advance.rationale["plyometric_sessions"] >= advance.rationale["min_sessions"] == 4


def test_plyometric_waits_for_a_painful_readiness_test(policy, journey):
    """A readiness test with pain 3 (above 2/10) does not count as passed."""
    j = journey().to_plyometric().plyometric(tests=False)
    for test in READINESS[:3]:
        j.h.readiness(test)
    j.h.readiness("jog_on_spot_1min", pain=3)
    state, recs = j.h.replay(policy)
    assert state.phase.phase == "plyometric"
    assert rule(recs, "phase.plyometric_exit") == []


def test_plyometric_waits_for_hop_symmetry_when_measured(policy, journey):
    """Hop symmetry measured at 85% (< 90%) holds the athlete in plyometrics despite the tests."""
    j = journey().to_plyometric().plyometric(tests=False)
    j.h.readiness("hop_symmetry", result=85.0)
    for test in READINESS:
        j.h.readiness(test)
    state, recs = j.h.replay(policy)
    assert state.phase.phase == "plyometric"
    assert rule(recs, "phase.plyometric_exit") == []


def test_return_to_run_to_integration_after_two_weeks_at_pre_injury_volume(policy, journey):
    """Two complete weeks at >= the pre-injury 20 km with green pain move the athlete to integration."""
    j = journey().to_integration()
    recs = j.h.recommendations(policy)
    [advance] = rule(recs, "phase.return_to_run_exit")
    assert advance.target == {"phase": "integration"}
    assert advance.decision_time == at(INTEGRATION_DAY)
    assert advance.rationale["weeks_met"] == advance.rationale["weeks_needed"] == 2
    assert advance.rationale["pre_injury_weekly_km"] == 20
    assert advance.rationale["weekly_km"] == "20.0,24.0"


def test_return_to_run_holds_below_pre_injury_volume(policy, journey):
    """Five weeks of 15 km (below the pre-injury 20 km) never reach integration."""
    j = journey().to_return_to_run().run_block(35, 3.75)
    state, _ = j.h.replay(policy)
    assert state.phase.phase == "return_to_run"


def test_regress_one_phase_on_two_red_days(policy, journey):
    """Red pain on two days of a week in plyometrics steps the athlete back to strength."""
    j = journey().to_plyometric()
    j.h.day(j.d).pain(7, "during")
    j.h.day(j.d + 1).pain(6, "rest")
    state, recs = j.h.replay(policy)
    [regress] = rule(recs, "phase.regress_red_pain")
    assert regress.kind == "regress_phase" and regress.target == {"phase": "strength"}
    assert day_of(regress) == j.d + 1
    assert regress.rationale == {"from_phase": "plyometric", "red_days": 2, "red_days_to_regress": 2}
    assert state.phase.phase == "strength"


def test_persistent_red_pain_steps_back_one_phase_per_fresh_red_window(policy, journey):
    """The red days that caused a regress do not count again: each further step back needs new ones."""
    j = journey().to_integration()
    for d in range(j.d, j.d + 3):
        j.h.day(d, hour=8).pain(7, "during")
    state, recs = j.h.replay(policy)
    regresses = rule(recs, "phase.regress_red_pain")
    assert [r.target["phase"] for r in regresses] == ["return_to_run"]
    assert state.phase.phase == "return_to_run"


def test_single_red_day_deloads_without_regress(policy, journey):
    """One red day deloads (pain rule) but keeps the phase."""
    j = journey().to_plyometric()
    j.h.day(j.d).pain(7, "during")
    j.h.day(j.d + 1).pain(1, "rest")
    state, recs = j.h.replay(policy)
    assert rule(recs, "phase.regress_red_pain") == []
    assert rule(recs, "pain.traffic_light_red")
    assert state.phase.phase == "plyometric"


def test_regress_to_settle_on_new_injury(policy, journey):
    """A new injury report in return_to_run sends the athlete back to settle, on that event."""
    j = journey().to_return_to_run()
    j.h.day(j.d).log(InjuryReported(injury_type="muscle_strain", onset_date=dt.date(2026, 5, 12)))
    state, recs = j.h.replay(policy)
    [regress] = rule(recs, "phase.regress_new_injury")
    assert regress.kind == "regress_phase" and regress.target == {"phase": "settle"}
    assert regress.rationale == {"from_phase": "return_to_run"}
    assert regress.trigger_position == len(j.h.envelopes)
    assert state.phase.phase == "settle"


def test_no_advance_while_latest_pain_is_red(policy):
    """A red pain report two days ago, with nothing reported since, still blocks the advance."""
    h = History()
    for d in range(5):
        h.day(d).pain(1, "rest")
    h.day(5).pain(8, "during")
    h.day(7).sleep(8.0)
    state, recs = h.replay(policy, horizon=at(9))
    assert phase_changes(recs) == []
    assert state.phase.phase == "settle"


def test_previous_injury_needs_three_extra_settle_days(policy):
    """With a previous running injury, settling takes 10 days instead of 7."""
    injury = InjuryReported(injury_type="tendinopathy", onset_date=dt.date(2026, 2, 20), previous_running_injuries=1)
    h = History(injury=injury)
    for d in range(11):
        h.day(d).pain(1, "rest")
    [advance] = rule(h.recommendations(policy), "phase.settle_exit")
    assert advance.decision_time == at(10)
    assert advance.rationale["settled_days_reported"] == 10


def test_previous_injury_needs_two_extra_strength_weeks(policy, journey):
    """An assessment naming a previous injury requires 8 full heavy weeks instead of 6: strength from day
    10, so the advance comes on day 66 (10 + 56), not day 52 (10 + 42)."""
    j = journey()
    j.h.log(AssessmentRecorded(contributors=["previous_injury"]))
    j.settle(11).strength(weeks=9)  # strength from day 10; 7-day blocks counted from that day
    [advance] = rule(j.h.recommendations(policy), "phase.strength_exit")
    assert (day_of(advance), advance.rationale["heavy_weeks"], advance.rationale["min_weeks"]) == (66, 8, 8)
    no_extra = BaselinePolicy(BaselineConfig(modifiers=ModifierConfig(previous_injury_extra_strength_weeks=0)))
    [earlier] = rule(j.h.recommendations(no_extra), "phase.strength_exit")
    assert (day_of(earlier), earlier.rationale["min_weeks"]) == (52, 6)


def test_short_sleep_blocks_the_phase_advance(policy):
    """A week averaging 6 h of sleep holds settle past day 7; it advances once sleep recovers."""
    h = History()
    for d in range(12):
        h.day(d).pain(1, "rest").sleep(6.0 if d < 8 else 8.5)
    recs = h.recommendations(policy)
    [(rule_id, _, when)] = phase_changes(recs)
    assert rule_id == "phase.settle_exit" and when == at(11)
    [hold] = rule(recs, "recovery.short_sleep")
    assert hold.decision_time < when


def test_under_fuelling_blocks_the_phase_advance(policy):
    """Three under-fuelled days in the last week hold settle; it advances when they leave the window."""
    h = History()
    for d in range(12):
        h.day(d).pain(1, "rest").fuel(d in (2, 4, 6))
    recs = h.recommendations(policy)
    [(rule_id, _, when)] = phase_changes(recs)
    assert when == at(10)
    [hold] = rule(recs, "recovery.under_fuelling")
    assert hold.decision_time == at(7)


def test_phase_is_a_projection_of_the_log(policy, journey):
    """Every phase change is recorded in the state with the rule that made it, in order."""
    j = journey().to_integration()
    state, _ = j.h.replay(policy)
    assert [(c.phase, c.rule_id) for c in state.phase.changes] == [
        ("strength", "phase.settle_exit"), ("plyometric", "phase.strength_exit"),
        ("return_to_run", "phase.plyometric_exit"), ("integration", "phase.return_to_run_exit")]


# -- RULES.md 1 precisions ----------------------------------------------------------------------


def _strong_strength_days(h, first: int, last: int, squat: str = "squat", calf: str = "calf_raise_single_leg"):
    """Heavy sessions on Mon/Wed/Fri from ``first`` to ``last``: a rising squat above body mass, 20 calf
    raises; rest pain 1 every day."""
    load = 80.0
    for d in range(first, last + 1):
        with h.day(d).batch():
            h.pain(1, "rest")
            if d % 7 in (0, 2, 4):
                load += 1.0
                h.lift(squat, load, 6, 4, rpe=8).lift(calf, 10, 20, 3, rpe=8)


def test_rules_1_weeks_are_full_weeks_37_days_of_strength_do_not_advance(policy, journey):
    """Given heavy sessions three times a week from the strength entry (day 7) on, then 37 days of strength
    (day 44) are not six weeks: the advance comes at day 49, after six complete 7-day blocks."""
    j = journey().to_strength()
    _strong_strength_days(j.h, 8, 44)
    state, events = j.h.replay(policy, horizon=at(44, 12))
    assert state.phase.phase == "strength" and rule(issued(events), "phase.strength_exit") == []
    _strong_strength_days(j.h, 45, 50)
    [advance] = rule(j.h.recommendations(policy), "phase.strength_exit")
    assert advance.decision_time == at(PLYOMETRIC_DAY)
    assert (advance.rationale["heavy_weeks"], advance.rationale["days_in_phase"]) == (6, 42)


def test_rules_1_exercise_aliases_map_back_squat_to_the_key_lift(policy, journey):
    """Given only back squats and single-leg calf raises logged under other names, then the alias table
    (strength.exercise_aliases) maps them to squat and calf_raise_single_leg: the advance comes on day 49."""
    j = journey().to_strength()
    _strong_strength_days(j.h, 8, 50, squat="back_squat", calf="single_leg_calf_raise")
    [advance] = rule(j.h.recommendations(policy), "phase.strength_exit")
    assert advance.decision_time == at(PLYOMETRIC_DAY)
    assert advance.rationale["key_lift_bodyweight_ratio"] >= 1.0 and advance.rationale["calf_raise_reps"] == 20


def test_rules_1_an_isometric_hold_is_not_a_heavy_set(policy, journey):
    """Given six weeks with one heavy squat day and two days of isometric squat holds (45 s x 5) each week,
    then the holds are strength sessions but not heavy ones: no advance (one heavy session a week), and
    no drop-off 1 either (the athlete keeps doing strength work)."""
    j = journey().to_strength()
    for d in range(8, 52):
        with j.h.day(d).batch():
            j.h.pain(1, "rest")
            if d % 7 == 0:
                j.h.lift("squat", 90, 6, 4, rpe=8).lift("calf_raise_single_leg", 10, 20, 3, rpe=8)
            if d % 7 in (2, 4):
                j.h.hold("squat", 45, 5)
    state, events = j.h.replay(policy)
    assert state.phase.phase == "strength"
    assert state.capacity.isometric_sets and not set(state.capacity.isometric_sets) & {
        d for d, n in state.capacity.heavy_sets.items() if n and (d - at(0).date().toordinal()) % 7 != 0}
    assert rule(issued(events), "dropoff.1_exit_at_pain_relief") == []


def test_rules_1_cross_training_folds_as_load_modification_while_settling(policy):
    """Given a week of settled rest pain with 40 min of easy cycling a day (pain 2 on it), then the
    cross-training folds into the load projection (minutes and session load) and settling still ends on
    day 7: load modification, not full rest."""
    h = History()
    for d in range(8):
        with h.day(d).batch():
            h.pain(1, "rest").cross("cycling", 40, rpe=3, pain=2)
    state, events = h.replay(policy)
    assert sum(state.load.cross_minutes.values()) == 320 and sum(state.load.srpe.values()) == 960
    assert phase_changes(issued(events)) == [("phase.settle_exit", "strength", at(STRENGTH_DAY))]


def test_rules_1_plyometric_days_count_only_48_h_apart(policy, journey):
    """Given four daily plyometric sessions climbing the drills (pogo, jumps, hops, hops) and the readiness
    tests passed, then only every other day counts (2 of 4 sessions) and the drills done on uncounted
    days do not climb the ladder: no advance."""
    j = journey().to_plyometric()
    first = j.d
    for k, drill in enumerate(["pogo", "box_jump", "single_leg_hop", "single_leg_hop"]):
        with j.h.day(first + k).batch():
            j.h.pain(0, "rest").plyo(drill, 60, 0)
    with j.h.day(first + 4).batch():
        for test in READINESS:
            j.h.readiness(test)
    state, events = j.h.replay(policy, horizon=at(first + 6))
    assert state.phase.phase == "plyometric" and rule(issued(events), "phase.plyometric_exit") == []
    entered, today = state.phase.entered_day, at(first + 6).date().toordinal()
    assert len(ph.plyometric_days(state.capacity, entered, today)) == 2
    assert ph.drill_stage(state.capacity, entered, today, policy.config.phases.readiness_max_pain) == 1
    assert in_force(events)["plyometric"].target == {"drill": "double_leg_jump", "drill_stage": 2}


def test_rules_1_plyometric_drills_progress_in_order_pain_free(policy, journey):
    """Given plyometric sessions 48 h apart that do pogo, then single-leg hops (skipping jumps), then a
    painful (4/10) jump session, then the plyometric plan stays on jumps: a drill counts only after the
    previous one was done pain-free, and a painful drill is not done."""
    j = journey().to_plyometric()
    first = j.d
    for k, (drill, pain) in enumerate([("pogo", 0), ("single_leg_hop", 0), ("double_leg_jump", 4)]):
        with j.h.day(first + 2 * k).batch():
            j.h.plyo(drill, 60, pain)
    plan = in_force(j.h.replay(policy)[1])["plyometric"]
    assert plan.target == {"drill": "double_leg_jump", "drill_stage": 2}
    assert plan.rationale["drills_done"] == 1
