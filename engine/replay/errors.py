"""Replay's refusals: each names what failed, for whom, and where in the log."""

from __future__ import annotations


class ReplayError(Exception):
    """A replay, simulation, sweep, export or import could not be done; the message says why."""


class PolicyEvaluationError(ReplayError):
    """A policy (or the fold under it) raised while deciding for an athlete.

    Names the policy, the athlete and the event (global position, stream version, type and
    recorded_at), and whether it happened at the day-boundary decision points before that event,
    at the decision point after it, or at the day boundaries up to the horizon.
    """

    def __init__(self, policy: str, athlete_id: str, position: int | None, version: int | None,
                 where: str, cause: str) -> None:
        self.policy, self.athlete_id = policy, athlete_id
        self.position, self.version, self.where, self.cause = position, version, where, cause
        at = "" if position is None else f" at event position {position} (stream version {version})"
        super().__init__(f"policy {policy!r} failed for athlete {athlete_id!r}{at}, {where}: {cause}")

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.policy, self.athlete_id, self.position, self.version, self.where,
                             self.cause))
