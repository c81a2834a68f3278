"""Adherence projection: which days the athlete logged anything, and when they last did.

Strength-session adherence (2-3 per week) is read from the capacity projection's per-day sets;
this module keeps the logging side and the queries that combine both.
"""

from __future__ import annotations

import msgspec

from projections.calendar import week_of, week_start
from projections.capacity import CapacityState, sessions_in


class AdherenceState(msgspec.Struct, kw_only=True):
    logs: dict[int, int] = {}
    """Measurement events per local day (retained window)."""
    first_day: int = 0
    last_day: int = 0
    """Local day of the latest measurement the athlete logged (0: never)."""


def apply_log(state: AdherenceState, day: int) -> None:
    state.logs[day] = state.logs.get(day, 0) + 1
    if not state.first_day or day < state.first_day:
        state.first_day = day
    state.last_day = max(state.last_day, day)


def clear_day(state: AdherenceState, day: int) -> None:
    state.logs.pop(day, None)


def prune(state: AdherenceState, before_day: int) -> None:
    for day in [d for d in state.logs if d < before_day]:
        del state.logs[day]


def days_since_last_log(state: AdherenceState, day: int) -> int | None:
    return None if not state.last_day else day - state.last_day


def logging_share(state: AdherenceState, day: int, window: int = 14) -> float:
    """Share of the last ``window`` days (up to yesterday) with at least one log."""
    first = max(day - window, state.first_day or day)
    span = day - first
    if span <= 0:
        return 1.0
    return sum(1 for d in state.logs if first <= d < day) / span


def strength_week(capacity: CapacityState, week: int) -> tuple[int, int]:
    """(strength sessions, heavy sessions) in a Monday-based week."""
    first = week_start(week)
    return (sessions_in(capacity.lift_sets, first, first + 6),
            sessions_in(capacity.heavy_sets, first, first + 6))


def weekly_summary(capacity: CapacityState, day: int, target_min: int = 2) -> dict[str, float]:
    """Last complete week's strength adherence against the 2-3 sessions target."""
    sessions, heavy = strength_week(capacity, week_of(day) - 1)
    return {"strength_sessions_last_week": sessions, "heavy_sessions_last_week": heavy,
            "heavy_share_last_week": heavy / sessions if sessions else 0.0,
            "meets_strength_target": float(sessions >= target_min)}
