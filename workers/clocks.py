"""Clocks for worker processes, chosen by ``STRIDELINE_CLOCK``.

* ``system`` (default) - wall-clock time.
* ``log`` - "now" is the newest ``recorded_at`` of any athlete event in the store. For simulated
  cohorts fed with a simulated clock (``strideline simulate``, the demo, the tests): day boundaries
  are then evaluated as simulated time passes, exactly as a replay of the same log evaluates them.
* an ISO 8601 timestamp with a zone - a frozen clock (reproducing a day in the past).
"""

from __future__ import annotations

import datetime as dt

from engine.clock import EPOCH, Clock, SystemClock
from engine.store.base import EventStore
from events.envelope import is_recommendation_stream


class LogClock:
    """Time as the log tells it: the newest ``recorded_at`` among athlete streams (never moving back)."""

    def __init__(self, store: EventStore | None = None) -> None:
        self.store = store
        self._last = EPOCH

    def bind(self, store: EventStore) -> None:
        self.store = store

    def now(self) -> dt.datetime:
        if self.store is None:
            return self._last
        heads = [h for h in self.store.stream_heads() if not is_recommendation_stream(h.stream)]
        if heads:
            newest = max(heads, key=lambda h: h.position)
            last = self.store.read_stream(newest.stream, newest.version, 1)
            if last and last[0].recorded_at > self._last:
                self._last = last[0].recorded_at
        return self._last


class FrozenClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def clock_from_spec(spec: str | None) -> Clock:
    spec = (spec or "system").strip()
    if spec == "system":
        return SystemClock()
    if spec == "log":
        return LogClock()
    try:
        at = dt.datetime.fromisoformat(spec)
    except ValueError:
        raise ValueError(f"STRIDELINE_CLOCK must be system, log or an ISO timestamp, not {spec!r}") from None
    if at.tzinfo is None:
        raise ValueError(f"STRIDELINE_CLOCK={spec!r} needs a time zone (e.g. 2026-03-02T00:00:00+00:00)")
    return FrozenClock(at)
