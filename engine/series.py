"""Daily chart data of one athlete (fitness/fatigue, volume, pain, strength, recovery, phase), by
folding their stream.

Apps drawing a CTL/ATL/TSB chart, weekly km, pain or e1RM over time should not replay events
themselves. This is a pure function of the stored events: corrections are resolved first (a
retracted measurement never counted, an amended one counted as amended), then the events are folded
in the order they happened with the same projections the engine decides with, and one row is taken
at the end of each local day in the asked range. Each event is dated in the time zone in force when
it happened (the enrolment's, then each ``athlete.profile_updated`` naming one). The phase is the
decisions' (the projection's phase changes), passed in, since only the policy moves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import msgspec
from msgspec import UNSET, UnsetType

from events import Envelope
from events.vocabulary import AthleteEnrolled, AthleteProfileUpdated, EntryAmended, EntryRetracted, Measurement
from projections import athlete as ath
from projections import load as ld
from projections import pain as pn
from projections.calendar import local_day
from projections.phase import PhaseChange

MAX_SERIES_DAYS = 366
"""The longest range one request may ask for (a year of daily rows)."""


class SeriesDay(msgspec.Struct, frozen=True, kw_only=True):
    """One local day. Every metric not asked for (see ``metrics``) is left out of the row."""

    date: dt.date
    """The athlete's local calendar day."""
    ctl: float | UnsetType = UNSET
    """Chronic training load (fitness): 42-day exponential average of session RPE load."""
    atl: float | UnsetType = UNSET
    """Acute training load (fatigue): 7-day exponential average."""
    tsb: float | UnsetType = UNSET
    """Training stress balance (form): CTL - ATL."""
    acwr: float | UnsetType = UNSET
    """Acute:chronic workload ratio (7/28-day EWMAs; 0 until there is chronic load)."""
    load: float | UnsetType = UNSET
    """Session RPE load of the day (RPE x minutes, runs, walks and cross-training)."""
    km: float | UnsetType = UNSET
    """Running km of the day (walks excluded)."""
    week_km: float | UnsetType = UNSET
    """Running km of the 7 days ending on this day."""
    longest_run_km: float | None | UnsetType = UNSET
    worst_pain: int | None | UnsetType = UNSET
    """The day's worst pain score (rest or activity), 0-10; null when none was reported."""
    rest_pain: int | None | UnsetType = UNSET
    """The day's worst rest pain; null when none was reported."""
    morning_pain: int | None | UnsetType = UNSET
    """The day's next-morning pain (the morning after the load); null when none was reported."""
    activity_pain: int | None | UnsetType = UNSET
    """The day's worst pain during or after activity (pain reports and activity logs)."""
    e1rm_kg: dict[str, float] | UnsetType = UNSET
    """Best estimated one-rep max per lift logged this day (Epley)."""
    sleep_h: float | None | UnsetType = UNSET
    """Hours of sleep logged for the day; null when none was logged."""
    under_fuelled: bool | None | UnsetType = UNSET
    """The athlete said they were under-fuelled that day (true) or not (false); null: no log."""
    phase: str | UnsetType = UNSET
    """The rehab phase in force at the end of the day (settle, strength, plyometric, return_to_run,
    integration), as the engine's decisions moved it."""


METRICS: tuple[str, ...] = tuple(name for name in SeriesDay.__struct_fields__ if name != "date")
"""Every column a series can carry, in row order."""


class UnknownMetric(ValueError):
    """A metric name that is not a column; the message lists the valid ones."""

    def __init__(self, unknown: list[str]) -> None:
        super().__init__(f"unknown metric{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"valid: {', '.join(METRICS)}")
        self.unknown = unknown


def select_metrics(names: Iterable[str] | None) -> tuple[str, ...]:
    """The columns asked for, in row order (None or empty: all); raises :class:`UnknownMetric`."""
    asked = [n.strip() for n in names or () if n.strip()]
    unknown = [n for n in dict.fromkeys(asked) if n not in METRICS]
    if unknown:
        raise UnknownMetric(unknown)
    return tuple(m for m in METRICS if m in asked) if asked else METRICS


def corrected(envelopes: Iterable[Envelope]) -> list[Envelope]:
    """The stream as it stands after its corrections: retracted measurements dropped, amended ones
    carrying their replacement, the corrections themselves gone. Like the projection, a correction
    aimed at anything but a measurement changes nothing."""
    kept: dict[str, Envelope] = {}
    for envelope in envelopes:
        data = envelope.data
        if isinstance(data, (EntryRetracted, EntryAmended)):
            target = kept.get(str(data.target_event_id))
            if target is None or not isinstance(target.data, Measurement.__args__):  # type: ignore[attr-defined]
                continue
            if isinstance(data, EntryRetracted):
                del kept[str(data.target_event_id)]
            else:
                kept[str(data.target_event_id)] = msgspec.structs.replace(target, data=data.replacement)
        else:
            kept[str(envelope.event_id)] = envelope
    return list(kept.values())


def series(envelopes: Iterable[Envelope], first: dt.date, last: dt.date,
           metrics: Iterable[str] | None = None, phases: Sequence[PhaseChange] = ()) -> list[SeriesDay]:
    """One row per local day from ``first`` to ``last`` (inclusive) with the ``metrics`` asked for
    (default: all); ``phases`` are the projection's phase changes (none: settle throughout)."""
    if last < first:
        raise ValueError("the range ends before it starts")
    columns = select_metrics(metrics)
    events = corrected(envelopes)
    enrolment = next((e for e in events if isinstance(e.data, AthleteEnrolled)), None)
    later = sorted((e for e in events if e is not enrolment), key=lambda e: (e.occurred_at, e.position))
    state = ath.AthleteState()
    if enrolment is not None:
        ath.fold_or_quarantine(state, enrolment)
    start, end = first.toordinal(), last.toordinal()
    rows: list[SeriesDay] = []
    day = start  # the first day without a row yet
    for envelope in later:
        event_day = local_day(envelope.occurred_at, state.profile.time_zone)
        if event_day > end:
            break
        if event_day > day:  # the days before this event are complete
            rows.extend(_row(state, d, columns, phases) for d in range(day, event_day))
            day = event_day
        ath.fold_or_quarantine(state, envelope)
    rows.extend(_row(state, d, columns, phases) for d in range(day, end + 1))
    return rows


def _phase_on(phases: Sequence[PhaseChange], day: int) -> str:
    """The phase of the latest change (in decision order) dated on or before ``day``."""
    return next((c.phase for c in reversed(phases) if c.day <= day), "settle")


def _row(state: ath.AthleteState, day: int, columns: tuple[str, ...],
         phases: Sequence[PhaseChange]) -> SeriesDay:
    load, pain, recovery = state.load, state.pain, state.recovery
    values = {}
    if {"ctl", "atl", "tsb", "acwr"} & set(columns):
        ewma = ld.ewma_at(load, day)
        values |= {"ctl": round(ewma["ctl"], 2), "atl": round(ewma["atl"], 2), "tsb": round(ewma["tsb"], 2),
                   "acwr": round(ewma["acwr"], 3)}
    lazy = {
        "load": lambda: round(load.srpe.get(day, 0.0), 1),
        "km": lambda: round(load.km.get(day, 0.0), 2),
        "week_km": lambda: round(ld.week_km(load, day - 6), 2),
        "longest_run_km": lambda: load.longest.get(day),
        "worst_pain": lambda: pn.worst_on(pain, day),
        "rest_pain": lambda: pain.rest.get(day),
        "morning_pain": lambda: pain.morning.get(day),
        "activity_pain": lambda: pain.activity.get(day),
        "e1rm_kg": lambda: {lift: round(kg, 1) for lift, kg in state.capacity.e1rm_by_day.get(day, {}).items()},
        "sleep_h": lambda: recovery.sleep_hours.get(day),
        "under_fuelled": lambda: recovery.under_fuelled.get(day),
        "phase": lambda: _phase_on(phases, day),
    }
    values |= {name: make() for name, make in lazy.items() if name in columns}
    return SeriesDay(date=dt.date.fromordinal(day), **{name: values[name] for name in columns})


def time_zone_of(envelopes: Iterable[Envelope]) -> str:
    """The athlete's time zone now: the enrolment's, or the latest profile update naming one."""
    zone = "UTC"
    for envelope in envelopes:
        if isinstance(envelope.data, (AthleteEnrolled, AthleteProfileUpdated)) and envelope.data.time_zone:
            zone = envelope.data.time_zone
    return zone


def local_today(now: dt.datetime, envelopes: list[Envelope]) -> dt.date:
    """Today in the athlete's time zone (the default end of a range)."""
    return dt.date.fromordinal(local_day(now, time_zone_of(envelopes)))


__all__ = ["MAX_SERIES_DAYS", "METRICS", "SeriesDay", "UnknownMetric", "corrected", "local_today",
           "select_metrics", "series", "time_zone_of"]
