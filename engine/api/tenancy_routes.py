"""The tenancy endpoints: the roster, an athlete's audit trail, and erasure."""

from __future__ import annotations

from typing import Annotated

import anyio
from litestar import Request, delete, get
from litestar.datastructures import State
from litestar.params import Parameter

from engine.api.responses import ATHLETE_ERRORS, AUTH_ERRORS, AthleteId
from engine.api.security import SCOPE_OPT, SECURITY, request_key
from engine.tenancy.audit import AuditReport, audit
from engine.tenancy.erasure import ErasureReport, erase_athlete
from engine.tenancy.roster import RosterFilter, RosterPage, roster


@get("/v1/athletes", opt={SCOPE_OPT: "read"}, security=SECURITY, tags=["athletes"],
     summary="The roster: athletes this key may see, a page at a time",
     description=(
         "Athletes of the key's organisation (its caseload, when the key is bound to one), by id. "
         "Filters: `phase`, `has_open_flags` (advice in force includes a flag), "
         "`min_days_since_last_log`. Pass `next_after` back as `after` for the next page."),
     responses=AUTH_ERRORS)
async def list_athletes(
    request: Request, state: State,
    after: Annotated[str, Parameter(max_length=64, description="cursor: the last athlete id seen")] = "",
    limit: Annotated[int, Parameter(ge=1, le=200, description="page size, at most 200")] = 50,
    phase: Annotated[str | None, Parameter(max_length=40, description="only athletes in this phase")] = None,
    has_open_flags: Annotated[bool | None, Parameter(description="only athletes with (true) or without "
                                                     "(false) a flag in force")] = None,
    min_days_since_last_log: Annotated[int | None, Parameter(ge=0, le=3650, description=(
        "only athletes whose last log is at least this many days old"))] = None,
) -> RosterPage:
    rt = state.runtime
    where = RosterFilter(phase=phase, has_open_flags=has_open_flags,
                         min_days_since_last_log=min_days_since_last_log)
    return await anyio.to_thread.run_sync(
        lambda: roster(rt.store, request_key(request), rt.clock.now(), after=after, limit=limit, where=where))


@get("/v1/athletes/{athlete_id:str}/audit", opt={SCOPE_OPT: "admin"}, security=SECURITY, tags=["admin"],
     summary="Who appended to and who read an athlete's data (admin)",
     description="Key ids, organisations, times and endpoint names; never health data.",
     responses=ATHLETE_ERRORS)
async def athlete_audit(athlete_id: AthleteId, state: State) -> AuditReport:
    return await anyio.to_thread.run_sync(audit, state.runtime.store, athlete_id)


@delete("/v1/athletes/{athlete_id:str}", opt={SCOPE_OPT: "admin"}, security=SECURITY, tags=["admin"],
        status_code=200, summary="Erase an athlete (admin, same organisation)",
        description=(
            "Crypto-shredding: the athlete's data key is destroyed, so every stored event and "
            "recommendation of theirs becomes unreadable; projections, delivery outboxes, Redis "
            "stream entries and dead letters naming them are purged. The log keeps its rows. Later "
            "appends and reads answer 410."),
        responses=ATHLETE_ERRORS)
async def erase(athlete_id: AthleteId, request: Request, state: State) -> ErasureReport:
    key = request_key(request)
    redis_url = state.api_settings.get("redis_url")
    return await anyio.to_thread.run_sync(
        lambda: erase_athlete(state.runtime.store, athlete_id, by_key=key.id, redis_url=redis_url))


ROUTES = [list_athletes, athlete_audit, erase]
