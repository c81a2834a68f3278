"""The HTTP API's request and response types: msgspec Structs, so Litestar encodes them natively and
the OpenAPI document is generated from them (and from the event vocabulary they contain)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from engine.advice import AdviceInForce, AdviceItem
from engine.keys import ApiKey, Scope
from events import Envelope, NewEvent
from events.codec import MAX_BATCH_EVENTS
from events.vocabulary import ClientEvent, RecommendationEvent


def _client_new_event() -> type[msgspec.Struct]:
    """``NewEvent`` as a client may send it: the same fields, ``data`` narrowed to ``ClientEvent``
    (``recommendation.issued`` is the engine's own). Derived from NewEvent, so it cannot drift."""
    fields = []
    for f in msgspec.structs.fields(NewEvent):
        kind = ClientEvent if f.name == "data" else f.type
        if f.default is not msgspec.NODEFAULT:
            fields.append((f.name, kind, f.default))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, kind, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, kind))
    config = NewEvent.__struct_config__
    return msgspec.defstruct("NewEvent", fields, module=__name__, kw_only=True, frozen=config.frozen,
                             forbid_unknown_fields=config.forbid_unknown_fields)


ClientNewEvent = _client_new_event()

AthleteIdPattern = r"^[A-Za-z0-9_\-]{1,64}$"


class AppendRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A batch of one athlete's events, appended all or nothing.

    ``expected_version``: the stream version the client last saw; the append is refused with 409
    if another writer got there first. Each ``event_id`` makes a retry idempotent."""

    events: Annotated[list[ClientNewEvent], Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]  # type: ignore[valid-type]
    expected_version: Annotated[int, Meta(ge=0)] | None = None


class StoredEventOut(msgspec.Struct, frozen=True):
    event_id: uuid.UUID
    version: int
    position: int
    status: Literal["stored", "duplicate"] = "stored"
    """``stored`` by this append, or ``duplicate``: an earlier append had stored it (same
    ``event_id`` and content), so an offline queue can re-send a superset and learn what landed."""


class AppendResponse(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    version: int
    """The stream version after this append (the last stored event's)."""
    events: list[StoredEventOut]
    deduplicated: bool
    """True for a pure retry: every event was already stored, nothing new was written. A re-sent
    superset is False; each event's ``status`` says which were already stored."""


class ErrorItem(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    """Where: a JSON path into the request body (``$.events[2].data.score``), or the name of a
    path or query parameter or header (see ``location``)."""
    reason: str
    location: Literal["body", "path", "query", "header", "request"] = "body"


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Every 4xx (and the rare 5xx) answer: what was wrong and where. Nothing was stored."""

    errors: list[ErrorItem]
    expected_version: int | None = None
    """409 version conflict: the version the request expected."""
    actual_version: int | None = None
    """409 version conflict: the stream's version now."""


class EventsPage(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    version: int
    """The stream's current version (head)."""
    events: list[Envelope]
    next_from_version: int | None
    """Pass as ``from_version`` for the next page; null when this page reached the head."""


class RecommendationEntry(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    """Position in the athlete's recommendation stream: the ``after`` cursor."""
    recorded_at: dt.datetime
    recommendation: RecommendationEvent
    """Advice issued (``type: recommendation.issued``) or withdrawn (``recommendation.withdrawn``)."""
    time_zone: str
    """The athlete's IANA time zone, in which ``local_date`` and ``local_decision_time`` are given."""
    local_date: dt.date
    """The day of the decision in the athlete's time zone (``decision_time`` is UTC): the date an
    app shows."""
    local_decision_time: dt.datetime
    """``decision_time`` in the athlete's time zone, with its UTC offset."""


def recommendation_entry(stored: Envelope, time_zone: str) -> RecommendationEntry:
    """A recommendation-stream entry as the API shows it: UTC times plus the athlete's local ones."""
    decided: RecommendationEvent = stored.data  # type: ignore[assignment]
    local = decided.decision_time.astimezone(ZoneInfo(time_zone))
    return RecommendationEntry(version=stored.version, recorded_at=stored.recorded_at, recommendation=decided,
                               time_zone=time_zone, local_date=local.date(), local_decision_time=local)


class RecommendationsPage(msgspec.Struct, frozen=True, kw_only=True):
    athlete_id: str
    recommendations: list[RecommendationEntry]
    next_after: int
    """Pass as ``after`` for the next page (or to wait for new ones)."""
    has_more: bool
    """More recommendations are stored beyond this page."""


class Health(msgspec.Struct, frozen=True):
    status: Literal["ok"] = "ok"


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]
    """Component -> ``ok`` or the failure's kind."""


class CreateKeyRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=64,
                              pattern=r"^[A-Za-z0-9_.\-]([A-Za-z0-9_.\- ]*[A-Za-z0-9_.\-])?$")]
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=3)]
    caseload: Annotated[list[Annotated[str, Meta(pattern=AthleteIdPattern, max_length=64)]],
                        Meta(max_length=10000)] | None = None
    """Bind the key to these athletes (a coach's caseload); omitted: every athlete of the organisation."""


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    """The secret, shown this once: only its SHA-256 hash is stored."""
    record: ApiKey


__all__ = ["AdviceInForce", "AdviceItem", "AppendRequest", "AppendResponse", "ApiKey", "ClientNewEvent", "CreateKeyRequest",
           "CreatedKey", "ErrorBody", "ErrorItem", "EventsPage", "Health", "Readiness",
           "RecommendationEntry", "RecommendationsPage", "StoredEventOut", "recommendation_entry"]
