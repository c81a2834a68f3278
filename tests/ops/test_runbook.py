"""ops/runbook.md's commands run as written: every `strideline ...` in it (fenced or inline) is run
against a temporary store holding an athlete with recommendations and dead letters on two
channels, with a live webhook receiver; each command on its own copy of that store."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ops_support import ROOT, RUNBOOK

FENCED = re.compile(r"```(?:bash|sh)?\n(.*?)```", re.S)
INLINE = re.compile(r"(?<!`)`(strideline [^`\n]+)`(?!`)")


def runbook_commands(text: str) -> list[str]:
    """Every strideline command of the runbook, in order, once each."""
    found = []
    for block in FENCED.findall(text):
        found += [line.strip() for line in block.splitlines() if line.strip().startswith("strideline ")]
    found += INLINE.findall(FENCED.sub("", text))
    return list(dict.fromkeys(found))


class _Accepting(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def runbook_store(tmp_path_factory):
    """A SQLite store: one athlete, its recommendations, the first one dead-lettered on log and webhook."""
    from engine import outbox, pipeline
    from engine.runtime import build_runtime
    from events import recommendation_stream

    path = tmp_path_factory.mktemp("runbook") / "store.sqlite3"
    rt = build_runtime(store_url=str(path))
    now = dt.datetime.now(dt.timezone.utc)
    rt.ingestor.append("ath-0001", [
        {"occurred_at": (now - dt.timedelta(days=2)).isoformat(), "data": {
            "type": "athlete.enrolled", "body_mass_kg": 68, "time_zone": "Europe/London",
            "pre_injury_weekly_km": 40, "pre_injury_longest_run_km": 16}},
        {"occurred_at": (now - dt.timedelta(days=2)).isoformat(), "data": {
            "type": "injury.reported", "injury_type": "bone_stress", "bone_site": "navicular",
            "onset_date": (now - dt.timedelta(days=5)).date().isoformat()}},
        {"occurred_at": (now - dt.timedelta(days=1)).isoformat(), "data": {
            "type": "pain.reported", "score": 6, "context": "rest"}},
    ])
    pipeline.project_athlete(rt.store, "ath-0001", rt.policy)
    first = rt.store.read_stream(recommendation_stream("ath-0001"), 1, 1)[0]
    for channel in ("log", "webhook"):
        assert outbox.skip(rt.store, "ath-0001", channel, first.event_id, error="HTTP 410 Gone")
    rt.store.close()
    return path, str(first.event_id)


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/strideline"
    server.shutdown()


def test_the_runbook_names_the_commands_on_call_needs():
    """The runbook shows how to inspect the store, list and re-send dead letters, and rebuild."""
    commands = " | ".join(runbook_commands(RUNBOOK.read_text()))
    for needed in ("strideline db info", "strideline deliveries list", "strideline deliveries retry",
                   "strideline deliveries skip", "strideline rebuild", "strideline metrics"):
        assert needed in commands
    assert all("--store" in c for c in runbook_commands(RUNBOOK.read_text()))


def test_every_strideline_command_in_the_runbook_runs(runbook_store, receiver, tmp_path):
    """Given a store with dead letters and a receiver that now accepts, when each `strideline`
    command of ops/runbook.md runs (bash, its variables set), then each exits 0."""
    path, recommendation = runbook_store
    commands = runbook_commands(RUNBOOK.read_text())
    assert len(commands) >= 8
    bin_dir = str(Path(sys.executable).parent)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("STRIDELINE_")}
    base_env |= {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "ATHLETE": "ath-0001",
                 "RECOMMENDATION": recommendation, "STRIDELINE_WEBHOOK_URL": receiver,
                 "STRIDELINE_WEBHOOK_SECRET": "runbook-test-secret-of-at-least-32-bytes",
                 "STRIDELINE_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT)}

    def run(numbered: tuple[int, str]) -> tuple[str, subprocess.CompletedProcess]:
        number, command = numbered
        copy = tmp_path / f"store-{number}.sqlite3"
        shutil.copy(path, copy)
        env = dict(base_env, STRIDELINE_STORE_URL=str(copy))
        return command, subprocess.run(["bash", "-c", command], env=env, cwd=tmp_path, capture_output=True,
                                       text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, enumerate(commands)))
    failures = [f"$ {c}\n(exit {r.returncode})\n{r.stdout[-800:]}{r.stderr[-1500:]}"
                for c, r in results if r.returncode != 0]
    assert not failures, "\n\n".join(failures)
    assert _Accepting.received, "deliveries retry --all --channel webhook sent nothing to the receiver"
