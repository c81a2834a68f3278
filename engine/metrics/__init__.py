"""Every Prometheus metric Strideline defines, and the collectors computed on scrape.

One module per concern: ``instruments`` (process metrics and the recording functions),
``adherence`` and ``queues`` (scrape-time collectors), ``exposition`` (what /metrics shows, in the API
and in dramatiq's worker processes). This package re-exports them, so callers write
``from engine import metrics`` and ``metrics.events_appended(...)``.

Two kinds of metric, for two reasons (docs/operations.md has the full list and the design):

* **Process metrics** - counters, histograms and gauges that code updates as things happen (ingest,
  projector, notifiers, sweeper). They are module-level prometheus-client objects in the default
  registry and are safe under dramatiq's forked worker processes: when ``PROMETHEUS_MULTIPROC_DIR``
  is set *before Python starts* (``strideline worker --metrics-port`` and ops/compose.yaml do it)
  every process writes its values to files there and one exposition merges them
  (``MultiProcessCollector``). Every gauge names its ``multiprocess_mode``.
* **Scrape-time collectors** - values that are a function of stored state and the current time, not
  of events in one process: adherence (``AdherenceCollector``, a scan of the saved athlete
  projections, cached for ``STRIDELINE_ADHERENCE_CACHE_S`` seconds) and queue depth
  (``QueueDepthCollector``, dramatiq's StubBroker queues or Redis ``LLEN``/``ZCARD``). Scanning on
  scrape, rather than inc/dec gauges from the projector, is exact after restarts, rebuilds and
  replays, needs no cross-process bookkeeping, and sees time pass ("days since last log").

No metric has a per-athlete (or per-event) label: labels are phases, drop-off points, event types,
recommendation kinds and rule ids, channels, actors and queues - all small, fixed sets.

Callers record through the functions of ``instruments`` (``events_appended``, ``projected``, ...);
the HTTP API and the workers expose :func:`exposition`; the worker processes' exposition is
:func:`serve_multiprocess` (a dramatiq fork, loopback unless ``STRIDELINE_METRICS_HOST`` says otherwise).
"""

from __future__ import annotations

from engine.metrics.adherence import (  # noqa: F401 - the package's public names
    DAYS_SINCE_LOG_BUCKETS,
    STRENGTH_TARGET_MIN,
    AdherenceCollector,
    AdherenceInputs,
    AdherenceSnapshot,
    adherence_families,
    adherence_snapshot,
)
from engine.metrics.exposition import (  # noqa: F401 - the package's public names
    MEDIA_TYPE,
    WorkerProcessCollector,
    current_broker,
    dramatiq_prometheus,
    exposition,
    multiprocess_dir,
    registry,
    serve_multiprocess,
    worker_address,
)
from engine.metrics.instruments import (  # noqa: F401 - the package's public names
    ACTORS,
    APPEND_LATENCY,
    BUILD_INFO,
    CHANNELS,
    DEAD_LETTERS,
    DELIVERED,
    DELIVERIES,
    DELIVERY_OUTCOMES,
    DROPOFF_FLAGS,
    DROPOFF_POINTS,
    DURATION,
    EVENTS_INGESTED,
    EVENTS_PROJECTED,
    FAILURES,
    HTTP_DURATION,
    HTTP_REQUESTS,
    INGEST_DEDUPLICATED,
    LAST_INGEST,
    LAST_PROJECTION,
    MESSAGE_OUTCOMES,
    MESSAGES,
    PROJECTION_CAS_RETRIES,
    PROJECTION_LAG,
    QUARANTINED,
    RECOMMENDATIONS,
    SWEEPER_LAGGING,
    WAKE_UP_KINDS,
    WAKE_UPS,
    WAKE_UPS_LOST,
    delivery,
    dropoff_point,
    events_appended,
    events_quarantined,
    http_request,
    projected,
    recommendations_stored,
    sweep_found,
)
from engine.metrics.queues import (  # noqa: F401 - the package's public names
    QueueDepthCollector,
    queue_depths,
)
