"""GET /v1/stream: one Server-Sent Events stream of the advice issued and withdrawn for every athlete
a key may see, so a backend following many athletes needs one connection, not a long-poll each.

Each event's ``id`` is the store's global position; a client that reconnects with ``Last-Event-ID``
(browsers' EventSource does it by itself) resumes just after it. The handler polls the store's
global log (``iter_all``), so it works alike with in-process and Redis workers."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import msgspec
from litestar import Request, get
from litestar.datastructures import State
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from engine.advice import athlete_time_zone
from engine.api.responses import AUTH_ERRORS, error_response
from engine.api.schemas import recommendation_entry
from engine.api.security import SCOPE_OPT, SECURITY, request_key
from engine.keys import ApiKey
from engine.runtime import Runtime
from engine.store.base import AthleteErased, AthleteNotVisible
from engine.tenancy.access import authorize
from events import Envelope
from events.envelope import is_recommendation_stream

POLL_INTERVAL_S = 0.5
"""How often an idle stream looks for new entries in the store."""
HEARTBEAT_S = 15.0
"""An idle stream sends a comment this often, so proxies and clients know it is alive."""
READ_BATCH = 500
MAX_POSITION = 2**53


class _Follower:
    """One connection's view of the global log: which athletes its key may see (asked once per
    poll, so a revocation of visibility or an erasure takes effect on the next poll), and their
    time zones (for the local dates)."""

    def __init__(self, rt: Runtime, key: ApiKey) -> None:
        self.rt, self.key = rt, key
        self.time_zones: dict[str, str] = {}

    def next_batch(self, after: int) -> tuple[list[ServerSentEventMessage], int]:
        """The visible recommendation entries after position ``after`` (at most one read batch) and
        the position read up to (past invisible entries too, so they are not read again)."""
        visible: dict[str, bool] = {}
        messages, last = [], after
        for envelope in itertools.islice(self.rt.store.iter_all(after, READ_BATCH), READ_BATCH):
            last = envelope.position
            if not is_recommendation_stream(envelope.stream):
                continue
            athlete = envelope.data.athlete_id  # type: ignore[union-attr]
            if athlete not in visible:
                visible[athlete] = self._may_see(athlete)
            if visible[athlete]:
                messages.append(self._message(athlete, envelope))
        return messages, last

    def _may_see(self, athlete: str) -> bool:
        try:
            authorize(self.rt.store, self.key, athlete)
        except (AthleteNotVisible, AthleteErased):
            return False
        return True

    def _message(self, athlete: str, envelope: Envelope) -> ServerSentEventMessage:
        if athlete not in self.time_zones:
            self.time_zones[athlete] = athlete_time_zone(self.rt.store, athlete)
        entry = recommendation_entry(envelope, self.time_zones[athlete])
        return ServerSentEventMessage(data=msgspec.json.encode(entry).decode(), event=envelope.type,
                                      id=envelope.position)


async def _follow(follower: _Follower, after: int, limit: int | None) -> AsyncIterator[ServerSentEventMessage]:
    sent, last_sent = 0, time.monotonic()
    while limit is None or sent < limit:
        messages, after = await anyio.to_thread.run_sync(follower.next_batch, after)
        for message in messages[: None if limit is None else limit - sent]:
            yield message
            sent += 1
        if messages:
            last_sent = time.monotonic()
            continue
        if time.monotonic() - last_sent >= HEARTBEAT_S:
            yield ServerSentEventMessage(data=None, comment="heartbeat")
            last_sent = time.monotonic()
        await anyio.sleep(POLL_INTERVAL_S)


@get("/v1/stream", opt={SCOPE_OPT: "read"}, security=SECURITY, tags=["recommendations"],
     summary="Server-Sent Events: advice issued and withdrawn for every athlete the key may see",
     description=(
         "A `text/event-stream` that stays open. Each event is `event: recommendation.issued` or "
         "`recommendation.withdrawn`, `id:` the store's global position and `data:` one JSON "
         "recommendation entry (as in `/v1/athletes/{id}/recommendations`, with the athlete's "
         "local date). Reconnect with the `Last-Event-ID` header (EventSource does) to resume just "
         "after the last event received. An idle stream sends a `: heartbeat` comment every "
         f"{HEARTBEAT_S:.0f} s. Only the athletes the key may see (organisation, caseload) appear."),
     responses={**AUTH_ERRORS, 400: error_response(
         "malformed request: `Last-Event-ID` or `limit` is not a valid number", "Last-Event-ID", "header")})
async def stream_recommendations(
    request: Request, state: State,
    last_event_id: Annotated[int, HeaderParameter(name="Last-Event-ID", ge=0, le=MAX_POSITION, description=(
        "resume after this global position (the `id` of the last event received)"))] = 0,
    limit: Annotated[int | None, QueryParameter(ge=1, le=10000, description=(
        "close the stream after this many events (a batch consumer's page); omitted: stay open"))] = None,
) -> ServerSentEvent:
    follower = _Follower(state.runtime, request_key(request))
    return ServerSentEvent(_follow(follower, last_event_id, limit), retry_duration=2000)


ROUTES = [stream_recommendations]
