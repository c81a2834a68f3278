"""`strideline worker` and `strideline rebuild`."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest
from typer.testing import CliRunner

from engine import pipeline
from engine.cli import _register, app
from engine.ingest import Ingestor
from engine.policies.base import load_policy
from engine.runtime import DEFAULT_POLICY
from events import recommendation_stream
from projections.athlete import decode
from workers_support import feed_diaries, free_port, replay, wait_until

if "worker" not in {c.name for c in app.registered_commands}:
    _register()
runner = CliRunner()


def test_worker_refuses_to_start_without_redis(monkeypatch):
    """Without --redis-url or STRIDELINE_REDIS_URL the command explains that workers need Redis."""
    monkeypatch.delenv("STRIDELINE_REDIS_URL", raising=False)
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2 and "workers need Redis" in result.output


def test_rebuild_refolds_every_projection_from_the_log(ingest_store, store_path, clock):
    """Projection rows are deleted and folded again; they equal a from-scratch fold; nothing is appended twice."""
    feed_diaries(Ingestor(ingest_store, clock=clock), clock, ["ath-1", "ath-2"], days=14)
    policy = load_policy(DEFAULT_POLICY)
    for athlete_id in ("ath-1", "ath-2"):
        pipeline.project_athlete(ingest_store, athlete_id, policy)
    versions = {a: ingest_store.stream_version(recommendation_stream(a)) for a in ("ath-1", "ath-2")}
    ingest_store.delete_projections(pipeline.PROJECTION, "ath-2")  # as if lost

    result = runner.invoke(app, ["rebuild", "--store-url", f"sqlite:///{store_path}"])
    assert result.exit_code == 0, result.output
    assert "rebuilt 2 athlete(s)" in result.output and "0 new recommendation(s)" in result.output
    for athlete_id in ("ath-1", "ath-2"):
        state, _ = replay(ingest_store, athlete_id, None, policy)
        assert decode(ingest_store.load_projection(athlete_id, pipeline.PROJECTION).state) == state
        assert ingest_store.stream_version(recommendation_stream(athlete_id)) == versions[athlete_id]


def test_rebuild_of_an_unknown_athlete_is_an_error(ingest_store, store_path):
    """--athlete names an athlete with no events: exit 2 and say so."""
    result = runner.invoke(app, ["rebuild", "--athlete", "nobody", "--store-url", f"sqlite:///{store_path}"])
    assert result.exit_code == 2 and "no athlete 'nobody'" in result.output


@pytest.mark.redis
def test_worker_runs_dramatiq_processes_and_serves_their_metrics(env, ingestor, clock, receiver, start_workers,
                                                                tmp_path):
    """`strideline worker -p 2 --metrics-port N`: two processes do the work; one endpoint serves the
    counters of both (messages, deliveries)."""
    port = free_port()
    (tmp_path / "metrics").mkdir()
    env = dict(env, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    start_workers(env, processes=2, argv=[sys.executable, "-c", "from engine.cli import main; main()",
                                          "worker", "-p", "2", "-t", "1", "--metrics-port", str(port)])
    feed_diaries(ingestor, clock, ["ath-1", "ath-2"], days=14)

    def scrape() -> str:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            return ""

    def delivered(text: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith('strideline_recommendations_delivered_total{channel="webhook"}')]
        return float(lines[0].split()[-1]) if lines else 0.0

    wait_until(lambda: receiver.delivered(), 30, "deliveries")
    text = wait_until(lambda: (t := scrape()) and delivered(t) >= len(receiver.delivered()) and t, 30,
                      "the metrics endpoint counting every webhook delivery")
    assert 'strideline_worker_messages_total{actor="project",outcome="ok"}' in text
    assert "strideline_events_projected_total" in text and "dramatiq_messages_total" in text
    assert "strideline_worker_message_duration_seconds_bucket" in text


@pytest.mark.redis
def test_a_misconfigured_worker_stops_at_start_naming_the_setting(env):
    """A webhook URL without a secret: the worker process exits at boot (code 3) and says why."""
    env = {k: v for k, v in env.items() if k != "STRIDELINE_WEBHOOK_SECRET"}
    done = subprocess.run([sys.executable, "-m", "dramatiq", "workers.actors", "-p", "1", "-t", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert "worker_not_configured" in done.stderr and "STRIDELINE_WEBHOOK_SECRET" in done.stderr
