"""The workers' own Prometheus metrics (recorded by middleware and the notifier wrapper, never by
actor bodies), beside the engine's (engine/metrics.py: ingest, projector, sweeper gauges).

Worker processes started by ``strideline worker --metrics-port N`` share a prometheus-client
multiprocess directory (PROMETHEUS_MULTIPROC_DIR, set before Python starts) and one extra process,
forked by dramatiq from the ``Metrics`` middleware's ``forks`` (``engine.metrics.serve_multiprocess``),
serves all of them, dramatiq's own included, on port N. In the in-process mode the metrics live in
the default registry, next to the API's.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter("strideline_worker_messages_total", "Messages processed by the workers, by actor and outcome.",
                   ["actor", "outcome"])
FAILURES = Counter("strideline_worker_message_failures_total",
                   "Messages whose actor raised (each attempt; retried or not), by actor and exception.",
                   ["actor", "exception"])
DURATION = Histogram("strideline_worker_message_duration_seconds", "Time spent processing one message.",
                     ["actor"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300))
DELIVERED = Counter("strideline_recommendations_delivered_total",
                    "Recommendations delivered to a notification channel (at-least-once).", ["channel"])
DEAD_LETTERS = Counter("strideline_dead_letters_total",
                       "Messages dead-lettered (retries exhausted or refused for good), by actor and channel.",
                       ["actor", "channel"])
WAKE_UPS = Counter("strideline_sweeper_wake_ups_total",
                   "Wake-ups sent by the sweeper, by kind (project: a lost wake-up healed; notify; tick).",
                   ["kind"])
WAKE_UPS_LOST = Counter("strideline_wake_ups_lost_total",
                        "Wake-ups an ingest or worker process could not send (Redis unreachable); the "
                        "sweeper heals each one once Redis is back.", ["actor"])
