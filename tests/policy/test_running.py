"""Running (RULES.md sections 1 and 5): ONE ``run`` advice, the week's running plan. In return_to_run
before the walk-run ladder is complete it is the walk-run level (each of 12 levels twice, a rest day
apart, pain-free; pain sends the athlete back one level, to be repeated pain-free); after the ladder,
and in integration, it is the weekly volume (+10%/week, <= +30% over two weeks ago, <= pre-injury in
return_to_run), the long-run cap (1.1 x the longest run of the 30 days before this Monday, spikes and
ladder skips left out) and, in integration, the quality sessions allowed per week."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_support import INTEGRATION_DAY, RUN_DAY, at, day_of, in_force, issued, rule, topic

from events.vocabulary import InjuryReported

LADDER_DONE = RUN_DAY + 49
"""Monday after the compliant walk-run ladder (days 71-118): the first week of volume planning."""


def _walk_run(j, plan):
    for d, level in plan:
        with j.h.day(d).batch():
            j.h.pain(0, "rest").run(2.0, 20, rpe=3, kind="walk_run", level=level)


def _levels(policy, j, horizon=None):
    return [(day_of(r), r.kind, r.rule_id, r.target["walk_run_level"])
            for r in topic(j.h.recommendations(policy, horizon=horizon), "run")]


# -- walk-run ---------------------------------------------------------------------------------


def test_walk_run_starts_at_level_one(policy, journey):
    """The advance to return_to_run comes with its first running plan: walk-run level 1."""
    j = journey().to_return_to_run()
    [plan] = topic(j.h.recommendations(policy, horizon=at(RUN_DAY + 1)), "run")
    assert (day_of(plan), plan.kind, plan.rule_id, plan.target) == (
        RUN_DAY, "progress", "run.walk_run_level", {"walk_run_level": 1})


def test_rules_5_walk_run_level_done_twice_with_a_rest_day_between_progresses(policy, journey):
    """Level 1 on days 71 and 73 (a rest day between) moves the plan to level 2."""
    j = journey().to_return_to_run()
    _walk_run(j, [(71, 1), (73, 1)])
    assert _levels(policy, j)[-1] == (73, "progress", "run.walk_run_level", 2)
    plan = topic(j.h.recommendations(policy), "run")[-1]
    assert (plan.rationale["completed_level"], plan.rationale["repeats"]) == (1, 2)


def test_walk_run_on_consecutive_days_counts_once(policy, journey):
    """Level 1 on days 71 and 72 (no rest day) does not complete it; a third session on day 74 does."""
    j = journey().to_return_to_run()
    _walk_run(j, [(71, 1), (72, 1)])
    assert _levels(policy, j)[-1][-1] == 1
    _walk_run(j, [(74, 1)])
    assert _levels(policy, j)[-1] == (74, "progress", "run.walk_run_level", 2)


def test_rules_5_walk_run_pain_goes_back_one_level_until_repeated_pain_free(policy, journey):
    """Given amber pain after a level-4 session, then the pain hold names level 3; once green, the plan
    is level 3 (deload, run.walk_run_back) until level 3 is done twice pain-free, then level 4 again."""
    j = journey().to_return_to_run()
    _walk_run(j, [(71, 1), (73, 1), (74, 2), (76, 2), (78, 3), (80, 3), (82, 4)])
    j.h.pain(4, "after")
    _walk_run(j, [(84, 3), (86, 3)])
    recs = j.h.recommendations(policy)
    [hold] = topic(recs, "pain")
    assert (day_of(hold), hold.kind) == (82, "hold") and "walk-run level 3 " in hold.explanation
    assert _levels(policy, j)[-3:] == [(80, "progress", "run.walk_run_level", 4),
                                       (84, "deload", "run.walk_run_back", 3),
                                       (86, "progress", "run.walk_run_level", 4)]
    back = rule(recs, "run.walk_run_back")[0]
    assert (back.rationale["painful_level"], back.rationale["completed_level"]) == (4, 2)


def test_walk_run_holds_on_a_recovery_hold(policy, journey):
    """Given a week of 5.5 h nights, then the recovery hold carries walk-run level 1 even after level 1 was
    done twice; the plan moves to level 2 when the short nights leave the window."""
    j = journey().to_return_to_run()
    for d in range(71, 76):
        j.h.day(d).sleep(5.5)
    _walk_run(j, [(76, 1), (78, 1)])
    recs = j.h.recommendations(policy, horizon=at(81))
    assert [(day_of(r), r.target["walk_run_level"]) for r in topic(recs, "recovery")] == [(75, 1), (77, 1)]
    assert _levels(policy, j, horizon=at(81))[-1] == (80, "progress", "run.walk_run_level", 2)


def test_rules_5_the_ladder_cannot_be_skipped_a_first_12_km_run_is_flagged_and_no_cap(policy, journey):
    """Given a first 12 km continuous run in return_to_run (ladder not done), then a run:ladder flag, the
    plan stays on walk-run level 1, and no long-run cap is endorsed from that run."""
    j = journey(weekly_km=40.0, longest_km=14.0).to_return_to_run()
    j.h.day(72).run(12, rpe=4)
    recs = j.h.recommendations(policy, horizon=at(80))
    [skip] = topic(recs, "run:ladder")
    assert (skip.kind, skip.rule_id, day_of(skip)) == ("flag", "run.ladder_skipped", 72)
    assert (skip.rationale["run_km"], skip.rationale["completed_level"]) == (12, 0)
    assert [r.target for r in topic(recs, "run")] == [{"walk_run_level": 1}]
    assert not [r for r in recs if "long_run_cap_km" in r.target]


# -- the week's volume (after the ladder) ------------------------------------------------------


def _after_ladder(journey, weekly_km: float = 40.0):
    return journey(weekly_km=weekly_km).to_return_to_run().walk_run()


def _weeks(j, *weekly_km, first=LADDER_DONE):
    """Log ``weekly_km`` per Monday-based week from ``first``, as four equal easy runs."""
    for w, km in enumerate(weekly_km):
        for d in (1, 3, 5, 6):
            with j.h.day(first + 7 * w + d).batch():
                j.h.pain(0, "rest").run(km / 4, rpe=3)


def _plan(policy, j, day):
    """The running plan in force on ``day`` (00:00 decisions included)."""
    return in_force(j.h.replay(policy, horizon=at(day))[1], at(day))["run"]


def test_volume_progresses_by_the_weekly_step(policy, journey):
    """Given 10 km then 11 km, then next week's plan is 12.1 km (+10%, within 30% over two weeks)."""
    j = _after_ladder(journey)
    _weeks(j, 10, 11)
    plan = _plan(policy, j, LADDER_DONE + 14)
    assert (plan.kind, plan.rule_id, plan.decision_time) == ("progress", "run.volume_progress", at(LADDER_DONE + 14))
    assert plan.target["weekly_km"] == 12.1
    assert (plan.rationale["last_week_km"], plan.rationale["two_weeks_ago_km"], plan.rationale["weekly_step"]) == (
        11.0, 10.0, 0.1)


def test_rules_5_weekly_volume_is_capped_by_thirty_percent_over_two_weeks(policy, journey):
    """Given 10 km then 20 km, then +10% would be 22 km but 30% over two weeks caps it at 13 km (a
    lower target than last week: kind deload, run.volume_limit)."""
    j = _after_ladder(journey)
    _weeks(j, 10, 20)
    plan = _plan(policy, j, LADDER_DONE + 14)
    assert (plan.kind, plan.rule_id, plan.target["weekly_km"]) == ("deload", "run.volume_limit", 13.0)
    assert (plan.rationale["last_week_km"], plan.rationale["two_weeks_ago_km"]) == (20.0, 10.0)


def test_volume_is_capped_by_pre_injury_volume_in_return_to_run(policy, journey):
    """Given 18 then 19.5 km with a pre-injury 20 km, then the plan stops at 20 km."""
    j = _after_ladder(journey, weekly_km=20.0)
    _weeks(j, 18, 19.5)
    assert _plan(policy, j, LADDER_DONE + 14).target["weekly_km"] == 20.0


def test_volume_is_not_capped_by_pre_injury_volume_in_integration(policy, journey):
    """In integration the weekly step applies above the pre-injury 20 km (24 km last week, 20 km the
    week before: 30% over two weeks gives 26 km)."""
    j = journey().to_integration()
    plan = _plan(policy, j, INTEGRATION_DAY)
    assert plan.target["weekly_km"] == 26.0
    assert plan.rationale["pre_injury_weekly_km"] == 20


def test_volume_steps_are_halved_after_a_previous_injury(policy, journey):
    """With a previous injury the weekly step is 5%: 10 km then 10 km gives 10.5 km."""
    j = journey(weekly_km=40.0)
    j.h.log(InjuryReported(injury_type="tendinopathy", onset_date=dt.date(2026, 2, 20), previous_running_injuries=1))
    j.settle(11).strength(9).plyometric().walk_run()
    monday = j.d + (7 - j.d % 7) % 7
    _weeks(j, 10, 10, first=monday)
    plan = _plan(policy, j, monday + 14)
    assert (plan.target["weekly_km"], plan.rationale["weekly_step"]) == (10.5, 0.05)


def test_volume_holds_on_amber_and_deloads_on_red(policy, journey):
    """Amber pain holds next week at last week's 10 km (named by the pain hold); red cuts it to 80%, 8 km
    (a target of the pain deload)."""
    j = _after_ladder(journey)
    _weeks(j, 10, 10)
    j.h.day(LADDER_DONE + 14).pain(4, "during")
    amber = in_force(j.h.replay(policy)[1])["pain"]
    assert amber.kind == "hold" and ": 10 km this week" in amber.explanation
    j.h.pain(6, "during")
    red = in_force(j.h.replay(policy)[1])["pain"]
    assert (red.kind, red.rule_id, red.target["weekly_km"]) == ("deload", "pain.traffic_light_red", 8.0)


# -- single runs and the long-run cap ----------------------------------------------------------


def test_rules_5_single_run_spike_is_flagged_and_does_not_raise_the_cap(policy, journey):
    """Given 2.5 km runs, then an 8 km run (+220% over the 30-day longest) is flagged, and next week's cap
    stays 1.1 x 2.5 km: the spike is not its base."""
    j = _after_ladder(journey)
    _weeks(j, 10)
    j.h.day(LADDER_DONE + 8).run(8, rpe=3)
    recs = j.h.recommendations(policy, horizon=at(LADDER_DONE + 14))
    [spike] = topic(recs, "run:spike")
    assert (spike.kind, spike.rule_id, day_of(spike)) == ("flag", "run.single_run_spike", LADDER_DONE + 8)
    assert (spike.rationale["run_km"], spike.rationale["longest_30d_km"]) == (8, 5.0)
    assert _plan(policy, j, LADDER_DONE + 14).target["long_run_cap_km"] == 5.5


def test_run_within_ten_percent_is_not_a_spike(policy, journey):
    """Given a 30-day longest of 5 km, then 5.5 km is within the cap: no flag."""
    j = _after_ladder(journey)
    j.h.day(LADDER_DONE + 1).run(5.5, rpe=3)
    assert rule(j.h.recommendations(policy), "run.single_run_spike") == []


def test_rules_5_long_run_cap_is_ten_percent_over_the_longest_of_the_thirty_days_before_monday(policy, journey):
    """Given runs of 4 and 6 km in a week, then Monday's plan caps the long run at 6.6 km."""
    j = _after_ladder(journey)
    j.h.day(LADDER_DONE + 1).run(4, rpe=3)
    j.h.day(LADDER_DONE + 3).run(5.5, rpe=3)
    j.h.day(LADDER_DONE + 5).run(6, rpe=3)
    plan = _plan(policy, j, LADDER_DONE + 7)
    assert (plan.target["long_run_cap_km"], plan.rationale["longest_30d_km"]) == (6.6, 6.0)


def test_long_run_cap_forgets_runs_older_than_thirty_days(policy, journey):
    """A 5.4 km run drops out of the window after 30 days; the cap then follows the 5 km runs."""
    j = _after_ladder(journey)
    j.h.day(LADDER_DONE + 1).run(5.4, rpe=3)
    for d in range(LADDER_DONE + 3, LADDER_DONE + 40, 2):
        j.h.day(d).run(5, rpe=3)
    assert _plan(policy, j, LADDER_DONE + 28).target["long_run_cap_km"] == 5.9
    assert _plan(policy, j, LADDER_DONE + 35).target["long_run_cap_km"] == 5.5


# -- intensity in integration ----------------------------------------------------------------


def test_no_intensity_advice_in_return_to_run(policy, journey):
    """Return to run plans volume only: no quality sessions before integration."""
    recs = journey().to_integration().h.recommendations(policy)
    assert all(day_of(r) >= INTEGRATION_DAY for r in topic(recs, "run") if "intense_sessions_per_week" in r.target)


@pytest.mark.parametrize(("day", "allowed"), [(INTEGRATION_DAY, 1), (INTEGRATION_DAY + 7, 1),
                                              (INTEGRATION_DAY + 14, 2), (INTEGRATION_DAY + 21, 2),
                                              (INTEGRATION_DAY + 28, 3), (INTEGRATION_DAY + 42, 3)])
def test_intensity_is_reintroduced_gradually_in_integration(policy, journey, day, allowed):
    """Quality sessions allowed per week of integration: 1, 1, 2, 2, then 3."""
    j = journey().to_integration().run_block(day - 150, 6.0)
    plan = _plan(policy, j, day)
    assert plan.target["intense_sessions_per_week"] == allowed


def test_rules_8_no_two_long_run_caps_at_one_instant(policy, journey):
    """Over the whole compliant journey, at most one recommendation per decision point carries a long-run
    cap (the cap is part of the one running plan)."""
    recs = journey().to_integration().h.recommendations(policy, horizon=at(INTEGRATION_DAY + 21))
    caps = [r.decision_time for r in issued(recs) if "long_run_cap_km" in r.target and r.topic == "run"]
    assert caps and len(caps) == len(set(caps))
    assert not [r for r in recs if "long_run_cap_km" in r.target and r.topic not in ("run", "pain", "recovery")]
