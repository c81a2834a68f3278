"""Worker settings, read once from the environment (every name starts with ``STRIDELINE_``).

Times are milliseconds, as dramatiq's own options are. The defaults are the production settings and
they bound recovery (docs/workers.md, "Recovery bounds"): every number below that a bound depends on
says which bound.

The bottom of the package: imports nothing from ``workers``.
"""

from __future__ import annotations

import os

import msgspec


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")
    return value


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    redis_url: str | None = None
    """STRIDELINE_REDIS_URL: the broker and coordination Redis; unset: the in-process StubBroker."""
    sweep_interval_ms: int = 15_000
    """STRIDELINE_SWEEP_INTERVAL_MS: delay between two sweeps. A wake-up lost with nothing marked
    (Redis flushed, a crash before sending) is re-sent within one interval."""
    tick_interval_ms: int = 300_000
    """STRIDELINE_TICK_INTERVAL_MS: at most one tick round (day boundaries) per interval."""
    pending_ttl_ms: int = 30_000
    """STRIDELINE_PENDING_TTL_MS: how long a projector wake-up mark holds back other wake-ups of the
    same athlete. An older mark is ignored (its message is presumed lost) and the sweeper re-sends:
    a mark orphaned by any failure delays projection by at most this plus one sweep interval."""
    notify_pending_ttl_ms: int = 45_000
    """STRIDELINE_NOTIFY_PENDING_TTL_MS: the same for a delivery mark, which every delivery attempt
    refreshes; longer than the notify actor's longest backoff plus an attempt."""
    notify_max_retries: int = 40
    notify_min_backoff_ms: int = 1_000
    notify_max_backoff_ms: int = 30_000
    """STRIDELINE_NOTIFY_{MAX_RETRIES,MIN_BACKOFF_MS,MAX_BACKOFF_MS}: dramatiq Retries options of the
    notify actor (exponential backoff with jitter; then a dead letter). A receiver that comes back is
    retried within the maximum backoff; one that stays down is given up on after about 18 minutes."""
    heartbeat_timeout_ms: int = 15_000
    """STRIDELINE_REDIS_HEARTBEAT_TIMEOUT_MS: a worker process silent for this long is dead and its
    unacknowledged messages go back to their queues. Live processes beat every maintenance interval
    even while busy (workers/maintenance.py), so this only has to exceed that interval plus a pause."""
    maintenance_interval_ms: int = 5_000
    """STRIDELINE_REDIS_MAINTENANCE_INTERVAL_MS: every worker process runs dramatiq's queue maintenance
    on every queue this often (and beats its heartbeat): dead workers' messages return within
    heartbeat timeout + this interval."""
    maintenance_chance: int = 1_000
    """STRIDELINE_REDIS_MAINTENANCE_CHANCE: dramatiq's random maintenance on top (per million commands)."""
    wake_timeout_ms: int = 500
    """STRIDELINE_WAKE_TIMEOUT_MS: socket timeout of a wake-up; ingest sends wake-ups from a
    background thread, so an unreachable Redis never holds an append."""
    dead_letters_maxlen: int = 100_000
    """STRIDELINE_DEAD_LETTERS_MAXLEN: approximate bound of the ``strideline:dead_letters`` stream."""
    metrics_port: int = 0
    """STRIDELINE_METRICS_PORT: serve the workers' Prometheus metrics here (0: do not serve)."""
    projector_shards: int = 0
    """STRIDELINE_PROJECTOR_SHARDS: 0 (default): one projector queue, any worker takes any athlete.
    N: wake-ups of an athlete go to ``projector.<crc32(id) % N>``; start one worker group per shard
    with ``--queues projector.<k> notify sweeper`` so an athlete's wake-ups keep coming to the
    process that holds its state (a group started without ``--queues`` consumes every shard). Ingest
    and workers must use the same N."""
    queue_prefetch: int = 64
    """STRIDELINE_QUEUE_PREFETCH: messages each worker process takes from a queue ahead of its
    threads (0: dramatiq's default, twice the threads). dramatiq's Redis consumer sleeps 5 ms or
    more whenever that many are unacknowledged, which caps a process at about prefetch / 5 ms
    messages per second (bench/RESULTS.md, "live pipeline"). A killed process's prefetched
    messages return with the rest of its unacknowledged ones (the heartbeat bound)."""
    resident_athletes: int = 1_000
    """STRIDELINE_RESIDENT_ATHLETES: athletes' states each worker process keeps in memory (LRU)."""
    snapshot_every_events: int = 64
    """STRIDELINE_SNAPSHOT_EVERY_EVENTS: a worker saves an athlete's state after this many events
    (the checkpoint and recommendations are saved at every wake-up): a worker that lost the state
    in memory re-folds at most this many events plus one wake-up's from the snapshot."""
    snapshot_interval_ms: int = 5_000
    """STRIDELINE_SNAPSHOT_INTERVAL_MS: or once the athlete has been quiet this long with a change
    unsaved (a background thread saves what is due; shutdown saves everything). Readers of the saved
    state (the API's views) see a busy athlete at most that many events behind the checkpoint and a
    quiet one at most this long behind."""

    @property
    def sweeper_lease_ms(self) -> int:
        """A chain that misses three links (plus 5 s for polling delays) is considered dead and may
        be re-armed. dramatiq's consumers poll an idle queue up to once a second, so a link can
        arrive a second or two after its delay."""
        return 3 * self.sweep_interval_ms + 5_000


def from_env() -> Settings:
    defaults = Settings()
    return Settings(
        redis_url=os.environ.get("STRIDELINE_REDIS_URL") or None,
        sweep_interval_ms=_int("STRIDELINE_SWEEP_INTERVAL_MS", defaults.sweep_interval_ms),
        tick_interval_ms=_int("STRIDELINE_TICK_INTERVAL_MS", defaults.tick_interval_ms),
        pending_ttl_ms=_int("STRIDELINE_PENDING_TTL_MS", defaults.pending_ttl_ms),
        notify_pending_ttl_ms=_int("STRIDELINE_NOTIFY_PENDING_TTL_MS", defaults.notify_pending_ttl_ms),
        notify_max_retries=_int("STRIDELINE_NOTIFY_MAX_RETRIES", defaults.notify_max_retries),
        notify_min_backoff_ms=_int("STRIDELINE_NOTIFY_MIN_BACKOFF_MS", defaults.notify_min_backoff_ms),
        notify_max_backoff_ms=_int("STRIDELINE_NOTIFY_MAX_BACKOFF_MS", defaults.notify_max_backoff_ms),
        heartbeat_timeout_ms=_int("STRIDELINE_REDIS_HEARTBEAT_TIMEOUT_MS", defaults.heartbeat_timeout_ms),
        maintenance_interval_ms=_int("STRIDELINE_REDIS_MAINTENANCE_INTERVAL_MS", defaults.maintenance_interval_ms),
        maintenance_chance=_int("STRIDELINE_REDIS_MAINTENANCE_CHANCE", defaults.maintenance_chance),
        wake_timeout_ms=_int("STRIDELINE_WAKE_TIMEOUT_MS", defaults.wake_timeout_ms),
        dead_letters_maxlen=_int("STRIDELINE_DEAD_LETTERS_MAXLEN", defaults.dead_letters_maxlen),
        metrics_port=_int("STRIDELINE_METRICS_PORT", defaults.metrics_port),
        projector_shards=_int("STRIDELINE_PROJECTOR_SHARDS", defaults.projector_shards),
        queue_prefetch=_int("STRIDELINE_QUEUE_PREFETCH", defaults.queue_prefetch),
        resident_athletes=max(1, _int("STRIDELINE_RESIDENT_ATHLETES", defaults.resident_athletes)),
        snapshot_every_events=max(1, _int("STRIDELINE_SNAPSHOT_EVERY_EVENTS", defaults.snapshot_every_events)),
        snapshot_interval_ms=_int("STRIDELINE_SNAPSHOT_INTERVAL_MS", defaults.snapshot_interval_ms),
    )


SETTINGS = from_env()
"""The settings of this process (worker processes read them once, at import)."""
