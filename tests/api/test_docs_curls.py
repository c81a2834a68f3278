"""docs/api.md stays true: its append and chart-data curls, as printed, run against a live
`strideline serve` with today's dates and answer what the page shows."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
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


def test_the_documented_append_and_series_curls_answer_as_documented(live_api):
    """Given a live server, when the page's append curl runs, then the three events are stored as
    shown; run again, every event is a duplicate; and the chart-data curl gives seven local days
    ending today, with the documented pain on London's today."""
    append = documented_block("### Append events")
    dates, send = append.split("\n", 1)  # the dates line, then the curl: a retry re-sends the same body
    fixed = subprocess.run(["bash", "-c", f"{dates}; echo $NOW $HOUR_AGO $ONSET"], capture_output=True, text=True,
                           check=True).stdout.split()
    pinned = {**live_api, **dict(zip(("NOW", "HOUR_AGO", "ONSET"), fixed))}
    first = run_documented(send, pinned)
    assert first["version"] == 3 and first["deduplicated"] is False
    assert [e["status"] for e in first["events"]] == ["stored"] * 3
    again = run_documented(send, pinned)
    assert again["deduplicated"] is True and [e["status"] for e in again["events"]] == ["duplicate"] * 3
    chart = run_documented(documented_block("### Chart data"), live_api)
    today = dt.datetime.now(dt.timezone.utc)
    assert chart["time_zone"] == "Europe/London" and chart["version"] == 3
    assert [d["date"] for d in chart["days"]] == [
        (today.date() - dt.timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    london_today = today.astimezone(ZoneInfo("Europe/London")).date().isoformat()
    pains = {d["date"]: d["worst_pain"] for d in chart["days"]}
    if london_today in pains:  # (not in the hour after 23:00 UTC in British summer time)
        assert pains[london_today] == 5
