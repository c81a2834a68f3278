"""Policy test fixtures: hand-written athlete diaries (``engine.scenarios.History``) and a ``Journey``
that walks a compliant athlete through the phases, so a rule's scenario starts where the rule lives.

Day numbers are offsets from ``History``'s start (2026-03-02, a Monday, UTC). The compliant journey
(the /tmp/ideal.py diary) advances on fixed days:

    settle -> strength       at day 7 (00:00, the day boundary after 7 settled days)
    strength -> plyometric   at day 49 (six heavy weeks, squat e1RM >= body mass, 20 calf raises)
    plyometric -> return_to_run  at day 70 (readiness tests, 4+ plyometric sessions)
    return_to_run -> integration at day 98 (two weeks at the pre-injury 20 km)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine.policies.baseline import BaselinePolicy  # noqa: E402
from engine.scenarios import History  # noqa: E402
from policy_support import Journey  # noqa: E402


@pytest.fixture
def policy() -> BaselinePolicy:
    return BaselinePolicy()


@pytest.fixture
def journey():
    """``journey(**history_kwargs)``: a fresh compliant athlete (pre-injury 20 km/week, 70 kg)."""

    def make(**kwargs) -> Journey:
        kwargs = {"body_mass_kg": 70.0, "weekly_km": 20.0, "longest_km": 8.0} | kwargs
        return Journey(History(**kwargs))

    return make
