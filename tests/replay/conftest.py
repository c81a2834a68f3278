"""Replay fixtures: a small simulated cohort run live once (like `strideline demo`), and test policies."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from pathlib import Path

import pytest

from msgspec.structs import replace

from engine.clock import ManualClock
from engine.demo import run_demo
from engine.scenarios import History
from engine.store.sqlite import SQLiteEventStore

HERE = Path(__file__).parent
REPO = HERE.parent.parent
BASELINE = "engine.policies.baseline:BaselinePolicy"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(found, what: str, install: str):
    """``found`` when truthy; else skip with the reason (fail under CI=true, where scripts/test.sh installs it)."""
    if found:
        return found
    message = f"{what} is not installed ({install}; scripts/test.sh installs it)"
    if IN_CI:
        pytest.fail(message + " (CI=true: these tests must run)")
    pytest.skip(message)


def chromium() -> str:
    return require(next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None),
                   "chromium", "apt-get install chromium")


@pytest.fixture(scope="session")
def live_cohort(tmp_path_factory):
    """8 simulated athletes x 4 weeks through the in-process pipeline (live recommendations stored)."""
    path = tmp_path_factory.mktemp("live") / "live.sqlite3"
    result = run_demo(athletes=8, weeks=4, seed=3, store_path=path, threads=2, start=dt.date(2026, 1, 5))
    return path, result.end


@pytest.fixture
def test_policies(monkeypatch):
    """Make tests/replay/policies_for_tests.py importable as ``policies_for_tests``."""
    monkeypatch.syspath_prepend(str(HERE))
    yield "policies_for_tests"
    sys.modules.pop("policies_for_tests", None)


@pytest.fixture
def log_of(tmp_path):
    """Store hand-written histories as they are (envelopes in recorded_at order): the store's path."""

    def build(*histories: History) -> Path:
        path = tmp_path / "log.sqlite3"
        store = SQLiteEventStore(path, clock=ManualClock(histories[0].start))
        envelopes = sorted((e for h in histories for e in h.envelopes), key=lambda e: (e.recorded_at, e.stream))
        store.import_envelopes(replace(e, position=i) for i, e in enumerate(envelopes, 1))
        store.close()
        return path

    return build


@pytest.fixture
def six_events() -> History:
    """Enrolment (v1), injury (v2), then a rest pain score on each of four days (v3..v6)."""
    h = History("ath-1")
    for day in range(1, 5):
        h.day(day).pain(2)
    return h


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's headless chromium (the browser the report test renders in)."""
    return chromium()


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray cluster with 2 CPUs for the module; shut down after it."""
    try:
        import ray
    except ModuleNotFoundError:
        ray = None
    ray = require(ray, "ray", 'pip install -e ".[ray]"')
    import logging

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def analyst_bin() -> Path:
    """The directory of the installed ``strideline`` command (the venv's bin)."""
    path = Path(sys.executable).parent
    return require(path if (path / "strideline").exists() else None, "the strideline command", "pip install -e .")
