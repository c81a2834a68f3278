"""Advice fixtures: a SQLite store (tests/conftest.py), the builders, and the signed-webhook receiver
of the worker tests (a real local HTTP server)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "workers")]

from workers_support import Receiver  # noqa: E402


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()
