"""The /v1 endpoints: ingest, the event log, the coach's view, recommendations (with long-poll),
and key administration. Handlers are thin: they call ingest, the store or the read model."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, TypeVar

import anyio
from litestar import Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, Parameter

from engine.advice import advice_in_force, athlete_time_zone
from engine.api.body import AppendBody, RawAppend
from engine.api.errors import ApiError, invalid_event
from engine.api.responses import AUTH_ERRORS, NOT_FOUND, AthleteId
from engine.api.responses import error_response as _err
from engine.api.schemas import (
    AdviceInForce,
    AppendRequest,
    AppendResponse,
    CreatedKey,
    CreateKeyRequest,
    EventsPage,
    RecommendationsPage,
    StoredEventOut,
    recommendation_entry,
)
from engine.api.security import SCOPE_OPT, SECURITY, gone, not_found, request_key
from engine.api.series_routes import ROUTES as SERIES_ROUTES
from engine.api.stream_routes import ROUTES as STREAM_ROUTES
from engine.api.tenancy_routes import ROUTES as TENANCY_ROUTES
from engine.keys import ApiKey, LastAdminKey, UnknownKey
from engine.pipeline import current_state
from engine.runtime import Runtime
from engine.store.base import (
    AthleteErased,
    AthleteNotVisible,
    IdempotencyConflict,
    VersionConflict,
)
from engine.views import AthleteView, athlete_view
from events import InvalidEvent, recommendation_stream

MAX_CURSOR = 2**53
MAX_PAGE = 1000
MAX_WAIT_S = 30.0
POLL_INTERVAL_S = 0.1

Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}")]
Wait = Annotated[float, Parameter(ge=0, le=MAX_WAIT_S, description=(
    "long-poll: seconds to wait for something new before answering (at most 30; the server may "
    "answer sooner)"))]


T = TypeVar("T")
JSON = Annotated[T, Body(media_type=RequestEncodingType.JSON)]


def _runtime(state: State) -> Runtime:
    return state.runtime


def _settings(state: State) -> dict[str, Any]:
    return state.api_settings


def _require_athlete(rt: Runtime, athlete_id: str) -> int:
    head = rt.store.stream_version(athlete_id)
    if head == 0:
        raise ApiError.one(404, f"athlete {athlete_id!r} has no events (enrol them first)",
                           "athlete_id", "path")
    return head


# -- ingest ------------------------------------------------------------------------------------


@post("/v1/athletes/{athlete_id:str}/events", dto=AppendBody, return_dto=None,
      opt={SCOPE_OPT: "ingest"}, security=SECURITY, tags=["events"], status_code=201,
      summary="Append a batch of events (all or nothing)",
      description=(
          "Validates every event (types, ranges, timestamps, stream rules) exactly as the Python API "
          "does, then appends the batch atomically. `event_id` makes a retry idempotent: a pure retry "
          "answers 200 with `deduplicated: true` and stores nothing; a re-sent superset (events "
          "already stored, same ids and content, plus new ones) stores the new ones and answers 201 "
          "with each event's `status` (`stored` or `duplicate`). A stored id with other content is "
          "409 naming that event. With `expected_version` (the version seen before the first send) "
          "the append is refused with 409 if the stream moved on. A refused batch stores nothing."),
      responses={
          200: ResponseSpec(AppendResponse, description="a pure retry: every event was already stored",
                            generate_examples=False),
          **AUTH_ERRORS,
          400: _err("malformed: the body is not JSON, or a path parameter is invalid"),
          409: _err("version conflict (`expected_version`, `actual_version`) or an event id already "
                    "stored with other content"),
          413: _err("the body exceeds the size limit (4 MiB)"),
          422: _err("an event is invalid: `path` points into the body (`$.events[2].data.score`)"),
      })
async def append_events(athlete_id: AthleteId, data: JSON[AppendRequest], state: State) -> Response[AppendResponse]:
    raw: RawAppend = data  # type: ignore[assignment]  # the DTO hands over the undecoded batch
    return await anyio.to_thread.run_sync(_append, _runtime(state), athlete_id, raw)


def _append(rt: Runtime, athlete_id: str, raw: RawAppend) -> Response[AppendResponse]:
    try:
        result = rt.ingestor.append_json(athlete_id, bytes(raw.events), raw.expected_version)
    except InvalidEvent as exc:
        raise invalid_event(exc) from None
    except VersionConflict as exc:
        raise ApiError.one(409, str(exc), "$.expected_version", expected_version=exc.expected,
                           actual_version=exc.actual) from None
    except IdempotencyConflict as exc:
        raise ApiError.one(409, str(exc), _event_id_path(bytes(raw.events), str(exc.event_id))) from None
    except AthleteNotVisible:  # another organisation registered the id first (a race the guard lost)
        raise not_found(athlete_id) from None
    except AthleteErased:
        raise gone(athlete_id) from None
    body = AppendResponse(
        athlete_id=athlete_id, version=result.last_version, deduplicated=result.deduplicated,
        events=[StoredEventOut(e.event_id, e.version, e.position,
                               "duplicate" if i in result.duplicates else "stored")
                for i, e in enumerate(result.events)])
    first = min(e.version for i, e in enumerate(result.events)
                if result.deduplicated or i not in result.duplicates)
    return Response(body, status_code=200 if result.deduplicated else 201,
                    headers={"Location": f"/v1/athletes/{athlete_id}/events?from_version={first}"})


def _event_id_path(raw_events: bytes, event_id: str) -> str:
    try:
        events = json.loads(raw_events)
        for index, event in enumerate(events):
            if isinstance(event, dict) and str(event.get("event_id", "")).lower() == event_id:
                return f"$.events[{index}].event_id"
    except ValueError:
        pass
    return "$.events"


# -- reads -------------------------------------------------------------------------------------


@get("/v1/athletes/{athlete_id:str}/events", opt={SCOPE_OPT: "read"},
     security=SECURITY, tags=["events"], summary="Read an athlete's events, a page at a time",
     responses={**AUTH_ERRORS, **NOT_FOUND})
async def list_events(
    athlete_id: AthleteId, state: State,
    from_version: Annotated[int, Parameter(ge=1, le=MAX_CURSOR, description="first version to return")] = 1,
    limit: Limit = 100,
) -> EventsPage:
    return await anyio.to_thread.run_sync(_events_page, _runtime(state), athlete_id, from_version, limit)


def _events_page(rt: Runtime, athlete_id: str, from_version: int, limit: int) -> EventsPage:
    head = _require_athlete(rt, athlete_id)
    events = rt.store.read_stream(athlete_id, from_version, limit)
    last = events[-1].version if events else head
    return EventsPage(athlete_id=athlete_id, version=head, events=events,
                      next_from_version=last + 1 if last < head else None)


@get("/v1/athletes/{athlete_id:str}/view", opt={SCOPE_OPT: "read"}, security=SECURITY, tags=["athletes"],
     summary="The coach's view: phase, capacity, load, pain, adherence",
     description=(
         "Computed from the athlete's projection as of now. The projection is updated by the "
         "pipeline shortly after each append; `version` is the last event it includes. To read your "
         "own writes, pass the `version` an append returned as `min_version` with a `wait`: the "
         "answer comes as soon as the projection has caught up (or when the wait ends). The "
         "`X-Stream-Version` header gives the stream's head."),
     responses={**AUTH_ERRORS, **NOT_FOUND})
async def get_view(
    athlete_id: AthleteId, state: State,
    min_version: Annotated[int, Parameter(ge=0, le=MAX_CURSOR, description=(
        "wait (see `wait`) until the projection includes this stream version"))] = 0,
    wait: Wait = 0.0,
) -> Response[AthleteView]:
    rt = _runtime(state)
    head = await anyio.to_thread.run_sync(_require_athlete, rt, athlete_id)
    deadline = time.monotonic() + min(wait, _settings(state)["max_wait"])
    async with state.long_polls.slot(wait):
        while True:
            view = await anyio.to_thread.run_sync(_view, rt, athlete_id)
            if view.version >= min(min_version, head) or time.monotonic() >= deadline:
                break
            await anyio.sleep(POLL_INTERVAL_S)
    return Response(view, headers={"X-Stream-Version": str(head)})


def _view(rt: Runtime, athlete_id: str) -> AthleteView:
    state = current_state(rt.store, athlete_id, rt.policy)  # fresh even while workers defer snapshots
    time_zone = state.profile.time_zone if state.profile.enrolled else athlete_time_zone(rt.store, athlete_id)
    return athlete_view(state, rt.clock.now(), time_zone)


@get("/v1/athletes/{athlete_id:str}/advice", opt={SCOPE_OPT: "read"}, security=SECURITY, tags=["athletes"],
     summary="The advice in force: one current piece of advice per topic (today's plan)",
     description=(
         "What applies now, per topic: the latest advice issued on it and not withdrawn, with the "
         "decision's date in the athlete's time zone (`local_date`) and the date of the plan. "
         "`version` is the recommendation-stream version it reflects: pass it as `after` to "
         "`/recommendations` to follow the changes from there."),
     responses={**AUTH_ERRORS, **NOT_FOUND})
async def get_advice(athlete_id: AthleteId, state: State) -> AdviceInForce:
    return await anyio.to_thread.run_sync(_advice, _runtime(state), athlete_id)


def _advice(rt: Runtime, athlete_id: str) -> AdviceInForce:
    _require_athlete(rt, athlete_id)
    return advice_in_force(rt.store, athlete_id, rt.clock.now())


@get("/v1/athletes/{athlete_id:str}/recommendations", opt={SCOPE_OPT: "read"}, security=SECURITY,
     tags=["recommendations"], summary="Recommendations after a cursor, with an optional long-poll",
     description=(
         "Returns the recommendation-stream entries stored after version `after`, oldest first: "
         "advice issued (`type: recommendation.issued`) and advice withdrawn "
         "(`type: recommendation.withdrawn`, naming the `recommendation_id` withdrawn and a `reason`). "
         "Pass `next_after` back as `after` to page on. With `wait`, an empty "
         "answer is held until a new entry arrives or the wait ends."),
     responses={**AUTH_ERRORS, **NOT_FOUND})
async def list_recommendations(
    athlete_id: AthleteId, state: State,
    after: Annotated[int, Parameter(ge=0, le=MAX_CURSOR, description="cursor: the last version seen")] = 0,
    limit: Limit = 100,
    wait: Wait = 0.0,
) -> RecommendationsPage:
    rt = _runtime(state)
    await anyio.to_thread.run_sync(_require_athlete, rt, athlete_id)
    stream = recommendation_stream(athlete_id)
    deadline = time.monotonic() + min(wait, _settings(state)["max_wait"])
    async with state.long_polls.slot(wait):
        while True:
            stored = await anyio.to_thread.run_sync(rt.store.read_stream, stream, after + 1, limit + 1)
            if stored or time.monotonic() >= deadline:
                break
            await anyio.sleep(POLL_INTERVAL_S)
    page = stored[:limit]
    time_zone = await anyio.to_thread.run_sync(athlete_time_zone, rt.store, athlete_id) if page else "UTC"
    entries = [recommendation_entry(e, time_zone) for e in page]
    return RecommendationsPage(athlete_id=athlete_id, recommendations=entries,
                               next_after=page[-1].version if page else after,
                               has_more=len(stored) > limit)


# -- key administration (scope admin) ---------------------------------------------------------

KeyId = Annotated[str, Parameter(pattern=r"^[0-9a-f]{12}$", description="the key's id (12 hex digits)")]


@get("/v1/admin/keys", opt={SCOPE_OPT: "admin"}, security=SECURITY, tags=["admin"],
     summary="List API keys (never their secrets)", responses=AUTH_ERRORS)
async def list_keys(request: Request, state: State) -> list[ApiKey]:
    org = request_key(request).org_id
    return await anyio.to_thread.run_sync(lambda: state.api_keys.list(org=org))


@post("/v1/admin/keys", opt={SCOPE_OPT: "admin"}, security=SECURITY, tags=["admin"],
      status_code=201, summary="Create an API key; the secret is in this answer only",
      responses={**AUTH_ERRORS, 400: _err("malformed: the body is not JSON"),
                 422: _err("invalid name or scopes: `path` points at the field (`$.scopes[0]`)")})
async def create_key(data: JSON[CreateKeyRequest], request: Request, state: State) -> CreatedKey:
    org = request_key(request).org_id
    try:
        issued = await anyio.to_thread.run_sync(
            lambda: state.api_keys.create(data.name, data.scopes, org=org, caseload=data.caseload))
    except ValueError as exc:
        raise ApiError.one(422, str(exc), "$.name") from None
    return CreatedKey(key=issued.key, record=issued.record)


@delete("/v1/admin/keys/{key_id:str}", opt={SCOPE_OPT: "admin"}, security=SECURITY,
        tags=["admin"], status_code=200, summary="Revoke an API key (idempotent)",
        responses={**AUTH_ERRORS, 404: _err("no key with this id in this organisation"),
                   409: _err("the organisation's last admin key cannot be revoked")})
async def revoke_key(key_id: KeyId, request: Request, state: State) -> ApiKey:
    org = request_key(request).org_id
    try:
        return await anyio.to_thread.run_sync(lambda: state.api_keys.revoke(key_id, org=org))
    except LastAdminKey as exc:
        raise ApiError.one(409, str(exc), "key_id", "path") from None
    except UnknownKey:
        raise ApiError.one(404, f"no API key has id {key_id!r}", "key_id", "path") from None


ROUTES = [append_events, list_events, get_view, get_advice, list_recommendations, list_keys, create_key, revoke_key,
          *SERIES_ROUTES, *STREAM_ROUTES, *TENANCY_ROUTES]
