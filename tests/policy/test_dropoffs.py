"""The four drop-off points (RULES.md section 2) and silence: each is a ``flag`` naming the point,
detected from the log, or from the calendar at day boundaries when the athlete logs nothing."""

from __future__ import annotations

import datetime as dt

from policy_support import INTEGRATION_DAY, RUN_DAY, STRENGTH_DAY, at, day_of, issued, rule, withdrawn

from engine.scenarios import History

D1, D2, D3, D4 = ("dropoff.1_exit_at_pain_relief", "dropoff.2_exit_before_strength",
                  "dropoff.3_intensity_too_early", "dropoff.4_strength_dropped")


# -- 1. exit at pain relief -------------------------------------------------------------------


def test_dropoff1_running_jumps_to_pre_injury_volume_while_settling(policy):
    """Rest pain 1 and 20 km run in four days (pre-injury 20 km/week) while settling: drop-off 1."""
    h = History(weekly_km=20.0, longest_km=8.0)
    for d in range(5):
        h.day(d).pain(1, "rest").run(5, rpe=4)
    [flag] = rule(h.recommendations(policy), D1)
    assert (flag.kind, flag.topic, flag.target) == ("flag", "dropoff:1", {"drop_off_point": 1})
    assert day_of(flag) == 3
    assert flag.rationale == {"rest_pain": 1, "days_since_strength": None, "running_km_7d": 20.0,
                              "pre_injury_weekly_km": 20.0}


def test_dropoff1_counts_running_over_seven_days(policy):
    """6 km on days 0, 4, 7, 11, 14: any 7 days hold at most 12 km, under 90% of 20 km."""
    h = History(weekly_km=20.0, longest_km=8.0)
    for d in range(15):
        h.day(d).pain(1, "rest")
        if d in (0, 4, 7, 11, 14):
            h.run(6, rpe=4)
    assert rule(h.recommendations(policy), D1) == []


def test_dropoff1_strength_logging_stops(policy, journey):
    """Lifting stops after day 14 in strength with pain settled: flagged at the day-24 boundary."""
    j = journey().to_strength()
    for d in range(8, 30):
        j.h.day(d).pain(1, "rest")
        if d <= 14 and d % 2 == 0:
            j.h.lift("squat", 60, 6, 4, rpe=8)
    [flag] = rule(j.h.recommendations(policy), D1)
    assert flag.decision_time == at(24)
    assert flag.rationale["days_since_strength"] == 10
    assert flag.rationale["running_km_7d"] == 0


def test_dropoff1_strength_never_started(policy):
    """Pain-free in the strength phase but no lift for 10 days after entering it: drop-off 1."""
    h = History()
    for d in range(20):
        h.day(d).pain(0, "rest")
    [flag] = rule(h.recommendations(policy), D1)
    assert flag.decision_time == at(STRENGTH_DAY + 10)
    assert flag.rationale["days_since_strength"] == 10


def test_dropoff1_detected_at_day_boundaries_without_logs(policy, journey):
    """The strength silence is noticed by the calendar even when the athlete logs nothing at all."""
    j = journey().to_strength()
    j.h.day(8).lift("squat", 60, 6, 4, rpe=8)
    [flag] = rule(j.h.recommendations(policy, horizon=at(20)), D1)
    assert flag.decision_time == at(18) and flag.trigger_position == len(j.h.envelopes)


def test_no_dropoff1_while_pain_has_not_settled(policy):
    """Running with rest pain 4 is not an exit at pain relief (the traffic light handles it)."""
    h = History(weekly_km=20.0, longest_km=8.0)
    for d in range(5):
        h.day(d).pain(4, "rest").run(5, rpe=4)
    assert rule(h.recommendations(policy), D1) == []


def test_compliant_athlete_never_triggers_dropoffs(policy, journey):
    """The compliant journey through all five phases raises no drop-off flag."""
    recs = journey().to_integration().h.recommendations(policy)
    assert [r.rule_id for r in recs if r.topic.startswith("dropoff")] == []


# -- 2. exit before real strength -------------------------------------------------------------


def test_dropoff2_low_load_for_two_weeks(policy, journey):
    """3x15 at RPE 5 for two complete weeks in strength: drop-off 2 on the third Monday."""
    j = journey().to_strength()
    for d in range(8, 30):
        j.h.day(d).pain(1, "rest")
        if d % 2 == 0:
            j.h.lift("squat", 30, 15, 3, rpe=5)
    [flag] = rule(j.h.recommendations(policy), D2)
    assert flag.decision_time == at(STRENGTH_DAY + 14)
    assert flag.target == {"drop_off_point": 2}
    assert flag.rationale == {"low_load_weeks": 2, "weeks_needed": 2}


def test_moderate_work_is_not_dropoff2(policy, journey):
    """11 reps at ~73% e1RM and RPE 6.5 is neither heavy nor low-load: no drop-off 2 flag."""
    j = journey().to_strength()
    for d in range(8, 30):
        j.h.day(d).pain(1, "rest")
        if d % 2 == 0:
            j.h.lift("split_squat", 30, 11, 3, rpe=6.5)
    assert rule(j.h.recommendations(policy), D2) == []


def test_one_heavy_session_a_week_is_not_dropoff2(policy, journey):
    """A heavy session (<= 8 reps) in each week clears drop-off 2."""
    j = journey().to_strength()
    for d in range(8, 30):
        j.h.day(d).pain(1, "rest")
        if d % 2 == 0:
            j.h.lift("squat", 30, 15, 3, rpe=5)
        if d % 7 == 3:
            j.h.lift("squat", 60, 6, 3, rpe=8)
    assert rule(j.h.recommendations(policy), D2) == []


# -- 3. intensity too early -------------------------------------------------------------------


def test_dropoff3_tempo_run_in_return_to_run(policy, journey):
    """A tempo run before the volume milestone: drop-off 3."""
    j = journey().to_return_to_run()
    j.h.day(RUN_DAY + 2).pain(0, "rest").run(5, rpe=6, kind="tempo")
    [flag] = rule(j.h.recommendations(policy), D3)
    assert day_of(flag) == RUN_DAY + 2
    assert flag.target == {"drop_off_point": 3}
    assert flag.rationale == {"intense_runs_7d": 1, "volume_weeks_met": 0}


def test_dropoff3_pace_led_easy_run(policy, journey):
    """An 'easy' run at RPE 8 is pace-led: drop-off 3."""
    j = journey().to_return_to_run()
    j.h.day(RUN_DAY + 2).run(5, rpe=8)
    assert rule(j.h.recommendations(policy), D3)


def test_easy_runs_and_hard_walk_runs_are_not_dropoff3(policy, journey):
    """Easy runs at RPE 6 and a walk-run at RPE 8 are not intensity."""
    j = journey().to_return_to_run()
    j.h.day(RUN_DAY + 1).run(5, rpe=6)
    j.h.day(RUN_DAY + 3).run(2, 20, rpe=8, kind="walk_run", level=2)
    assert rule(j.h.recommendations(policy), D3) == []


def test_dropoff3_flag_clears_after_a_week_of_easy_running(policy, journey):
    """The flag is withdrawn (no_longer_holds) seven days after the intense run; a new one later is news
    again."""
    j = journey().to_return_to_run()
    j.h.day(RUN_DAY + 2).run(5, rpe=4, kind="interval")
    for d in range(RUN_DAY + 3, RUN_DAY + 12):
        j.h.day(d).pain(0, "rest")
    j.h.day(RUN_DAY + 12).run(5, rpe=4, kind="race")
    _, events = j.h.replay(policy)
    assert [day_of(r) for r in rule(issued(events), D3)] == [RUN_DAY + 2, RUN_DAY + 12]
    assert [(day_of(w), w.reason) for w in withdrawn(events, "dropoff:3")] == [(RUN_DAY + 9, "no_longer_holds")]


def test_intense_runs_in_integration_are_not_dropoff3(policy, journey):
    """Once in integration, quality sessions are allowed."""
    j = journey().to_integration()
    j.h.day(j.d).run(6, rpe=8, kind="tempo")
    assert rule(j.h.recommendations(policy), D3) == []


# -- 4. strength dropped after return ----------------------------------------------------------


def test_dropoff4_detected_at_a_day_boundary_when_nothing_is_logged(policy, journey):
    """In integration, two complete weeks with no strength session flag drop-off 4 at the Monday
    midnight that closes the second week, with no event to trigger it."""
    j = journey().to_integration()  # integration from day 140; last lift on day 153, last log on day 153
    recs = j.h.recommendations(policy, horizon=at(INTEGRATION_DAY + 30))
    [flag] = rule(recs, D4)
    assert flag.decision_time == at(INTEGRATION_DAY + 28)  # Monday 00:00 after weeks 154-160, 161-167
    assert flag.trigger_position == len(j.h.envelopes)
    assert flag.rationale == {"sessions_per_week": "0,0", "min_sessions": 2}
    just_before = at(INTEGRATION_DAY + 28) - dt.timedelta(seconds=1)
    assert rule(j.h.recommendations(policy, horizon=just_before), D4) == []


def test_dropoff4_one_session_a_week(policy, journey):
    """Running on but lifting once a week for two weeks: drop-off 4."""
    j = journey().to_integration()
    for d in range(j.d, j.d + 15):
        with j.h.day(d).batch():
            j.h.pain(0, "rest")
            if d % 2 == 0:
                j.h.run(6, rpe=3)
            if d % 7 == 2:
                j.h.lift("squat", 80, 6, 4, rpe=8)
    [flag] = rule(j.h.recommendations(policy), D4)
    assert flag.decision_time == at(INTEGRATION_DAY + 28)
    assert flag.rationale["sessions_per_week"] == "1,1"


def test_two_sessions_a_week_in_integration_is_not_dropoff4(policy, journey):
    """The compliant 2 sessions a week never raise drop-off 4."""
    j = journey().to_integration().run_block(28, 6.0)
    assert rule(j.h.recommendations(policy, horizon=at(140)), D4) == []


# -- silence ----------------------------------------------------------------------------------


def test_no_logs_for_five_days_is_flagged_at_midnight(policy, journey):
    """Five days without any log raise adherence.no_logs at the fifth midnight."""
    j = journey().to_strength()
    j.h.day(8).pain(1, "rest")
    [flag] = rule(j.h.recommendations(policy, horizon=at(20)), "adherence.no_logs")
    assert flag.decision_time == at(13)
    assert (flag.topic, flag.kind) == ("dropoff:silent", "flag")
    assert flag.rationale == {"days_since_last_log": 5, "no_log_days": 5, "phase": "strength"}


def test_no_logs_flag_once_per_silence(policy, journey):
    """The silence flag is raised once per silence, however long, and again after a new one."""
    j = journey().to_strength()
    j.h.day(8).pain(1, "rest")
    j.h.day(20).pain(1, "rest")
    recs = j.h.recommendations(policy, horizon=at(30))
    assert [day_of(r) for r in rule(recs, "adherence.no_logs")] == [13, 25]
