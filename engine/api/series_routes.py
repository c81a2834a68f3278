"""GET /v1/athletes/{id}/series: daily chart data (CTL/ATL/TSB, km, pain, e1RM) in local dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import anyio
import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter, QueryParameter

from engine.api.errors import ApiError
from engine.api.schemas import AthleteIdPattern, ErrorBody
from engine.api.security import SCOPE_OPT, SECURITY
from engine.runtime import Runtime
from engine.series import MAX_SERIES_DAYS, SeriesDay, local_today, series

DEFAULT_DAYS = 90


class SeriesPage(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    time_zone: str
    """The athlete's IANA time zone: every ``date`` is a local calendar day there."""
    version: int
    """The stream version the rows were computed from."""
    days: list[SeriesDay]


def _err(description: str) -> ResponseSpec:
    return ResponseSpec(ErrorBody, description=description, generate_examples=False)


AthleteId = Annotated[str, Parameter(pattern=AthleteIdPattern, min_length=1, max_length=64,
                                     description="the athlete's id: 1-64 letters, digits, `_` or `-`")]


@get("/v1/athletes/{athlete_id:str}/series", opt={SCOPE_OPT: "read"}, security=SECURITY,
     tags=["athletes"], summary="Daily chart data: CTL/ATL/TSB, ACWR, km, pain, e1RM per local day",
     description=(
         "One row per day of the athlete's local calendar (their enrolment's time zone) from `from` "
         "to `to` inclusive, computed from the stored events as they stand after corrections: "
         "fitness (CTL, 42-day), fatigue (ATL, 7-day) and form (TSB = CTL - ATL) of session-RPE "
         "load, ACWR, the day's and the trailing 7 days' running km, the longest run, the worst "
         f"pain, and the best e1RM per lift logged. `to` defaults to today (local), `from` to "
         f"{DEFAULT_DAYS - 1} days before `to`; at most {MAX_SERIES_DAYS} days per request."),
     responses={
         400: _err("malformed request: a date is not YYYY-MM-DD"),
         401: _err("missing, unknown or revoked API key"),
         403: _err("the key lacks the `read` scope"),
         404: _err("no events for this athlete"),
         422: _err(f"the range is empty or longer than {MAX_SERIES_DAYS} days"),
         429: _err("too many requests for this key: retry after `Retry-After` seconds"),
     })
async def get_series(
    athlete_id: AthleteId, state: State,
    from_date: Annotated[dt.date | None, QueryParameter(name="from", description="first local day (YYYY-MM-DD)")] = None,
    to_date: Annotated[dt.date | None, QueryParameter(name="to", description="last local day (YYYY-MM-DD)")] = None,
) -> SeriesPage:
    return await anyio.to_thread.run_sync(_series, state.runtime, athlete_id, from_date, to_date)


def _series(rt: Runtime, athlete_id: str, first: dt.date | None, last: dt.date | None) -> SeriesPage:
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
    days = series(events, first, last)
    zone = getattr(events[0].data, "time_zone", "UTC")
    return SeriesPage(athlete_id=athlete_id, time_zone=zone, version=events[-1].version, days=days)


ROUTES = [get_series]
