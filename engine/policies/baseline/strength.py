"""The week's strength plan: every recent exercise's target, on the heavy slow resistance ladder.

Targets an athlete can lift (RULES.md 5): a loaded exercise's target is the load for the ladder's
reps at the athlete's current e1RM (Epley inverse), raised by the load step once the last session
reached the ladder's sets and reps with green pain; bodyweight work progresses by reps, never "0 kg".
The plan is computed from the sessions before the current week (Monday-based), so it changes at most
once a week (the first plan comes from the sessions logged so far; an exercise new this week joins
the plan next week): a quiet plan, not a reaction to every set.
"""

from __future__ import annotations

import msgspec

from engine.policies.baseline.config import StrengthConfig
from events.vocabulary import LiftLogged
from projections import capacity as cap
from projections.athlete import AthleteState
from projections.calendar import week_of, week_start

PROGRESS, HOLD, DELOAD = "progress", "hold", "deload"


class ExerciseTarget(msgspec.Struct, frozen=True):
    exercise: str
    sets: int
    reps: int
    load_kg: float | None
    """None for bodyweight work (targets in reps)."""
    last_load_kg: float
    last_reps: int
    last_sets: int
    e1rm: float

    @property
    def raised(self) -> bool:
        if self.load_kg is None:
            return self.reps > self.last_reps
        return self.load_kg > self.last_load_kg

    @property
    def lowered(self) -> bool:
        if self.load_kg is None:
            return self.reps < self.last_reps
        return self.load_kg < self.last_load_kg

    def words(self) -> str:
        if self.load_kg is None:
            return f"{self.exercise} bodyweight {self.sets}x{self.reps} (last {self.last_sets}x{self.last_reps})"
        return (f"{self.exercise} {self.load_kg:g} kg {self.sets}x{self.reps} (last {self.last_sets}x"
                f"{self.last_reps} at {self.last_load_kg:g} kg, about {self.e1rm:.0f} kg 1RM)")


def strength_start(s: AthleteState) -> int:
    for change in reversed(s.phase.changes):
        if change.phase == "strength":
            return change.day
    return s.phase.entered_day


def ladder_stage(cfg: StrengthConfig, s: AthleteState, day: int) -> tuple[int, int, int]:
    """(ladder week, sets, reps) for the plan week of ``day``."""
    plan_from = week_start(week_of(day))
    weeks_in = max(1, (plan_from - strength_start(s)) // 7 + 1)
    for last_week, sets, reps in cfg.ladder:
        if weeks_in <= last_week:
            return weeks_in, sets, reps
    return weeks_in, cfg.ladder[-1][1], cfg.ladder[-1][2]


def _round_load(kg: float) -> float:
    return round(kg * 2) / 2


def _session_order(day: int, lift: LiftLogged) -> tuple:
    """The latest session is the latest day's; on one day, the heaviest (by content, not by log
    position), so a batch gives the same plan whatever the order of its events (RULES.md 7)."""
    return day, lift.load_kg, lift.reps, lift.sets, lift.rpe


def _reference_sessions(s: AthleteState, day: int, recent_days: int) -> dict[str, tuple[int, int, LiftLogged, float]]:
    """Per exercise: its latest session before the plan week (within ``recent_days``), with the best
    e1RM over those sessions. Before any such session (the first plan) the first lifting day of this
    week stands in, so the plan still changes only once until the next week."""
    plan_from = week_start(week_of(day))
    lifts = [e for e in s.entries.values() if type(e.data) is LiftLogged and e.day <= day]
    chosen = [e for e in lifts if plan_from - recent_days <= e.day < plan_from]
    if not chosen:
        first = min((e.day for e in lifts if e.day >= plan_from), default=None)
        chosen = [e for e in lifts if e.day == first]
    out: dict[str, tuple[int, int, LiftLogged, float]] = {}
    for entry in chosen:
        data = entry.data
        estimate = cap.e1rm(data.load_kg, data.reps)
        seen = out.get(data.exercise)
        if seen is None or _session_order(entry.day, data) > _session_order(seen[0], seen[2]):
            out[data.exercise] = (entry.day, entry.position, data, max(estimate, seen[3] if seen else 0.0))
        else:
            out[data.exercise] = seen[:3] + (max(seen[3], estimate),)
    return out


def plan(cfg: StrengthConfig, s: AthleteState, day: int, mode: str, step: float) -> tuple[tuple[int, int, int], list[ExerciseTarget]]:
    """The week's targets under ``mode`` (progress, hold or deload), in exercise order."""
    stage = ladder_stage(cfg, s, day)
    _, sets, reps = stage
    out = []
    for name, (_, _, last, e1) in sorted(_reference_sessions(s, day, cfg.recent_days).items()):
        if last.load_kg <= 0:
            target_reps = {PROGRESS: min(cfg.bodyweight_max_reps, max(last.reps, last.reps + cfg.bodyweight_rep_step)),
                           HOLD: last.reps, DELOAD: max(1, round(last.reps * cfg.deload_factor))}[mode]
            out.append(ExerciseTarget(name, last.sets, target_reps, None, 0.0, last.reps, last.sets, 0.0))
            continue
        ladder_load = _round_load(e1 / (1 + reps / 30))
        if mode == PROGRESS and last.reps >= reps and last.sets >= sets:
            load = max(ladder_load, _round_load(max(last.load_kg * (1 + cfg.load_step * step),
                                                    last.load_kg + cfg.min_step_kg * step)))
        elif mode == PROGRESS:
            load = ladder_load
        else:
            load = min(last.load_kg, ladder_load)
            if mode == DELOAD:
                load = _round_load(load * cfg.deload_factor)
        out.append(ExerciseTarget(name, sets, reps, load, last.load_kg, last.reps, last.sets, round(e1, 1)))
    return stage, out


def targets_dict(stage: tuple[int, int, int], targets: list[ExerciseTarget]) -> dict[str, float | int | str | bool]:
    _, sets, reps = stage  # the ladder week is in the rationale: a new week alone is no news
    out: dict[str, float | int | str | bool] = {"sets": sets, "reps": reps}
    for t in targets:
        if t.load_kg is not None:
            out[f"{t.exercise}_kg"] = t.load_kg
        out[f"{t.exercise}_sets"] = t.sets
        out[f"{t.exercise}_reps"] = t.reps
    return out


def kind_of(targets: list[ExerciseTarget]) -> str:
    """Honest kinds: ``progress`` only when something rises and nothing is lowered."""
    if any(t.raised for t in targets) and not any(t.lowered for t in targets):
        return PROGRESS
    return HOLD
