"""Queue maintenance runs deterministically: a dead worker's unacknowledged messages return to their
queue at the next maintenance round, a live (even busy) worker's stay with it."""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.common import current_millis

from workers import keys
from workers.connections import bare_broker
from workers.maintenance import maintain
from workers.settings import SETTINGS

pytestmark = pytest.mark.redis


def fetched_by_a_worker(redis_db: str, last_beat_ms_ago: int):
    """A worker broker that fetched one projector message and last beat ``last_beat_ms_ago`` ago."""
    worker = bare_broker(redis_url=redis_db)
    worker.enqueue(dramatiq.Message(queue_name=keys.PROJECTOR_QUEUE, actor_name="project", args=("ath-1",),
                                    kwargs={}, options={}))
    assert len(worker.do_fetch(keys.PROJECTOR_QUEUE, 1)) == 1
    worker.client.zadd(f"{keys.DRAMATIQ_NAMESPACE}:__heartbeats__",
                       {worker.broker_id: current_millis() - last_beat_ms_ago})
    return worker


def queued(broker) -> int:
    return broker.client.llen(f"{keys.DRAMATIQ_NAMESPACE}:{keys.PROJECTOR_QUEUE}")


def test_a_dead_workers_message_returns_at_the_next_maintenance(redis_db):
    """Given a message fetched by a worker silent for longer than the heartbeat timeout, when
    another worker process runs its maintenance round, then the message is back in its queue."""
    dead = fetched_by_a_worker(redis_db, SETTINGS.heartbeat_timeout_ms + 1_000)
    assert queued(dead) == 0
    maintain(bare_broker(redis_url=redis_db))
    assert queued(dead) == 1


def test_a_live_workers_message_stays_with_it(redis_db):
    """A worker that beat recently (the maintenance thread beats even while its threads are busy)
    keeps its message."""
    live = fetched_by_a_worker(redis_db, 1_000)
    maintain(bare_broker(redis_url=redis_db))
    assert queued(live) == 0


def test_maintenance_beats_the_heartbeat_of_the_process_running_it(redis_db):
    """Running maintenance records this process's broker as alive."""
    broker = bare_broker(redis_url=redis_db)
    maintain(broker)
    beat = broker.client.zscore(f"{keys.DRAMATIQ_NAMESPACE}:__heartbeats__", broker.broker_id)
    assert beat is not None and current_millis() - beat < 5_000
