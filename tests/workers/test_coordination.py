"""Coordination on Redis: coalesced wake-ups, the sweeper's single chain, and a waker that never
lets a Redis failure reach the append."""

from __future__ import annotations

import socket

import pytest
import redis

from workers import keys
from workers.broker import make_broker, redis_client
from workers.pending import RedisPending
from workers.sweeper import RedisLeases
from workers.wakeup import Waker, make_waker
from workers_support import wait_until

pytestmark = pytest.mark.redis


@pytest.fixture
def client(redis_db) -> redis.Redis:
    return redis_client(redis_db)


def queued(client: redis.Redis, queue: str) -> int:
    return client.llen(f"{keys.DRAMATIQ_NAMESPACE}:{queue}")


def test_many_wake_ups_for_one_athlete_send_one_message(client, redis_db):
    """Ten ingest processes' wake-ups for one athlete leave one projector message waiting."""
    wakers = [make_waker(redis_db) for _ in range(10)]
    sent = [w("ath-1") for w in wakers for _ in range(3)]
    assert sent.count(True) == 1 and queued(client, keys.PROJECTOR_QUEUE) == 1
    assert wakers[0]("ath-2") and queued(client, keys.PROJECTOR_QUEUE) == 2


def test_a_cleared_mark_lets_the_next_wake_up_through(client):
    """The projector clears the mark once it has committed, so a later append sends a fresh wake-up."""
    pending = RedisPending(client)
    assert pending.mark("project:ath-1", 30_000) and not pending.mark("project:ath-1", 30_000)
    pending.clear("project:ath-1")
    assert pending.mark("project:ath-1", 30_000)


def test_a_finished_projector_wake_up_clears_its_mark_and_wakes_each_notifier(client, redis_db):
    """Given a projector wake-up on its way (later appends held back), when it has committed new
    recommendations, then one call clears its mark and queues one wake-up per notifier channel, and
    the next append's wake-up goes through."""
    waker = make_waker(redis_db)
    assert waker("ath-1") and not waker("ath-1")
    assert waker.projected("ath-1", ["log", "webhook"]) == 2
    assert queued(client, keys.NOTIFY_QUEUE) == 2
    assert waker("ath-1") and queued(client, keys.PROJECTOR_QUEUE) == 2


def test_a_projector_wake_up_that_decided_nothing_only_clears_its_mark(client, redis_db):
    waker = make_waker(redis_db)
    assert waker("ath-1")
    assert waker.projected("ath-1", []) == 0 and queued(client, keys.NOTIFY_QUEUE) == 0
    assert waker("ath-1")


def test_a_mark_older_than_its_bound_holds_nothing_back(client):
    """A mark records when it was set: once older than the bound, the next wake-up goes through
    (a wake-up lost with its mark set delays work by at most the bound)."""
    pending = RedisPending(client)
    assert pending.mark("project:ath-1", 100)
    wait_until(lambda: pending.mark("project:ath-1", 100), 5, "the mark to age past its bound")


def test_an_orphaned_mark_is_overridden_by_a_wake_up_past_the_bound(client, redis_db):
    """Given a mark with no message (what a crash between two steps used to leave), a wake-up
    within the bound is held back and one after it is sent: the mark and the message arrive together."""
    waker = Waker(make_broker(redis_url=redis_db, middleware=False), RedisPending(client), pending_ttl_ms=300)
    RedisPending(client).mark(keys.pending_project("ath-1"), 300)
    assert not waker("ath-1") and queued(client, keys.PROJECTOR_QUEUE) == 0
    wait_until(lambda: waker("ath-1"), 5, "a wake-up past the bound")
    assert queued(client, keys.PROJECTOR_QUEUE) == 1
    assert client.exists(keys.PENDING + keys.pending_project("ath-1"))


def test_a_renewed_mark_keeps_holding_back(client):
    """A delivery attempt renews its mark, so the sweeper does not start a second delivery."""
    pending = RedisPending(client)
    assert pending.mark("notify:webhook:ath-1", 400)
    for _ in range(4):
        wait_until(lambda: client.pttl(keys.PENDING + "notify:webhook:ath-1") < 700, 5, "the mark to age")
        pending.touch("notify:webhook:ath-1", 400)
        assert not pending.mark("notify:webhook:ath-1", 400)


def test_only_one_sweeper_chain_lives(client):
    """A second start finds the lease taken; an old or duplicated link cannot advance the chain."""
    leases = RedisLeases(client)
    token = leases.start_chain(10_000)
    assert token and leases.start_chain(10_000) is None
    assert leases.advance_chain(token, 0, 10_000)
    assert not leases.advance_chain(token, 0, 10_000), "a redelivered link 0 ends there"
    assert not leases.advance_chain("another-chain", 1, 10_000)
    assert leases.advance_chain(token, 1, 10_000)


def test_a_dead_chain_can_be_replaced_once_its_lease_expires(client):
    """Three missed intervals later the lease is free and the keeper may start a new chain."""
    leases = RedisLeases(client)
    old = leases.start_chain(100)
    new = wait_until(lambda: leases.start_chain(100), 5, "the old chain's lease to expire")
    assert new != old and not leases.advance_chain(old, 0, 100)


def test_a_tick_round_happens_once_per_interval(client):
    """Concurrent sweeps agree on one tick round per interval."""
    leases = RedisLeases(client)
    assert [leases.tick_round(60_000) for _ in range(5)] == [True, False, False, False, False]


def test_a_wake_up_with_redis_down_is_swallowed_and_counted():
    """Redis unreachable: the waker returns False, counts the loss, and pauses instead of retrying."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    waker = Waker(make_broker(redis_url=url, middleware=False), RedisPending(redis_client(url)), pause_s=60)
    assert [waker(f"ath-{i}") for i in range(50)] == [False] * 50
    assert waker.lost == 50


def test_ingests_waker_sends_from_a_background_thread(client, redis_db):
    """Ingest's hook queues the id and returns; its thread sends one coalesced wake-up."""
    from workers.wakeup import make_ingest_waker

    waker = make_ingest_waker(redis_db)
    try:
        for _ in range(5):
            assert waker("ath-1") is None
        assert waker.flush() and queued(client, keys.PROJECTOR_QUEUE) == 1 and waker.lost == 0
    finally:
        waker.close()


def test_ingests_waker_keeps_the_ids_while_redis_is_unreachable():
    """Redis unreachable: the hook still returns at once, the failure is counted, and the ids stay
    queued for when Redis answers (the thread backs off instead of retrying per append)."""
    from workers.wakeup import BackgroundWaker

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    waker = BackgroundWaker(Waker(make_broker(redis_url=url, middleware=False), RedisPending(redis_client(url, 0.2))))
    try:
        for i in range(20):
            waker(f"ath-{i}")
        wait_until(lambda: waker.lost >= 1, 5, "the first failed send")
        assert not waker.flush(timeout=0.3), "the ids are still waiting for Redis"
        assert waker.lost < 20, "one failure per back-off, not one per append"
    finally:
        waker.close()


def test_sharded_wake_ups_of_an_athlete_always_go_to_its_shard_queue(client, redis_db):
    """Given 2 projector shards, when two ingest processes wake athletes, then each athlete's
    wake-ups wait in projector.<crc32 % 2>, the same queue from every process, none in the shared one."""
    from workers.connections import bare_broker

    wakers = [Waker(bare_broker(redis_url=redis_db), RedisPending(client), projector_shards=2) for _ in range(2)]
    athletes = [f"ath-{i}" for i in range(20)]
    for athlete_id in athletes:
        assert wakers[0](athlete_id)
        client.delete(keys.PENDING + keys.pending_project(athlete_id))
        assert wakers[1](athlete_id)
    shard_of = {a: keys.projector_queue(a, 2) for a in athletes}
    assert set(shard_of.values()) == {"projector.0", "projector.1"}
    for queue in ("projector.0", "projector.1"):
        assert queued(client, queue) == 2 * sum(1 for q in shard_of.values() if q == queue)
    assert queued(client, keys.PROJECTOR_QUEUE) == 0
