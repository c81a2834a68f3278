"""What one /metrics shows, in the API and in dramatiq's forked worker processes."""


from __future__ import annotations

import os
import re
import threading
import weakref
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from engine.metrics.adherence import AdherenceCollector
from engine.metrics.queues import QueueDepthCollector

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

