"""Load projection: running volume per day and week, longest runs, sRPE, EWMA load, CTL/ATL/TSB.

EWMAs are linear, so a backdated or retracted run is added or removed exactly:
a load x on day d contributes ``lam * x * (1 - lam) ** (t - d)`` to the value at day t.
"""

from __future__ import annotations

import math

import msgspec

from events.vocabulary import INTENSE_RUN_KINDS, CrossTrainingLogged, RunKind, RunLogged

ACUTE_LAMBDA = 2.0 / (7 + 1)  # Williams et al. 2017: lambda = 2/(N+1), N = 7
CHRONIC_LAMBDA = 2.0 / (28 + 1)  # N = 28
ATL_LAMBDA = 1.0 - math.exp(-1.0 / 7)  # coaching platforms' exponential time constants
CTL_LAMBDA = 1.0 - math.exp(-1.0 / 42)
_LAMBDAS = (ACUTE_LAMBDA, CHRONIC_LAMBDA, ATL_LAMBDA, CTL_LAMBDA)


class RunRecord(msgspec.Struct, array_like=True):
    day: int
    position: int
    km: float
    kind: str
    rpe: float
    previous_longest_km: float
    """The longest run of the 30 days before this one (0 when none): the spike reference."""


class LoadState(msgspec.Struct, kw_only=True):
    km: dict[int, float] = {}
    """Running (and walk-run) km per local day; walks are excluded."""
    srpe: dict[int, float] = {}
    """Session RPE (Foster): RPE x minutes, summed per day, runs and walks."""
    longest: dict[int, float] = {}
    intense: dict[int, int] = {}
    """Intense runs per day: tempo/interval/race, or pace-led (RPE >= intense_rpe)."""
    walk_minutes: dict[int, float] = {}
    walk_run_levels: dict[int, int] = {}
    cross_minutes: dict[int, float] = {}
    ewma_day: int = 0
    ewma: list[float] = msgspec.field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    """Acute, chronic, ATL, CTL as of the end of ``ewma_day``."""
    last_run: RunRecord | None = None


def _ewma_add(state: LoadState, day: int, amount: float) -> None:
    if day > state.ewma_day:
        gap = day - state.ewma_day if state.ewma_day else 0
        state.ewma = [v * (1 - lam) ** gap for v, lam in zip(state.ewma, _LAMBDAS)]
        state.ewma_day = day
    back = state.ewma_day - day
    state.ewma = [v + lam * amount * (1 - lam) ** back for v, lam in zip(state.ewma, _LAMBDAS)]


def longest_before(state: LoadState, day: int, window_days: int = 30) -> float:
    """Longest single run in the ``window_days`` days before ``day``."""
    return max((km for d, km in state.longest.items() if day - window_days <= d < day), default=0.0)


def apply_run(state: LoadState, day: int, position: int, run: RunLogged, intense_rpe: float = 7.0) -> None:
    load = run.rpe * run.duration_min
    state.srpe[day] = state.srpe.get(day, 0.0) + load
    _ewma_add(state, day, load)
    if run.kind == RunKind.WALK:
        state.walk_minutes[day] = state.walk_minutes.get(day, 0.0) + run.duration_min
        return
    previous = longest_before(state, day)
    state.km[day] = state.km.get(day, 0.0) + run.distance_km
    state.longest[day] = max(state.longest.get(day, 0.0), run.distance_km)
    if run.kind in INTENSE_RUN_KINDS or (run.kind != RunKind.WALK_RUN and run.rpe >= intense_rpe):
        state.intense[day] = state.intense.get(day, 0) + 1
    if run.walk_run_level is not None:
        state.walk_run_levels[day] = max(state.walk_run_levels.get(day, 0), run.walk_run_level)
    if state.last_run is None or (day, position) >= (state.last_run.day, state.last_run.position):
        state.last_run = RunRecord(day, position, run.distance_km, str(run.kind), run.rpe, previous)


def apply_cross_training(state: LoadState, day: int, session: CrossTrainingLogged) -> None:
    """Cross-training adds session load (sRPE) but no running volume."""
    load = session.rpe * session.duration_min
    state.srpe[day] = state.srpe.get(day, 0.0) + load
    _ewma_add(state, day, load)
    state.cross_minutes[day] = state.cross_minutes.get(day, 0.0) + session.duration_min


_PER_DAY = ("km", "longest", "intense", "walk_minutes", "walk_run_levels", "cross_minutes")


def clear_day(state: LoadState, day: int) -> None:
    _ewma_add(state, day, -state.srpe.pop(day, 0.0))
    for name in _PER_DAY:
        getattr(state, name).pop(day, None)
    if state.last_run is not None and state.last_run.day == day:
        state.last_run = None


def prune(state: LoadState, before_day: int) -> None:
    """Forget per-day detail before ``before_day``; walk-run days are kept (a few dozen per rehab):
    the ladder climbed stays climbed."""
    for name in ("srpe",) + tuple(n for n in _PER_DAY if n != "walk_run_levels"):
        per_day = getattr(state, name)
        for day in [d for d in per_day if d < before_day]:
            del per_day[day]


def week_km(state: LoadState, first_day: int) -> float:
    """Running km in the 7 days first_day..first_day+6."""
    return sum(km for d, km in state.km.items() if first_day <= d < first_day + 7)


def ewma_at(state: LoadState, day: int) -> dict[str, float]:
    """Acute/chronic load, ACWR and CTL/ATL/TSB at the end of ``day`` (days with no runs decay)."""
    gap = max(0, day - state.ewma_day) if state.ewma_day else 0
    acute, chronic, atl, ctl = (v * (1 - lam) ** gap for v, lam in zip(state.ewma, _LAMBDAS))
    return {"acute": acute, "chronic": chronic, "acwr": acute / chronic if chronic > 1e-9 else 0.0,
            "atl": atl, "ctl": ctl, "tsb": ctl - atl}
