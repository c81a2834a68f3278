"""Hand-written athlete histories for tests and policy authors: given these events, then advice.

A ``History`` builds envelopes directly (no store), with a movable clock, so a scenario reads like
the athlete's diary:

    h = History().day(0).pain(1, "rest").lift("squat", 60, 8, 3, rpe=7)
    recs = h.recommendations(BaselinePolicy())
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator

from engine.decisions import advance
from engine.policies.base import Policy
from events import Envelope
from events.vocabulary import (
    AthleteEnrolled,
    ClearanceRecorded,
    CrossTrainingLogged,
    EntryAmended,
    EntryRetracted,
    Event,
    FuellingLogged,
    InjuryReported,
    IsometricLogged,
    LiftLogged,
    PainReported,
    PlyometricLogged,
    ReadinessTestRecorded,
    RecommendationEvent,
    RecommendationIssued,
    RecommendationWithdrawn,
    RunLogged,
    SleepLogged,
)
from projections.athlete import AthleteState, fold

START = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)  # a Monday


class History:
    def __init__(self, athlete_id: str = "ath-1", *, start: dt.datetime = START, time_zone: str = "UTC",
                 body_mass_kg: float = 70.0, weekly_km: float = 30.0, longest_km: float = 12.0,
                 injury: InjuryReported | None = None) -> None:
        self.athlete_id = athlete_id
        self.start = start
        self.now = start + dt.timedelta(hours=7)
        self.envelopes: list[Envelope] = []
        self._batch_at: dt.datetime | None = None
        self._occurred_at: dt.datetime | None = None
        self.log(AthleteEnrolled(body_mass_kg=body_mass_kg, time_zone=time_zone,
                                 pre_injury_weekly_km=weekly_km, pre_injury_longest_run_km=longest_km))
        self.log(injury or InjuryReported(injury_type="tendinopathy", onset_date=start.date() - dt.timedelta(days=7)))

    # -- time --------------------------------------------------------------------------------

    def day(self, offset: int, hour: int = 8) -> "History":
        """Move to ``offset`` days after the start, at ``hour`` (UTC)."""
        self.now = self.start + dt.timedelta(days=offset, hours=hour)
        return self

    def at(self, when: dt.datetime) -> "History":
        self.now = when
        return self

    # -- logging -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator["History"]:
        """Events logged inside share one ``recorded_at``: one submission, one decision point."""
        self._batch_at = self.now
        try:
            yield self
        finally:
            self._batch_at = None
            self.now += dt.timedelta(seconds=1)

    @contextlib.contextmanager
    def happened(self, when: dt.datetime) -> Iterator["History"]:
        """Events logged inside happened at ``when`` but are recorded now (a late sync)."""
        self._occurred_at = when
        try:
            yield self
        finally:
            self._occurred_at = None

    def log(self, data: Event, *, occurred_at: dt.datetime | None = None) -> Envelope:
        version = len(self.envelopes) + 1
        recorded = self._batch_at or self.now
        envelope = Envelope(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{self.athlete_id}/{version}"),
                            stream=self.athlete_id, version=version, position=version,
                            occurred_at=occurred_at or self._occurred_at or self.now, recorded_at=recorded,
                            data=data)
        self.envelopes.append(envelope)
        if self._batch_at is None:
            self.now += dt.timedelta(seconds=1)
        return envelope

    def retract(self, target: Envelope, reason: str = "") -> "History":
        self.log(EntryRetracted(target_event_id=target.event_id, reason=reason))
        return self

    def amend(self, target: Envelope, replacement: Event, reason: str = "") -> "History":
        self.log(EntryAmended(target_event_id=target.event_id, replacement=replacement, reason=reason))
        return self

    def pain(self, score: int, context: str = "rest", **kw) -> "History":
        self.log(PainReported(score=score, context=context, **kw))
        return self

    def lift(self, exercise: str, load_kg: float, reps: int, sets: int = 3, rpe: float = 7.0,
             pain: int | None = None) -> "History":
        self.log(LiftLogged(exercise=exercise, load_kg=load_kg, reps=reps, sets=sets, rpe=rpe, pain=pain))
        return self

    def hold(self, exercise: str, seconds: float, sets: int = 3, pain: int | None = None) -> "History":
        self.log(IsometricLogged(exercise=exercise, hold_seconds=seconds, sets=sets, pain=pain))
        return self

    def cross(self, activity: str = "cycling", minutes: float = 40, rpe: float = 3, pain: int | None = None) -> "History":
        self.log(CrossTrainingLogged(activity=activity, duration_min=minutes, rpe=rpe, pain=pain))
        return self

    def run(self, km: float, minutes: float | None = None, rpe: float = 4.0, kind: str = "easy",
            level: int | None = None, pain: int | None = None) -> "History":
        self.log(RunLogged(distance_km=km, duration_min=minutes or km * 6.0, rpe=rpe, kind=kind,
                           walk_run_level=level, pain=pain))
        return self

    def plyo(self, drill: str = "pogo", contacts: int = 60, pain: int = 0) -> "History":
        self.log(PlyometricLogged(drill=drill, foot_contacts=contacts, pain=pain))
        return self

    def readiness(self, test: str, passed: bool = True, pain: int = 0, result: float | None = None) -> "History":
        self.log(ReadinessTestRecorded(test=test, passed=passed, pain=pain, result=result))
        return self

    def sleep(self, hours: float) -> "History":
        self.log(SleepLogged(hours=hours))
        return self

    def fuel(self, under_fuelled: bool) -> "History":
        self.log(FuellingLogged(under_fuelled=under_fuelled))
        return self

    def clearance(self, scope: str = "running") -> "History":
        self.log(ClearanceRecorded(scope=scope, clinician="dr_test"))
        return self

    # -- outcomes ----------------------------------------------------------------------------

    def state(self) -> AthleteState:
        return fold(self.envelopes, AthleteState(athlete_id=self.athlete_id))

    def replay(self, policy: Policy, horizon: dt.datetime | None = None) -> tuple[AthleteState, list[RecommendationEvent]]:
        """Every decision point of the diary: recommendations issued and withdrawn, in order."""
        state = AthleteState(athlete_id=self.athlete_id)
        recs = advance(state, sorted(self.envelopes, key=lambda e: e.version), policy, horizon)
        return state, recs

    def recommendations(self, policy: Policy, horizon: dt.datetime | None = None) -> list[RecommendationIssued]:
        """The advice issued (withdrawals left out: see :meth:`replay`)."""
        return [r for r in self.replay(policy, horizon)[1] if isinstance(r, RecommendationIssued)]

    def withdrawals(self, policy: Policy, horizon: dt.datetime | None = None) -> list[RecommendationWithdrawn]:
        return [r for r in self.replay(policy, horizon)[1] if isinstance(r, RecommendationWithdrawn)]
