"""Queue depth and broker liveness, read from dramatiq's broker on every scrape."""


from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

# -- queue depth, from the broker ----------------------------------------------------------------


def queue_depths(broker) -> dict[tuple[str, str], int]:
    """(queue, state) -> messages, state "ready", "delayed" or "dead". dramatiq's StubBroker is
    read in memory; the RedisBroker from its keys: ``<ns>:<q>`` (a list of ready ids),
    ``<ns>:<q>.DQ`` (delayed) and ``<ns>:<q>.XQ`` (the dead-letter sorted set)."""
    kind = type(broker).__name__
    declared = sorted(q for q in broker.get_declared_queues() if not q.endswith((".DQ", ".XQ")))
    if not declared and kind == "RedisBroker":  # an ingest-only process declares no actors
        declared = _redis_queue_names(broker)
    out: dict[tuple[str, str], int] = {}
    if kind == "StubBroker":
        for q in declared:
            out[(q, "ready")] = broker.queues[q].qsize()
            out[(q, "delayed")] = broker.queues[f"{q}.DQ"].qsize() if f"{q}.DQ" in broker.queues else 0
            out[(q, "dead")] = len(broker.dead_letters_by_queue.get(q, []))
    elif kind == "RedisBroker":
        pipe = broker.client.pipeline(transaction=False)
        for q in declared:
            pipe.llen(f"{broker.namespace}:{q}")
            pipe.llen(f"{broker.namespace}:{q}.DQ")
            pipe.zcard(f"{broker.namespace}:{q}.XQ")
        answers = pipe.execute()
        for i, q in enumerate(declared):
            for j, state in enumerate(("ready", "delayed", "dead")):
                out[(q, state)] = int(answers[3 * i + j])
    return out


_REDIS_SUFFIXES = (".XQ.msgs", ".DQ.msgs", ".msgs", ".XQ", ".DQ")


def _redis_queue_names(broker) -> list[str]:
    """Queues that hold anything under the broker's namespace (SCAN; dramatiq's own ``__acks__``
    and ``__heartbeats__`` keys left out). An empty queue has no keys, so it is simply not listed."""
    prefix = f"{broker.namespace}:"
    names = set()
    for raw in broker.client.scan_iter(match=prefix + "*", count=1000):
        name = (raw.decode() if isinstance(raw, bytes) else raw).removeprefix(prefix)
        if name.startswith("__"):
            continue
        for suffix in _REDIS_SUFFIXES:
            if name.endswith(suffix):
                name = name.removesuffix(suffix)
                break
        names.add(name)
    return sorted(names)


class QueueDepthCollector:
    """``strideline_queue_depth{queue,state}`` and ``strideline_broker_up`` on every scrape."""

    def __init__(self, broker) -> None:
        self.broker = broker

    def collect(self) -> list[Metric]:
        depth = GaugeMetricFamily("strideline_queue_depth",
                                  "Messages per dramatiq queue: ready, delayed (retries, scheduled) and dead "
                                  "(dramatiq's dead-letter queue, kept 7 days).", labels=["queue", "state"])
        try:
            for (queue, state), n in queue_depths(self.broker).items():
                depth.add_metric([queue, state], n)
            up = 1
        except Exception:  # noqa: BLE001 - Redis down: say so rather than fail the whole scrape
            up = 0
        return [depth, GaugeMetricFamily("strideline_broker_up", "1 if the broker answered the queue-depth "
                                         "query at this scrape.", value=up)]


