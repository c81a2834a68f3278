"""Running (RULES.md sections 1 and 5): the walk-run ladder, volume first (weekly step, 30% over two
weeks, pre-injury volume), the single-run spike and long-run cap, intensity only in integration."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_support import INTEGRATION_DAY, RUN_DAY, at, day_of, rule, topic

from events.vocabulary import InjuryReported


def _walk_run(j, plan):
    for d, level in plan:
        j.h.day(d).pain(0, "rest").run(2.0, 20, rpe=3, kind="walk_run", level=level)


def _walk_run_targets(policy, j, horizon=None):
    return [(day_of(r), r.kind, r.rule_id, r.target["walk_run_level"])
            for r in topic(j.h.recommendations(policy, horizon=horizon), "run:walk_run")]


# -- walk-run ---------------------------------------------------------------------------------


def test_walk_run_starts_at_level_one(policy, journey):
    """The advance to return_to_run comes with its first target: walk-run level 1."""
    j = journey().to_return_to_run()
    assert _walk_run_targets(policy, j, horizon=at(RUN_DAY + 1)) == [
        (RUN_DAY, "progress", "run.walk_run_level", 1)]


def test_walk_run_level_done_twice_with_a_rest_day_progresses(policy, journey):
    """Level 1 on days 71 and 73 (a rest day between) moves the target to level 2."""
    j = journey().to_return_to_run()
    _walk_run(j, [(71, 1), (73, 1)])
    targets = _walk_run_targets(policy, j)
    assert targets[-1] == (73, "progress", "run.walk_run_level", 2)
    rec = topic(j.h.recommendations(policy), "run:walk_run")[-1]
    assert rec.rationale == {"completed_level": 1, "repeats": 2}


def test_walk_run_on_consecutive_days_counts_once(policy, journey):
    """Level 1 on days 71 and 72 (no rest day) does not complete the level."""
    j = journey().to_return_to_run()
    _walk_run(j, [(71, 1), (72, 1)])
    assert _walk_run_targets(policy, j)[-1][-1] == 1
    _walk_run(j, [(74, 1)])
    assert _walk_run_targets(policy, j)[-1] == (74, "progress", "run.walk_run_level", 2)


def test_walk_run_pain_goes_back_one_level(policy, journey):
    """Amber pain after a level-4 session: back to level 3, then forward again once green."""
    j = journey().to_return_to_run()
    _walk_run(j, [(71, 1), (73, 1), (74, 2), (76, 2), (78, 3), (80, 3), (82, 4)])
    j.h.pain(4, "after")
    targets = _walk_run_targets(policy, j, horizon=at(85))
    assert targets[-3:] == [(80, "progress", "run.walk_run_level", 4),
                            (82, "deload", "run.walk_run_back", 3),
                            (84, "progress", "run.walk_run_level", 4)]
    back = rule(j.h.recommendations(policy), "run.walk_run_back")[0]
    assert back.rationale == {"level": 4, "completed_level": 3, "pain": "amber"}


def test_walk_run_holds_on_a_recovery_hold(policy, journey):
    """Short sleep holds the walk-run at the completed level instead of progressing."""
    j = journey().to_return_to_run()
    for d in range(71, 76):
        j.h.day(d).sleep(5.5)
    _walk_run(j, [(76, 1), (78, 1)])  # level 1 completed, but the week averaged 5.5 h of sleep
    assert _walk_run_targets(policy, j)[-1] == (75, "hold", "run.walk_run_level", 1)


# -- weekly volume ----------------------------------------------------------------------------


def _weeks(j, *weekly_km, first=RUN_DAY):
    """Log ``weekly_km`` per Monday-based week from ``first``, as four equal easy runs."""
    for w, km in enumerate(weekly_km):
        for d in (1, 3, 5, 6):
            j.h.day(first + 7 * w + d).pain(0, "rest").run(km / 4, rpe=3)


def _volume(policy, j, day):
    recs = topic(j.h.recommendations(policy, horizon=at(day)), "run:volume")
    return [r for r in recs if day_of(r) <= day][-1]


def test_volume_progresses_by_the_weekly_step(policy, journey):
    """10 km then 10 km: next week's target is 11 km (+10%)."""
    j = journey(weekly_km=40.0).to_return_to_run()
    _weeks(j, 10, 10)
    rec = _volume(policy, j, RUN_DAY + 14)
    assert (rec.kind, rec.rule_id, rec.target) == ("progress", "run.volume_progress", {"weekly_km": 11.0})
    assert rec.rationale == {"last_week_km": 10.0, "two_weeks_ago_km": 10.0, "pre_injury_weekly_km": 40.0,
                             "weekly_step": 0.1}


def test_volume_is_capped_by_thirty_percent_over_two_weeks(policy, journey):
    """10 km then 20 km: +10% would be 22 km, but 30% over two weeks caps it at 13 km."""
    j = journey(weekly_km=40.0).to_return_to_run()
    _weeks(j, 10, 20)
    rec = _volume(policy, j, RUN_DAY + 14)
    assert rec.target == {"weekly_km": 13.0}
    assert (rec.rationale["last_week_km"], rec.rationale["two_weeks_ago_km"]) == (20.0, 10.0)


def test_volume_is_capped_by_pre_injury_volume_in_return_to_run(policy, journey):
    """18 then 19.5 km with a pre-injury 20 km: the target stops at 20 km."""
    j = journey(weekly_km=20.0).to_return_to_run()
    _weeks(j, 18, 19.5)
    assert _volume(policy, j, RUN_DAY + 14).target == {"weekly_km": 20.0}


def test_volume_is_not_capped_by_pre_injury_volume_in_integration(policy, journey):
    """In integration the weekly step applies above the pre-injury volume (24 km -> 26.4 km)."""
    j = journey().to_integration()
    rec = [r for r in topic(j.h.recommendations(policy), "run:volume") if day_of(r) == INTEGRATION_DAY][-1]
    assert rec.target == {"weekly_km": 26.4}
    assert rec.rationale["pre_injury_weekly_km"] == 20


def test_volume_steps_are_halved_after_a_previous_injury(policy, journey):
    """With a previous injury the weekly step is 5%: 10 km -> 10.5 km."""
    j = journey(weekly_km=40.0)
    j.h.log(InjuryReported(injury_type="tendinopathy", onset_date=dt.date(2026, 2, 20), previous_running_injuries=1))
    j.settle(11).strength(9).plyometric()
    [advance] = rule(j.h.recommendations(policy), "phase.plyometric_exit")
    monday = day_of(advance) + 7 - day_of(advance) % 7
    _weeks(j, 10, 10, first=monday)
    rec = _volume(policy, j, monday + 14)
    assert rec.target == {"weekly_km": 10.5} and rec.rationale["weekly_step"] == 0.05


def test_volume_holds_on_amber_and_deloads_on_red(policy, journey):
    """Amber pain holds next week at last week's km; red cuts it to 80%."""
    j = journey(weekly_km=40.0).to_return_to_run()
    _weeks(j, 10, 10)
    j.h.day(RUN_DAY + 14).pain(4, "during")
    assert _volume(policy, j, RUN_DAY + 14).target == {"weekly_km": 10.0}
    assert _volume(policy, j, RUN_DAY + 14).rule_id == "run.volume_hold"
    j.h.pain(6, "during")
    rec = _volume(policy, j, RUN_DAY + 14)
    assert (rec.kind, rec.rule_id, rec.target) == ("deload", "run.volume_deload", {"weekly_km": 8.0})


# -- single runs ------------------------------------------------------------------------------


def test_single_run_spike_is_flagged(policy, journey):
    """An 8 km run after a 30-day longest of 5 km (+60%) is flagged, with a 5.5 km cap."""
    j = journey(weekly_km=40.0).to_return_to_run()
    j.h.day(71).run(5, rpe=3)
    j.h.day(73).run(8, rpe=3)
    [spike] = rule(j.h.recommendations(policy), "run.single_run_spike")
    assert spike.kind == "flag" and day_of(spike) == 73
    assert spike.target == {"long_run_cap_km": 5.5}
    assert spike.rationale == {"run_km": 8, "longest_30d_km": 5, "increase": 0.6, "cap": 0.1}


def test_run_within_ten_percent_is_not_a_spike(policy, journey):
    """5.5 km after a 5 km longest is within the cap: no flag."""
    j = journey(weekly_km=40.0).to_return_to_run()
    j.h.day(71).run(5, rpe=3)
    j.h.day(73).run(5.5, rpe=3)
    assert rule(j.h.recommendations(policy), "run.single_run_spike") == []


def test_long_run_cap_is_ten_percent_over_the_thirty_day_longest(policy, journey):
    """The long-run cap follows the 30-day longest: 6 km -> 6.6 km."""
    j = journey(weekly_km=40.0).to_return_to_run()
    j.h.day(71).run(4, rpe=3)
    j.h.day(73).run(6, rpe=3)
    cap = topic(j.h.recommendations(policy), "run:long_cap")
    assert [(r.target["long_run_cap_km"], r.rationale["longest_30d_km"]) for r in cap] == [(4.4, 4), (6.6, 6)]
    assert cap[-1].rule_id == "run.single_run_cap"


def test_long_run_cap_forgets_runs_older_than_thirty_days(policy, journey):
    """A 10 km run drops out of the window after 30 days; the cap follows the 5 km runs."""
    j = journey(weekly_km=40.0).to_return_to_run()
    j.h.day(71).run(10, rpe=3)
    for d in range(73, 105, 2):
        j.h.day(d).run(5, rpe=3)
    cap = topic(j.h.recommendations(policy), "run:long_cap")
    assert [(day_of(r), r.target["long_run_cap_km"]) for r in cap] == [(71, 11.0), (101, 5.5)]


# -- intensity --------------------------------------------------------------------------------


def test_no_intensity_advice_in_return_to_run(policy, journey):
    """Return to run only ever gives volume advice: no run:intensity before integration."""
    j = journey().to_integration()
    recs = j.h.recommendations(policy)
    assert all(day_of(r) >= INTEGRATION_DAY for r in topic(recs, "run:intensity"))


@pytest.mark.parametrize(("day", "allowed"), [(INTEGRATION_DAY, 1), (INTEGRATION_DAY + 7, 1),
                                              (INTEGRATION_DAY + 14, 2), (INTEGRATION_DAY + 21, 2),
                                              (INTEGRATION_DAY + 28, 3), (INTEGRATION_DAY + 70, 3)])
def test_intensity_is_reintroduced_gradually_in_integration(policy, journey, day, allowed):
    """Quality sessions allowed per week in integration: 1, 1, 2, 2, then 3."""
    j = journey().to_integration().run_block(day - 105, 6.0)
    recs = [r for r in rule(j.h.recommendations(policy, horizon=at(day)), "integration.intensity")
            if day_of(r) <= day]
    assert recs[-1].target == {"intense_sessions_per_week": allowed}


def test_intensity_steps_up_every_two_weeks(policy, journey):
    """The quality-session allowance changes on integration weeks 0, 2 and 4, and only then."""
    j = journey().to_integration().run_block(42, 6.0)
    recs = rule(j.h.recommendations(policy), "integration.intensity")
    assert [(day_of(r), r.kind, r.target["intense_sessions_per_week"], r.rationale["weeks_in_integration"])
            for r in recs] == [(INTEGRATION_DAY, "progress", 1, 0), (INTEGRATION_DAY + 14, "progress", 2, 2),
                               (INTEGRATION_DAY + 28, "progress", 3, 4)]
