"""The simulator's public face: ``simulate_cohort`` and friends (implementation in engine/simulation/)."""

from engine.simulation import *  # noqa: F401,F403
from engine.simulation import __all__  # noqa: F401
