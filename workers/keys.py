"""Every Redis key and queue name Strideline uses, in one place (arq's ``constants.py``).

Strideline's own keys start with ``strideline:``; dramatiq's broker keys live under its namespace
(``dramatiq:``), among them the dead-letter queue of each queue, ``dramatiq:<queue>.XQ``.
"""

from __future__ import annotations

import zlib

PREFIX = "strideline:"

# -- dramatiq ----------------------------------------------------------------------------------
DRAMATIQ_NAMESPACE = "dramatiq"

PROJECTOR_QUEUE = "projector"
NOTIFY_QUEUE = "notify"
SWEEPER_QUEUE = "sweeper"
QUEUES = (PROJECTOR_QUEUE, NOTIFY_QUEUE, SWEEPER_QUEUE)


def projector_queue(athlete_id: str, shards: int) -> str:
    """The projector queue of ``athlete_id``: ``projector`` (shards 0), else ``projector.<k>`` with k a
    stable hash of the id (the same in every process), so a worker group consuming only its shard
    sees all of its athletes' wake-ups and keeps their states in memory (workers/settings.py)."""
    if not shards:
        return PROJECTOR_QUEUE
    return f"{PROJECTOR_QUEUE}.{zlib.crc32(athlete_id.encode()) % shards}"


def projector_queues(shards: int) -> tuple[str, ...]:
    return tuple(f"{PROJECTOR_QUEUE}.{k}" for k in range(shards))


def all_queues(shards: int) -> tuple[str, ...]:
    """Every queue messages may wait in (queue maintenance requeues a dead worker's from each)."""
    return QUEUES + projector_queues(shards)


def dead_letter_queue(queue: str) -> str:
    """dramatiq's dead-letter sorted set of ``queue`` (message ids by time; bodies in ``.msgs``)."""
    return f"{DRAMATIQ_NAMESPACE}:{queue}.XQ"


def dead_letter_messages(queue: str) -> str:
    return f"{DRAMATIQ_NAMESPACE}:{queue}.XQ.msgs"


# -- wake-up coalescing (workers/pending.py) ---------------------------------------------------
PENDING = PREFIX + "pending:"
"""``strideline:pending:<what>``: a wake-up for <what> is waiting; set NX with a TTL."""


def pending_project(athlete_id: str) -> str:
    return f"project:{athlete_id}"


def pending_notify(channel: str, athlete_id: str) -> str:
    return f"notify:{channel}:{athlete_id}"


# -- sweeper (workers/sweeper.py) --------------------------------------------------------------
SWEEPER_CHAIN = PREFIX + "sweeper:chain"
"""``<token>:<link>`` of the one live chain of delayed sweep messages (a lease with a TTL)."""
SWEEPER_TICK_ROUND = PREFIX + "sweeper:tick_round"
"""Present while a tick round (day boundaries for every athlete) is recent: SET NX PX."""

# -- outputs apps and operators read -----------------------------------------------------------
RECOMMENDATIONS_STREAM = PREFIX + "recommendations"
"""The Redis stream of recommendations (XADD MAXLEN ~); apps read it with consumer groups."""
DEAD_LETTERS = PREFIX + "dead_letters"
"""A Redis stream with one entry per dead-lettered message (actor, args, error, ids)."""
