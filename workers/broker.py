"""The broker, configured in one place: Redis from STRIDELINE_REDIS_URL, else dramatiq's StubBroker.

Actors are declared against whatever broker is current when ``workers.actors`` is imported; this
module sets it at import time, so `dramatiq workers.actors` worker processes get the Redis broker
with Strideline's middleware (log context, metrics, dead letters, the sweeper's keeper).
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.stub import StubBroker
from redis.backoff import NoBackoff
from redis.retry import Retry

from workers import keys
from workers.settings import SETTINGS, Settings

QUEUES = keys.QUEUES


def redis_client(url: str) -> redis.Redis:
    """A client for Strideline's own keys: short timeouts, one retry, so an outage fails fast."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5,
                                retry=Retry(NoBackoff(), 1), health_check_interval=30)


def make_broker(settings: Settings = SETTINGS, *, redis_url: str | None = None,
                middleware: bool = True) -> dramatiq.Broker:
    """The Redis broker when a URL is configured, else the StubBroker; with our middleware."""
    url = redis_url if redis_url is not None else settings.redis_url
    if url:
        from dramatiq.brokers.redis import RedisBroker
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30,
                                      health_check_interval=30)
        broker: dramatiq.Broker = RedisBroker(client=client, namespace=keys.DRAMATIQ_NAMESPACE,
                                              heartbeat_timeout=settings.heartbeat_timeout_ms,
                                              maintenance_chance=settings.maintenance_chance)
    else:
        broker = StubBroker()
    if middleware:
        from workers import middleware as mw
        for item, where in mw.standard(settings, redis_mode=bool(url)):
            broker.add_middleware(item, **where)
    return broker


def current() -> dramatiq.Broker:
    return dramatiq.get_broker()


def is_redis(broker: dramatiq.Broker) -> bool:
    return type(broker).__name__ == "RedisBroker"


if not isinstance(getattr(dramatiq.broker, "global_broker", None), dramatiq.Broker):
    dramatiq.set_broker(make_broker())
