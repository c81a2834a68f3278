"""Hand-made policies whose recommendations are easy to predict (loaded as ``policies_for_tests:X``)."""

from __future__ import annotations

from engine.policies.base import Advice


class _Cap:
    version = "1"
    config = None
    divisor = 1

    def decide(self, state, decision_time):
        return [Advice(topic="cap", kind="progress", rule_id="cap.step", explanation="",
                       target={"km": state.version // self.divisor})]


class Tortoise(_Cap):
    """Its cap rises every third event: changes at versions 3 and 6."""

    name = "tortoise"
    divisor = 3


class Hare(_Cap):
    """Its cap rises every second event: changes at versions 2, 4 and 6."""

    name = "hare"
    divisor = 2


class Fussy:
    """Raises at the first decision point that has seen the athlete's fourth event (the decision
    after the batch holding it)."""

    name = "fussy"
    version = "1"
    config = None

    def decide(self, state, decision_time):
        if state.version >= 4:
            raise ValueError(f"cannot decide on version {state.version}")
        return []


class Scripted:
    """Moves the athlete to strength at the first decision point and keeps a 5 km long-run cap."""

    name = "scripted"
    version = "1"
    config = None

    def decide(self, state, decision_time):
        advice = [Advice(topic="run:long_cap", kind="progress", rule_id="cap", explanation="",
                         target={"long_run_cap_km": 5.0})]
        if state.phase.phase == "settle":
            advice.append(Advice(topic="phase", kind="advance_phase", rule_id="go", explanation="",
                                 target={"phase": "strength"}, new_phase="strength"))
        return advice
