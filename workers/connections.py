"""Connections to Redis: Strideline's own clients and the bare dramatiq broker (no middleware).

Low in the package: it knows settings and key names only, so the waker (ingest processes), the
middleware and the broker's composition all build on it without importing one another.
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.stub import StubBroker
from redis.backoff import NoBackoff
from redis.retry import Retry

from workers import keys
from workers.settings import SETTINGS, Settings


def redis_client(url: str, timeout_s: float = 5.0) -> redis.Redis:
    """A client for Strideline's own keys: short timeouts, one retry, so an outage fails fast."""
    return redis.Redis.from_url(url, socket_connect_timeout=min(2.0, timeout_s), socket_timeout=timeout_s,
                                retry=Retry(NoBackoff(), 1), health_check_interval=30)


def bare_broker(settings: Settings = SETTINGS, *, redis_url: str | None = None) -> dramatiq.Broker:
    """dramatiq's RedisBroker when a URL is configured, else the StubBroker; no middleware of ours."""
    url = redis_url if redis_url is not None else settings.redis_url
    if not url:
        return StubBroker()
    from dramatiq.brokers.redis import RedisBroker

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30)
    return RedisBroker(client=client, namespace=keys.DRAMATIQ_NAMESPACE,
                       heartbeat_timeout=settings.heartbeat_timeout_ms,
                       maintenance_chance=settings.maintenance_chance)


def is_redis(broker: dramatiq.Broker) -> bool:
    return type(broker).__name__ == "RedisBroker"
