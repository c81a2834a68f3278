"""The workers' own Prometheus metrics (recorded by middleware and the notifier wrapper, never by
actor bodies), beside the engine's (engine/metrics.py: ingest, projector, sweeper gauges).

Worker processes started by ``strideline worker --metrics-port N`` share a prometheus-client
multiprocess directory (PROMETHEUS_MULTIPROC_DIR, set before Python starts) and one extra process,
forked by dramatiq from the ``Metrics`` middleware's ``forks`` (``engine.metrics.serve_multiprocess``),
serves all of them, dramatiq's own included, on port N. In the in-process mode the metrics live in
the default registry, next to the API's.
"""

from __future__ import annotations

# Defined in engine/metrics.py with every other Strideline metric (one module, one list in
# docs/operations.md); re-exported here under the names the middleware uses.
from engine.metrics import (  # noqa: F401
    DEAD_LETTERS,
    DELIVERED,
    DURATION,
    FAILURES,
    MESSAGES,
    WAKE_UPS,
    WAKE_UPS_LOST,
)
