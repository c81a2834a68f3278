"""GET /v1/athletes/{id}/series: daily chart data (CTL/ATL/TSB, km, pain, e1RM, sleep, fuelling,
phase) in local dates, the columns chosen with ``metrics``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import anyio
import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.params import QueryParameter

from engine.api.errors import ApiError
from engine.api.responses import AUTH_ERRORS, AthleteId, error_response
from engine.api.security import SCOPE_OPT, SECURITY
from engine.pipeline import load_state
from engine.runtime import Runtime
from engine.series import (
    MAX_SERIES_DAYS,
    METRICS,
    SeriesDay,
    UnknownMetric,
    local_today,
    select_metrics,
    series,
    time_zone_of,
)

DEFAULT_DAYS = 90


class SeriesPage(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    time_zone: str
    """The athlete's IANA time zone now: every ``date`` is a local calendar day (an event is dated
    in the zone in force when it happened, see ``athlete.profile_updated``)."""
    version: int
    """The stream version the rows were computed from."""
    metrics: list[str]
    """The columns each row carries besides ``date``, in row order."""
    days: list[SeriesDay]


@get("/v1/athletes/{athlete_id:str}/series", opt={SCOPE_OPT: "read"}, security=SECURITY,
     tags=["athletes"], summary="Daily chart data: load, CTL/ATL/TSB, ACWR, km, pain, e1RM, sleep, phase",
     description=(
         "One row per day of the athlete's local calendar from `from` to `to` inclusive, computed "
         "from the stored events as they stand after corrections: fitness (CTL, 42-day), fatigue "
         "(ATL, 7-day) and form (TSB = CTL - ATL) of session-RPE load, ACWR, the day's and the "
         "trailing 7 days' running km, the longest run, pain (worst, rest, next-morning, activity), "
         "the best e1RM per lift logged, sleep hours, the under-fuelled flag and the rehab phase. "
         "`metrics` (comma-separated, or repeated) picks the columns; omitted: all of "
         f"`{', '.join(METRICS)}`. `to` defaults to today (local), `from` to {DEFAULT_DAYS - 1} days "
         f"before `to`; at most {MAX_SERIES_DAYS} days per request."),
     responses={
         **AUTH_ERRORS,
         400: error_response("malformed request: a date is not YYYY-MM-DD", "from", "query"),
         404: error_response("no events for this athlete", "athlete_id", "path"),
         422: error_response(f"an unknown metric (the valid ones are listed), or the range is empty or "
                             f"longer than {MAX_SERIES_DAYS} days", "metrics", "query"),
     })
async def get_series(
    athlete_id: AthleteId, state: State,
    from_date: Annotated[dt.date | None, QueryParameter(name="from", description="first local day (YYYY-MM-DD)")] = None,
    to_date: Annotated[dt.date | None, QueryParameter(name="to", description="last local day (YYYY-MM-DD)")] = None,
    metrics: Annotated[list[str] | None, QueryParameter(description=(
        f"columns to return, comma-separated (`ctl,atl,tsb,km`); one of {', '.join(METRICS)}"))] = None,
) -> SeriesPage:
    return await anyio.to_thread.run_sync(_series, state.runtime, athlete_id, from_date, to_date, metrics)


def _series(rt: Runtime, athlete_id: str, first: dt.date | None, last: dt.date | None,
            metrics: list[str] | None) -> SeriesPage:
    try:
        columns = select_metrics(name for item in metrics or () for name in item.split(","))
    except UnknownMetric as exc:
        raise ApiError.one(422, str(exc), "metrics", "query") from None
    events = rt.store.read_stream(athlete_id)
    if not events:
        raise ApiError.one(404, f"athlete {athlete_id!r} has no events (enrol them first)", "athlete_id", "path")
    last = last or local_today(rt.clock.now(), events)
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise ApiError.one(422, f"`to` ({last}) is before `from` ({first})", "to", "query")
    if (last - first).days + 1 > MAX_SERIES_DAYS:
        raise ApiError.one(422, f"at most {MAX_SERIES_DAYS} days per request, asked "
                                f"{(last - first).days + 1}", "from", "query")
    phases = load_state(rt.store, athlete_id)[0].phase.changes if "phase" in columns else ()
    days = series(events, first, last, columns, phases)
    return SeriesPage(athlete_id=athlete_id, time_zone=time_zone_of(events), version=events[-1].version,
                      metrics=list(columns), days=days)


ROUTES = [get_series]
