"""Queue depth: ready, delayed and dead messages per dramatiq queue, read from the StubBroker in
memory or from Redis (the real server), and a broker that does not answer says so."""

from __future__ import annotations

import uuid

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from engine import metrics


def _message(queue: str) -> dramatiq.Message:
    return dramatiq.Message(queue_name=queue, actor_name="project", args=("ath-1",), kwargs={}, options={})


def _families(broker) -> dict[tuple[str, ...], float]:
    out = {}
    for family in metrics.QueueDepthCollector(broker).collect():
        for sample in family.samples:
            out[(sample.name, *sample.labels.values())] = sample.value
    return out


def test_stub_broker_queues_are_read_in_memory():
    """Each declared queue reports ready, delayed and dead messages; the broker is up."""
    broker = StubBroker()
    broker.declare_queue("projector")
    broker.declare_queue("notify")
    for _ in range(3):
        broker.enqueue(_message("projector"))
    broker.enqueue(_message("notify"), delay=60_000)
    got = _families(broker)
    assert got[("strideline_queue_depth", "projector", "ready")] == 3
    assert got[("strideline_queue_depth", "notify", "delayed")] == 1
    assert got[("strideline_queue_depth", "notify", "dead")] == 0
    assert got[("strideline_broker_up",)] == 1


@pytest.fixture
def redis_broker(redis_url):
    """A RedisBroker in a namespace of its own, removed afterwards."""
    client = redis.Redis.from_url(redis_url)
    namespace = f"strideline-test-{uuid.uuid4().hex[:8]}"
    yield RedisBroker(client=client, namespace=namespace)
    keys = list(client.scan_iter(match=namespace + ":*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.redis
def test_redis_queues_are_read_with_llen_and_zcard(redis_broker):
    """Declared queues: LLEN of the ready list and of the delay queue, ZCARD of the dead letters."""
    redis_broker.declare_queue("projector")
    for _ in range(2):
        redis_broker.enqueue(_message("projector"))
    redis_broker.enqueue(_message("projector"), delay=60_000)
    got = _families(redis_broker)
    assert got[("strideline_queue_depth", "projector", "ready")] == 2
    assert got[("strideline_queue_depth", "projector", "delayed")] == 1
    assert got[("strideline_queue_depth", "projector", "dead")] == 0


@pytest.mark.redis
def test_an_ingest_only_process_finds_the_queues_that_hold_messages(redis_broker):
    """With no actor declared (the API in Redis mode) the queues are found under the namespace."""
    client = redis_broker.client
    client.rpush(f"{redis_broker.namespace}:notify", "m1", "m2")
    client.zadd(f"{redis_broker.namespace}:projector.XQ", {"m3": 1})
    client.hset(f"{redis_broker.namespace}:__heartbeats__", "w", 1)
    assert redis_broker.get_declared_queues() == set()
    got = _families(redis_broker)
    assert got[("strideline_queue_depth", "notify", "ready")] == 2
    assert got[("strideline_queue_depth", "projector", "dead")] == 1
    assert not [k for k in got if "__heartbeats__" in k]


def test_an_unreachable_broker_reports_down_without_failing_the_scrape():
    """A Redis that refuses connections gives strideline_broker_up 0 and no depths."""
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    broker = RedisBroker(client=client, namespace="strideline-down")
    broker.declare_queue("projector")
    got = _families(broker)
    assert got == {("strideline_broker_up",): 0}
