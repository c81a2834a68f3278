"""Clocks are adapters: the engine never reads the time itself, it is handed a clock."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall-clock time, timezone-aware UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class ManualClock:
    """A clock the caller moves: simulations, replays and tests."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            if when > self._now:
                self._now = when

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            self._now += delta


def to_micros(when: dt.datetime) -> int:
    """Microseconds since the epoch, exact (no float rounding)."""
    delta = when - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=us)
