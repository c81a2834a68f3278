"""One athlete under several policies: the live decision-point mechanism, event by event.

Each policy gets its own :class:`Lane`: a fresh ``AthleteState`` folded with
``engine.decisions.advance`` exactly as the projector does live (day boundaries up to each event's
``recorded_at``, the event, its decision point; then the day boundaries up to the horizon). Events
are fed one at a time so a failure names the event; before a run, the day boundaries up to its
``recorded_at`` are evaluated first (the same calls live processing makes when a tick comes
before the event), so the tracker can see which long-run cap was in force.

When ``advance`` groups a batch (events sharing a ``recorded_at``) into one decision point, events
are fed with ``complete=False``: the batch's decision waits until the next event of another batch,
the next day boundary, or the horizon, exactly as a live projector reading the whole batch decides.
Withdrawals of advice (when the decision model emits them) are counted; the recommendation tables
and the metrics read the advice issued.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterable, Sequence

from engine.clock import to_micros
from engine.decisions import advance
from engine.policies.base import Policy
from engine.replay.errors import PolicyEvaluationError
from engine.replay.outcomes import OutcomeTracker
from events import Envelope
from events.vocabulary import RecommendationIssued, RunLogged
from projections.athlete import AthleteState

_BATCHED = "complete" in inspect.signature(advance).parameters
_STEP = {"complete": False} if _BATCHED else {}


class Lane:
    """One policy's view of one athlete."""

    __slots__ = ("label", "policy", "state", "tracker", "recommendations", "withdrawals")

    def __init__(self, label: str, policy: Policy, athlete_id: str) -> None:
        self.label = label
        self.policy = policy
        self.state = AthleteState(athlete_id=athlete_id)
        self.tracker = OutcomeTracker()
        self.recommendations: list[RecommendationIssued] = []
        self.withdrawals = 0

    def _take(self, events: list) -> list:
        if events:
            issued = [e for e in events if type(e) is RecommendationIssued]
            self.withdrawals += len(events) - len(issued)
            self.recommendations += issued
            self.tracker.on_recommendations(issued)
        return events

    def step(self, envelope: Envelope) -> list[RecommendationIssued]:
        """Fold one event with its decision points; returns the new recommendations."""
        state = self.state
        try:
            out = []
            same_batch = _BATCHED and state.pending_us == to_micros(envelope.recorded_at)
            if type(envelope.data) is RunLogged:
                if not same_batch:
                    out = self._take(advance(state, (), self.policy, envelope.recorded_at))
                self.tracker.before_run(envelope, state)
            out += self._take(advance(state, (envelope,), self.policy, **_STEP))
        except Exception as exc:
            where = ("at the decision point after it" if state.version == envelope.version
                     else "at the day-boundary decision points before it, or while folding it")
            raise PolicyEvaluationError(
                self.label, state.athlete_id, envelope.position, envelope.version,
                f"{where} (type {envelope.type}, recorded_at {envelope.recorded_at.isoformat()})",
                f"{type(exc).__name__}: {exc}") from exc
        if state.quarantined and state.quarantined[-1].version == envelope.version:
            return out  # the fold set it aside (projections.athlete.fold_or_quarantine): no outcome either
        self.tracker.on_event(envelope, state)
        return out

    def until(self, horizon: dt.datetime) -> list[RecommendationIssued]:
        """Day boundaries up to ``horizon`` (what the sweeper's ticks evaluate live)."""
        state = self.state
        try:
            return self._take(advance(state, (), self.policy, horizon))
        except Exception as exc:
            raise PolicyEvaluationError(
                self.label, state.athlete_id, state.position or None, state.version or None,
                f"at the day boundaries after it, up to {horizon.isoformat()}",
                f"{type(exc).__name__}: {exc}") from exc

    def finish(self, horizon: dt.datetime) -> dict:
        self.until(horizon)
        return self.tracker.finish(self.state, to_micros(horizon))


def replay_athlete(athlete_id: str, envelopes: Iterable[Envelope], policies: Sequence[tuple[str, Policy]],
                   horizon: dt.datetime) -> list[tuple[Lane, dict]]:
    """Replay one athlete's events (version order, recorded by ``horizon``) under every policy.

    Returns each policy's lane (its recommendations) with its outcome row; an empty list when
    the athlete has no event by the horizon."""
    lanes = [Lane(label, policy, athlete_id) for label, policy in policies]
    seen = False
    for envelope in envelopes:
        seen = True
        for lane in lanes:
            lane.step(envelope)
    if not seen:
        return []
    return [(lane, lane.finish(horizon)) for lane in lanes]
