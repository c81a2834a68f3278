"""The peer's aggregate and application, at module level (imported only when the peer runs).

Module level on purpose: ``eventsourcing`` stores each event's topic (``module:qualname``) and
resolves it by import when it reads the event back. Classes made inside a function have a
``<locals>`` qualname no import can find, so a later run reading a cached peer store failed with
``TopicError``; and forked rebuild processes had to build (and register) the classes again each.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from events import NewEvent

NAMESPACE = uuid.UUID("0e7f3a52-4b8e-4d59-a0f2-7d6f3c8e9b11")


class PeerAthlete(Aggregate):
    """One athlete: the enrolment is the created event, every later event a ``Logged`` one."""

    class Enrolled(Aggregate.Created):
        athlete_id: str
        occurred_at: dt.datetime
        data: dict

    class Logged(Aggregate.Event):
        event_type: str
        occurred_at: dt.datetime
        data: dict

        def apply(self, aggregate: Any) -> None:
            aggregate.events += 1
            aggregate.last[self.event_type] = self.data

    def __init__(self, athlete_id: str, occurred_at: dt.datetime, data: dict) -> None:
        self.athlete_id = athlete_id
        self.events = 1
        self.last = {"athlete.enrolled": data}

    @staticmethod
    def create_id(athlete_id: str, **_: Any) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, athlete_id)

    def log(self, event: NewEvent) -> None:
        self.trigger_event(PeerAthlete.Logged, event_type=event.data.__struct_config__.tag,
                           occurred_at=event.occurred_at, data=msgspec.to_builtins(event.data))


class PeerApp(Application):
    pass
