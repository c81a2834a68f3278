"""Who is appending: the API key and organisation, set by the server, never by the client.

The HTTP guard binds the authenticated key for the request (a context variable, so it follows the
request into the worker thread that appends); the store writes it into the appended rows' ``key_id``
and ``org_id`` columns and registers a new athlete in that organisation in the same transaction.
Appends without an actor (the CLI, the projector's recommendations) record nothing there.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    key_id: str
    org_id: str


_CURRENT: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("strideline_actor", default=None)


def current_actor() -> Actor | None:
    return _CURRENT.get()


def bind_actor(actor: Actor | None) -> contextvars.Token:
    return _CURRENT.set(actor)


@contextlib.contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    token = _CURRENT.set(actor)
    try:
        yield
    finally:
        _CURRENT.reset(token)
