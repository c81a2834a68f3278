"""Worker settings, read once from the environment (every name starts with ``STRIDELINE_``).

Times are milliseconds, as dramatiq's own options are.
"""

from __future__ import annotations

import os

import msgspec


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    redis_url: str | None = None
    """STRIDELINE_REDIS_URL: the broker and coordination Redis; unset: the in-process StubBroker."""
    sweep_interval_ms: int = 30_000
    """STRIDELINE_SWEEP_INTERVAL_MS: delay between two sweeps (the chain's delayed messages)."""
    tick_interval_ms: int = 300_000
    """STRIDELINE_TICK_INTERVAL_MS: at most one tick round (day boundaries) per interval."""
    pending_ttl_ms: int = 300_000
    """STRIDELINE_PENDING_TTL_MS: how long a projector wake-up mark lives (a lost message's mark expires)."""
    notify_pending_ttl_ms: int = 1_800_000
    """STRIDELINE_NOTIFY_PENDING_TTL_MS: a delivery mark; longer than the whole retry schedule."""
    notify_max_retries: int = 10
    notify_min_backoff_ms: int = 1_000
    notify_max_backoff_ms: int = 300_000
    """STRIDELINE_NOTIFY_{MAX_RETRIES,MIN_BACKOFF_MS,MAX_BACKOFF_MS}: dramatiq Retries options of the
    notify actor (exponential backoff with jitter; then a dead letter)."""
    heartbeat_timeout_ms: int = 60_000
    maintenance_chance: int = 1_000
    """STRIDELINE_REDIS_{HEARTBEAT_TIMEOUT_MS,MAINTENANCE_CHANCE}: RedisBroker options; a killed
    worker's unacked messages return to their queue once it misses heartbeats for this long."""
    dead_letters_maxlen: int = 100_000
    """STRIDELINE_DEAD_LETTERS_MAXLEN: approximate bound of the ``strideline:dead_letters`` stream."""
    metrics_port: int = 0
    """STRIDELINE_METRICS_PORT: serve the workers' Prometheus metrics here (0: do not serve)."""

    @property
    def sweeper_lease_ms(self) -> int:
        """A chain that misses three links (plus 5 s for polling delays) is considered dead and may
        be re-armed. dramatiq's consumers poll an idle queue up to once a second, so a link can
        arrive a second or two after its delay."""
        return 3 * self.sweep_interval_ms + 5_000


def from_env() -> Settings:
    return Settings(
        redis_url=os.environ.get("STRIDELINE_REDIS_URL") or None,
        sweep_interval_ms=_int("STRIDELINE_SWEEP_INTERVAL_MS", 30_000),
        tick_interval_ms=_int("STRIDELINE_TICK_INTERVAL_MS", 300_000),
        pending_ttl_ms=_int("STRIDELINE_PENDING_TTL_MS", 300_000),
        notify_pending_ttl_ms=_int("STRIDELINE_NOTIFY_PENDING_TTL_MS", 1_800_000),
        notify_max_retries=_int("STRIDELINE_NOTIFY_MAX_RETRIES", 10),
        notify_min_backoff_ms=_int("STRIDELINE_NOTIFY_MIN_BACKOFF_MS", 1_000),
        notify_max_backoff_ms=_int("STRIDELINE_NOTIFY_MAX_BACKOFF_MS", 300_000),
        heartbeat_timeout_ms=_int("STRIDELINE_REDIS_HEARTBEAT_TIMEOUT_MS", 60_000),
        maintenance_chance=_int("STRIDELINE_REDIS_MAINTENANCE_CHANCE", 1_000),
        dead_letters_maxlen=_int("STRIDELINE_DEAD_LETTERS_MAXLEN", 100_000),
        metrics_port=_int("STRIDELINE_METRICS_PORT", 0),
    )


SETTINGS = from_env()
"""The settings of this process (worker processes read them once, at import)."""
