"""Every Prometheus metric Strideline defines, in one module, and the collectors computed on scrape.

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

Callers record through the functions below (``events_appended``, ``projected``, ...); the HTTP API
and the workers expose :func:`exposition`; the worker processes' exposition is
:func:`serve_multiprocess` (a dramatiq fork, loopback unless ``STRIDELINE_METRICS_HOST`` says otherwise).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import msgspec
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from events.vocabulary import EVENT_TYPES
from projections.calendar import local_day, week_of, week_start
from projections.capacity import sessions_in
from projections.phase import PHASES

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


def events_appended(types: Iterable[str], deduplicated: bool, seconds: float) -> None:
    """Ingest appended one batch (``types``: each event's type tag) in ``seconds``."""
    APPEND_LATENCY.observe(seconds)
    if deduplicated:
        INGEST_DEDUPLICATED.inc()
        return
    for event_type in types:
        EVENTS_INGESTED.labels(event_type).inc()
    LAST_INGEST.set(time.time())


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


# -- adherence, from the saved projections -------------------------------------------------------
# Only the fields the gauges need are decoded (unknown fields are skipped); tests/ops checks the
# values against the full projection, so a renamed field cannot go unnoticed.


class _Phase(msgspec.Struct):
    phase: str = "settle"


class _Capacity(msgspec.Struct):
    lift_sets: dict[int, int] = {}
    heavy_sets: dict[int, int] = {}


class _Logs(msgspec.Struct):
    last_day: int = 0


class _Profile(msgspec.Struct):
    time_zone: str = "UTC"


class AdherenceInputs(msgspec.Struct):
    """The slice of ``projections.athlete.AthleteState`` adherence metrics read."""

    profile: _Profile = msgspec.field(default_factory=_Profile)
    capacity: _Capacity = msgspec.field(default_factory=_Capacity)
    adherence: _Logs = msgspec.field(default_factory=_Logs)
    phase: _Phase = msgspec.field(default_factory=_Phase)
    memory: dict[str, str] = {}


_decode_inputs = msgspec.msgpack.Decoder(AdherenceInputs).decode
DAYS_SINCE_LOG_BUCKETS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 28)
STRENGTH_TARGET_MIN = 2
"""The 2-3 sessions/week target is met at >= 2 sessions (more is not a miss), as engine.views."""


class AdherenceSnapshot(msgspec.Struct):
    """Cohort adherence at one moment, by phase (no athlete ids)."""

    athletes: dict[str, int]
    meeting_target: dict[str, int]
    strength_sessions: dict[str, int]
    heavy_sessions: dict[str, int]
    dropoff_active: dict[str, int]
    days_since_log: dict[str, list[int]]
    """Per phase, the days since each athlete's last log (athletes who never logged are left out)."""


def adherence_snapshot(states: Iterable[AdherenceInputs], now: dt.datetime,
                       target_min: int = STRENGTH_TARGET_MIN) -> AdherenceSnapshot:
    """Count athletes by phase, strength target met in the last complete local week, heavy and all
    strength sessions that week, active drop-off flags (the policy's decision memory), days since
    the last log."""
    snap = AdherenceSnapshot({p: 0 for p in PHASES}, {p: 0 for p in PHASES}, {p: 0 for p in PHASES},
                             {p: 0 for p in PHASES}, {p: 0 for p in DROPOFF_POINTS}, {p: [] for p in PHASES})
    for state in states:
        phase = state.phase.phase
        for counts in (snap.athletes, snap.meeting_target, snap.strength_sessions, snap.heavy_sessions):
            counts.setdefault(phase, 0)
        snap.days_since_log.setdefault(phase, [])
        day = local_day(now, state.profile.time_zone)
        first = week_start(week_of(day) - 1)
        sessions = sessions_in(state.capacity.lift_sets, first, first + 6)
        heavy = sessions_in(state.capacity.heavy_sets, first, first + 6)
        snap.athletes[phase] += 1
        snap.meeting_target[phase] += sessions >= target_min
        snap.strength_sessions[phase] += sessions
        snap.heavy_sessions[phase] += heavy
        for topic in state.memory:
            point = dropoff_point(topic)
            if point is not None:
                snap.dropoff_active[point] += 1
        if state.adherence.last_day:
            snap.days_since_log[phase].append(day - state.adherence.last_day)
    return snap


def _gauge(name: str, doc: str, label: str, values_by: Mapping[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in values_by.items():
        family.add_metric([key], value)
    return family


def adherence_families(snap: AdherenceSnapshot) -> list[Metric]:
    shares = {p: snap.meeting_target[p] / n for p, n in snap.athletes.items() if n}
    heavy = {p: snap.heavy_sessions[p] / n for p, n in snap.strength_sessions.items() if n}
    histogram = HistogramMetricFamily(
        "strideline_days_since_last_log", "Athletes by days since their last log (never-logged left out).",
        labels=["phase"])
    for phase, days in snap.days_since_log.items():
        buckets = [(str(b), sum(1 for d in days if d <= b)) for b in DAYS_SINCE_LOG_BUCKETS]
        histogram.add_metric([phase], buckets + [("+Inf", len(days))], sum(days))
    return [
        _gauge("strideline_athletes", "Athletes with a saved projection, by phase.", "phase", snap.athletes),
        _gauge("strideline_athletes_meeting_strength_target",
               "Athletes with >= 2 strength sessions in their last complete week, by phase.", "phase",
               snap.meeting_target),
        _gauge("strideline_strength_target_ratio",
               "Share of the phase's athletes meeting the 2-3 strength sessions/week target "
               "(absent for an empty phase).", "phase", shares),
        _gauge("strideline_strength_sessions_last_week",
               "Strength sessions in the athletes' last complete week, summed by phase.", "phase",
               snap.strength_sessions),
        _gauge("strideline_heavy_sessions_last_week",
               "Heavy strength sessions in the athletes' last complete week, summed by phase.", "phase",
               snap.heavy_sessions),
        _gauge("strideline_heavy_session_ratio",
               "Heavy sessions / strength sessions last complete week, pooled by phase (absent when "
               "nobody lifted).", "phase", heavy),
        _gauge("strideline_dropoff_flags_active",
               "Athletes whose latest decision point holds a drop-off flag, by point.", "point",
               snap.dropoff_active),
        histogram,
    ]


class AdherenceCollector:
    """Adherence gauges from the saved athlete projections, recomputed at most every ``ttl`` s.

    A scrape after the cache expired scans every projection row (the fields above only); others
    are served from the snapshot. ``now`` is the runtime's clock, so simulated time works."""

    def __init__(self, store, clock: Callable[[], dt.datetime] | None = None, *, ttl: float | None = None,
                 projection: str = "athlete") -> None:
        self.store = store
        self.now = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.ttl = float(os.environ.get("STRIDELINE_ADHERENCE_CACHE_S", "30")) if ttl is None else ttl
        self.projection = projection
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def states(self) -> Iterator[AdherenceInputs]:
        for athlete_id in self.store.projection_checkpoints(self.projection):
            record = self.store.load_projection(athlete_id, self.projection)
            if record is not None:
                yield _decode_inputs(record.state)

    def _compute(self) -> list[Metric]:
        began = time.perf_counter()
        checkpoints = self.store.projection_checkpoints(self.projection)
        behind = sum(1 for head in self.store.stream_heads()
                     if not head.stream.endswith("/recommendations")
                     and checkpoints.get(head.stream, 0) < head.version)
        families = adherence_families(adherence_snapshot(self.states(), self.now()))
        families.append(GaugeMetricFamily("strideline_projections_behind",
                                          "Athletes whose saved projection is behind their stream head.",
                                          value=behind))
        families.append(GaugeMetricFamily("strideline_adherence_scan_seconds",
                                          "Time the latest projection scan took.",
                                          value=time.perf_counter() - began))
        families.append(GaugeMetricFamily("strideline_adherence_scan_timestamp_seconds",
                                          "Unix time of the latest projection scan.", value=time.time()))
        return families

    def collect(self) -> list[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] >= self.ttl:
                self._cached = (time.monotonic(), self._compute())
            return self._cached[1]


# -- queue depth, from the broker ----------------------------------------------------------------


def queue_depths(broker) -> dict[tuple[str, str], int]:
    """(queue, state) -> messages, state "ready", "delayed" or "dead". dramatiq's StubBroker is
    read in memory; the RedisBroker from its keys: ``<ns>:<q>`` (a list of ready ids),
    ``<ns>:<q>.DQ`` (delayed) and ``<ns>:<q>.XQ`` (the dead-letter sorted set)."""
    kind = type(broker).__name__
    declared = sorted(q for q in broker.get_declared_queues() if not q.endswith((".DQ", ".XQ")))
    if not declared and kind == "RedisBroker":  # an ingest-only process declares no actors
        declared = _redis_queue_names(broker)
    out: dict[tuple[str, str], int] = {}
    if kind == "StubBroker":
        for q in declared:
            out[(q, "ready")] = broker.queues[q].qsize()
            out[(q, "delayed")] = broker.queues[f"{q}.DQ"].qsize() if f"{q}.DQ" in broker.queues else 0
            out[(q, "dead")] = len(broker.dead_letters_by_queue.get(q, []))
    elif kind == "RedisBroker":
        pipe = broker.client.pipeline(transaction=False)
        for q in declared:
            pipe.llen(f"{broker.namespace}:{q}")
            pipe.llen(f"{broker.namespace}:{q}.DQ")
            pipe.zcard(f"{broker.namespace}:{q}.XQ")
        answers = pipe.execute()
        for i, q in enumerate(declared):
            for j, state in enumerate(("ready", "delayed", "dead")):
                out[(q, state)] = int(answers[3 * i + j])
    return out


_REDIS_SUFFIXES = (".XQ.msgs", ".DQ.msgs", ".msgs", ".XQ", ".DQ")


def _redis_queue_names(broker) -> list[str]:
    """Queues that hold anything under the broker's namespace (SCAN; dramatiq's own ``__acks__``
    and ``__heartbeats__`` keys left out). An empty queue has no keys, so it is simply not listed."""
    prefix = f"{broker.namespace}:"
    names = set()
    for raw in broker.client.scan_iter(match=prefix + "*", count=1000):
        name = (raw.decode() if isinstance(raw, bytes) else raw).removeprefix(prefix)
        if name.startswith("__"):
            continue
        for suffix in _REDIS_SUFFIXES:
            if name.endswith(suffix):
                name = name.removesuffix(suffix)
                break
        names.add(name)
    return sorted(names)


class QueueDepthCollector:
    """``strideline_queue_depth{queue,state}`` and ``strideline_broker_up`` on every scrape."""

    def __init__(self, broker) -> None:
        self.broker = broker

    def collect(self) -> list[Metric]:
        depth = GaugeMetricFamily("strideline_queue_depth",
                                  "Messages per dramatiq queue: ready, delayed (retries, scheduled) and dead "
                                  "(dramatiq's dead-letter queue, kept 7 days).", labels=["queue", "state"])
        try:
            for (queue, state), n in queue_depths(self.broker).items():
                depth.add_metric([queue, state], n)
            up = 1
        except Exception:  # noqa: BLE001 - Redis down: say so rather than fail the whole scrape
            up = 0
        return [depth, GaugeMetricFamily("strideline_broker_up", "1 if the broker answered the queue-depth "
                                         "query at this scrape.", value=up)]


# -- exposition ----------------------------------------------------------------------------------


def multiprocess_dir() -> str | None:
    """The multiprocess directory, if this process really writes its metrics there (the variable
    must be set before prometheus-client is imported; set later, it has no effect)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
    return path if path and getattr(values.ValueClass, "_multiprocess", False) else None


MEDIA_TYPE = CONTENT_TYPE_PLAIN_0_0_4.removesuffix("; charset=utf-8")


class _DefaultRegistry:
    def collect(self):
        return REGISTRY.collect()


_adherence: dict[int, AdherenceCollector] = {}
"""One cached collector per live runtime (by id; dropped when the runtime is collected)."""
_adherence_lock = threading.Lock()


def registry(*, adherence: AdherenceCollector | None = None, broker=None) -> CollectorRegistry:
    """What one /metrics shows: this process's metrics (every worker process's in multiprocess
    mode), plus the adherence and queue-depth collectors when given."""
    reg = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        from prometheus_client.multiprocess import MultiProcessCollector
        MultiProcessCollector(reg, path=directory)
    else:
        reg.register(_DefaultRegistry())
    if adherence is not None:
        reg.register(adherence)
    if broker is not None:
        reg.register(QueueDepthCollector(broker))
    return reg


def current_broker():
    """dramatiq's global broker if one was set (never creates one)."""
    try:
        import dramatiq.broker
    except ImportError:
        return None
    return getattr(dramatiq.broker, "global_broker", None)


def exposition(runtime=None, *, broker: Any = "current") -> tuple[bytes, str]:
    """(body, media type) of /metrics for a process holding ``runtime`` (adherence from its store,
    on its clock; one cached collector per runtime) and ``broker`` (default: dramatiq's global one).
    The media type is Prometheus' text format 0.0.4 without its charset, which web frameworks add
    (``; charset=utf-8``) to every text/* response."""
    adherence = None
    if runtime is not None:
        with _adherence_lock:
            adherence = _adherence.get(id(runtime))
            if adherence is None:
                adherence = _adherence[id(runtime)] = AdherenceCollector(runtime.store, runtime.clock.now)
                weakref.finalize(runtime, _adherence.pop, id(runtime), None)
    broker = current_broker() if isinstance(broker, str) and broker == "current" else broker
    return generate_latest(registry(adherence=adherence, broker=broker)), MEDIA_TYPE


# -- the worker processes' exposition (a dramatiq fork) and dramatiq's own middleware --------------


def worker_address() -> tuple[str, int]:
    """STRIDELINE_METRICS_HOST/PORT, else dramatiq's dramatiq_prom_host/port; loopback by default."""
    host = os.environ.get("STRIDELINE_METRICS_HOST") or os.environ.get("dramatiq_prom_host") or "127.0.0.1"
    port = os.environ.get("STRIDELINE_METRICS_PORT") or os.environ.get("dramatiq_prom_port") or "9191"
    return host, int(port)


class WorkerProcessCollector:
    """``process_*`` metrics (CPU, memory, open files, start time) of every live worker process,
    labelled by ``pid``. MultiProcessCollector merges counters only; without this the workers'
    exposition said nothing about the processes themselves. The pids are those writing files in
    the multiprocess directory (``<kind>_<pid>.db``); processes that have exited are left out."""

    _FILE = re.compile(r"_(\d+)\.db$")

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def pids(self) -> list[int]:
        found = {int(m.group(1)) for name in os.listdir(self.directory) if (m := self._FILE.search(name))}
        return sorted(pid for pid in found if os.path.exists(f"/proc/{pid}/stat"))

    def collect(self) -> list[Metric]:
        from prometheus_client import ProcessCollector
        from prometheus_client.core import CounterMetricFamily

        merged: dict[str, Metric] = {}
        for pid in self.pids():
            for family in ProcessCollector(pid=lambda pid=pid: pid, registry=None).collect():
                if family.name not in merged:
                    kind = CounterMetricFamily if family.type == "counter" else GaugeMetricFamily
                    merged[family.name] = kind(family.name, family.documentation + " (per worker process)",
                                               labels=["pid"])
                for sample in family.samples:
                    merged[family.name].add_metric([str(pid)], sample.value)
        return list(merged.values())


def serve_multiprocess() -> int:
    """dramatiq fork function: serve every worker process's metrics (PROMETHEUS_MULTIPROC_DIR),
    their ``process_*`` metrics included."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from prometheus_client.multiprocess import MultiProcessCollector

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path.split("?")[0] not in ("/", "/metrics"):
                self.send_error(404)
                return
            reg = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(reg, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
            reg.register(WorkerProcessCollector(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
            body = generate_latest(reg)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(worker_address(), Handler).serve_forever()
    return 0


def dramatiq_prometheus():
    """dramatiq's own Prometheus middleware (messages, errors, retries, dead letters, durations,
    in-progress) writing into our multiprocess directory, or None when this process is not in
    multiprocess mode (the in-process pipeline: its hooks would have nowhere to write).

    Its own exposition fork is dropped: :func:`serve_multiprocess` serves the same directory, so
    one port shows dramatiq's and Strideline's worker metrics together."""
    directory = multiprocess_dir()
    if directory is None:
        return None
    from dramatiq.middleware import prometheus as dramatiq_prom

    class DramatiqPrometheus(dramatiq_prom.Prometheus):
        @property
        def forks(self):
            return []

        def after_process_boot(self, broker):
            dramatiq_prom.DB_PATH = directory  # it points PROMETHEUS_MULTIPROC_DIR at DB_PATH
            super().after_process_boot(broker)

    return DramatiqPrometheus()

