"""The hidden truth of a simulated athlete: tissue capacity, irritability, bone, and strength.

Units: a day's *load* is measured against the pre-injury training week (running the pre-injury
weekly volume at easy pace is an acute 7-day load of 1.0). *Capacity* is the 7-day load the tissue
tolerates; after an injury it is well below 1.0 and only work above the everyday rebuilds it:
heavy strength most, plyometrics and running within capacity less, low-load exercise hardly at
all, and every gain is scaled by recovery (sleep, fuel). Load above capacity raises
*irritability* (the 0-10 pain the athlete feels) and the chance of a new injury.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from events.vocabulary import InjuryType

KEY_LIFTS = ("calf_raise_single_leg", "squat", "split_squat", "deadlift")
# Starting 1RM as a share of body mass (external load), and each lift's ceiling.
_START_RATIO = {"calf_raise_single_leg": (0.15, 0.45), "squat": (0.6, 1.0),
                "split_squat": (0.25, 0.5), "deadlift": (0.8, 1.3)}
_CEILING_RATIO = {"calf_raise_single_leg": 1.0, "squat": 1.9, "split_squat": 0.9, "deadlift": 2.3}


@dataclass(frozen=True, slots=True)
class TissueParams:
    """Knobs of the capacity model (defaults give plausible 16-week rehab arcs)."""

    heavy_gain: float = 0.04
    light_gain: float = 0.005
    plyo_gain: float = 0.016
    run_gain: float = 0.022
    ceiling: float = 1.8
    detrain_after_days: int = 10
    detrain: float = 0.004
    floor_capacity: float = 0.45
    overload_pain: float = 1.6
    spike_pain: float = 1.0
    intense_pain: float = 0.9
    bone_impact: float = 0.9
    strength_gain: float = 0.042
    light_strength_gain: float = 0.006
    calf_rep_gain: float = 0.7
    reinjury_base: float = 0.00015
    reinjury_overload: float = 0.035
    reinjury_bone: float = 0.02


DEFAULT_TISSUE = TissueParams()
_DECAY = {InjuryType.TENDINOPATHY: 0.87, InjuryType.BONE_STRESS: 0.84, InjuryType.PLANTAR_FASCIA: 0.87,
          InjuryType.MUSCLE_STRAIN: 0.80}


class Tissue:
    __slots__ = ("p", "capacity", "irritability", "floor", "decay", "bone", "bsi", "risk", "loads",
                 "acute", "longest", "one_rm", "ceiling_rm", "calf_reps", "days_since_strength",
                 "load", "stimulus", "lift_stimulus", "light_stimulus", "day_index")

    def __init__(self, rng: random.Random, injury_type: InjuryType, onset_days_before: int,
                 body_mass: float, previous_injuries: int, under_fuels: bool, strong: bool,
                 params: TissueParams = DEFAULT_TISSUE) -> None:
        self.p = params
        self.bsi = injury_type is InjuryType.BONE_STRESS
        self.decay = _DECAY.get(injury_type, 0.82)
        recent = max(0.0, 1.0 - onset_days_before / 50)
        self.floor = rng.uniform(0.2, 0.9)
        self.irritability = self.floor + 1.5 + 4.5 * recent + rng.random()
        self.bone = (4.0 + 3.0 * recent + rng.random()) if self.bsi else 0.0
        self.capacity = rng.uniform(0.2, 0.35) if self.bsi else rng.uniform(0.3, 0.5)
        self.risk = (1.9 if previous_injuries else 1.0) * (1.3 if under_fuels else 1.0) * (1.4 if self.bsi else 1.0)
        self.loads = [0.0] * 7
        self.acute = 0.0
        self.longest = [0.0] * 30
        lo_hi = {k: ((v[0] + v[1]) / 2 + 0.05, v[1] + 0.1) if strong else v for k, v in _START_RATIO.items()}
        self.one_rm = {k: body_mass * rng.uniform(*lo_hi[k]) for k in KEY_LIFTS}
        self.ceiling_rm = {k: body_mass * _CEILING_RATIO[k] for k in KEY_LIFTS}
        self.calf_reps = rng.uniform(12, 17) if strong else rng.uniform(5, 15)
        self.days_since_strength = 30
        self.day_index = 0
        self.load = self.stimulus = 0.0
        self.lift_stimulus = self.light_stimulus = 0

    # --- what the athlete feels -----------------------------------------------------------------

    def longest_30d(self) -> float:
        return max(self.longest)

    def run_pain(self, rng: random.Random, km: float, weekly_km: float, intense: bool) -> int:
        """Pain during a run: irritability, plus the run's size against capacity, plus bone."""
        share = km / weekly_km / max(self.capacity, 0.05)
        pain = self.irritability * 0.8 + 2.2 * max(0.0, share / 0.3 - 1.0) + (1.2 if intense and self.capacity < 1.0 else 0.0)
        if self.bsi and self.bone > 0.6:
            pain += 1.0 + self.bone * 0.7
        return _score(pain + rng.random() + rng.random() - 1.2)

    def activity_pain(self, rng: random.Random, extra: float = 0.0) -> int:
        return _score(self.irritability * 0.75 + extra + rng.random() + rng.random() - 1.2)

    def rest_pain(self, rng: random.Random) -> int:
        return _score(self.irritability + rng.random() + rng.random() - 1.0)

    def tender(self) -> bool:
        return self.bsi and self.bone >= 2.0

    # --- what the athlete does (accumulated over the day) --------------------------------------

    def add_run(self, km: float, weekly_km: float, intensity: float) -> None:
        load = km / weekly_km * intensity
        self.load += load
        previous = max(self.longest)
        if previous > 0 and km > 1.1 * previous:
            self.irritability += self.p.spike_pain * min(2.0, km / previous - 1.0) * 2
        if self.longest[self.day_index % 30] < km:
            self.longest[self.day_index % 30] = km
        if intensity > 1.2 and self.capacity < 1.0:
            self.irritability += self.p.intense_pain * (1.0 - self.capacity) * 2
        if self.bsi and self.bone > 0.5:
            self.bone += self.p.bone_impact * km / 5
        self.stimulus += self.p.run_gain * min(1.1, self.acute / max(self.capacity, 0.05))

    def add_walk(self, minutes: float) -> None:
        self.load += minutes / 1000

    def add_plyometrics(self, contacts: int) -> None:
        self.load += contacts / 2000
        self.stimulus += self.p.plyo_gain
        if self.bsi and self.bone > 0.5:
            self.bone += self.p.bone_impact * contacts / 200

    def add_lifts(self, heavy: bool) -> None:
        self.load += 0.02 if heavy else 0.01
        self.days_since_strength = 0
        if heavy:
            self.stimulus += self.p.heavy_gain
            self.lift_stimulus += 1
        else:
            self.stimulus += self.p.light_gain
            self.light_stimulus += 1

    def lift_progress(self, exercise: str, heavy: bool, recovery: float) -> None:
        gain = (self.p.strength_gain if heavy else self.p.light_strength_gain) * recovery
        rm = self.one_rm[exercise]
        self.one_rm[exercise] = rm * (1 + gain * max(0.0, 1 - rm / self.ceiling_rm[exercise]))
        if exercise == "calf_raise_single_leg":
            self.calf_reps = min(35.0, self.calf_reps + (self.p.calf_rep_gain if heavy else 0.15) * recovery)

    # --- overnight -------------------------------------------------------------------------------

    def end_of_day(self, rng: random.Random, recovery: float) -> bool:
        """Fold the day in; True when the day's load caused a new injury."""
        p = self.p
        slot = self.day_index % 7
        self.acute += self.load - self.loads[slot]
        self.loads[slot] = self.load
        over = max(0.0, self.acute / max(self.capacity, 0.05) - 1.0)
        self.irritability = self.floor + (self.irritability - self.floor) * self.decay + p.overload_pain * over
        if self.irritability > 10:
            self.irritability = 10.0
        if self.bsi:
            self.bone *= 0.94
        headroom = max(0.0, 1.0 - self.capacity / p.ceiling)
        self.capacity += self.stimulus * recovery * headroom
        self.days_since_strength += 1
        if self.days_since_strength > p.detrain_after_days and self.capacity > p.floor_capacity:
            self.capacity -= p.detrain
        hazard = (p.reinjury_base + p.reinjury_overload * over ** 1.5
                  + (p.reinjury_bone * self.bone / 5 if self.bsi and self.load > 0.05 else 0.0)) * self.risk
        self.day_index += 1
        self.longest[self.day_index % 30] = 0.0
        self.load = self.stimulus = 0.0
        self.lift_stimulus = self.light_stimulus = 0
        return rng.random() < hazard

    def reinjure(self, rng: random.Random, bone_stress: bool) -> None:
        self.capacity = max(0.2, self.capacity * rng.uniform(0.55, 0.75))
        self.irritability = max(self.irritability, rng.uniform(5.0, 7.5))
        self.bsi = bone_stress
        self.bone = rng.uniform(4.0, 6.5) if bone_stress else 0.0
        self.risk *= 1.2


def _score(x: float) -> int:
    if x <= 0:
        return 0
    if x >= 10:
        return 10
    return int(x + 0.5)
