"""Shared scenario helpers for the policy tests (imported by name: conftest.py puts this folder on
sys.path, as test modules in importlib mode are not importable packages)."""

from __future__ import annotations

import datetime as dt

from engine.scenarios import START, History
from events.vocabulary import RecommendationIssued, RecommendationWithdrawn

READINESS = ("brisk_walk_30min", "single_leg_squat_10", "single_leg_hops", "jog_on_spot_1min")
STRENGTH_DAY, PLYOMETRIC_DAY, RUN_DAY, INTEGRATION_DAY = 7, 49, 70, 140


def at(day: int, hour: int = 0) -> dt.datetime:
    """The instant ``day`` days after the start, at ``hour`` UTC (midnight by default)."""
    return START + dt.timedelta(days=day, hours=hour)


class Journey:
    """A compliant athlete, phase by phase. Each step logs whole days and leaves ``self.d`` at the
    next free day, so a test continues the diary from there."""

    def __init__(self, h: History) -> None:
        self.h = h
        self.d = 0
        self.squat = 50.0

    def settle(self, days: int = 8, rest_pain: int = 1, walk_minutes: float = 0.0) -> "Journey":
        """Rest pain each day, and a walk of ``walk_minutes`` (the bone-stress settle test) if given."""
        for d in range(self.d, self.d + days):
            with self.h.day(d).batch():
                self.h.pain(rest_pain, "rest")
                if walk_minutes:
                    self.h.run(walk_minutes / 12, walk_minutes, rpe=2, kind="walk")
        self.d += days
        return self

    def strength(self, weeks: int = 7) -> "Journey":
        """Three heavy sessions a week (squat 4x6 at RPE 8, rising 1.5 kg a session, single-leg calf
        raises 3x20): after six complete heavy weeks the strength milestones are met."""
        for d in range(self.d, self.d + 7 * weeks):
            with self.h.day(d).batch():
                self.h.pain(1, "rest")
                if d % 7 in (0, 2, 4):
                    self.squat += 1.5
                    self.h.lift("squat", self.squat, 6, 4, rpe=8).lift("calf_raise_single_leg", 10, 20, 3, rpe=8)
        self.d += 7 * weeks
        return self

    def plyometric(self, days: int = 14, tests: bool = True) -> "Journey":
        """A session every other day climbing the drill ladder (pogo, then jumps, then single-leg
        hops), a squat session a week, and the readiness tests on the last day, in that day's batch."""
        sessions = 0
        for d in range(self.d, self.d + days):
            with self.h.day(d).batch():
                self.h.pain(0, "rest")
                if d % 2 == 0:
                    self.h.plyo("pogo", 80, 0)
                    if sessions >= 1:
                        self.h.plyo("box_jump", 30, 0)
                    if sessions >= 2:
                        self.h.plyo("single_leg_hop", 40, 0)
                    sessions += 1
                if d % 7 == 1:
                    self.h.lift("squat", self.squat, 6, 4, rpe=8)
                if tests and d == self.d + days - 1:
                    for test in READINESS:
                        self.h.readiness(test)
        self.d += days
        return self

    def run_block(self, days: int, km: float = 5.0, lifts: bool = True) -> "Journey":
        """Easy runs every other day, two squat sessions a week, rest pain 0."""
        for d in range(self.d, self.d + days):
            with self.h.day(d).batch():
                self.h.pain(0, "rest")
                if d % 2 == 0:
                    self.h.run(km, rpe=3)
                if lifts and d % 7 in (1, 4):
                    self.h.lift("squat", self.squat, 6, 4, rpe=8)
        self.d += days
        return self

    def walk_run(self, first: int = 1, last: int = 12, pain: int | None = None) -> "Journey":
        """The walk-run ladder: each level twice, every other day, pain-free (or with ``pain``)."""
        for level in range(first, last + 1):
            for _ in range(2):
                with self.h.day(self.d).batch():
                    self.h.pain(0, "rest").run(2.0 + level * 0.25, 30, rpe=3, kind="walk_run", level=level,
                                               pain=pain)
                    if self.d % 7 in (1, 4):
                        self.h.lift("squat", self.squat, 6, 4, rpe=8)
                with self.h.day(self.d + 1).batch():
                    self.h.pain(0, "rest")
                self.d += 2
        return self

    def to_strength(self) -> "Journey":
        return self.settle()

    def to_plyometric(self) -> "Journey":
        return self.settle().strength()

    def to_return_to_run(self) -> "Journey":
        return self.settle().strength().plyometric()

    def to_integration(self) -> "Journey":
        return self.to_return_to_run().walk_run().run_block(14, 5.0).run_block(21, 8.0)


# -- reading recommendations ---------------------------------------------------------------


def rule(recs: list[RecommendationIssued], rule_id: str) -> list[RecommendationIssued]:
    return [r for r in recs if r.rule_id == rule_id]


def topic(recs: list[RecommendationIssued], name: str) -> list[RecommendationIssued]:
    return [r for r in recs if r.topic == name]


def phase_changes(recs: list[RecommendationIssued]) -> list[tuple[str, str, dt.datetime]]:
    """(rule id, new phase, decision time) of every advance/regress."""
    return [(r.rule_id, r.target["phase"], r.decision_time) for r in recs
            if r.kind in ("advance_phase", "regress_phase")]


def day_of(rec: RecommendationIssued | RecommendationWithdrawn) -> int:
    return (rec.decision_time - START).days


def withdrawn(events: list, topic_name: str) -> list[RecommendationWithdrawn]:
    """The withdrawals of ``topic_name`` among a replay's events."""
    return [e for e in events if isinstance(e, RecommendationWithdrawn) and e.topic == topic_name]


def issued(events: list) -> list[RecommendationIssued]:
    return [e for e in events if isinstance(e, RecommendationIssued)]


def in_force(events: list, when: dt.datetime | None = None) -> dict[str, RecommendationIssued]:
    """The advice in force per topic after the events decided at or before ``when`` (all by default)."""
    out: dict[str, RecommendationIssued] = {}
    for e in events:
        if when is not None and e.decision_time > when:
            break
        if isinstance(e, RecommendationIssued):
            out[e.topic] = e
        elif out.get(e.topic) is not None and out[e.topic].recommendation_id == e.recommendation_id:
            del out[e.topic]
    return out


# -- watching the policy at every decision point ---------------------------------------------


class Decision:
    __slots__ = ("time", "phase", "advice")

    def __init__(self, time: dt.datetime, phase: str, advice: list) -> None:
        self.time, self.phase, self.advice = time, phase, advice


class RecordingPolicy:
    """Wraps a policy and keeps every decision point: its time, the phase the policy saw, the advice
    returned. Same name and version, so recommendation ids are those of the wrapped policy."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.version, self.config = inner.name, inner.version, inner.config
        self.decisions: list[Decision] = []

    def decide(self, state, decision_time):
        advice = self.inner.decide(state, decision_time)
        self.decisions.append(Decision(decision_time, state.phase.phase, list(advice)))
        return advice


def fingerprint(kind: str, rule_id: str, target: dict) -> tuple:
    return kind, rule_id, tuple(sorted(target.items()))


def expected_emissions(decisions: list[Decision]) -> list[tuple]:
    """What emit-on-change must give: per decision point, each topic whose advice differs from the
    previous decision point's (absent counts as different); phase changes always. At a phase change
    the runner asks the policy again for the new phase: the change plus that second answer count."""
    out, previous = [], {}
    merged, skip = [], False
    for index, decision in enumerate(decisions):
        if skip:
            skip = False
            continue
        change = [a for a in decision.advice if a.new_phase is not None]
        if change:
            again = decisions[index + 1]
            decision = Decision(decision.time, decision.phase,
                                change[:1] + [a for a in again.advice if a.new_phase is None])
            skip = True
        merged.append(decision)
    for decision in merged:
        current = {}
        for a in decision.advice:
            fp = fingerprint(a.kind, a.rule_id, a.target)
            if a.new_phase is not None or previous.get(a.topic) != fp:
                out.append((decision.time, a.topic) + fp)
            if a.new_phase is None:
                current[a.topic] = fp
        previous = current
    return out


def emissions(recs: list[RecommendationIssued]) -> list[tuple]:
    return [(r.decision_time, r.topic) + fingerprint(r.kind, r.rule_id, r.target) for r in recs]
