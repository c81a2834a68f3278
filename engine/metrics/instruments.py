"""The process metrics (counters, histograms, gauges updated as things happen) and the functions
callers record through. Every labelled counter exists at 0 before its first increment."""


from __future__ import annotations

import collections
import datetime as dt
import time
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from events.vocabulary import EVENT_TYPES

disable_created_metrics()  # no *_created series: noise on every dashboard, and twice the series

# -- process metrics: ingest ---------------------------------------------------------------------

EVENTS_INGESTED = Counter("strideline_events_ingested_total",
                          "Events appended by ingest (new ones; a retried batch counts once), by event type.",
                          ["type"])
INGEST_DEDUPLICATED = Counter("strideline_ingest_deduplicated_batches_total",
                              "Retried batches whose events were all stored already (nothing written).")
APPEND_LATENCY = Histogram("strideline_append_latency_seconds",
                           "Time to append one validated batch to the event store (commit included).",
                           buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
LAST_INGEST = Gauge("strideline_last_ingest_timestamp_seconds",
                    "Unix time of the latest batch ingest appended (the newest over all processes).",
                    multiprocess_mode="max")

# -- process metrics: projector ------------------------------------------------------------------

EVENTS_PROJECTED = Counter("strideline_events_projected_total",
                           "Events folded into saved athlete projections.")
PROJECTION_LAG = Histogram("strideline_projection_lag_seconds",
                           "Per event: from recorded_at (the store's commit time) to the projection that "
                           "folded it being saved, on the store's clock.",
                           buckets=(.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 21600))
PROJECTION_CAS_RETRIES = Counter("strideline_projection_cas_retries_total",
                                 "Projection saves that lost a compare-and-set race and folded again.")
LAST_PROJECTION = Gauge("strideline_last_projection_timestamp_seconds",
                        "Unix time of the latest projection save that folded events.",
                        multiprocess_mode="max")
RECOMMENDATIONS = Counter("strideline_recommendations_total",
                          "Recommendations issued (newly stored; each id once), by kind and rule id.",
                          ["kind", "rule"])
DROPOFF_FLAGS = Counter("strideline_dropoff_flags_total",
                        "Drop-off flags issued, by point (1-4 of RULES.md, or no_logs).", ["point"])

# -- process metrics: sweeper -------------------------------------------------------------------

SWEEPER_LAGGING = Gauge("strideline_sweeper_lagging_athletes",
                        "Athletes whose projection was behind their stream head at the latest sweep.",
                        multiprocess_mode="mostrecent")

# -- process metrics: workers (recorded by workers/middleware.py, the notifier wrapper, the sweeper) --

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

DELIVERIES = Counter("strideline_deliveries_total",
                     "Delivery attempts of one recommendation on one channel, by outcome: delivered, failed "
                     "(retried with backoff), rejected (refused for good), dead_lettered (given up and passed "
                     "over), redelivered and operator_skipped (`strideline deliveries retry|skip`).",
                     ["channel", "outcome"])
QUARANTINED = Counter("strideline_events_quarantined_total",
                      "Events the projector could not fold and quarantined (the athlete goes on), by type.",
                      ["type"])

# -- process metrics: the HTTP API (engine/api/observability.py records them) ----------------------

HTTP_REQUESTS = Counter("strideline_http_requests_total",
                        "HTTP requests answered by the API, by method, route template and status code.",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram("strideline_http_request_duration_seconds",
                          "Time to answer one HTTP request (long-polls included), by method and route template.",
                          ["method", "route"],
                          buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))

BUILD_INFO = Gauge("strideline_build_info", "Always 1; labels name the running version.", ["version"],
                   multiprocess_mode="max")

# -- every labelled counter exists at 0 before its first increment ---------------------------------
# A labelled series that first appears at 11 has increased by 0 as far as increase()/rate() can
# tell, so a burst of 11 dead letters would never fire an alert. Every label value known in advance
# is therefore created here, at 0, in every process that imports this module.

DROPOFF_POINTS = ("1", "2", "3", "4", "no_logs")
CHANNELS = ("log", "webhook", "redis_stream")
"""The notification channels (workers/notify_config.CHANNELS; tests/ops checks they agree)."""
ACTORS = ("project", "tick", "notify", "skip_recommendation", "sweep")
MESSAGE_OUTCOMES = ("ok", "retried", "failed", "skipped")
DELIVERY_OUTCOMES = ("delivered", "failed", "rejected", "dead_lettered", "redelivered", "operator_skipped")
WAKE_UP_KINDS = ("project", "notify", "tick")


def _zero_series() -> None:
    for event_type in EVENT_TYPES:
        if event_type != "recommendation.issued":  # written by the engine, never ingested
            EVENTS_INGESTED.labels(event_type)
            QUARANTINED.labels(event_type)
    for point in DROPOFF_POINTS:
        DROPOFF_FLAGS.labels(point)
    for channel in CHANNELS:
        DELIVERED.labels(channel)
        DEAD_LETTERS.labels("notify", channel)
        for outcome in DELIVERY_OUTCOMES:
            DELIVERIES.labels(channel, outcome)
    for actor in ACTORS:
        WAKE_UPS_LOST.labels(actor)
        for outcome in MESSAGE_OUTCOMES:
            MESSAGES.labels(actor, outcome)
        if actor != "notify":
            DEAD_LETTERS.labels(actor, "")
    for kind in WAKE_UP_KINDS:
        WAKE_UPS.labels(kind)


_zero_series()


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("strideline")
    except Exception:  # noqa: BLE001 - not installed as a distribution (a source checkout)
        return "unknown"


BUILD_INFO.labels(_version()).set(1)


# -- recording -----------------------------------------------------------------------------------


def events_appended(types: Iterable[str] | Mapping[str, int], deduplicated: bool, seconds: float) -> None:
    """Ingest appended one batch (``types``: each event's type tag, or how many of each tag) in
    ``seconds``."""
    APPEND_LATENCY.observe(seconds)
    if deduplicated:
        INGEST_DEDUPLICATED.inc()
        return
    counts = types if type(types) is dict else collections.Counter(types)  # (an ABC check costs more)
    for event_type, count in counts.items():  # one increment per type in the batch, not per event
        child = _INGESTED_BY_TYPE.get(event_type)
        if child is None:
            child = _INGESTED_BY_TYPE[event_type] = EVENTS_INGESTED.labels(event_type)
        child.inc(count)
    LAST_INGEST.set(time.time())


_INGESTED_BY_TYPE: dict[str, Any] = {}
"""``EVENTS_INGESTED``'s child per event type (``labels`` looks one up with locks and checks)."""


def projected(now: dt.datetime, recorded: Iterable[dt.datetime], attempts: int) -> None:
    """A projection was saved: ``recorded`` are the folded events' ``recorded_at``, ``now`` the
    store's clock at the save, ``attempts`` how many compare-and-set rounds it took."""
    folded = 0
    for at in recorded:
        PROJECTION_LAG.observe(max((now - at).total_seconds(), 0.0))
        folded += 1
    if folded:
        EVENTS_PROJECTED.inc(folded)
        LAST_PROJECTION.set(time.time())
    if attempts > 1:
        PROJECTION_CAS_RETRIES.inc(attempts - 1)


def recommendations_stored(recommendations: Iterable[Any]) -> None:
    """Recommendations newly appended to the store. Counted where the append stores them (not where
    a projection is saved), so racing workers and redeliveries count each id exactly once."""
    for rec in recommendations:
        RECOMMENDATIONS.labels(rec.kind, rec.rule_id).inc()
        point = dropoff_point(rec.topic)
        if point is not None:
            DROPOFF_FLAGS.labels(point).inc()


def delivery(channel: str, outcome: str, count: int = 1) -> None:
    """``count`` recommendations on ``channel`` ended an attempt with ``outcome`` (DELIVERY_OUTCOMES)."""
    DELIVERIES.labels(channel, outcome).inc(count)


def events_quarantined(types: Iterable[str]) -> None:
    """The projector quarantined events of these types (projections.athlete.fold_or_quarantine)."""
    for event_type in types:
        QUARANTINED.labels(event_type).inc()


def http_request(method: str, route: str, status: int, seconds: float) -> None:
    """The API answered one request (``route``: the path template, never the raw path)."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def sweep_found(lagging: int) -> None:
    """The sweeper compared heads with checkpoints and found ``lagging`` athletes behind."""
    SWEEPER_LAGGING.set(lagging)


def dropoff_point(topic: str) -> str | None:
    """The drop-off point a recommendation topic flags (``dropoff:1`` -> "1", ``dropoff:silent``
    -> "no_logs"), or None."""
    if not topic.startswith("dropoff:"):
        return None
    point = topic.removeprefix("dropoff:")
    return "no_logs" if point == "silent" else point if point in DROPOFF_POINTS else None


