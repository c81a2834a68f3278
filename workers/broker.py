"""The broker, composed in one place: Redis from STRIDELINE_REDIS_URL, else dramatiq's StubBroker,
with Strideline's middleware (log context, metrics, dead letters, the sweeper's keeper, queue
maintenance).

Actors are declared against whatever broker is current when ``workers.actors`` is imported; this
module sets it at import time, so `dramatiq workers.actors` worker processes get the Redis broker.

The package's imports point one way, from the top to the bottom:
actors, inprocess -> broker -> middleware -> sweeper, maintenance, context -> wakeup -> pending,
connections, clocks, notify_config, metrics -> settings, keys.
"""

from __future__ import annotations

import dramatiq

from workers import keys
from workers import middleware as mw
from workers.connections import bare_broker, is_redis, redis_client
from workers.settings import SETTINGS, Settings

QUEUES = keys.QUEUES


def make_broker(settings: Settings = SETTINGS, *, redis_url: str | None = None,
                middleware: bool = True) -> dramatiq.Broker:
    """The Redis broker when a URL is configured, else the StubBroker; with our middleware."""
    url = redis_url if redis_url is not None else settings.redis_url
    broker = bare_broker(settings, redis_url=url or "")
    if middleware:
        for item, where in mw.standard(settings, redis_mode=bool(url)):
            broker.add_middleware(item, **where)
    return broker


def current() -> dramatiq.Broker:
    return dramatiq.get_broker()


if not isinstance(getattr(dramatiq.broker, "global_broker", None), dramatiq.Broker):
    dramatiq.set_broker(make_broker())

__all__ = ["QUEUES", "current", "is_redis", "make_broker", "redis_client"]
