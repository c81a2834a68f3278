"""Recovery projection: sleep hours and fuelling per local day (RULES.md section 3)."""

from __future__ import annotations

import msgspec

from events.vocabulary import FuellingLogged, SleepLogged


class RecoveryState(msgspec.Struct, kw_only=True):
    sleep_hours: dict[int, float] = {}
    under_fuelled: dict[int, bool] = {}


def apply_sleep(state: RecoveryState, day: int, sleep: SleepLogged) -> None:
    state.sleep_hours[day] = state.sleep_hours.get(day, 0.0) + sleep.hours


def apply_fuelling(state: RecoveryState, day: int, fuel: FuellingLogged) -> None:
    state.under_fuelled[day] = state.under_fuelled.get(day, False) or fuel.under_fuelled


def clear_day(state: RecoveryState, day: int) -> None:
    state.sleep_hours.pop(day, None)
    state.under_fuelled.pop(day, None)


def prune(state: RecoveryState, before_day: int) -> None:
    for per_day in (state.sleep_hours, state.under_fuelled):
        for day in [d for d in per_day if d < before_day]:
            del per_day[day]


def average_sleep(state: RecoveryState, first_day: int, last_day: int) -> tuple[float | None, int]:
    """(average hours, nights logged) over first_day..last_day; None when nothing was logged."""
    nights = [h for d, h in state.sleep_hours.items() if first_day <= d <= last_day]
    return (sum(nights) / len(nights) if nights else None), len(nights)


def under_fuelled_days(state: RecoveryState, first_day: int, last_day: int) -> int:
    return sum(1 for d, low in state.under_fuelled.items() if first_day <= d <= last_day and low)
