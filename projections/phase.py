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


CORRECTION_RULE = "phase.correction"


def record(state: PhaseState, phase: str, at_us: int, day: int, position: int, rule_id: str) -> None:
    """Record a phase change. A step back for a correction resumes the earlier phase where it was
    (its original entry day), as if the unfounded transition had never happened."""
    if rule_id == CORRECTION_RULE:
        day = entry_day(state, phase, before=len(state.changes) - 1)
    state.phase = phase
    state.entered_day = day
    state.entered_position = position
    state.changes.append(PhaseChange(phase, at_us, day, position, rule_id))


def entry_day(state: PhaseState, phase: str, before: int) -> int:
    """The day ``phase`` was last entered among the first ``before`` changes (settle: day 0)."""
    for change in reversed(state.changes[:max(0, before)]):
        if change.phase == phase:
            return change.day
    return 0


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
    """Complete 7-day blocks since ``since_day`` (the day the phase began: block k is days
    since_day+7k .. since_day+7k+6, before ``day``) with at least ``per_week`` heavy sessions.
    Weeks are full weeks (RULES.md 1): a partial week never counts."""
    blocks = max(0, (day - since_day) // 7)
    if per_week <= 0:
        return blocks
    sessions = [0] * blocks
    for d, n in capacity.heavy_sets.items():
        block = (d - since_day) // 7
        if n > 0 and 0 <= block < blocks:
            sessions[block] += 1
    return sum(1 for n in sessions if n >= per_week)


def _best_of(capacity: cap.CapacityState, names: frozenset[str], first: int, last: int) -> float:
    return max((cap.best_in(capacity, name, first, last) for name in names), default=0.0)


def strength_exit(capacity: cap.CapacityState, pain: pn.PainState, day: int, entered_day: int,
                  body_mass_kg: float, c: PhaseCriteria,
                  aliases: dict[str, str] | None = None) -> tuple[bool, dict]:
    """Six full heavy weeks, the key lift's e1RM trending up and at least the body-mass ratio, and the
    calf-raise capacity target. ``aliases`` maps logged exercise names to the milestone lifts."""
    def names(lift: str) -> frozenset[str]:
        return frozenset([lift] + [k for k, v in (aliases or {}).items() if v == lift])

    key, calf = names(c.key_lift), names(c.calf_raise_exercise)
    weeks = heavy_weeks(capacity, entered_day, day, c.heavy_sessions_per_week)
    recent = _best_of(capacity, key, day - c.key_lift_trend_days, day)
    before = _best_of(capacity, key, day - 2 * c.key_lift_trend_days, day - c.key_lift_trend_days - 1)
    best = max((capacity.best_e1rm.get(name, 0.0) for name in key), default=0.0)
    ratio = best / body_mass_kg
    calf_reps = max((cap.max_reps_in(capacity, name, day - 14, day) for name in calf), default=0)
    calf_pain = max((pain.activity.get(d, 0) for d in range(day - 14, day + 1)), default=0)
    why = {"heavy_weeks": weeks, "min_weeks": c.strength_min_weeks, "days_in_phase": day - entered_day,
           "key_lift": c.key_lift, "key_lift_e1rm_recent": round(recent, 1),
           "key_lift_e1rm_before": round(before, 1), "key_lift_bodyweight_ratio": round(ratio, 2),
           "min_ratio": c.key_lift_min_bodyweight_ratio, "calf_raise_reps": calf_reps,
           "calf_raise_min_reps": c.calf_raise_min_reps}
    ready = (weeks >= c.strength_min_weeks and day - entered_day >= 7 * c.strength_min_weeks
             and recent > before and ratio >= c.key_lift_min_bodyweight_ratio
             and calf_reps >= c.calf_raise_min_reps and calf_pain <= c.calf_raise_max_pain)
    return ready, why


def plyometric_days(capacity: cap.CapacityState, since_day: int, until_day: int) -> list[int]:
    """Plyometric days that count (RULES.md 1): each at least 48 h (two days) after the previous one."""
    counted: list[int] = []
    for d in sorted(d for d, n in capacity.plyo_contacts.items() if n > 0 and since_day <= d <= until_day):
        if not counted or d - counted[-1] >= 2:
            counted.append(d)
    return counted


def drill_stage(capacity: cap.CapacityState, since_day: int, until_day: int, max_pain: int) -> int:
    """How far up the drill ladder the athlete has come pain-free, in order (0: none yet; 3: pogo,
    jumps and single-leg hops each done pain-free, each after the previous one)."""
    reached, reached_day = 0, -1
    for d in plyometric_days(capacity, since_day, until_day):
        stages = capacity.plyo_stage_pain.get(d, {})
        pain = stages.get(reached)
        if d > reached_day and pain is not None and pain <= max_pain and reached < cap.DRILL_STAGES:
            reached, reached_day = reached + 1, d
    return reached


def readiness_session(capacity: cap.CapacityState, since_day: int, c: PhaseCriteria,
                      until_day: int = 10**7) -> tuple[bool, dict]:
    """Readiness judged on whole sessions (RULES.md 1): every required test passed pain-free in this
    phase, and the latest session (all results logged that day) holds no failed, painful or
    asymmetric result, whatever order its events arrived in."""
    sessions = {d: results for d, results in capacity.readiness_sessions.items() if since_day <= d <= until_day}
    good = {r.test for results in sessions.values() for r in results
            if r.passed and r.pain <= c.readiness_max_pain}
    missing = [t for t in c.readiness_tests if t not in good]
    latest = sessions[max(sessions)] if sessions else []
    failed = sorted({r.test for r in latest if not r.passed or r.pain > c.readiness_max_pain})
    symmetry = [r.result for r in latest if r.test == ReadinessTest.HOP_SYMMETRY and r.result is not None]
    asymmetric = bool(symmetry) and min(symmetry) < c.hop_symmetry_min_percent
    why = {"readiness_tests_outstanding": ",".join(missing), "failed_in_latest_session": ",".join(failed),
           "hop_symmetry": min(symmetry) if symmetry else None,
           "hop_symmetry_min_percent": c.hop_symmetry_min_percent}
    return not missing and not failed and not asymmetric, why


def plyometric_exit(capacity: cap.CapacityState, entered_day: int, bone_site: str | None,
                    clearances: list[str], c: PhaseCriteria, day: int = 10**7) -> tuple[bool, dict]:
    tests_ok, why = readiness_session(capacity, entered_day, c, day)
    sessions = len(plyometric_days(capacity, entered_day, day))
    stage = drill_stage(capacity, 0, day, c.readiness_max_pain)  # the retained history: drills the
    # tissue tolerated before the phase began (an athlete ahead of its coach) count too
    why |= {"plyometric_sessions": sessions, "min_sessions": c.plyometric_min_sessions,
            "drill_stages_done": stage, "drill_stages": cap.DRILL_STAGES}
    ready = tests_ok and sessions >= c.plyometric_min_sessions and stage >= cap.DRILL_STAGES
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
                       c: PhaseCriteria, limits: pn.PainThresholds,
                       ladder_complete: bool = True) -> tuple[bool, dict]:
    """Pre-injury weekly volume for ``volume_weeks`` complete weeks with green pain, after the
    walk-run ladder is complete (the ladder cannot be skipped: RULES.md 5)."""
    met, volumes = volume_weeks_met(load, pain, day, baseline_km, c, limits)
    return met >= c.volume_weeks and ladder_complete, {
        "weekly_km": ",".join(map(str, volumes)), "pre_injury_weekly_km": baseline_km, "weeks_met": met,
        "weeks_needed": c.volume_weeks, "walk_run_ladder_complete": ladder_complete}
