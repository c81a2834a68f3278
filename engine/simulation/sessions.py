"""Training sessions as a simulated athlete would log them: lifts, plyometrics, readiness tests, runs.

Each builder updates the athlete's tissue (the truth) and returns the events of the session.
"""

from __future__ import annotations

import datetime as dt
import random

from events.vocabulary import (
    CrossTrainingActivity,
    CrossTrainingLogged,
    IsometricLogged,
    Context, Drill, Event, LiftLogged, PainReported, PlyometricLogged, ReadinessTest,
    ReadinessTestRecorded, RunKind, RunLogged, Side,
)
from engine.simulation.tissue import Tissue

# Heavy slow resistance ladder (Beyer et al. 2015): reps per week of the strength phase.
HSR_REPS = (15, 12, 12, 10, 10, 8, 8, 8, 6, 6, 6, 6)
MAINTENANCE_REPS = (6, 5, 6, 8)
# Walk-run levels 1-12 (30 min each): the share of the 30 minutes spent running.
WALK_RUN_SHARE = (0.2, 0.4, 0.6, 0.8, 0.83, 0.87, 0.9, 0.92, 0.94, 0.96, 0.98, 1.0)
_SETTLE_EXTRAS = ("glute_bridge", "hip_abduction", "wall_sit", "isometric_calf_hold")
_SECOND = ("split_squat", "deadlift")
RUN_INTENSITY = {RunKind.EASY: 1.0, RunKind.LONG: 1.1, RunKind.TEMPO: 1.45, RunKind.INTERVAL: 1.6,
                 RunKind.RACE: 1.8, RunKind.WALK_RUN: 0.9}


def _r25(x: float) -> float:
    return round(x / 2.5) * 2.5


def _jit(rng: random.Random, lo: float, hi: float) -> float:
    return lo + (hi - lo) * rng.random()


def cross_training(rng: random.Random, tissue: Tissue, at: dt.datetime, minutes: int) -> list:
    """Easy non-impact training in settle (load modification, not full rest): cycling or swimming."""
    activity = CrossTrainingActivity.CYCLING if rng.random() < 0.6 else CrossTrainingActivity.SWIMMING
    return [(at, CrossTrainingLogged(activity=activity, duration_min=float(minutes), rpe=round(_jit(rng, 2.5, 4.5), 1)))]


def settle_lifts(rng: random.Random, tissue: Tissue, at: dt.datetime, side: Side, body_mass: float) -> list:
    """Low-load rehab exercises (settle): bodyweight calf raises and an easy extra."""
    tissue.add_lifts(heavy=False)
    extra = _SETTLE_EXTRAS[int(rng.random() * 4)]
    if extra == "isometric_calf_hold":  # a hold is a duration, never a heavy set by rep count
        second = IsometricLogged(exercise=extra, hold_seconds=45.0, sets=4, load_kg=_r25(body_mass * 0.3),
                                 rpe=round(_jit(rng, 4.5, 5.5), 1), side=side)
    else:
        second = LiftLogged(exercise=extra, load_kg=0.0, reps=15, sets=3, rpe=round(_jit(rng, 3.0, 5.0), 1))
    return [(at, LiftLogged(exercise="calf_raise_single_leg", load_kg=0.0, reps=15, sets=3,
                            rpe=round(_jit(rng, 3.5, 5.5), 1), side=side)), (at, second)]


def strength_session(rng: random.Random, tissue: Tissue, at: dt.datetime, side: Side, *, heavy: bool,
                     reps: int, session_no: int, recovery: float, calf_test: bool) -> list:
    """Key lifts: calf raise, squat and one of split squat / deadlift, heavy or low-load."""
    tissue.add_lifts(heavy=heavy)
    second = _SECOND[session_no & 1]
    events: list[tuple[dt.datetime, Event]] = []
    for exercise in ("calf_raise_single_leg", "squat", second):
        rm = tissue.one_rm[exercise]
        if heavy:
            r = reps
            load = rm / (1 + r / 30) * _jit(rng, 0.94, 1.0)
            rpe = round(_jit(rng, 7.0, 9.5), 1)
            sets = 3 if r >= 12 else 4
        else:
            r = 15 + int(rng.random() * 6)
            load = rm * _jit(rng, 0.35, 0.5)
            rpe = round(_jit(rng, 3.5, 5.5), 1)
            sets = 3
        single = exercise in ("calf_raise_single_leg", "split_squat")
        events.append((at, LiftLogged(exercise=exercise, load_kg=max(0.0, _r25(load)), reps=r, sets=sets, rpe=rpe,
                                      side=side if single else Side.BOTH)))
        tissue.lift_progress(exercise, heavy, recovery)
    if calf_test:
        events.append((at, LiftLogged(exercise="calf_raise_single_leg", load_kg=0.0, reps=max(1, int(tissue.calf_reps)),
                                      sets=1, rpe=round(_jit(rng, 8.5, 10.0), 1), side=side)))
    return events


def plyometric_session(rng: random.Random, tissue: Tissue, at: dt.datetime, session_no: int) -> list:
    """The ladder: pogo, then jumps and skips, then single-leg hops and bounds."""
    if session_no < 1:
        drills = ((Drill.POGO, 60 + int(rng.random() * 30), 0.35),)
    elif session_no < 2:
        drills = ((Drill.POGO, 50, 0.35), (Drill.DOUBLE_LEG_JUMP if rng.random() < 0.5 else Drill.SKIPPING,
                                            40 + int(rng.random() * 25), 0.5))
    elif session_no < 3:
        drills = ((Drill.POGO, 40, 0.35), (Drill.BOX_JUMP, 30, 0.55), (Drill.SINGLE_LEG_HOP, 40 + int(rng.random() * 25), 0.7))
    else:
        drills = ((Drill.SKIPPING, 50, 0.5), (Drill.SINGLE_LEG_HOP, 60 + int(rng.random() * 25), 0.7),
                  (Drill.BOUNDING, 30 + int(rng.random() * 12), 0.8))
    events = []
    for drill, contacts, demand in drills:
        tissue.add_plyometrics(contacts)
        pain = tissue.activity_pain(rng, 4.0 * max(0.0, demand - tissue.capacity) + (1.5 * tissue.bone if tissue.bsi else 0.0))
        events.append((at, PlyometricLogged(drill=drill, foot_contacts=contacts, pain=pain)))
    return events


def readiness_tests(rng: random.Random, tissue: Tissue, at: dt.datetime) -> tuple[list, bool]:
    """The return-to-run battery. Returns the events and whether every test passed."""
    events, passed_all = [], True
    for test, result, demand in ((ReadinessTest.BRISK_WALK_30MIN, 30.0, 0.2), (ReadinessTest.SINGLE_LEG_SQUAT_10, 10.0, 0.4),
                                 (ReadinessTest.SINGLE_LEG_HOPS, float(10 + int(rng.random() * 11)), 0.65),
                                 (ReadinessTest.JOG_ON_SPOT_1MIN, 1.0, 0.45)):
        pain = tissue.activity_pain(rng, 4.0 * max(0.0, demand - tissue.capacity) + (2.0 * tissue.bone if tissue.bsi else 0.0))
        passed = pain <= 2
        passed_all = passed_all and passed
        events.append((at, ReadinessTestRecorded(test=test, passed=passed, pain=pain, result=result)))
    symmetry = round(min(100.0, 68 + 30 * tissue.capacity / 0.7 + _jit(rng, -5, 5)), 1)
    passed = symmetry >= 90
    passed_all = passed_all and passed
    events.append((at, ReadinessTestRecorded(test=ReadinessTest.HOP_SYMMETRY, passed=passed, pain=tissue.activity_pain(rng),
                                             result=symmetry)))
    return events, passed_all


def run(rng: random.Random, tissue: Tissue, at: dt.datetime, kind: RunKind, km: float, pace: float,
        weekly_km: float, level: int | None = None, rpe: float | None = None) -> tuple[list, int]:
    """One run and the pain during it. Returns the events and the pain score."""
    if kind is RunKind.WALK_RUN:
        share = WALK_RUN_SHARE[level - 1]
        minutes = 30.0 + (0.0 if level == 12 else float(int(rng.random() * 3)))
        km = share * 30 / pace + (1 - share) * 30 / 11.0
        rpe = rpe or round(_jit(rng, 2.5, 4.5), 1)
    else:
        factor = {RunKind.EASY: 1.0, RunKind.LONG: 1.03, RunKind.TEMPO: 0.88, RunKind.INTERVAL: 0.93,
                  RunKind.RACE: 0.82}[kind]
        minutes = km * pace * factor * _jit(rng, 0.97, 1.04)
        if rpe is None:
            rpe = {RunKind.EASY: _jit(rng, 3.0, 4.5), RunKind.LONG: _jit(rng, 4.0, 5.5),
                   RunKind.TEMPO: _jit(rng, 7.0, 8.0), RunKind.INTERVAL: _jit(rng, 8.0, 9.0),
                   RunKind.RACE: _jit(rng, 9.0, 9.8)}[kind]
            rpe = round(rpe, 1)
    km = round(km, 2)
    intensity = RUN_INTENSITY[kind] * (1.25 if rpe >= 7 and kind is RunKind.EASY else 1.0)
    pain = tissue.run_pain(rng, km, weekly_km, intensity > 1.2)
    tissue.add_run(km, weekly_km, intensity)
    data = RunLogged(distance_km=km, duration_min=round(minutes, 1), rpe=rpe, kind=kind, walk_run_level=level)
    return [(at, data), (at, PainReported(score=pain, context=Context.DURING))], pain


def walk(rng: random.Random, tissue: Tissue, at: dt.datetime, minutes: int, log_pain: bool) -> list:
    km = round(minutes / _jit(rng, 10.0, 12.5), 2)
    tissue.add_walk(minutes)
    events = [(at, RunLogged(distance_km=km, duration_min=float(minutes), rpe=round(_jit(rng, 1.5, 3.0), 1),
                             kind=RunKind.WALK))]
    if log_pain:
        extra = 1.0 + tissue.bone * 0.6 if tissue.bsi and tissue.bone > 1.0 else 0.0
        events.append((at, PainReported(score=tissue.activity_pain(rng, extra), context=Context.DURING,
                                        bony_tenderness=tissue.tender())))
    return events
