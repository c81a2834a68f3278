"""The advice in force: "today's plan", one current piece of advice per topic (RULES.md §8).

Apps receive the recommendation stream as changes (advice issued, advice withdrawn); this is the
state those changes add up to, so an app need not replay the stream to show what applies now. It is
a pure fold over the stream, in stream order:

* ``recommendation.issued`` puts the advice in force on its topic, replacing whatever was there (and
  the advice it names in ``supersedes``);
* ``recommendation.withdrawn`` removes the advice it names, if that advice is still in force.

Read it with :func:`advice_in_force` (store in, :class:`AdviceInForce` out) or fold events you
already hold with :func:`advice_from`. Dates are local to the athlete's time zone, taken from the
athlete's projection (or, before the projector ran, from their ``athlete.enrolled`` event).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import msgspec

from engine.pipeline import load_state
from engine.store.base import EventStore
from events import recommendation_stream
from events.vocabulary import AthleteEnrolled, AthleteProfileUpdated, RecommendationEvent, RecommendationIssued

READ_CHUNK = 1000


class UnknownAthlete(LookupError):
    """The store holds no events for this athlete."""


class AdviceItem(msgspec.Struct, frozen=True, kw_only=True):
    """One topic's advice in force: the recommendation that put it there."""

    topic: str
    recommendation_id: uuid.UUID
    kind: str
    rule_id: str
    explanation: str
    target: dict[str, float | int | str | bool] = {}
    rationale: dict[str, float | int | str | bool | None] = {}
    decision_time: dt.datetime
    local_date: dt.date
    """The decision's date in the athlete's time zone."""
    policy_name: str
    policy_version: str


class AdviceInForce(msgspec.Struct, frozen=True, kw_only=True):
    """What applies to an athlete at ``as_of``: one item per topic, sorted by topic."""

    athlete_id: str
    time_zone: str
    """The athlete's IANA time zone, in which every ``local_date`` is given."""
    as_of: dt.datetime
    local_date: dt.date
    """``as_of``'s date in the athlete's time zone: the day this plan is for."""
    version: int
    """The recommendation-stream version folded (pass it as ``after`` to follow the changes)."""
    items: list[AdviceItem]

    def topic(self, topic: str) -> AdviceItem | None:
        """The advice in force on ``topic``, or None."""
        return next((item for item in self.items if item.topic == topic), None)


def apply(in_force: dict[str, RecommendationIssued], event: RecommendationEvent) -> None:
    """Fold one recommendation-stream entry into ``in_force`` (topic -> advice), in place."""
    if isinstance(event, RecommendationIssued):
        if event.supersedes is not None:
            _remove(in_force, event.supersedes)
        in_force[event.topic] = event
    else:
        _remove(in_force, event.recommendation_id)


def _remove(in_force: dict[str, RecommendationIssued], recommendation_id: uuid.UUID) -> None:
    """Drop the advice with this id wherever it is in force; an id no longer in force is a no-op."""
    for topic, advice in list(in_force.items()):
        if advice.recommendation_id == recommendation_id:
            del in_force[topic]


def _local_date(when: dt.datetime, zone: ZoneInfo) -> dt.date:
    return when.astimezone(zone).date()


def advice_from(athlete_id: str, time_zone: str, events: Iterable[RecommendationEvent],
                as_of: dt.datetime, version: int = 0) -> AdviceInForce:
    """The advice in force after ``events`` (stream order), counting only entries decided at or
    before ``as_of``."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    zone = ZoneInfo(time_zone)
    in_force: dict[str, RecommendationIssued] = {}
    for event in events:
        if event.decision_time <= as_of:
            apply(in_force, event)
    items = [AdviceItem(topic=r.topic, recommendation_id=r.recommendation_id, kind=r.kind, rule_id=r.rule_id,
                        explanation=r.explanation, target=r.target, rationale=r.rationale,
                        decision_time=r.decision_time, local_date=_local_date(r.decision_time, zone),
                        policy_name=r.policy_name, policy_version=r.policy_version)
             for _, r in sorted(in_force.items())]
    return AdviceInForce(athlete_id=athlete_id, time_zone=time_zone, as_of=as_of,
                         local_date=_local_date(as_of, zone), version=version, items=items)


def athlete_time_zone(store: EventStore, athlete_id: str) -> str:
    """The athlete's time zone: from their projection, or their enrolment and latest profile update
    naming one when the projector has not folded them yet; UTC if they never enrolled."""
    state, _ = load_state(store, athlete_id)
    if state.profile.enrolled:
        return state.profile.time_zone
    time_zone, after = "UTC", 0
    while chunk := store.read_stream(athlete_id, after + 1, READ_CHUNK):
        for envelope in chunk:
            if isinstance(envelope.data, (AthleteEnrolled, AthleteProfileUpdated)):
                time_zone = envelope.data.time_zone or time_zone
        after = chunk[-1].version
    return time_zone


def advice_in_force(store: EventStore, athlete_id: str, at: dt.datetime | None = None) -> AdviceInForce:
    """The athlete's advice in force at ``at`` (default: now), read from the store.

    Raises :class:`UnknownAthlete` when the store has no events for ``athlete_id``, and ValueError
    for a naive ``at``.
    """
    as_of = dt.datetime.now(dt.timezone.utc) if at is None else at
    if as_of.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    if store.stream_version(athlete_id) == 0:
        raise UnknownAthlete(f"athlete {athlete_id!r} has no events")
    stream = recommendation_stream(athlete_id)
    events: list[RecommendationEvent] = []
    version = 0
    while chunk := store.read_stream(stream, version + 1, READ_CHUNK):
        events.extend(envelope.data for envelope in chunk)  # type: ignore[misc]
        version = chunk[-1].version
    return advice_from(athlete_id, athlete_time_zone(store, athlete_id), events, as_of, version)
