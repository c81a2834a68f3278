"""Adherence gauges computed on scrape from the saved athlete projections (exact after restarts,
rebuilds and replays; sees time pass)."""


from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

import msgspec
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from engine.metrics.instruments import DROPOFF_POINTS, dropoff_point
from projections.calendar import local_day, week_of, week_start
from projections.capacity import sessions_in
from projections.phase import PHASES

# -- adherence, from the saved projections -------------------------------------------------------
# Only the fields the gauges need are decoded (unknown fields are skipped); tests/ops checks the
# values against the full projection, so a renamed field cannot go unnoticed.


class _Phase(msgspec.Struct):
    phase: str = "settle"


class _Capacity(msgspec.Struct):
    lift_sets: dict[int, int] = {}
    heavy_sets: dict[int, int] = {}


class _Logs(msgspec.Struct):
    last_day: int = 0


class _Profile(msgspec.Struct):
    time_zone: str = "UTC"


class AdherenceInputs(msgspec.Struct):
    """The slice of ``projections.athlete.AthleteState`` adherence metrics read."""

    profile: _Profile = msgspec.field(default_factory=_Profile)
    capacity: _Capacity = msgspec.field(default_factory=_Capacity)
    adherence: _Logs = msgspec.field(default_factory=_Logs)
    phase: _Phase = msgspec.field(default_factory=_Phase)
    memory: dict[str, str] = {}


_decode_inputs = msgspec.msgpack.Decoder(AdherenceInputs).decode
DAYS_SINCE_LOG_BUCKETS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 28)
STRENGTH_TARGET_MIN = 2
"""The 2-3 sessions/week target is met at >= 2 sessions (more is not a miss), as engine.views."""


class AdherenceSnapshot(msgspec.Struct):
    """Cohort adherence at one moment, by phase (no athlete ids)."""

    athletes: dict[str, int]
    meeting_target: dict[str, int]
    strength_sessions: dict[str, int]
    heavy_sessions: dict[str, int]
    dropoff_active: dict[str, int]
    days_since_log: dict[str, list[int]]
    """Per phase, the days since each athlete's last log (athletes who never logged are left out)."""


def adherence_snapshot(states: Iterable[AdherenceInputs], now: dt.datetime,
                       target_min: int = STRENGTH_TARGET_MIN) -> AdherenceSnapshot:
    """Count athletes by phase, strength target met in the last complete local week, heavy and all
    strength sessions that week, active drop-off flags (the policy's decision memory), days since
    the last log."""
    snap = AdherenceSnapshot({p: 0 for p in PHASES}, {p: 0 for p in PHASES}, {p: 0 for p in PHASES},
                             {p: 0 for p in PHASES}, {p: 0 for p in DROPOFF_POINTS}, {p: [] for p in PHASES})
    for state in states:
        phase = state.phase.phase
        for counts in (snap.athletes, snap.meeting_target, snap.strength_sessions, snap.heavy_sessions):
            counts.setdefault(phase, 0)
        snap.days_since_log.setdefault(phase, [])
        day = local_day(now, state.profile.time_zone)
        first = week_start(week_of(day) - 1)
        sessions = sessions_in(state.capacity.lift_sets, first, first + 6)
        heavy = sessions_in(state.capacity.heavy_sets, first, first + 6)
        snap.athletes[phase] += 1
        snap.meeting_target[phase] += sessions >= target_min
        snap.strength_sessions[phase] += sessions
        snap.heavy_sessions[phase] += heavy
        for topic in state.memory:
            point = dropoff_point(topic)
            if point is not None:
                snap.dropoff_active[point] += 1
        if state.adherence.last_day:
            snap.days_since_log[phase].append(day - state.adherence.last_day)
    return snap


def _gauge(name: str, doc: str, label: str, values_by: Mapping[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in values_by.items():
        family.add_metric([key], value)
    return family


def adherence_families(snap: AdherenceSnapshot) -> list[Metric]:
    shares = {p: snap.meeting_target[p] / n for p, n in snap.athletes.items() if n}
    heavy = {p: snap.heavy_sessions[p] / n for p, n in snap.strength_sessions.items() if n}
    histogram = HistogramMetricFamily(
        "strideline_days_since_last_log", "Athletes by days since their last log (never-logged left out).",
        labels=["phase"])
    for phase, days in snap.days_since_log.items():
        buckets = [(str(b), sum(1 for d in days if d <= b)) for b in DAYS_SINCE_LOG_BUCKETS]
        histogram.add_metric([phase], buckets + [("+Inf", len(days))], sum(days))
    return [
        _gauge("strideline_athletes", "Athletes with a saved projection, by phase.", "phase", snap.athletes),
        _gauge("strideline_athletes_meeting_strength_target",
               "Athletes with >= 2 strength sessions in their last complete week, by phase.", "phase",
               snap.meeting_target),
        _gauge("strideline_strength_target_ratio",
               "Share of the phase's athletes meeting the 2-3 strength sessions/week target "
               "(absent for an empty phase).", "phase", shares),
        _gauge("strideline_strength_sessions_last_week",
               "Strength sessions in the athletes' last complete week, summed by phase.", "phase",
               snap.strength_sessions),
        _gauge("strideline_heavy_sessions_last_week",
               "Heavy strength sessions in the athletes' last complete week, summed by phase.", "phase",
               snap.heavy_sessions),
        _gauge("strideline_heavy_session_ratio",
               "Heavy sessions / strength sessions last complete week, pooled by phase (absent when "
               "nobody lifted).", "phase", heavy),
        _gauge("strideline_dropoff_flags_active",
               "Athletes whose latest decision point holds a drop-off flag, by point.", "point",
               snap.dropoff_active),
        histogram,
    ]


class AdherenceCollector:
    """Adherence gauges from the saved athlete projections, recomputed at most every ``ttl`` s.

    A scrape after the cache expired scans every projection row (the fields above only); others
    are served from the snapshot. ``now`` is the runtime's clock, so simulated time works."""

    def __init__(self, store, clock: Callable[[], dt.datetime] | None = None, *, ttl: float | None = None,
                 projection: str = "athlete") -> None:
        self.store = store
        self.now = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.ttl = float(os.environ.get("STRIDELINE_ADHERENCE_CACHE_S", "30")) if ttl is None else ttl
        self.projection = projection
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def states(self) -> Iterator[AdherenceInputs]:
        for athlete_id in self.store.projection_checkpoints(self.projection):
            record = self.store.load_projection(athlete_id, self.projection)
            if record is not None:
                yield _decode_inputs(record.state)

    def _compute(self) -> list[Metric]:
        began = time.perf_counter()
        checkpoints = self.store.projection_checkpoints(self.projection)
        behind = sum(1 for head in self.store.stream_heads()
                     if not head.stream.endswith("/recommendations")
                     and checkpoints.get(head.stream, 0) < head.version)
        families = adherence_families(adherence_snapshot(self.states(), self.now()))
        families.append(GaugeMetricFamily("strideline_projections_behind",
                                          "Athletes whose saved projection is behind their stream head.",
                                          value=behind))
        families.append(GaugeMetricFamily("strideline_adherence_scan_seconds",
                                          "Time the latest projection scan took.",
                                          value=time.perf_counter() - began))
        families.append(GaugeMetricFamily("strideline_adherence_scan_timestamp_seconds",
                                          "Unix time of the latest projection scan.", value=time.time()))
        return families

    def collect(self) -> list[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] >= self.ttl:
                self._cached = (time.monotonic(), self._compute())
            return self._cached[1]


