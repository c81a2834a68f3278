"""The baseline policy's configuration: every number of RULES.md as a named, typed default.

Analysts override any field from a TOML or JSON file (``load_policy(spec, path)``); unknown fields
are refused so a typo never silently keeps a default.
"""

from __future__ import annotations

import msgspec

from projections import pain as pn
from projections import phase as ph


EXERCISE_ALIASES = {
    "back_squat": "squat", "front_squat": "squat", "goblet_squat": "squat", "box_squat": "squat",
    "calf_raise_single_leg_bent_knee": "calf_raise_single_leg", "single_leg_calf_raise": "calf_raise_single_leg",
}


class StrengthConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ladder: tuple[tuple[int, int, int], ...] = ((1, 3, 15), (3, 3, 12), (5, 4, 10), (8, 4, 8), (12, 4, 6))
    """Heavy slow resistance (Beyer 2015): (last week, sets, reps) -- wk1 3x15, wk2-3 3x12, ..."""
    load_step: float = 0.05
    min_step_kg: float = 1.0
    deload_factor: float = 0.9
    recent_days: int = 10
    """Exercises logged within this many days before the plan week get a target."""
    bodyweight_rep_step: int = 2
    """Bodyweight work progresses by reps, not kilograms."""
    bodyweight_max_reps: int = 30
    exercise_aliases: dict[str, str] = msgspec.field(default_factory=lambda: dict(EXERCISE_ALIASES))
    """Logged exercise names -> the lifts the milestones need (RULES.md 1)."""


class RunConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    weekly_step: float = 0.10
    two_week_max_increase: float = 0.30
    single_run_cap: float = 0.10
    longest_window_days: int = 30
    volume_deload_factor: float = 0.8
    walk_run_levels: int = 12
    walk_run_repeats: int = 2
    start_weekly_km: float = 5.0
    intense_rpe: float = 7.0
    integration_intense_per_week: tuple[int, ...] = (1, 1, 2, 2, 3)
    """Intense sessions allowed per week in integration, by week since entering it."""
    flag_days: int = 7
    """A spike or ladder-skip flag stays in force this many days after the run (or one decision
    point, when the run arrives later than that)."""


class DropOffConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    settled_rest_pain_max: int = 2
    strength_silence_days: int = 10
    volume_share_of_pre_injury: float = 0.9
    low_load_weeks: int = 2
    integration_min_sessions: int = 2
    integration_weeks: int = 2
    no_log_days: int = 5


class ModifierConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    previous_injury_step_factor: float = 0.5
    previous_injury_extra_settle_days: int = 3
    previous_injury_extra_strength_weeks: int = 2
    short_sleep_hours: float = 7.0
    min_nights_logged: int = 4
    under_fuelled_days: int = 3
    window_days: int = 7


class BaselineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pain: pn.PainThresholds = pn.PainThresholds()
    phases: ph.PhaseCriteria = ph.PhaseCriteria()
    strength: StrengthConfig = StrengthConfig()
    run: RunConfig = RunConfig()
    dropoff: DropOffConfig = DropOffConfig()
    modifiers: ModifierConfig = ModifierConfig()
    bsi_hold_days: int = 3
