"""Pain projection: latest score by context, per-day scores, personal baseline, traffic light.

The traffic light follows RULES.md section 4 (Silbernagel's pain monitoring model): green may
progress, amber holds (and must be back to green by next morning), red (>= 6, or next-morning pain
worse than the athlete's own baseline) deloads. Thresholds come in as ``PainThresholds``.
"""

from __future__ import annotations

import statistics

import msgspec

from events.vocabulary import PainReported

GREEN, AMBER, RED = "green", "amber", "red"


class PainThresholds(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    green_max: int = 3
    """Scores 0..green_max are green."""
    amber_max: int = 5
    """Scores green_max+1..amber_max are amber; above is red (RULES.md: red >= 6)."""
    morning_worse_margin: float = 1.0
    """Next-morning pain this many points above the baseline counts as worse."""
    morning_noise_floor: int = 2
    """Next-morning pain at or below this never counts as worse than baseline (scale noise)."""
    baseline_days: int = 14
    """The baseline is the median next-morning score over this many days before today."""


class PainState(msgspec.Struct, kw_only=True):
    latest: dict[str, int] = {}
    """Latest score by context (rest, during, after, next_morning)."""
    latest_day: dict[str, int] = {}
    rest: dict[int, int] = {}
    """Worst rest pain per local day."""
    morning: dict[int, int] = {}
    """Latest next-morning pain per local day."""
    activity: dict[int, int] = {}
    """Worst during/after-activity pain per local day."""
    bony_tenderness: dict[int, bool] = {}


def apply(state: PainState, day: int, event: PainReported) -> None:
    context = str(event.context)
    if day >= state.latest_day.get(context, day):  # a backdated report is not the latest one
        state.latest[context] = event.score
        state.latest_day[context] = day
    if context == "rest":
        state.rest[day] = max(state.rest.get(day, 0), event.score)
    elif context == "next_morning":
        state.morning[day] = event.score
    else:
        state.activity[day] = max(state.activity.get(day, 0), event.score)
    if event.bony_tenderness:
        state.bony_tenderness[day] = True


def apply_activity(state: PainState, day: int, score: int | None) -> None:
    """A pain score logged on an activity (lift, plyometrics, run, readiness test, cross-training)
    counts for the traffic light exactly like a ``pain.reported`` during activity (RULES.md 4)."""
    if score is None:
        return
    if day >= state.latest_day.get("during", day):
        state.latest["during"] = score
        state.latest_day["during"] = day
    state.activity[day] = max(state.activity.get(day, 0), score)


def clear_day(state: PainState, day: int) -> None:
    for per_day in (state.rest, state.morning, state.activity, state.bony_tenderness):
        per_day.pop(day, None)
    for context, seen in list(state.latest_day.items()):
        if seen == day:
            del state.latest_day[context]
            del state.latest[context]


def prune(state: PainState, before_day: int) -> None:
    for per_day in (state.rest, state.morning, state.activity, state.bony_tenderness):
        for day in [d for d in per_day if d < before_day]:
            del per_day[day]


def baseline(state: PainState, day: int, limits: PainThresholds) -> float | None:
    """Median next-morning pain over the days before ``day``; None until there is one."""
    morning, first = state.morning, day - limits.baseline_days
    if limits.baseline_days < len(morning):
        scores = [morning[d] for d in range(first, day) if d in morning]
    else:
        scores = [s for d, s in morning.items() if first <= d < day]
    return float(statistics.median(scores)) if scores else None


def worst_recent(state: PainState, day: int) -> int | None:
    """Worst rest or activity pain today, else yesterday (what the athlete last told us)."""
    for d in (day, day - 1):
        scores = [s for s in (state.rest.get(d), state.activity.get(d)) if s is not None]
        if scores:
            return max(scores)
    return None


def _colour(score: int, limits: PainThresholds) -> str:
    if score <= limits.green_max:
        return GREEN
    return AMBER if score <= limits.amber_max else RED


def traffic_light(state: PainState, day: int, limits: PainThresholds) -> tuple[str, dict]:
    """(colour, rationale) at local ``day``; the rationale holds the numbers compared."""
    recent = worst_recent(state, day)
    morning = state.morning.get(day)
    base = baseline(state, day, limits)
    rationale = {"recent_pain": recent, "next_morning_pain": morning, "baseline": base,
                 "green_max": limits.green_max, "amber_max": limits.amber_max}
    colour = GREEN if recent is None else _colour(recent, limits)
    if morning is not None:
        morning_colour = _colour(morning, limits)
        worse = (base is not None and morning >= base + limits.morning_worse_margin
                 and morning > limits.morning_noise_floor)
        if morning_colour == RED or worse:
            return RED, rationale | {"reason": "next-morning pain worse than baseline"
                                     if morning_colour != RED else "next-morning pain red"}
        yesterday = worst_recent(state, day - 1)
        if yesterday is not None and _colour(yesterday, limits) == AMBER and morning_colour != GREEN:
            return RED, rationale | {"reason": "amber pain not back to green by next morning"}
        if colour == GREEN:
            colour = morning_colour
    return colour, rationale | {"reason": f"worst recent pain is {colour}"}
