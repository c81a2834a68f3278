"""Replay fixtures: a small simulated cohort run live once (like `strideline demo`), and test policies."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from msgspec.structs import replace

from engine.clock import ManualClock
from engine.demo import run_demo
from engine.scenarios import History
from engine.store.sqlite import SQLiteEventStore

HERE = Path(__file__).parent
BASELINE = "engine.policies.baseline:BaselinePolicy"


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
