"""Capacity projection: e1RM per lift, heavy sets and sessions per week, plyometrics, readiness tests.

RULES.md section 5: Epley ``w(1 + r/30)``, Brzycki ``w*36/(37 - r)``; a set is heavy at <= 8 reps,
or >= ~75% e1RM, or RPE >= 7. Low-load work (drop-off point 2) is reps > 12, or < ~70% e1RM, or RPE < 6.
"""

from __future__ import annotations

import msgspec

from events.vocabulary import Drill, IsometricLogged, LiftLogged, PlyometricLogged, ReadinessTestRecorded

DRILL_STAGE = {Drill.POGO: 0, Drill.DOUBLE_LEG_JUMP: 1, Drill.BOX_JUMP: 1, Drill.SKIPPING: 1,
               Drill.SINGLE_LEG_HOP: 2, Drill.BOUNDING: 2}
"""The plyometric ladder (RULES.md 1): 0 double-leg pogo, 1 jumps, 2 single-leg hops."""
DRILL_STAGES = 3


class StrengthRules(msgspec.Struct, frozen=True, kw_only=True):
    e1rm_formula: str = "epley"
    heavy_max_reps: int = 8
    heavy_min_share_e1rm: float = 0.75
    heavy_min_rpe: float = 7.0
    low_load_min_reps: int = 13
    low_load_max_share_e1rm: float = 0.70
    low_load_max_rpe: float = 6.0


def e1rm(load_kg: float, reps: int, formula: str = "epley") -> float:
    """Estimated one-rep max. Brzycki is undefined at >= 37 reps; Epley is used there."""
    if reps <= 1:
        return load_kg
    if formula == "brzycki" and reps < 37:
        return load_kg * 36.0 / (37.0 - reps)
    return load_kg * (1.0 + reps / 30.0)


class LiftSession(msgspec.Struct, array_like=True):
    day: int
    position: int
    load_kg: float
    reps: int
    sets: int
    rpe: float
    e1rm: float
    heavy: bool
    low_load: bool


class ReadinessResult(msgspec.Struct, array_like=True):
    day: int
    passed: bool
    pain: int
    result: float | None
    test: str = ""
    position: int = 0


class CapacityState(msgspec.Struct, kw_only=True):
    best_e1rm: dict[str, float] = {}
    """Best e1RM per exercise over the retained window and the archive before it."""
    archived_best: dict[str, float] = {}
    e1rm_by_day: dict[int, dict[str, float]] = {}
    lift_sets: dict[int, int] = {}
    heavy_sets: dict[int, int] = {}
    low_load_sets: dict[int, int] = {}
    max_reps_by_day: dict[int, dict[str, int]] = {}
    last_session: dict[str, LiftSession] = {}
    plyo_contacts: dict[int, int] = {}
    plyo_pain: dict[int, int] = {}
    plyo_stage_pain: dict[int, dict[int, int]] = {}
    """Per day, the worst pain per drill stage (DRILL_STAGE) done that day."""
    readiness: dict[str, ReadinessResult] = {}
    """The latest result per test (by day, then log position)."""
    readiness_sessions: dict[int, list[ReadinessResult]] = {}
    """Every readiness result per day: a session is judged as a whole (RULES.md 1)."""
    isometric_sets: dict[int, int] = {}


def apply_lift(state: CapacityState, day: int, position: int, lift: LiftLogged, rules: StrengthRules) -> None:
    estimate = e1rm(lift.load_kg, lift.reps, rules.e1rm_formula)
    prior_best = state.best_e1rm.get(lift.exercise, 0.0)
    share = lift.load_kg / prior_best if prior_best > 0 else 0.0
    heavy = (lift.reps <= rules.heavy_max_reps or lift.rpe >= rules.heavy_min_rpe
             or (prior_best > 0 and share >= rules.heavy_min_share_e1rm))
    if lift.load_kg <= 0:  # bodyweight to failure (a 20-rep calf-raise test) is capacity, not heavy
        heavy = lift.reps <= rules.heavy_max_reps
    low_load = not heavy and (lift.reps >= rules.low_load_min_reps or lift.rpe < rules.low_load_max_rpe
                              or (prior_best > 0 and share < rules.low_load_max_share_e1rm))
    day_best = state.e1rm_by_day.setdefault(day, {})
    day_best[lift.exercise] = max(day_best.get(lift.exercise, 0.0), estimate)
    state.best_e1rm[lift.exercise] = max(prior_best, estimate)
    state.lift_sets[day] = state.lift_sets.get(day, 0) + lift.sets
    if heavy:
        state.heavy_sets[day] = state.heavy_sets.get(day, 0) + lift.sets
    if low_load:
        state.low_load_sets[day] = state.low_load_sets.get(day, 0) + lift.sets
    reps = state.max_reps_by_day.setdefault(day, {})
    reps[lift.exercise] = max(reps.get(lift.exercise, 0), lift.reps)
    last = state.last_session.get(lift.exercise)
    if last is None or (day, position) >= (last.day, last.position):
        state.last_session[lift.exercise] = LiftSession(
            day, position, lift.load_kg, lift.reps, lift.sets, lift.rpe, estimate, heavy, low_load)


def apply_isometric(state: CapacityState, day: int, hold: IsometricLogged) -> None:
    """An isometric hold is strength work (a session) but never a heavy set by rep count."""
    state.isometric_sets[day] = state.isometric_sets.get(day, 0) + hold.sets
    state.lift_sets[day] = state.lift_sets.get(day, 0) + hold.sets


def apply_plyometric(state: CapacityState, day: int, session: PlyometricLogged) -> None:
    state.plyo_contacts[day] = state.plyo_contacts.get(day, 0) + session.foot_contacts
    state.plyo_pain[day] = max(state.plyo_pain.get(day, 0), session.pain)
    stages = state.plyo_stage_pain.setdefault(day, {})
    stage = DRILL_STAGE[Drill(session.drill)]
    stages[stage] = max(stages.get(stage, 0), session.pain)


def apply_readiness(state: CapacityState, day: int, position: int, test: ReadinessTestRecorded) -> None:
    result = ReadinessResult(day, test.passed, test.pain, test.result, str(test.test), position)
    latest = state.readiness.get(result.test)
    if latest is None or (day, position) >= (latest.day, latest.position):
        state.readiness[result.test] = result
    state.readiness_sessions.setdefault(day, []).append(result)


_PER_DAY = ("e1rm_by_day", "lift_sets", "heavy_sets", "low_load_sets", "max_reps_by_day",
            "plyo_contacts", "plyo_pain", "plyo_stage_pain", "readiness_sessions", "isometric_sets")


def clear_day(state: CapacityState, day: int) -> None:
    """Forget a day's lifts (before re-applying its surviving entries after a correction)."""
    for name in _PER_DAY:
        getattr(state, name).pop(day, None)
    for exercise, session in list(state.last_session.items()):
        if session.day == day:
            del state.last_session[exercise]
    for test, result in list(state.readiness.items()):
        if result.day == day:
            del state.readiness[test]
    for results in state.readiness_sessions.values():  # an earlier result may be the latest again
        for result in results:
            latest = state.readiness.get(result.test)
            if latest is None or (result.day, result.position) >= (latest.day, latest.position):
                state.readiness[result.test] = result
    state.best_e1rm = dict(state.archived_best)
    for per_day in state.e1rm_by_day.values():
        for exercise, value in per_day.items():
            state.best_e1rm[exercise] = max(state.best_e1rm.get(exercise, 0.0), value)


def prune(state: CapacityState, before_day: int) -> None:
    for day in [d for d in state.e1rm_by_day if d < before_day]:
        for exercise, value in state.e1rm_by_day.pop(day).items():
            state.archived_best[exercise] = max(state.archived_best.get(exercise, 0.0), value)
    for name in _PER_DAY[1:]:
        per_day = getattr(state, name)
        for day in [d for d in per_day if d < before_day]:
            del per_day[day]


def _days_in(per_day: dict, first_day: int, last_day: int) -> list:
    """The values of ``per_day`` on days first_day..last_day: by lookup when the window is shorter
    than the dict (a week among ten retained weeks), else by one pass (same values either way)."""
    if last_day - first_day < len(per_day):
        return [per_day[d] for d in range(first_day, last_day + 1) if d in per_day]
    return [v for d, v in per_day.items() if first_day <= d <= last_day]


def best_in(state: CapacityState, exercise: str, first_day: int, last_day: int) -> float:
    """Best e1RM of ``exercise`` logged on days first_day..last_day (0.0 when none)."""
    return max((v.get(exercise, 0.0) for v in _days_in(state.e1rm_by_day, first_day, last_day)),
               default=0.0)


def max_reps_in(state: CapacityState, exercise: str, first_day: int, last_day: int) -> int:
    return max((v.get(exercise, 0) for v in _days_in(state.max_reps_by_day, first_day, last_day)),
               default=0)


def sessions_in(per_day: dict[int, int], first_day: int, last_day: int) -> int:
    """Days with at least one set in a per-day count dict (a day of lifting is one session)."""
    return sum(1 for n in _days_in(per_day, first_day, last_day) if n > 0)
