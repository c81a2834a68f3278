"""The broker, configured in one place: Redis from STRIDELINE_REDIS_URL, else dramatiq's StubBroker.

Actors are declared against whatever broker is current when ``workers.actors`` is imported; this
module sets it at import time, so `dramatiq workers.actors` worker processes get the Redis broker.
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.stub import StubBroker

from workers.middleware import LogContext

QUEUES = ("projector", "notify", "sweeper")


def make_broker(redis_url: str | None = None) -> dramatiq.Broker:
    url = redis_url if redis_url is not None else os.environ.get("STRIDELINE_REDIS_URL")
    if url:
        from dramatiq.brokers.redis import RedisBroker
        broker: dramatiq.Broker = RedisBroker(url=url)
    else:
        broker = StubBroker()
    broker.add_middleware(LogContext())
    return broker


def current() -> dramatiq.Broker:
    return dramatiq.get_broker()


if not isinstance(getattr(dramatiq.broker, "global_broker", None), dramatiq.Broker):
    dramatiq.set_broker(make_broker())
