"""Running: the walk-run ladder, the single-run spike, ladder skips, and the week's running plan.

Every run is judged against the past, not against itself (RULES.md 5): runs are walked in the order
of their days (``occurred_at`` in the athlete's zone), so a run synced days late is judged against
the 30 days before *its* day. A spike is never the base of a cap (the cap it broke stays where it
was; the same distance run again without a spike becomes the base), and a continuous run that
skipped the ladder is neither a base nor a reference.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from engine.policies.baseline.config import RunConfig
from events.vocabulary import RunKind, RunLogged
from projections import pain as pn
from projections.athlete import AthleteState


class JudgedRun(msgspec.Struct, frozen=True):
    key: str
    day: int
    km: float
    reference_km: float
    """The longest run of the 30 days before this run's day, ladder skips left out (0: none)."""
    spike: bool
    ladder_skip: bool
    level_when_run: int


class Ladder(msgspec.Struct, frozen=True):
    completed: int
    """The highest level done ``walk_run_repeats`` times pain-free, a rest day apart (0: none)."""
    next_level: int
    last_level: int
    """The level of the latest walk-run session (0: none)."""
    painful_level: int
    painful_day: int | None
    complete: bool


def ladder_start(s: AthleteState) -> int | None:
    """The day the athlete last entered return_to_run (None: never): the ladder is climbed from
    there, so a regress and a new return start the ladder again."""
    for change in reversed(s.phase.changes):
        if change.phase == "return_to_run":
            return change.day
    return None


def phase_on(s: AthleteState, day: int) -> str:
    phase = "settle"
    for change in s.phase.changes:
        if change.day <= day:
            phase = change.phase
    return phase


def _painful(s: AthleteState, day: int, limits: pn.PainThresholds) -> bool:
    """Pain on a running day: any pain for a bone stress injury, otherwise pain beyond green."""
    threshold = 0 if s.profile.bone_site is not None else limits.green_max
    return s.pain.activity.get(day, 0) > threshold


def judge(s: AthleteState, cfg: RunConfig, limits: pn.PainThresholds,
          until_day: int = 10**7) -> tuple[Ladder, list[JudgedRun]]:
    """Walk the runs (up to ``until_day``) in day order: the ladder's state, from every walk-run day
    since the athlete entered return_to_run (kept for good by the load projection, so a ladder
    climbed months ago stays climbed), and each retained continuous run's verdict."""
    since = ladder_start(s)
    walk_runs = [(day, 0, "", level) for day, level in s.load.walk_run_levels.items()
                 if since is not None and since <= day <= until_day]
    continuous = [(e.day, e.position, key, e.data) for key, e in s.entries.items()
                  if type(e.data) is RunLogged and e.data.kind not in (RunKind.WALK, RunKind.WALK_RUN)
                  and e.day <= until_day]
    runs = sorted(walk_runs + continuous, key=lambda r: r[:2])
    fresh: dict[int, list[int]] = {}  # level -> pain-free days since that level was last reset
    eligible: list[tuple[int, float]] = []
    judged: list[JudgedRun] = []
    completed, last_level, painful_level, painful_day = 0, 0, 0, None

    def done() -> int:
        best = 0
        for level, days in fresh.items():
            spaced: list[int] = []
            for d in sorted(days):
                if not spaced or d - spaced[-1] >= 2:
                    spaced.append(d)
            if len(spaced) >= cfg.walk_run_repeats:
                best = max(best, level)
        return best

    def reset(level: int) -> None:
        for other in [lv for lv in fresh if lv >= level - 1]:
            del fresh[other]

    for day, _, key, run in runs:
        painful = _painful(s, day, limits)
        if type(run) is int:  # a walk-run day: its level (the projection keeps these for good)
            last_level = run
            if painful:
                reset(run)
                painful_level, painful_day = run, day
            else:
                fresh.setdefault(run, []).append(day)
            eligible.append((day, s.load.km.get(day, 0.0)))
            continue
        completed = done()
        ladder_open = phase_on(s, day) == "return_to_run" and completed < cfg.walk_run_levels
        reference = max((km for d, km in eligible if day - cfg.longest_window_days <= d < day), default=0.0)
        spike = reference > 0 and run.distance_km > reference * (1 + cfg.single_run_cap)
        judged.append(JudgedRun(key, day, run.distance_km, reference, spike, ladder_open, completed))
        if painful and phase_on(s, day) == "return_to_run":
            reset(cfg.walk_run_levels + 1)  # pain on a continuous run: back to the ladder's top level
            painful_level, painful_day = cfg.walk_run_levels + 1, day
        if not ladder_open:  # a later run is judged against this one (Nielsen), spike or not
            eligible.append((day, run.distance_km))
    completed = done()
    ladder = Ladder(completed, min(cfg.walk_run_levels, completed + 1), last_level, painful_level, painful_day,
                    completed >= cfg.walk_run_levels)
    return ladder, judged


def longest_eligible(s: AthleteState, judged: list[JudgedRun], before_day: int, window: int) -> float:
    """Longest run of the ``window`` days before ``before_day`` that may be a cap's base: walk-runs
    and continuous runs that were neither a spike nor a ladder skip."""
    bad = {r.key for r in judged if r.spike or r.ladder_skip}
    return max((e.data.distance_km for key, e in s.entries.items()
                if type(e.data) is RunLogged and e.data.kind != RunKind.WALK and key not in bad
                and before_day - window <= e.day < before_day), default=0.0)


def flagged(s: AthleteState, judged: list[JudgedRun], day: int, flag_days: int, kind: str) -> list[JudgedRun]:
    """Spikes (or ladder skips) the athlete should hear about now: arrived since the previous decision
    point (a late sync is flagged when it arrives), or run within the last ``flag_days`` days."""
    arrived = set(s.arrived)
    return [r for r in judged if getattr(r, kind) and (r.key in arrived or day - flag_days < r.day <= day)]


def date_words(day: int) -> str:
    return dt.date.fromordinal(day).strftime("%a %d %b")
