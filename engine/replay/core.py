"""One athlete under several policies: the live decision-point mechanism, batch by batch.

Each policy gets its own :class:`Lane`: a fresh ``AthleteState`` folded with
``engine.decisions.advance`` exactly as the projector does live: events are fed a batch at a time
(the consecutive events sharing a ``recorded_at``: one submission, one decision point), after the
day boundaries up to that ``recorded_at``; then the day boundaries up to the horizon. A failure
names the batch's last event. Before a batch holding a run, the day boundaries up to its
``recorded_at`` are evaluated first (the same calls live processing makes when a tick comes before
the batch), so the tracker can see which long-run cap was in force. Withdrawals of advice are
counted (``withdrawals`` in the outcome row); the recommendation tables and the metrics read the
advice issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from engine.clock import to_micros
from engine.decisions import advance
from engine.policies.base import Policy
from engine.replay.errors import PolicyEvaluationError
from engine.replay.outcomes import OutcomeTracker
from events import Envelope
from events.vocabulary import RecommendationIssued, RunLogged
from projections.athlete import AthleteState


def batches(envelopes: Iterable[Envelope]) -> Iterator[list[Envelope]]:
    """Consecutive events sharing a ``recorded_at`` (one submission: one decision point)."""
    batch: list[Envelope] = []
    for envelope in envelopes:
        if batch and envelope.recorded_at != batch[-1].recorded_at:
            yield batch
            batch = []
        batch.append(envelope)
    if batch:
        yield batch


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

    def step(self, batch: Sequence[Envelope]) -> list:
        """Fold one batch (events sharing a ``recorded_at``) with its decision points; returns the
        recommendation events (issued and withdrawn)."""
        state = self.state
        last = batch[-1]
        try:
            out = []
            runs = [e for e in batch if type(e.data) is RunLogged]
            if runs:
                out = self._take(advance(state, (), self.policy, last.recorded_at))
                for run in runs:
                    self.tracker.before_run(run, state)
            out += self._take(advance(state, batch, self.policy))
        except Exception as exc:
            where = ("at the decision point after it" if state.version == last.version
                     else "at the day-boundary decision points before it, or while folding its batch")
            raise PolicyEvaluationError(
                self.label, state.athlete_id, last.position, last.version,
                f"{where} (type {last.type}, recorded_at {last.recorded_at.isoformat()})",
                f"{type(exc).__name__}: {exc}") from exc
        set_aside = {q.version for q in state.quarantined}  # the fold set these aside: no outcome either
        for envelope in batch:
            if envelope.version not in set_aside:
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
        return self.tracker.finish(self.state, to_micros(horizon)) | {"withdrawals": self.withdrawals,
                                                                       "quarantined": len(self.state.quarantined)}


def replay_athlete(athlete_id: str, envelopes: Iterable[Envelope], policies: Sequence[tuple[str, Policy]],
                   horizon: dt.datetime) -> list[tuple[Lane, dict]]:
    """Replay one athlete's events (version order, recorded by ``horizon``) under every policy.

    Returns each policy's lane (its recommendations) with its outcome row; an empty list when
    the athlete has no event by the horizon."""
    lanes = [Lane(label, policy, athlete_id) for label, policy in policies]
    seen = False
    for batch in batches(envelopes):
        seen = True
        for lane in lanes:
            lane.step(batch)
    if not seen:
        return []
    return [(lane, lane.finish(horizon)) for lane in lanes]
