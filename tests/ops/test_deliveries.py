"""`strideline deliveries list | retry | skip`: what a channel gave up on is listed, re-sent only
when the receiver accepts, and given up on deliberately, without editing an outbox row."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from engine import cli, outbox

cli._register()
RUNNER = CliRunner()
SECRET = "deliveries-test-secret-of-at-least-32-bytes"


@pytest.fixture
def store_path(tmp_path):
    """One athlete with recommendations; nothing delivered yet on any channel."""
    from engine import pipeline
    from engine.runtime import build_runtime

    path = tmp_path / "store.sqlite3"
    rt = build_runtime(store_url=str(path))
    now = dt.datetime.now(dt.timezone.utc)
    rt.ingestor.append("ath-1", [
        {"occurred_at": (now - dt.timedelta(days=2)).isoformat(), "data": {
            "type": "athlete.enrolled", "body_mass_kg": 60, "time_zone": "UTC", "pre_injury_weekly_km": 30,
            "pre_injury_longest_run_km": 12}},
        {"occurred_at": (now - dt.timedelta(days=2)).isoformat(), "data": {
            "type": "injury.reported", "injury_type": "bone_stress", "bone_site": "navicular",
            "onset_date": (now - dt.timedelta(days=4)).date().isoformat()}},
    ])
    pipeline.project_athlete(rt.store, "ath-1", rt.policy)
    rt.store.close()
    return path


def _first_recommendation(path) -> str:
    from engine.store.sqlite import SQLiteEventStore
    from events import recommendation_stream

    store = SQLiteEventStore(path)
    try:
        return str(store.read_stream(recommendation_stream("ath-1"), 1, 1)[0].event_id)
    finally:
        store.close()


def _dead_letter(path, channel: str, rid: str) -> None:
    import uuid

    from engine.store.sqlite import SQLiteEventStore

    store = SQLiteEventStore(path)
    try:
        assert outbox.skip(store, "ath-1", channel, uuid.UUID(rid), error="HTTP 410 Gone")
    finally:
        store.close()


@pytest.fixture
def failing_receiver():
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_a_retry_against_a_receiver_still_failing_keeps_the_dead_letter(store_path, failing_receiver):
    """Given a webhook dead letter and a receiver answering 503, `deliveries retry ID` exits 1
    saying it still fails, and the dead letter stays listed."""
    rid = _first_recommendation(store_path)
    _dead_letter(store_path, "webhook", rid)
    env = {"STRIDELINE_WEBHOOK_URL": failing_receiver, "STRIDELINE_WEBHOOK_SECRET": SECRET}
    result = RUNNER.invoke(cli.app, ["deliveries", "retry", rid, "--store", str(store_path)], env=env)
    assert result.exit_code == 1 and "still failing" in result.output, result.output
    listed = RUNNER.invoke(cli.app, ["deliveries", "list", "--channel", "webhook", "--store", str(store_path)])
    assert rid in listed.output and "HTTP 410 Gone" in listed.output


def test_skip_drops_a_dead_letter(store_path):
    """`deliveries skip ID --channel log` on a dead letter removes it from the list."""
    rid = _first_recommendation(store_path)
    _dead_letter(store_path, "log", rid)
    result = RUNNER.invoke(cli.app, ["deliveries", "skip", rid, "--channel", "log", "--store", str(store_path)])
    assert result.exit_code == 0 and "dead letter dropped" in result.output, result.output
    listed = RUNNER.invoke(cli.app, ["deliveries", "list", "--store", str(store_path)])
    assert rid not in listed.output


def test_skip_passes_over_a_recommendation_stuck_in_retries(store_path):
    """Given the channel's next recommendation not delivered (retrying), `deliveries skip` moves
    the channel's checkpoint past it, so the next ones flow; it is not listed as a dead letter."""
    from engine.store.sqlite import SQLiteEventStore

    rid = _first_recommendation(store_path)
    result = RUNNER.invoke(cli.app, ["deliveries", "skip", rid, "--channel", "webhook", "--store",
                                     str(store_path)])
    assert result.exit_code == 0 and "passed over" in result.output, result.output
    store = SQLiteEventStore(store_path)
    try:
        assert outbox.checkpoint(store, "ath-1", "webhook") == 1
        assert list(outbox.dead_letters(store, "webhook")) == []
    finally:
        store.close()


def test_bad_ids_are_refused_with_the_reason(store_path):
    """An id that is no dead letter: exit 1, named; not a UUID: exit 2; an unknown channel: exit 2."""
    missing = RUNNER.invoke(cli.app, ["deliveries", "retry", "00000000-0000-0000-0000-000000000000",
                                      "--store", str(store_path)])
    assert missing.exit_code == 1 and "is not a dead letter" in missing.output
    assert RUNNER.invoke(cli.app, ["deliveries", "skip", "nope", "--channel", "log", "--store",
                                   str(store_path)]).exit_code == 2
    assert RUNNER.invoke(cli.app, ["deliveries", "list", "--channel", "fax", "--store",
                                   str(store_path)]).exit_code == 2
