"""WHAT happened: the event vocabulary, envelope, codec and upcasters. Imports nothing of ours."""

from events.envelope import Envelope, NewEvent, recommendation_stream
from events.errors import InvalidEvent
from events.vocabulary import *  # noqa: F401,F403 - the vocabulary is this package's API
from events.vocabulary import AnyEvent, ClientEvent, Event, event_type

__all__ = ["AnyEvent", "ClientEvent", "Envelope", "Event", "InvalidEvent", "NewEvent",
           "event_type", "recommendation_stream"]
