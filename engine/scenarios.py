"""Hand-written athlete histories for tests and policy authors: given these events, then advice.

A ``History`` builds envelopes directly (no store), with a movable clock, so a scenario reads like
the athlete's diary:

    h = History().day(0).pain(1, "rest").lift("squat", 60, 8, 3, rpe=7)
    recs = h.recommendations(BaselinePolicy())
"""

from __future__ import annotations

import datetime as dt
import uuid

from engine.decisions import advance
from engine.policies.base import Policy
from events import Envelope
from events.vocabulary import (
    AthleteEnrolled,
    ClearanceRecorded,
    Event,
    FuellingLogged,
    InjuryReported,
    LiftLogged,
    PainReported,
    PlyometricLogged,
    ReadinessTestRecorded,
    RecommendationIssued,
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

    def log(self, data: Event, *, occurred_at: dt.datetime | None = None) -> Envelope:
        version = len(self.envelopes) + 1
        envelope = Envelope(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{self.athlete_id}/{version}"),
                            stream=self.athlete_id, version=version, position=version,
                            occurred_at=occurred_at or self.now, recorded_at=self.now, data=data)
        self.envelopes.append(envelope)
        self.now += dt.timedelta(seconds=1)
        return envelope

    def pain(self, score: int, context: str = "rest", **kw) -> "History":
        self.log(PainReported(score=score, context=context, **kw))
        return self

    def lift(self, exercise: str, load_kg: float, reps: int, sets: int = 3, rpe: float = 7.0) -> "History":
        self.log(LiftLogged(exercise=exercise, load_kg=load_kg, reps=reps, sets=sets, rpe=rpe))
        return self

    def run(self, km: float, minutes: float | None = None, rpe: float = 4.0, kind: str = "easy",
            level: int | None = None) -> "History":
        self.log(RunLogged(distance_km=km, duration_min=minutes or km * 6.0, rpe=rpe, kind=kind,
                           walk_run_level=level))
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

    def replay(self, policy: Policy, horizon: dt.datetime | None = None) -> tuple[AthleteState, list[RecommendationIssued]]:
        state = AthleteState(athlete_id=self.athlete_id)
        recs = advance(state, self.envelopes, policy, horizon)
        return state, recs

    def recommendations(self, policy: Policy, horizon: dt.datetime | None = None) -> list[RecommendationIssued]:
        return self.replay(policy, horizon)[1]
