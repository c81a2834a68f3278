"""tests/ops fixtures: a simulated cohort through the in-process pipeline, then GET /metrics on the
API; and two dramatiq worker processes in multiprocess mode behind one exposition process, scraped
over HTTP while they run and after they finish."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import msgspec
import pytest
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).parent))

from ops_support import ROOT, issued_recommendations  # noqa: E402
from ports import free_port as _free_port

COUNTERS = ("strideline_events_ingested_total", "strideline_recommendations_total",
            "strideline_events_projected_total", "strideline_projection_lag_seconds_count",
            "strideline_append_latency_seconds_count")


class ApiCohort(msgspec.Struct):
    store_path: str
    end: dt.datetime
    events: int
    recommendations: int
    text: str
    content_type: str
    deltas: dict[str, float]
    public_metrics_status: int
    """What GET /metrics on the public API port answered."""
    text_before: str
    """The exposition before the fixture's own requests: the registry is process-wide, so other
    tests' requests (a deliberate 500 among them) are already counted; compare differences."""


class WorkerCohort(msgspec.Struct):
    live: str
    final: str
    events: int
    recommendations: int
    pids: list[int]


def _registry_totals() -> dict[str, float]:
    out = dict.fromkeys(COUNTERS, 0.0)
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name in out:
                out[sample.name] += sample.value
    return out


@pytest.fixture(scope="session")
def api_cohort(tmp_path_factory) -> ApiCohort:
    """10 simulated athletes, 5 weeks, through the in-process pipeline; then GET /metrics."""
    from litestar.testing import TestClient

    from engine.api import create_app
    from engine.api.observability import MetricsServer
    from engine.clock import ManualClock
    from engine.demo import run_demo
    from engine.keys import KeyStore
    from engine.runtime import build_runtime
    from engine.store.sqlite import SQLiteEventStore

    tmp = tmp_path_factory.mktemp("api-cohort")
    before = _registry_totals()
    result = run_demo(athletes=10, weeks=5, seed=18, store_path=tmp / "cohort.sqlite3", threads=2,
                      start=dt.date(2026, 1, 5))
    deltas = {k: v - before[k] for k, v in _registry_totals().items()}
    clock = ManualClock(result.end)
    store = SQLiteEventStore(result.store_path, clock=clock)
    runtime = build_runtime(store=store, clock=clock)
    app = create_app(runtime, start_workers=False, keys=KeyStore(tmp / "keys.sqlite3"))
    with TestClient(app) as client, MetricsServer(runtime, "127.0.0.1", 0) as server:
        host, port = server.address
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as response:
            text_before = response.read().decode()
        public = client.get("/metrics")
        client.get("/health")
        client.get("/v1/athletes/ath-0001/view")  # no key: 401
        host, port = server.address
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as response:
            text, content_type = response.read().decode(), response.headers["content-type"]
    store.close()
    return ApiCohort(result.store_path, result.end, result.events, issued_recommendations(result.store_path), text,
                     content_type, deltas, public.status_code, text_before)


def _scrape(port: int, deadline_s: float = 30.0) -> str:
    """GET the exposition, retrying while the server process is still binding its port."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # readiness polling of a port, not synchronisation of work


@pytest.fixture(scope="session")
def worker_cohort(tmp_path_factory) -> WorkerCohort:
    """Two worker processes (6 athletes each) in multiprocess mode, one exposition process."""
    tmp = tmp_path_factory.mktemp("worker-cohort")
    directory = tmp / "prometheus-multiproc"
    directory.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("STRIDELINE_REDIS_URL", "STRIDELINE_METRICS_HOST", "dramatiq_prom_host")}
    env |= {"PROMETHEUS_MULTIPROC_DIR": str(directory), "STRIDELINE_METRICS_PORT": str(port),
            "STRIDELINE_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT)}
    script = str(Path(__file__).parent / "worker_cohort.py")
    workers = [subprocess.Popen([sys.executable, script, "6", "3", str(seed), str(tmp / f"w{seed}.sqlite3")],
                                env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True) for seed in (5, 6)]
    server = subprocess.Popen([sys.executable, "-c", "from engine.metrics import serve_multiprocess; "
                               "serve_multiprocess()"], env=env, cwd=ROOT)
    try:
        for proc in workers:
            assert proc.stdout.readline().strip() == "LIVE", "a worker process died before its live scrape"
        live = _scrape(port)
        totals = []
        for proc in workers:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in workers:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0, out
            totals.append(json.loads(out.strip().splitlines()[-1]))
        final = _scrape(port)
    finally:
        server.terminate()
        server.wait(timeout=30)
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    return WorkerCohort(live, final, sum(t["events"] for t in totals),
                        sum(t["recommendations"] for t in totals), [t["pid"] for t in totals])
