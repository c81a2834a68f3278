"""Phase projection: the five phases of RULES.md section 1, their exit milestones, advance and regress.

The phase is never set by anyone: the decision runner asks :func:`next_phase` at every decision
point and records the change. Milestones are parameters (``PhaseCriteria``, defaults from RULES.md)
so an analyst's policy can move them.
"""

from __future__ import annotations

import msgspec

from events.vocabulary import HIGH_RISK_BONE_SITES, ClearanceScope, ReadinessTest
from projections import capacity as cap
from projections import load as ld
from projections import pain as pn
from projections.calendar import week_of, week_start

PHASES = ("settle", "strength", "plyometric", "return_to_run", "integration")


class PhaseCriteria(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # settle
    settle_rest_pain_max: int = 2
    settle_days: int = 7
    settle_min_reported_days: int = 5
    bsi_walk_minutes: float = 30.0
    # strength
    strength_min_weeks: int = 6
    heavy_sessions_per_week: int = 2
    key_lift: str = "squat"
    key_lift_trend_days: int = 14
    key_lift_min_bodyweight_ratio: float = 1.0
    calf_raise_exercise: str = "calf_raise_single_leg"
    calf_raise_min_reps: int = 20
    calf_raise_max_pain: int = 2
    # plyometric -> readiness
    readiness_max_pain: int = 2
    readiness_tests: tuple[str, ...] = (
        ReadinessTest.BRISK_WALK_30MIN, ReadinessTest.SINGLE_LEG_SQUAT_10,
        ReadinessTest.SINGLE_LEG_HOPS, ReadinessTest.JOG_ON_SPOT_1MIN)
    hop_symmetry_min_percent: float = 90.0
    plyometric_min_sessions: int = 4
    # return to run
    volume_weeks: int = 2
    # regress
    red_days_to_regress: int = 2
    red_window_days: int = 7


class PhaseChange(msgspec.Struct, array_like=True):
    phase: str
    at_us: int
    day: int
    position: int
    rule_id: str


class PhaseState(msgspec.Struct, kw_only=True):
    phase: str = "settle"
    entered_day: int = 0
    entered_position: int = 0
    changes: list[PhaseChange] = []


def record(state: PhaseState, phase: str, at_us: int, day: int, position: int, rule_id: str) -> None:
    state.phase = phase
    state.entered_day = day
    state.entered_position = position
    state.changes.append(PhaseChange(phase, at_us, day, position, rule_id))


def has_clearance(clearances: list[str], needed: str = ClearanceScope.RUNNING) -> bool:
    return needed in clearances or ClearanceScope.FULL in clearances


def settle_exit(pain: pn.PainState, load: ld.LoadState, day: int, since_day: int, bone_site: str | None,
                clearances: list[str], c: PhaseCriteria, limits: pn.PainThresholds) -> tuple[bool, dict]:
    """Ready when the last ``settle_days`` complete days, all on or after ``since_day`` (the first
    day the athlete logged in this phase), had rest pain within the limit and no worse mornings."""
    days = range(day - c.settle_days, day)
    reported = [pain.rest[d] for d in days if d in pain.rest]
    too_sore = [d for d in days if pain.rest.get(d, 0) > c.settle_rest_pain_max]
    worse_mornings = []
    for d in days:
        morning, base = pain.morning.get(d), pn.baseline(pain, d, limits)
        if morning is not None and base is not None and morning > base + limits.morning_worse_margin - 1:
            worse_mornings.append(d)
    why = {"settled_days_reported": len(reported), "min_reported_days": c.settle_min_reported_days,
           "days_rest_pain_above_max": len(too_sore), "rest_pain_max": c.settle_rest_pain_max,
           "worse_mornings": len(worse_mornings)}
    ready = (day - c.settle_days >= since_day and len(reported) >= c.settle_min_reported_days
             and not too_sore and not worse_mornings)
    if bone_site is not None:
        walked = max((m for d, m in load.walk_minutes.items()  # pain-free walks only (<= 2/10)
                      if d in days and pain.activity.get(d, 0) <= c.readiness_max_pain), default=0.0)
        tender = any(pain.bony_tenderness.get(d) for d in days)
        why |= {"longest_walk_min": walked, "bsi_walk_minutes": c.bsi_walk_minutes, "bony_tenderness": tender}
        ready = ready and walked >= c.bsi_walk_minutes and not tender
        if bone_site in HIGH_RISK_BONE_SITES:
            cleared = has_clearance(clearances)
            why["clinician_clearance"] = cleared
            ready = ready and cleared
    return ready, why


def heavy_weeks(capacity: cap.CapacityState, since_day: int, day: int, per_week: int) -> int:
    """Complete Monday-based weeks since ``since_day`` with at least ``per_week`` heavy sessions."""
    first_week, last_week = week_of(since_day), week_of(day)
    if per_week <= 0:
        return max(0, last_week - first_week)
    sessions: dict[int, int] = {}  # one pass over the days, not one per week
    for d, n in capacity.heavy_sets.items():
        if n > 0 and first_week <= (week := week_of(d)) < last_week:
            sessions[week] = sessions.get(week, 0) + 1
    return sum(1 for n in sessions.values() if n >= per_week)


def strength_exit(capacity: cap.CapacityState, pain: pn.PainState, day: int, entered_day: int,
                  body_mass_kg: float, c: PhaseCriteria) -> tuple[bool, dict]:
    weeks = heavy_weeks(capacity, entered_day, day, c.heavy_sessions_per_week)
    recent = cap.best_in(capacity, c.key_lift, day - c.key_lift_trend_days, day)
    before = cap.best_in(capacity, c.key_lift, day - 2 * c.key_lift_trend_days, day - c.key_lift_trend_days - 1)
    ratio = capacity.best_e1rm.get(c.key_lift, 0.0) / body_mass_kg
    calf_reps = cap.max_reps_in(capacity, c.calf_raise_exercise, day - 14, day)
    calf_pain = max((pain.activity.get(d, 0) for d in range(day - 14, day + 1)), default=0)
    why = {"heavy_weeks": weeks, "min_weeks": c.strength_min_weeks, "key_lift": c.key_lift,
           "key_lift_e1rm_recent": round(recent, 1), "key_lift_e1rm_before": round(before, 1),
           "key_lift_bodyweight_ratio": round(ratio, 2), "min_ratio": c.key_lift_min_bodyweight_ratio,
           "calf_raise_reps": calf_reps, "calf_raise_min_reps": c.calf_raise_min_reps}
    ready = (weeks >= c.strength_min_weeks and recent > before and ratio >= c.key_lift_min_bodyweight_ratio
             and calf_reps >= c.calf_raise_min_reps and calf_pain <= c.calf_raise_max_pain)
    return ready, why


def plyometric_exit(capacity: cap.CapacityState, entered_day: int, bone_site: str | None,
                    clearances: list[str], c: PhaseCriteria) -> tuple[bool, dict]:
    results = capacity.readiness
    missing = [t for t in c.readiness_tests
               if not (t in results and results[t].passed and results[t].pain <= c.readiness_max_pain
                       and results[t].day >= entered_day)]
    symmetry = results.get(ReadinessTest.HOP_SYMMETRY)
    symmetric = symmetry is None or (symmetry.result or 0.0) >= c.hop_symmetry_min_percent
    sessions = cap.sessions_in(capacity.plyo_contacts, entered_day, 10**7)
    why = {"readiness_tests_outstanding": ",".join(missing), "plyometric_sessions": sessions,
           "min_sessions": c.plyometric_min_sessions,
           "hop_symmetry": None if symmetry is None else symmetry.result}
    ready = not missing and symmetric and sessions >= c.plyometric_min_sessions
    if bone_site in HIGH_RISK_BONE_SITES:
        why["clinician_clearance"] = has_clearance(clearances)
        ready = ready and why["clinician_clearance"]
    return ready, why


def volume_weeks_met(load: ld.LoadState, pain: pn.PainState, day: int, baseline_km: float,
                     c: PhaseCriteria, limits: pn.PainThresholds) -> tuple[int, list[float]]:
    """How many of the last ``volume_weeks`` complete weeks reached the baseline with green pain."""
    met, volumes = 0, []
    for week in range(week_of(day) - c.volume_weeks, week_of(day)):
        first = week_start(week)
        km = ld.week_km(load, first)
        volumes.append(round(km, 1))
        worst = max((pain.activity.get(d, 0) for d in range(first, first + 7)), default=0)
        if km >= baseline_km > 0 and worst <= limits.green_max:
            met += 1
    return met, volumes


def return_to_run_exit(load: ld.LoadState, pain: pn.PainState, day: int, baseline_km: float,
                       c: PhaseCriteria, limits: pn.PainThresholds) -> tuple[bool, dict]:
    met, volumes = volume_weeks_met(load, pain, day, baseline_km, c, limits)
    return met >= c.volume_weeks, {"weekly_km": ",".join(map(str, volumes)),
                                   "pre_injury_weekly_km": baseline_km, "weeks_met": met,
                                   "weeks_needed": c.volume_weeks}
