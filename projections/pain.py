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
    """The next-morning tolerance: a morning more than this many points above the baseline is worse
    (baseline 0: a morning of 2 deloads, a morning of 1 does not; RULES.md 4)."""
    morning_noise_floor: int = 1
    """Next-morning pain at or below this never counts as worse than baseline (scale noise)."""
    baseline_days: int = 14
    """The baseline is the median next-morning score over this many days before today."""
    picture_days: int = 2
    """One pain picture, one light: the light is the colour of the latest day with pain logged, up to
    this many days back (so unchanged pain gives the same colour at midnight as after an event)."""


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


def worst_on(state: PainState, day: int) -> int | None:
    """Worst rest or activity pain logged for ``day`` (None: none)."""
    scores = [s for s in (state.rest.get(day), state.activity.get(day)) if s is not None]
    return max(scores) if scores else None


def _colour(score: int, limits: PainThresholds) -> str:
    if score <= limits.green_max:
        return GREEN
    return AMBER if score <= limits.amber_max else RED


_ORDER = {GREEN: 0, AMBER: 1, RED: 2}


def morning_worse(state: PainState, day: int, limits: PainThresholds) -> bool:
    """Next-morning pain on ``day`` more than the tolerance above the athlete's baseline."""
    morning = state.morning.get(day)
    base = baseline(state, day, limits)
    return (morning is not None and base is not None and morning - base > limits.morning_worse_margin
            and morning > limits.morning_noise_floor)


def day_colour(state: PainState, day: int, limits: PainThresholds) -> tuple[str | None, str]:
    """The colour of one day's pain picture and why (None: no pain logged that day).

    Rest and activity pain give their colour; the next morning is red when it is red itself, worse
    than the baseline by more than the tolerance, or not back to green after an amber day."""
    recent, morning = worst_on(state, day), state.morning.get(day)
    if recent is None and morning is None:
        return None, "no pain logged"
    colour = GREEN if recent is None else _colour(recent, limits)
    reason = f"worst pain {recent}/10 is {colour}" if recent is not None else ""
    if morning is not None:
        morning_colour = _colour(morning, limits)
        yesterday = worst_on(state, day - 1)
        if morning_colour == RED:
            return RED, f"next-morning pain {morning}/10 is red"
        if morning_worse(state, day, limits):
            return RED, (f"next-morning pain {morning}/10 is more than {limits.morning_worse_margin:g} "
                         f"above your baseline {baseline(state, day, limits):g}")
        if yesterday is not None and _colour(yesterday, limits) != GREEN and morning_colour != GREEN:
            return RED, (f"{_colour(yesterday, limits)} pain ({yesterday}/10) not back to green by next morning "
                         f"({morning}/10)")
        if _ORDER[morning_colour] > _ORDER[colour]:
            colour, reason = morning_colour, f"next-morning pain {morning}/10 is {morning_colour}"
        elif not reason:
            reason = f"next-morning pain {morning}/10 is {morning_colour}"
    return colour, reason


def picture_day(state: PainState, day: int, limits: PainThresholds) -> int | None:
    """The latest day on or before ``day`` (within ``picture_days``) with any pain logged."""
    for d in range(day, day - limits.picture_days - 1, -1):
        if d in state.rest or d in state.activity or d in state.morning:
            return d
    return None


def traffic_light(state: PainState, day: int, limits: PainThresholds) -> tuple[str, dict]:
    """(colour, rationale) at local ``day``: the colour of the latest pain picture; the rationale
    holds the numbers compared. A red picture settles only by a next-morning report (RULES.md 4:
    pain must settle by the next morning): until one comes, a milder score the next day stays red,
    so one red episode is one deload, not red-amber-red."""
    seen = picture_day(state, day, limits)
    if seen is None:
        return GREEN, {"reason": "no recent pain logged", "green_max": limits.green_max,
                       "amber_max": limits.amber_max}
    colour, reason = day_colour(state, seen, limits)
    if colour != RED and seen not in state.morning:
        before = picture_day(state, seen - 1, limits)  # red settles only by a next morning in tolerance
        if before is not None and seen - before <= limits.picture_days and day_colour(state, before, limits)[0] == RED:
            colour, reason = RED, (f"red {seen - before} day(s) before, and no next-morning report back in "
                                   "tolerance since: a deload lasts until the pain settles")
    rationale = {"recent_pain": worst_on(state, seen), "next_morning_pain": state.morning.get(seen),
                 "baseline": baseline(state, seen, limits), "pain_day_offset": day - seen,
                 "green_max": limits.green_max, "amber_max": limits.amber_max, "reason": reason}
    return colour or GREEN, rationale
