"""The embedded default (`strideline serve` without Redis, `strideline demo`) heals and ticks too:
its in-process sweeper, on the default interval, wakes what is behind and evaluates day boundaries;
`serve` delivers to the configured notifiers or refuses to start, naming the setting."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from engine import pipeline
from engine.ingest import Ingestor
from engine.runtime import build_runtime
from workers.inprocess import InProcessPipeline
from workers_support import SECRET, Comparison, feed_diaries, stored_recommendation_ids, wait_until


def test_the_embedded_sweeper_projects_what_was_appended_while_no_worker_ran(store, clock):
    """Given athletes whose events were committed while no pipeline ran (wake-ups lost, e.g. an API
    restart), when the embedded pipeline starts with its defaults, then its first sweep wakes them
    and every one is projected."""
    feed_diaries(Ingestor(store, clock=clock), clock, [f"ath-{i}" for i in range(5)], days=3)
    runtime = build_runtime(store=store, clock=clock)
    assert len(list(pipeline.lagging_athletes(store))) == 5
    with InProcessPipeline(runtime, threads=2) as live:
        wait_until(lambda: not list(pipeline.lagging_athletes(store)), 30, "every athlete projected")
        assert live.sweeps >= 1


def test_the_embedded_sweeper_evaluates_day_boundaries(store, clock):
    """Given athletes who logged nothing for days, when the embedded pipeline runs, then its tick
    round evaluates the days that passed: live state and advice equal a replay up to the horizon."""
    feed_diaries(Ingestor(store, clock=clock), clock, ["ath-quiet"], days=2)
    clock.advance(dt.timedelta(days=6))  # six silent days: rules about time passing apply
    runtime = build_runtime(store=store, clock=clock)
    expected = Comparison(store, runtime.horizon())
    with InProcessPipeline(runtime, threads=2):
        wait_until(lambda: not expected.mismatches(), 30, "live equals a replay up to the horizon", interval=0.2)


def test_serve_refuses_to_start_with_a_notifier_that_cannot_run(monkeypatch, tmp_path):
    """A webhook URL without its signing secret stops `strideline serve` at start, naming the setting."""
    from engine.cli import _register, app

    monkeypatch.delenv("STRIDELINE_REDIS_URL", raising=False)
    monkeypatch.setenv("STRIDELINE_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
    monkeypatch.delenv("STRIDELINE_WEBHOOK_SECRET", raising=False)
    _register()
    result = CliRunner().invoke(app, ["serve", "--store", str(tmp_path / "s.sqlite3"), "--port", "8765"])
    assert result.exit_code == 2
    assert "STRIDELINE_WEBHOOK_SECRET" in result.output


def test_embedded_serve_delivers_to_the_configured_webhook(monkeypatch, tmp_path, receiver):
    """`serve` without Redis and with STRIDELINE_WEBHOOK_URL: the in-process pipeline (its first
    sweep, for events committed before the start) POSTs every recommendation to the webhook."""
    from litestar.testing import TestClient

    from engine.clock import ManualClock
    from engine.commands.serve import build_app
    from engine.store.sqlite import SQLiteEventStore

    path = tmp_path / "events.sqlite3"
    past = ManualClock(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=5))
    history = SQLiteEventStore(path, clock=past)  # a cohort's last days, committed before this start
    feed_diaries(Ingestor(history, clock=past), past, ["ath-hook"], days=3)
    history.close()
    monkeypatch.setenv("STRIDELINE_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("STRIDELINE_WEBHOOK_SECRET", SECRET)
    app = build_app(store=str(path), keys=None, redis_url=None)
    assert "webhook" in app.state.runtime.notifiers
    store = app.state.runtime.store
    with TestClient(app) as client:
        wait_until(lambda: stored_recommendation_ids(store), 30, "a recommendation stored")
        assert client.get("/ready").json()["checks"]["workers"] == "in-process"
        wanted = set(stored_recommendation_ids(store))
        wait_until(lambda: wanted <= receiver.delivered(), 30, "every recommendation POSTed to the webhook")
    assert receiver.all_valid()
