"""Read models for coaches and apps: the athlete's projections summarised at a moment.

Pure functions of the saved state and a time; the HTTP API and the CLI render them.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from projections import adherence as adh
from projections import capacity as cap
from projections import load as ld
from projections import pain as pn
from projections import recovery as rec
from projections.athlete import AthleteState
from projections.calendar import local_day, week_of, week_start, zone


class PhaseView(msgspec.Struct, frozen=True):
    phase: str
    since: dt.date | None
    history: list[dict[str, str | int]]


class CapacityView(msgspec.Struct, frozen=True):
    best_e1rm_kg: dict[str, float]
    strength_sessions_last_week: int
    heavy_sessions_last_week: int
    squat_bodyweight_ratio: float


class LoadView(msgspec.Struct, frozen=True):
    km_this_week: float
    km_last_week: float
    longest_run_30d_km: float
    acute_load: float
    chronic_load: float
    acwr: float
    ctl: float
    atl: float
    tsb: float


class PainView(msgspec.Struct, frozen=True):
    latest: dict[str, int]
    baseline_next_morning: float | None
    traffic_light: str


class AdherenceView(msgspec.Struct, frozen=True):
    days_since_last_log: int | None
    logging_share_14d: float
    meets_strength_target_last_week: bool
    heavy_share_last_week: float
    average_sleep_7d_h: float | None


class AthleteView(msgspec.Struct, frozen=True):
    """The coach's view of one athlete, as of ``as_of``."""

    athlete_id: str
    as_of: dt.datetime
    version: int
    phase: PhaseView
    capacity: CapacityView
    load: LoadView
    pain: PainView
    adherence: AdherenceView
    time_zone: str
    """The athlete's IANA time zone: the view's days (this week, the last 30 days) are local ones."""
    local_date: dt.date
    """``as_of``'s date in the athlete's time zone: the day the view describes."""
    local_as_of: dt.datetime
    """``as_of`` (UTC) in the athlete's time zone, with its UTC offset."""


def athlete_view(state: AthleteState, as_of: dt.datetime, time_zone: str | None = None) -> AthleteView:
    """``time_zone`` overrides the projection's (an API read of an athlete the projector has not
    reached yet still answers in the time zone they enrolled with)."""
    tz = time_zone or state.profile.time_zone
    day = local_day(as_of, tz)
    local_as_of = as_of.astimezone(zone(tz))
    week = week_of(day)
    sessions, heavy = adh.strength_week(state.capacity, week - 1)
    squat = state.capacity.best_e1rm.get("squat", 0.0)
    loads = ld.ewma_at(state.load, day)
    light, _ = pn.traffic_light(state.pain, day, pn.PainThresholds())
    sleep, _ = rec.average_sleep(state.recovery, day - 7, day - 1)
    history = [{"phase": c.phase, "since": dt.date.fromordinal(c.day).isoformat(), "rule_id": c.rule_id}
               for c in state.phase.changes]
    return AthleteView(
        athlete_id=state.athlete_id, as_of=as_of, version=state.version,
        phase=PhaseView(state.phase.phase,
                        dt.date.fromordinal(state.phase.entered_day) if state.phase.entered_day else None,
                        history),
        capacity=CapacityView({k: round(v, 1) for k, v in sorted(state.capacity.best_e1rm.items())},
                              sessions, heavy, round(squat / state.profile.body_mass_kg, 2)),
        load=LoadView(round(ld.week_km(state.load, week_start(week)), 1),
                      round(ld.week_km(state.load, week_start(week - 1)), 1),
                      round(ld.longest_before(state.load, day + 1), 1),
                      *(round(loads[k], 1) for k in ("acute", "chronic")), round(loads["acwr"], 2),
                      *(round(loads[k], 1) for k in ("ctl", "atl", "tsb"))),
        pain=PainView(dict(state.pain.latest), pn.baseline(state.pain, day, pn.PainThresholds()), light),
        adherence=AdherenceView(adh.days_since_last_log(state.adherence, day),
                                round(adh.logging_share(state.adherence, day), 2),
                                sessions >= 2, round(heavy / sessions, 2) if sessions else 0.0,
                                None if sleep is None else round(sleep, 2)),
        time_zone=tz, local_date=local_as_of.date(), local_as_of=local_as_of,
    )


def capacity_summary(state: AthleteState) -> dict[str, float]:
    """Best e1RM per exercise (used by reports)."""
    return {k: round(v, 1) for k, v in state.capacity.best_e1rm.items()} | {
        "heavy_days_retained": float(cap.sessions_in(state.capacity.heavy_sets, 0, 10**7))}
