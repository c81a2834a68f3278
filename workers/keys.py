"""Every Redis key and queue name Strideline uses, in one place (arq's ``constants.py``).

Strideline's own keys start with ``strideline:``; dramatiq's broker keys live under its namespace
(``dramatiq:``), among them the dead-letter queue of each queue, ``dramatiq:<queue>.XQ``.
"""

from __future__ import annotations

PREFIX = "strideline:"

# -- dramatiq ----------------------------------------------------------------------------------
DRAMATIQ_NAMESPACE = "dramatiq"

PROJECTOR_QUEUE = "projector"
NOTIFY_QUEUE = "notify"
SWEEPER_QUEUE = "sweeper"
QUEUES = (PROJECTOR_QUEUE, NOTIFY_QUEUE, SWEEPER_QUEUE)


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
