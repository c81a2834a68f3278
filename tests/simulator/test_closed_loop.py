"""The closed-loop hook: SimulatedAthlete.day(date, advice) lives one day; advice can change habits."""

from __future__ import annotations

import datetime as dt

from engine.simulator import Advice, Habit, make_athlete
from events.envelope import NewEvent
from events.vocabulary import LiftLogged, RunKind, RunLogged

LOW_LOAD_FOREVER = 28  # seed 1: a low-load athlete who would never lift heavy on their own


def _live(athlete, days: int, advice: Advice | None) -> list[tuple[dt.datetime, NewEvent]]:
    out = []
    for n in range(days):
        out.extend(athlete.day(athlete.enrolled_on + dt.timedelta(days=n), advice))
    return out


def test_day_returns_send_ordered_pairs():
    """A day's output is (send_at, NewEvent) pairs in send order, starting with enrolment on day 0."""
    athlete = make_athlete(0, seed=1)
    pairs = _live(athlete, 21, None)
    assert pairs[0][1].data.__struct_config__.tag == "athlete.enrolled"
    assert [t for t, _ in pairs] == sorted(t for t, _ in pairs)
    assert all(isinstance(e, NewEvent) and e.occurred_at <= t for t, e in pairs)


def test_open_loop_with_no_advice_matches_the_cohort_generator():
    """Passing advice=None is the open loop: identical to what simulate_athlete yields."""
    from engine.simulator import simulate_athlete
    athlete = make_athlete(4, seed=1)
    pairs = _live(athlete, 7 * 16 - athlete.profile.enrol_offset_days, None)
    streamed = [e for s in simulate_athlete(4, 16, seed=1) for e in s.events]
    assert [e for _, e in pairs] == streamed


def test_a_drop_off_2_flag_moves_a_low_load_athlete_to_heavy_lifting():
    """Shown the low-load flag, a low-load athlete starts heavy squats; left alone, they never do."""
    def heavy_squats(pairs):
        return [e for _, e in pairs if isinstance(e.data, LiftLogged) and e.data.exercise == "squat"
                and e.data.reps <= 12 and e.data.rpe >= 7]
    alone = make_athlete(LOW_LOAD_FOREVER, seed=1)
    assert alone.profile.habit is Habit.LOW_LOAD
    assert not heavy_squats(_live(alone, 50, None))
    advised = make_athlete(LOW_LOAD_FOREVER, seed=1)
    assert heavy_squats(_live(advised, 50, Advice(flags=frozenset({"drop_off_2"}))))


def test_the_engine_phase_in_advice_is_followed():
    """Told the phase is return_to_run, an athlete in settle starts walk-run sessions."""
    athlete = make_athlete(0, seed=1)
    _live(athlete, 3, None)
    assert athlete.phase == "settle"
    pairs = []
    for n in range(3, 17):
        pairs += athlete.day(athlete.enrolled_on + dt.timedelta(days=n), Advice(phase="return_to_run"))
    assert any(isinstance(e.data, RunLogged) and e.data.kind is RunKind.WALK_RUN for _, e in pairs)
