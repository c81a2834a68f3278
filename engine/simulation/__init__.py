"""The cohort simulator: athletes with injuries, habits and a tissue-capacity model, as their apps log them."""

from engine.simulation.advice import Advice
from engine.simulation.athlete import PHASES, SimulatedAthlete
from engine.simulation.cohort import (
    Submission, athlete_profiles, athlete_rng, cohort_size_hint, make_athlete, simulate_athlete,
    simulate_cohort,
)
from engine.simulation.profile import DEFAULT_MIX, AthleteProfile, CohortMix, Habit
from engine.simulation.tissue import DEFAULT_TISSUE, TissueParams

__all__ = [
    "DEFAULT_MIX", "DEFAULT_TISSUE", "PHASES", "Advice", "AthleteProfile", "CohortMix", "Habit",
    "SimulatedAthlete", "Submission", "TissueParams", "athlete_profiles", "athlete_rng",
    "cohort_size_hint", "make_athlete", "simulate_athlete", "simulate_cohort",
]
