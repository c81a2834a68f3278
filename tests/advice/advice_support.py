"""Builders for the advice tests: recommendation-stream entries appended straight into a store, so
these tests specify delivery and the advice in force without depending on what the policy decides."""

from __future__ import annotations

import datetime as dt
import uuid

from engine.notifiers import delivery_id
from engine.store.base import EventStore
from events import NewEvent, recommendation_stream
from events.vocabulary import (
    AthleteEnrolled,
    RecommendationEvent,
    RecommendationIssued,
    RecommendationWithdrawn,
    WithdrawalReason,
)

UTC = dt.timezone.utc
MONDAY = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def issued(topic: str, kind: str, at: dt.datetime, *, athlete_id: str = "ath-1", rule_id: str = "",
           target: dict | None = None, explanation: str = "", supersedes: RecommendationIssued | None = None,
           ) -> RecommendationIssued:
    return RecommendationIssued(
        recommendation_id=uuid.uuid4(), athlete_id=athlete_id, kind=kind, topic=topic,
        rule_id=rule_id or f"{topic.split(':')[0]}.{kind}", explanation=explanation or f"{kind} on {topic}",
        policy_name="baseline", policy_version="1", decision_time=at, trigger_position=1,
        target=target or {}, supersedes=None if supersedes is None else supersedes.recommendation_id)


def withdrawn(advice: RecommendationIssued, at: dt.datetime, reason: WithdrawalReason = WithdrawalReason.CORRECTION,
              *, superseded_by: RecommendationIssued | None = None) -> RecommendationWithdrawn:
    return RecommendationWithdrawn(
        withdrawal_id=uuid.uuid4(), recommendation_id=advice.recommendation_id, athlete_id=advice.athlete_id,
        kind=advice.kind, topic=advice.topic, rule_id=advice.rule_id, reason=reason,
        explanation=f"{advice.topic} withdrawn: {reason}", policy_name=advice.policy_name,
        policy_version=advice.policy_version, decision_time=at, trigger_position=2,
        superseded_by=None if superseded_by is None else superseded_by.recommendation_id)


def record(store: EventStore, athlete_id: str, *events: RecommendationEvent) -> None:
    """Append entries to the athlete's recommendation stream, each under its delivery id."""
    store.append(recommendation_stream(athlete_id), [
        NewEvent(data=e, occurred_at=e.decision_time, event_id=delivery_id(e)) for e in events])


def enrol(store: EventStore, athlete_id: str = "ath-1", time_zone: str = "UTC",
          at: dt.datetime = MONDAY - dt.timedelta(days=7)) -> None:
    store.append(athlete_id, [NewEvent(data=AthleteEnrolled(
        body_mass_kg=62.0, time_zone=time_zone, pre_injury_weekly_km=40.0, pre_injury_longest_run_km=16.0),
        occurred_at=at)])
