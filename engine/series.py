"""Daily chart data of one athlete (fitness/fatigue, volume, pain, strength), by folding their stream.

Apps drawing a CTL/ATL/TSB chart, weekly km, pain or e1RM over time should not replay events
themselves. This is a pure function of the stored events: corrections are resolved first (a
retracted entry never counted, an amended one counted as amended), then the measurements are folded
in the order they happened with the same projections the engine decides with, and one row is taken
at the end of each local day (the athlete's time zone) in the asked range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from events import Envelope
from events.vocabulary import AthleteEnrolled, EntryAmended, EntryRetracted
from projections import athlete as ath
from projections import load as ld
from projections import pain as pn
from projections.calendar import local_day

MAX_SERIES_DAYS = 366
"""The longest range one request may ask for (a year of daily rows)."""


class SeriesDay(msgspec.Struct, frozen=True, kw_only=True):
    date: dt.date
    """The athlete's local calendar day."""
    ctl: float
    """Chronic training load (fitness): 42-day exponential average of session RPE load."""
    atl: float
    """Acute training load (fatigue): 7-day exponential average."""
    tsb: float
    """Training stress balance (form): CTL - ATL."""
    acwr: float
    """Acute:chronic workload ratio (7/28-day EWMAs; 0 until there is chronic load)."""
    load: float
    """Session RPE load of the day (RPE x minutes, runs, walks and cross-training)."""
    km: float
    """Running km of the day (walks excluded)."""
    week_km: float
    """Running km of the 7 days ending on this day."""
    longest_run_km: float | None
    worst_pain: int | None
    """The day's worst pain score (rest or activity), 0-10; null when none was reported."""
    e1rm_kg: dict[str, float]
    """Best estimated one-rep max per lift logged this day (Epley)."""


def corrected(envelopes: Iterable[Envelope]) -> list[Envelope]:
    """The stream as it stands after its corrections: retracted entries dropped, amended ones
    carrying their replacement, the corrections themselves gone."""
    kept: dict[str, Envelope] = {}
    for envelope in envelopes:
        data = envelope.data
        if isinstance(data, EntryRetracted):
            kept.pop(str(data.target_event_id), None)
        elif isinstance(data, EntryAmended):
            target = kept.get(str(data.target_event_id))
            if target is not None:
                kept[str(data.target_event_id)] = msgspec.structs.replace(target, data=data.replacement)
        else:
            kept[str(envelope.event_id)] = envelope
    return list(kept.values())


def series(envelopes: Iterable[Envelope], first: dt.date, last: dt.date) -> list[SeriesDay]:
    """One row per local day from ``first`` to ``last`` (inclusive)."""
    if last < first:
        raise ValueError("the range ends before it starts")
    events = corrected(envelopes)
    enrolment = next((e for e in events if isinstance(e.data, AthleteEnrolled)), None)
    time_zone = enrolment.data.time_zone if enrolment is not None else "UTC"  # type: ignore[union-attr]
    measurements = sorted((e for e in events if e is not enrolment),
                          key=lambda e: (e.occurred_at, e.position))
    state = ath.AthleteState()
    if enrolment is not None:
        ath.fold_or_quarantine(state, enrolment)
    start, end = first.toordinal(), last.toordinal()
    rows: list[SeriesDay] = []
    day = start  # the first day without a row yet
    for envelope in measurements:
        event_day = local_day(envelope.occurred_at, time_zone)
        if event_day > end:
            break
        if event_day > day:  # the days before this event are complete
            rows.extend(_row(state, d) for d in range(day, event_day))
            day = event_day
        ath.fold_or_quarantine(state, envelope)
    rows.extend(_row(state, d) for d in range(day, end + 1))
    return rows


def _row(state: ath.AthleteState, day: int) -> SeriesDay:
    load = state.load
    ewma = ld.ewma_at(load, day)
    return SeriesDay(
        date=dt.date.fromordinal(day),
        ctl=round(ewma["ctl"], 2), atl=round(ewma["atl"], 2), tsb=round(ewma["tsb"], 2),
        acwr=round(ewma["acwr"], 3), load=round(load.srpe.get(day, 0.0), 1),
        km=round(load.km.get(day, 0.0), 2), week_km=round(ld.week_km(load, day - 6), 2),
        longest_run_km=load.longest.get(day), worst_pain=pn.worst_on(state.pain, day),
        e1rm_kg={lift: round(kg, 1) for lift, kg in state.capacity.e1rm_by_day.get(day, {}).items()},
    )


def local_today(now: dt.datetime, envelopes: list[Envelope]) -> dt.date:
    """Today in the athlete's time zone (the default end of a range)."""
    enrolment = next((e for e in envelopes if isinstance(e.data, AthleteEnrolled)), None)
    time_zone = enrolment.data.time_zone if enrolment is not None else "UTC"  # type: ignore[union-attr]
    return dt.date.fromordinal(local_day(now, time_zone))


__all__ = ["MAX_SERIES_DAYS", "SeriesDay", "corrected", "local_today", "series"]
