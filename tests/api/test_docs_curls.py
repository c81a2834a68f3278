"""docs/api.md stays true: its append and chart-data curls, as printed, run against a live
`strideline serve` with today's dates and answer what the page shows."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_revocation_processes import STRIDELINE, _free_port, _wait_healthy

from engine.keys import KeyStore
from engine.store.factory import open_store

DOC = Path(__file__).parents[2] / "docs" / "api.md"


def documented_block(heading: str) -> str:
    """The first ```bash block under the heading that starts with ``heading``."""
    text = DOC.read_text()
    section = text[text.index(heading):]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, f"no bash block under {heading!r}"
    return match.group(1)


@pytest.fixture
def live_api(tmp_path):
    store_url = str(tmp_path / "docs.sqlite3")
    open_store(store_url, migrate=True).close()
    keys = KeyStore(store_url)
    keys.orgs.create("acme")
    key = keys.create("docs", ["ingest", "read"], org="acme").key
    keys.close()
    env = {k: v for k, v in os.environ.items() if k not in {"STRIDELINE_REDIS_URL", "STRIDELINE_KEYS_PATH"}}
    env["STRIDELINE_API_METRICS_PORT"] = "0"
    port = _free_port()
    with open(tmp_path / "serve.log", "wb") as log:
        process = subprocess.Popen([STRIDELINE, "serve", "--port", str(port), "--store", store_url],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, process)
            yield {**env, "API": url, "KEY": key}
        finally:
            process.terminate()
            process.wait(timeout=20)


def run_documented(block: str, env: dict[str, str]) -> dict:
    done = subprocess.run(["bash", "-c", block], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def documented_output(heading: str, language: str = "json") -> str:
    """The first ```json (or other) block under ``heading``: what the page says the command prints."""
    text = DOC.read_text()
    section = text[text.index(heading):]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} block under {heading!r}"
    return match.group(1)


def but_new_positions(answer: dict) -> dict:
    """An append's answer without the global positions of newly stored events (the engine's own
    recommendations may be stored between two appends, so they are not fixed)."""
    return {**answer, "events": [{k: v for k, v in e.items() if k != "position" or e["status"] == "duplicate"}
                                 for e in answer["events"]]}


def test_the_documented_append_retry_superset_profile_and_series_curls_answer_as_documented(live_api):
    """Given a live server, when the page's append curl runs, then the three events are stored as
    shown; run again, every event is a duplicate; the superset retry stores only the lift and the
    profile update is version 5, both answering exactly as printed; and the chart-data curl gives
    seven local days ending today with the metrics asked for, the documented pain and e1RM on
    London's today."""
    append = documented_block("### Append events")
    dates, send = append.split("\n", 1)  # the dates line, then the curl: a retry re-sends the same body
    fixed = subprocess.run(["bash", "-c", f"{dates}; echo $NOW $HOUR_AGO $ONSET"], capture_output=True, text=True,
                           check=True).stdout.split()
    pinned = {**live_api, **dict(zip(("NOW", "HOUR_AGO", "ONSET"), fixed))}
    first = run_documented(send, pinned)
    assert first["version"] == 3 and first["deduplicated"] is False
    assert [e["status"] for e in first["events"]] == ["stored"] * 3
    assert first == json.loads(documented_output("### Append events"))
    again = run_documented(send, pinned)
    assert again["deduplicated"] is True and [e["status"] for e in again["events"]] == ["duplicate"] * 3
    superset = run_documented(documented_block("#### The superset retry"), pinned)
    assert but_new_positions(superset) == but_new_positions(json.loads(documented_output("#### The superset retry")))
    profile = run_documented(documented_block("### Profile changes"), live_api)
    assert but_new_positions(profile) == but_new_positions(json.loads(documented_output("### Profile changes")))

    chart = run_documented(documented_block("### Chart data"), live_api)
    today = dt.datetime.now(dt.timezone.utc)
    assert chart["time_zone"] == "Europe/London" and chart["version"] == 5
    assert chart["metrics"] == ["ctl", "atl", "tsb", "km", "worst_pain", "rest_pain", "e1rm_kg", "phase"]
    assert [d["date"] for d in chart["days"]] == [
        (today.date() - dt.timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    assert all(list(d) == ["date", *chart["metrics"]] for d in chart["days"])
    london_today = today.astimezone(ZoneInfo("Europe/London")).date().isoformat()
    rows = {d["date"]: d for d in chart["days"]}
    if london_today in rows:  # (not in the hour after 23:00 UTC in British summer time)
        documented_today = json.loads(documented_output("### Chart data").replace("  ...\n", ""))["days"][-1]
        assert rows[london_today] == {**documented_today, "date": london_today}


def test_the_documented_stream_curl_answers_as_documented(live_api):
    """Given the page's append curl has run (its amber pain gets advice), when the stream curl runs,
    then it prints the retry, one recommendation event with its data and its global position."""
    append = documented_block("### Append events")
    run_documented(append, live_api)
    done = subprocess.run(["bash", "-c", documented_block("### One live stream")], env=live_api,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line]
    shown = [line for line in documented_output("### One live stream", "text").splitlines() if line]
    assert lines[0] == shown[0] == "retry: 2000"
    assert re.fullmatch(r"id: \d+", lines[1]) and re.fullmatch(r"id: \d+", shown[1])
    assert lines[2] == shown[2] == "event: recommendation.issued"
    entry = json.loads(lines[3].removeprefix("data: "))
    assert entry["recommendation"]["type"] == "recommendation.issued" and entry["time_zone"] == "Europe/London"
    assert len(lines) == len(shown) == 4


def test_the_documented_generated_client_prints_what_the_page_shows(live_api, tmp_path):
    """Given a live server, when the page's generator command and Python snippet run, then the
    snippet prints exactly the documented lines."""
    env = {**live_api, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{live_api.get('PATH', '')}"}
    generate = subprocess.run(["bash", "-c", documented_block("## A generated Python client")], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert generate.returncode == 0, generate.stdout + generate.stderr
    snippet = documented_output("## A generated Python client", "python")
    done = subprocess.run([sys.executable, "-c", snippet], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == documented_output("## A generated Python client", "text")
