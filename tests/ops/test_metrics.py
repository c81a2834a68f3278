"""Prometheus metrics: what the API and the workers expose after a simulated cohort, how worker
processes merge, and that no label names an athlete."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from prometheus_client import Gauge
from prometheus_client.parser import text_string_to_metric_families

from engine import metrics
from engine.store.sqlite import SQLiteEventStore
from ops_support import (
    ROOT,
    SYNTHETIC,
    dashboard_exprs,
    exposed_names,
    promql_metric_names,
    recorded_names,
    rule_exprs,
    samples,
    total,
)

ALLOWED_LABELS = {
    "phase", "point", "type", "kind", "rule", "queue", "state", "actor", "outcome", "exception", "channel",
    "le", "version", "actor_name", "queue_name", "method", "route", "status",
    "pid",  # process_* of each worker process (bounded by --processes)
    # prometheus-client's platform collectors
    "generation", "implementation", "major", "minor", "patchlevel",
}


def test_every_metric_the_dashboard_and_alerts_use_is_exposed(api_cohort, worker_cohort):
    """Each metric named in the Grafana dashboard or the alert rules is in a real /metrics body."""
    referenced = set().union(*map(promql_metric_names, dashboard_exprs() + rule_exprs()))
    exposed = exposed_names(api_cohort.text) | exposed_names(worker_cohort.live) | exposed_names(worker_cohort.final)
    missing = referenced - exposed - recorded_names() - SYNTHETIC
    assert not missing, f"referenced but never exposed: {sorted(missing)}"
    assert len(referenced) > 25


def test_the_dashboard_and_alerts_use_only_recording_rules_that_exist():
    """Every ``level:metric:operation`` name used is recorded by ops/alerts.yml."""
    referenced = set().union(*map(promql_metric_names, dashboard_exprs() + rule_exprs()))
    assert {n for n in referenced if ":" in n} <= recorded_names()


def test_the_api_exposes_adherence_ingest_and_queue_depth(api_cohort):
    """GET /metrics on the API: adherence gauges, ingest counters, queue depth, Prometheus text 0.0.4."""
    names = exposed_names(api_cohort.text)
    for name in ("strideline_athletes", "strideline_strength_target_ratio", "strideline_heavy_session_ratio",
                 "strideline_dropoff_flags_active", "strideline_days_since_last_log_bucket",
                 "strideline_events_ingested_total", "strideline_append_latency_seconds_bucket",
                 "strideline_queue_depth", "strideline_broker_up", "strideline_projections_behind"):
        assert name in names
    assert api_cohort.content_type == "text/plain; version=0.0.4; charset=utf-8"


def test_in_process_counters_add_up_to_the_cohort(api_cohort):
    """Events ingested and projected, lag observations and recommendations equal the cohort's."""
    deltas = api_cohort.deltas
    assert deltas["strideline_events_ingested_total"] == api_cohort.events
    assert deltas["strideline_events_projected_total"] == api_cohort.events
    assert deltas["strideline_projection_lag_seconds_count"] == api_cohort.events
    assert deltas["strideline_recommendations_total"] == api_cohort.recommendations
    assert deltas["strideline_append_latency_seconds_count"] > 0


def test_worker_processes_add_up_in_one_exposition(worker_cohort):
    """Two worker processes' counters are summed by the one exposition process (multiprocess mode)."""
    final = worker_cohort.final
    assert total(final, "strideline_events_ingested_total") == worker_cohort.events
    assert total(final, "strideline_events_projected_total") == worker_cohort.events
    assert total(final, "strideline_recommendations_total") == worker_cohort.recommendations
    assert total(final, "dramatiq_messages_total", actor_name="project") > 0
    assert not any("pid" in s.labels for s in samples(final) if s.name.startswith("strideline_"))


def test_dramatiq_own_metrics_are_in_the_worker_exposition(worker_cohort):
    """dramatiq's Prometheus middleware: messages, errors, retries, rejects, durations, in progress."""
    final, live = exposed_names(worker_cohort.final), exposed_names(worker_cohort.live)
    for name in ("dramatiq_messages_total", "dramatiq_message_errors_total", "dramatiq_message_retries_total",
                 "dramatiq_message_rejects_total", "dramatiq_message_duration_milliseconds_bucket"):
        assert name in final
    assert "dramatiq_messages_inprogress" in live  # a live gauge: gone once its process exits
    one_each = len(worker_cohort.pids)  # each process dead-letters one message on purpose
    assert total(worker_cohort.final, "strideline_dead_letters_total") == one_each
    assert total(worker_cohort.final, "dramatiq_message_rejects_total") == one_each


def test_no_label_names_an_athlete(api_cohort, worker_cohort):
    """Label names come from a fixed set and no label value is an athlete id (bounded cardinality)."""
    store = SQLiteEventStore(api_cohort.store_path)
    athletes = {h.stream.split("/")[0] for h in store.stream_heads()}
    store.close()
    for text in (api_cohort.text, worker_cohort.final):
        for sample in samples(text):
            if sample.name.startswith("dramatiq_delayed_messages_inprogress"):
                continue  # dramatiq's own gauge keeps a pid label (multiprocess_mode "all")
            assert set(sample.labels) <= ALLOWED_LABELS, sample
            assert not athletes & set(sample.labels.values()), sample


def test_every_gauge_names_its_multiprocess_mode():
    """Module-level gauges choose how worker processes combine (never the per-pid default)."""
    gauges = [v for v in vars(metrics).values() if isinstance(v, Gauge)]
    assert gauges
    for gauge in gauges:
        assert gauge._multiprocess_mode != "all", gauge._name


def test_forked_processes_merge_by_each_gauge_mode(tmp_path):
    """Counters sum, "max" gauges take the max, "mostrecent" the latest write, across forks."""
    script = textwrap.dedent("""
        import multiprocessing, os, sys
        from engine import metrics

        def child(n):
            metrics.events_appended(["pain.reported"] * n, False, 0.001)
            metrics.LAST_INGEST.set(1000 + n)
            metrics.sweep_found(n)

        ctx = multiprocessing.get_context("fork")
        for n in (1, 2, 3):
            p = ctx.Process(target=child, args=(n,))
            p.start()
            p.join()
        body, _ = metrics.exposition()
        sys.stdout.write(body.decode())
    """)
    directory = tmp_path / "mp"
    directory.mkdir()
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(ROOT),
                              "PATH": "/usr/bin:/bin"}, check=True).stdout
    assert total(out, "strideline_events_ingested_total", type="pain.reported") == 6
    assert total(out, "strideline_append_latency_seconds_count") == 3
    assert total(out, "strideline_last_ingest_timestamp_seconds") == 1003
    assert total(out, "strideline_sweeper_lagging_athletes") == 3


def test_exposition_without_multiprocess_uses_this_process_registry():
    """Outside multiprocess mode /metrics shows this process's registry (platform metrics too)."""
    assert metrics.multiprocess_dir() is None
    body, media_type = metrics.exposition(broker=None)
    names = {f.name for f in text_string_to_metric_families(body.decode())}
    assert {"strideline_events_ingested", "strideline_build_info", "process_cpu_seconds"} <= names
    assert media_type == "text/plain; version=0.0.4"


def test_worker_exposition_binds_loopback_unless_configured(monkeypatch):
    """STRIDELINE_METRICS_HOST/PORT, else dramatiq's dramatiq_prom_host/port, else 127.0.0.1:9191."""
    for name in ("STRIDELINE_METRICS_HOST", "STRIDELINE_METRICS_PORT", "dramatiq_prom_host", "dramatiq_prom_port"):
        monkeypatch.delenv(name, raising=False)
    assert metrics.worker_address() == ("127.0.0.1", 9191)
    monkeypatch.setenv("dramatiq_prom_port", "9300")
    assert metrics.worker_address() == ("127.0.0.1", 9300)
    monkeypatch.setenv("STRIDELINE_METRICS_HOST", "0.0.0.0")
    monkeypatch.setenv("STRIDELINE_METRICS_PORT", "9400")
    assert metrics.worker_address() == ("0.0.0.0", 9400)


def test_dramatiq_middleware_is_left_out_of_single_process_mode():
    """Without a multiprocess directory dramatiq's Prometheus middleware would write nowhere: None."""
    assert metrics.dramatiq_prometheus() is None


def test_drop_off_points_come_from_recommendation_topics():
    """dropoff:1-4 name their point, dropoff:silent is no_logs, other topics are not drop-offs."""
    assert [metrics.dropoff_point(t) for t in ("dropoff:1", "dropoff:4", "dropoff:silent", "phase", "dropoff:9")] \
        == ["1", "4", "no_logs", None, None]


def test_api_requests_are_counted_by_route_template_and_status(api_cohort):
    """Given a health check and an unauthenticated read, then the API's exposition counts each by
    method, route template (never the raw path) and status, and times them in a histogram."""
    text = api_cohort.text

    def counted(name: str, **labels: str) -> float:
        return total(text, name, **labels) - total(api_cohort.text_before, name, **labels)

    assert counted("strideline_http_requests_total", method="GET", route="/health", status="200") == 1
    assert counted("strideline_http_requests_total", method="GET",
                   route="/v1/athletes/{athlete_id}/view", status="401") == 1
    assert counted("strideline_http_request_duration_seconds_count", route="/health") == 1
    assert not any("ath-0001" in value for s in samples(text) for value in s.labels.values())


def test_every_route_has_a_500_series_at_zero_before_any_error(api_cohort):
    """A 5xx burst must be an increase: every route's 500 series exists at 0 from start-up."""
    def five_hundreds(text: str) -> dict[str, float]:
        return {s.labels["route"]: s.value for s in samples(text)
                if s.name == "strideline_http_requests_total" and s.labels["status"] == "500"}

    before, after = five_hundreds(api_cohort.text_before), five_hundreds(api_cohort.text)
    assert set(before) >= {"/v1/athletes/{athlete_id}/events", "/health"}  # present before any request
    assert after == before  # no 500 from the fixture's requests (other tests may provoke one on purpose)


def test_metrics_are_not_served_on_the_public_api_port(api_cohort):
    """GET /metrics on the API port is 404 (or refused for want of a key); the metrics server on
    its own port answers in Prometheus' text format."""
    assert api_cohort.public_metrics_status in (401, 404)
    assert api_cohort.content_type == "text/plain; version=0.0.4; charset=utf-8"


def test_labelled_counters_exist_at_zero_before_their_first_increment():
    """Dead letters per actor and channel, deliveries by channel and outcome, quarantined events by
    type, wake-ups by kind: present at 0 in a process that has done nothing, so a first burst is an
    increase the alerts see."""
    code = ("from engine import metrics; import sys; "
            "sys.stdout.write(metrics.exposition(broker=None)[0].decode())")
    text = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=60).stdout
    present = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples(text)}

    def value(name: str, **labels: str) -> float | None:
        return present.get((name, tuple(sorted(labels.items()))))

    for channel in metrics.CHANNELS:
        assert value("strideline_dead_letters_total", actor="notify", channel=channel) == 0
        for outcome in metrics.DELIVERY_OUTCOMES:
            assert value("strideline_deliveries_total", channel=channel, outcome=outcome) == 0
    assert value("strideline_dead_letters_total", actor="project", channel="") == 0
    assert value("strideline_events_quarantined_total", type="pain.reported") == 0
    assert value("strideline_sweeper_wake_ups_total", kind="project") == 0


def test_the_channels_the_metrics_know_are_the_workers_channels():
    """engine.metrics.CHANNELS (pre-created series) names exactly the notifier channels."""
    from workers.notify_config import CHANNELS

    assert tuple(metrics.CHANNELS) == tuple(CHANNELS)


def test_worker_exposition_has_process_metrics_per_worker_process(worker_cohort):
    """The workers' exposition carries process_* metrics (memory, CPU, start time) for each live
    worker process, labelled by pid."""
    pids = {s.labels["pid"] for s in samples(worker_cohort.live) if s.name == "process_resident_memory_bytes"}
    assert {str(pid) for pid in worker_cohort.pids} <= pids  # (the exposition process reports itself too)
    assert all(s.value > 0 for s in samples(worker_cohort.live) if s.name == "process_resident_memory_bytes")

