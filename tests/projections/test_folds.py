"""Each fold as a specification: given these events, then this state."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.scenarios import History
from events.vocabulary import EntryAmended, EntryRetracted, LiftLogged, RunLogged
from projections import adherence as adh
from projections import capacity as cap
from projections import load as ld
from projections import pain as pn
from projections import recovery as rec
from projections.athlete import copy_state, decode, encode
from projections.calendar import local_day, midnights_between, week_of, week_start

LIMITS = pn.PainThresholds()


def day_of(h: History, offset: int) -> int:
    return (h.start + dt.timedelta(days=offset)).date().toordinal()


# --- capacity -------------------------------------------------------------------------------------

def test_e1rm_formulas_match_rules():
    """Epley w(1+r/30) and Brzycki w*36/(37-r); a single is its own 1RM."""
    assert cap.e1rm(100, 10) == pytest.approx(133.333, rel=1e-4)
    assert cap.e1rm(100, 10, "brzycki") == pytest.approx(133.333, rel=1e-4)
    assert cap.e1rm(100, 5, "brzycki") == pytest.approx(112.5)
    assert cap.e1rm(100, 1) == 100


def test_best_e1rm_per_exercise_is_the_max_seen():
    """The best e1RM per lift is the highest estimate across sessions."""
    h = History().day(0).lift("squat", 60, 8).day(2).lift("squat", 70, 5).lift("deadlift", 80, 5)
    best = h.state().capacity.best_e1rm
    assert best["squat"] == pytest.approx(max(60 * (1 + 8 / 30), 70 * (1 + 5 / 30)))
    assert best["deadlift"] == pytest.approx(80 * (1 + 5 / 30))


@pytest.mark.parametrize("reps,rpe,heavy", [(8, 5, True), (6, 5, True), (10, 7, True), (12, 6, False)])
def test_a_set_is_heavy_at_8_reps_or_fewer_or_rpe_7(reps, rpe, heavy):
    """RULES.md 5: heavy at <= 8 reps, or RPE >= 7 (or >= 75% e1RM)."""
    h = History().day(0).lift("squat", 40, reps, 3, rpe=rpe)
    assert (h.state().capacity.heavy_sets.get(day_of(h, 0), 0) == 3) is heavy


def test_a_set_at_75_percent_of_e1rm_is_heavy_even_at_10_reps():
    """Relative intensity counts: 10 reps at >= 75% of the prior best e1RM is heavy."""
    h = History().day(0).lift("squat", 100, 3, 1, rpe=9).day(2).lift("squat", 85, 10, 3, rpe=6)
    assert h.state().capacity.heavy_sets.get(day_of(h, 2)) == 3


def test_light_high_rep_work_counts_as_low_load():
    """Reps > 12 at low RPE is low-load (drop-off point 2's evidence)."""
    h = History().day(0).lift("squat", 20, 15, 3, rpe=4)
    state = h.state()
    assert state.capacity.low_load_sets[day_of(h, 0)] == 3
    assert day_of(h, 0) not in state.capacity.heavy_sets


def test_strength_sessions_and_heavy_sessions_per_week():
    """A day with lifts is one session; heavy sessions are days with a heavy set."""
    h = History()
    for offset in (0, 2, 4):  # Mon, Wed, Fri
        h.day(offset).lift("squat", 60, 6).lift("calf_raise_single_leg", 0, 20, rpe=5)
    h.day(5).lift("squat", 20, 15, rpe=4)
    week = week_of(day_of(h, 0))
    assert adh.strength_week(h.state().capacity, week) == (4, 3)


# --- load -----------------------------------------------------------------------------------------

def test_daily_and_weekly_volume_and_longest_run():
    """km per day and week; the longest run of the 30 days before a day."""
    h = History().day(0).run(5).day(1).run(3).run(4).day(9).run(8)
    state = h.state()
    assert state.load.km[day_of(h, 1)] == 7
    assert ld.week_km(state.load, week_start(week_of(day_of(h, 0)))) == 12
    assert ld.longest_before(state.load, day_of(h, 9)) == 5
    assert ld.longest_before(state.load, day_of(h, 10)) == 8
    assert ld.longest_before(state.load, day_of(h, 40)) == 0


def test_walks_count_for_session_load_but_not_running_volume():
    """A walk adds sRPE and walking minutes, never running km."""
    h = History().day(0).run(3, 35, rpe=2, kind="walk")
    state = h.state()
    assert state.load.km == {}
    assert state.load.walk_minutes[day_of(h, 0)] == 35
    assert state.load.srpe[day_of(h, 0)] == 70


def test_srpe_is_rpe_times_minutes():
    """Foster 2001: session load = RPE x minutes."""
    h = History().day(0).run(5, 30, rpe=4)
    assert h.state().load.srpe[day_of(h, 0)] == 120


def test_ewma_acute_chronic_match_a_direct_computation():
    """Acute/chronic EWMA with lambda = 2/(N+1), N = 7 and 28 (Williams 2017), and ACWR."""
    h = History()
    loads = {}
    for offset in range(0, 21, 2):
        h.day(offset).run(5, 30, rpe=4 + offset % 3)
        loads[day_of(h, offset)] = 30 * (4 + offset % 3)
    first, last = min(loads), day_of(h, 25)
    acute = chronic = 0.0
    for d in range(first, last + 1):
        x = loads.get(d, 0.0)
        acute = ld.ACUTE_LAMBDA * x + (1 - ld.ACUTE_LAMBDA) * acute
        chronic = ld.CHRONIC_LAMBDA * x + (1 - ld.CHRONIC_LAMBDA) * chronic
    got = ld.ewma_at(h.state().load, last)
    assert got["acute"] == pytest.approx(acute)
    assert got["chronic"] == pytest.approx(chronic)
    assert got["acwr"] == pytest.approx(acute / chronic)
    assert got["tsb"] == pytest.approx(got["ctl"] - got["atl"])


def test_a_backdated_run_gives_the_same_load_as_one_logged_on_time():
    """EWMAs are linear: logging yesterday's run today changes nothing but the order."""
    on_time = History().day(0).run(5, 30, rpe=5).day(1).run(6, 36, rpe=5).day(2).run(4, 24, rpe=5)
    late = History().day(0).run(5, 30, rpe=5).day(2).run(4, 24, rpe=5)
    late.log(RunLogged(distance_km=6, duration_min=36, rpe=5), occurred_at=late.start + dt.timedelta(days=1, hours=8))
    a, b = on_time.state().load, late.state().load
    assert ld.ewma_at(a, day_of(on_time, 5)) == pytest.approx(ld.ewma_at(b, day_of(late, 5)))
    assert a.km == b.km


# --- pain -----------------------------------------------------------------------------------------

def test_latest_pain_by_context():
    """The latest score per context; rest keeps the day's worst."""
    h = History().day(0).pain(3, "rest").pain(2, "rest").pain(5, "during").day(1).pain(1, "next_morning")
    pain = h.state().pain
    assert pain.latest == {"rest": 2, "during": 5, "next_morning": 1}
    assert pain.rest[day_of(h, 0)] == 3


def test_baseline_is_the_median_of_previous_next_morning_scores():
    """The personal baseline: median next-morning pain over the 14 days before today."""
    h = History()
    for offset, score in enumerate([1, 2, 2, 3, 1]):
        h.day(offset).pain(score, "next_morning")
    assert pn.baseline(h.state().pain, day_of(h, 5), LIMITS) == 2.0
    assert pn.baseline(h.state().pain, day_of(h, 0), LIMITS) is None


@pytest.mark.parametrize("score,colour", [(0, "green"), (3, "green"), (4, "amber"), (5, "amber"), (6, "red"), (9, "red")])
def test_traffic_light_bands(score, colour):
    """Green 0-3, amber 4-5, red >= 6 (RULES.md 4)."""
    h = History().day(0).pain(score, "during")
    assert pn.traffic_light(h.state().pain, day_of(h, 0), LIMITS)[0] == colour


def test_next_morning_pain_worse_than_baseline_is_red():
    """Next-morning pain above the athlete's baseline means reduce load, even if low."""
    h = History()
    for offset in range(5):
        h.day(offset).pain(1, "next_morning")
    h.day(5).pain(3, "next_morning")
    colour, why = pn.traffic_light(h.state().pain, day_of(h, 5), LIMITS)
    assert colour == "red" and why["baseline"] == 1.0 and why["next_morning_pain"] == 3


def test_amber_not_back_to_green_by_next_morning_is_red():
    """Amber is only acceptable if it settles by the next morning."""
    h = History().day(0).pain(4, "after").day(1).pain(4, "next_morning")
    assert pn.traffic_light(h.state().pain, day_of(h, 1), LIMITS)[0] == "red"


# --- recovery and adherence -----------------------------------------------------------------------

def test_sleep_average_and_under_fuelled_days():
    """Average sleep over logged nights; under-fuelled days counted."""
    h = History()
    for offset, hours in enumerate([6, 6.5, 7, 6]):
        h.day(offset).sleep(hours).fuel(offset % 2 == 0)
    state = h.state()
    assert rec.average_sleep(state.recovery, day_of(h, 0), day_of(h, 3)) == (pytest.approx(6.375), 4)
    assert rec.under_fuelled_days(state.recovery, day_of(h, 0), day_of(h, 3)) == 2


def test_days_since_last_log_and_logging_share():
    """Logging adherence: days with a log over the window; days since the last one."""
    h = History()
    for offset in (0, 1, 3):
        h.day(offset).pain(1)
    state = h.state()
    assert adh.days_since_last_log(state.adherence, day_of(h, 7)) == 4
    assert adh.logging_share(state.adherence, day_of(h, 4)) == pytest.approx(3 / 4)


# --- corrections ----------------------------------------------------------------------------------

def test_a_retracted_run_is_removed_from_every_quantity():
    """After a retraction the state equals one where the run was never logged."""
    with_retraction = History().day(0).run(5).day(1)
    wrong = with_retraction.log(RunLogged(distance_km=21, duration_min=120, rpe=6))
    with_retraction.log(EntryRetracted(target_event_id=wrong.event_id))
    never = History().day(0).run(5)
    a, b = with_retraction.state().load, never.state().load
    assert a.km == b.km and a.longest == b.longest
    assert ld.ewma_at(a, day_of(never, 3)) == pytest.approx(ld.ewma_at(b, day_of(never, 3)))
    assert a.last_run.km == 5


def test_an_amended_lift_replaces_the_original():
    """An amendment swaps the payload: the e1RM follows the corrected load."""
    h = History().day(0)
    typo = h.log(LiftLogged(exercise="squat", load_kg=600, reps=5, sets=3, rpe=8))
    h.log(EntryAmended(target_event_id=typo.event_id,
                       replacement=LiftLogged(exercise="squat", load_kg=60, reps=5, sets=3, rpe=8)))
    state = h.state()
    assert state.capacity.best_e1rm["squat"] == pytest.approx(70.0)
    assert state.capacity.last_session["squat"].load_kg == 60


def test_retracting_pain_restores_the_days_scores():
    """A retracted pain report no longer counts for that day."""
    h = History().day(0).pain(1)
    bad = h.log(__import__("events").PainReported(score=8, context="rest"))
    h.log(EntryRetracted(target_event_id=bad.event_id))
    assert h.state().pain.rest[day_of(h, 0)] == 1


# --- state and calendar ---------------------------------------------------------------------------

def test_state_round_trips_through_its_snapshot_encoding():
    """The saved projection decodes to an equal state."""
    h = History().day(0).pain(2).lift("squat", 60, 6).run(5).sleep(7)
    state = h.state()
    assert decode(encode(state)) == state
    assert copy_state(state) == state


def test_local_day_and_midnights_follow_the_athletes_time_zone():
    """Day boundaries are local midnights: New York's is 05:00 UTC in March before DST."""
    utc = dt.timezone.utc
    assert local_day(dt.datetime(2026, 3, 3, 3, tzinfo=utc), "America/New_York") == dt.date(2026, 3, 2).toordinal()
    marks = midnights_between(dt.datetime(2026, 3, 2, 12, tzinfo=utc), dt.datetime(2026, 3, 4, 12, tzinfo=utc),
                              "America/New_York")
    assert marks == [dt.datetime(2026, 3, 3, 5, tzinfo=utc), dt.datetime(2026, 3, 4, 5, tzinfo=utc)]


def test_events_are_folded_with_their_stream_version():
    """The checkpoint is the last folded version."""
    h = History().day(0).pain(1).pain(2)
    state = h.state()
    assert state.version == len(h.envelopes) and state.position == h.envelopes[-1].position
