"""The envelope: the store's facts about an event (identity, place in the log, time)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import Meta

from events.vocabulary import AnyEvent

AthleteId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$(?!\n)")]
"""Matched in full: ``(?!\n)`` stops ``$`` matching before a trailing newline (msgspec searches)."""
AwareDatetime = Annotated[dt.datetime, Meta(tz=True)]
Source = Annotated[str, Meta(max_length=64)]

RECOMMENDATION_STREAM_SUFFIX = "/recommendations"


def recommendation_stream(athlete_id: str) -> str:
    """The stream that holds an athlete's recommendations, beside their event stream."""
    return athlete_id + RECOMMENDATION_STREAM_SUFFIX


def is_recommendation_stream(stream: str) -> bool:
    return stream.endswith(RECOMMENDATION_STREAM_SUFFIX)


class NewEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An event as a client submits it, before the store gives it a place in the log.

    ``event_id`` is the client's idempotency key; a retried append with the same id stores nothing.
    """

    data: AnyEvent
    occurred_at: AwareDatetime
    event_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    source: Source = ""


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """A stored event: immutable, with its stream version and global position."""

    event_id: uuid.UUID
    stream: str
    version: int
    position: int
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    data: AnyEvent
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    source: str = ""

    @property
    def type(self) -> str:
        return type(self.data).__struct_config__.tag  # type: ignore[return-value]
