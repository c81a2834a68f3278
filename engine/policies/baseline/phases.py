"""Phase changes: advance on a met milestone, regress on a new injury or red pain, and step back when
a correction removed the evidence the last advance stood on (RULES.md 1)."""

from __future__ import annotations

from engine.policies.base import Advice
from engine.policies.baseline import running
from engine.policies.baseline.config import BaselineConfig
from projections import pain as pn
from projections import phase as ph
from projections.athlete import AthleteState

NEXT_STEP = {
    "strength": "heavy, progressive strength 2-3 times a week (low reps, high load)",
    "plyometric": "plyometrics 48 h apart: double-leg pogo, then jumps, then single-leg hops",
    "return_to_run": "the walk-run ladder from level 1, volume first, intensity later",
    "integration": "intensity reintroduced gradually, strength kept 2-3 times a week",
    "settle": "settling symptoms with load modification (walking, easy cross-training, low-load strength)",
}


def phase_advice(kind: str, new_phase: str, rule: str, text: str, why: dict) -> Advice:
    return Advice(topic="phase", kind=kind, rule_id=rule, explanation=f"{text} Next: {NEXT_STEP[new_phase]}.",
                  target={"phase": new_phase}, rationale=why, new_phase=new_phase, covers=("",))


def exit_check(cfg: BaselineConfig, s: AthleteState, phase: str, day: int, entered_day: int,
               c: ph.PhaseCriteria) -> tuple[bool, dict, str]:
    """(ready, numbers compared, plain words) for leaving ``phase`` on ``day``."""
    p = s.profile
    if phase == "settle":
        since = max(entered_day, s.adherence.first_day)
        ready, why = ph.settle_exit(s.pain, s.load, day, since, p.bone_site, p.clearances, c, cfg.pain)
        text = (f"Rest pain at or below {c.settle_rest_pain_max}/10 on {why['settled_days_reported']} of the last "
                f"{c.settle_days} days with no worse mornings: symptoms have settled.")
    elif phase == "strength":
        ready, why = ph.strength_exit(s.capacity, s.pain, day, entered_day, p.body_mass_kg, c,
                                      cfg.strength.exercise_aliases)
        text = (f"{why['heavy_weeks']} full weeks with {c.heavy_sessions_per_week}+ heavy sessions (needed "
                f"{c.strength_min_weeks}), {c.key_lift} about {why['key_lift_e1rm_recent']:g} kg 1RM "
                f"({why['key_lift_bodyweight_ratio']:g}x body mass, needed {c.key_lift_min_bodyweight_ratio:g}x) and "
                f"{why['calf_raise_reps']} single-leg calf raises (needed {c.calf_raise_min_reps}).")
    elif phase == "plyometric":
        ready, why = ph.plyometric_exit(s.capacity, entered_day, p.bone_site, p.clearances, c, day)
        text = (f"Readiness tests passed pain-free (at most {c.readiness_max_pain}/10) in one clean session, "
                f"{why['plyometric_sessions']} plyometric sessions 48 h apart (needed {c.plyometric_min_sessions}) "
                f"and every drill of the ladder done pain-free.")
    else:
        ladder, _ = running.judge(s, cfg.run, cfg.pain, until_day=day)
        ready, why = ph.return_to_run_exit(s.load, s.pain, day, p.pre_injury_weekly_km, c, cfg.pain,
                                           ladder.complete)
        text = (f"Weekly easy running of {why['weekly_km']} km against your pre-injury {p.pre_injury_weekly_km:g} km "
                f"for {why['weeks_met']} of {c.volume_weeks} weeks with green pain.")
    return ready, why, text


def change(cfg: BaselineConfig, s: AthleteState, day: int, c: ph.PhaseCriteria, light: str,
           recovery_hold: bool) -> Advice | None:
    phase = s.phase.phase
    index = ph.PHASES.index(phase)
    if phase != "settle" and s.profile.last_injury_position > s.phase.entered_position:
        return phase_advice("regress_phase", "settle", "phase.regress_new_injury",
                            "A new injury was reported: back to settling symptoms.", {"from_phase": phase})
    step_back = correction(cfg, s, c)
    if step_back is not None:
        return step_back
    red_days = 0 if phase == "settle" else sum(  # only days after the phase began count: no cascade
        1 for d in range(max(day - cfg.phases.red_window_days, s.phase.entered_day + 1), day + 1)
        if pn.day_colour(s.pain, d, cfg.pain)[0] == pn.RED)
    if phase != "settle" and red_days >= c.red_days_to_regress:
        back = ph.PHASES[index - 1]
        return phase_advice("regress_phase", back, "phase.regress_red_pain",
                            f"Red pain on {red_days} days in the last {cfg.phases.red_window_days} (limit "
                            f"{c.red_days_to_regress}): step back from {phase} to {back}.",
                            {"from_phase": phase, "red_days": red_days, "red_days_to_regress": c.red_days_to_regress})
    if light != pn.GREEN or recovery_hold or phase == "integration" or _latest_pain_red(s.pain, cfg.pain):
        return None
    ready, why, text = exit_check(cfg, s, phase, day, s.phase.entered_day, c)
    if not ready:
        return None
    nxt = ph.PHASES[index + 1]
    return phase_advice("advance_phase", nxt, f"phase.{phase}_exit", f"{text} Move on to {nxt}.",
                        why | {"from_phase": phase})


def correction(cfg: BaselineConfig, s: AthleteState, c: ph.PhaseCriteria) -> Advice | None:
    """A retraction or amendment of an entry on or before the last advance re-checks that gate; if it
    no longer holds, the athlete steps back to the phase it left (RULES.md 1)."""
    changes = s.phase.changes
    if not s.corrected_days or not changes or not changes[-1].rule_id.endswith("_exit"):
        return None
    last = changes[-1]
    if min(s.corrected_days) > last.day:
        return None
    previous = ph.PHASES[ph.PHASES.index(last.phase) - 1]
    entered = ph.entry_day(s.phase, previous, before=len(changes) - 1)
    ready, why, _ = exit_check(cfg, s, previous, last.day, entered, c)
    if ready:
        return None
    return phase_advice("regress_phase", previous, ph.CORRECTION_RULE,
                        f"A corrected entry removed the evidence for moving to {last.phase}: the {previous} "
                        f"milestone is not met after all, so back to {previous} where you were.",
                        why | {"from_phase": last.phase, "correction": True})


def _latest_pain_red(pain: pn.PainState, limits: pn.PainThresholds) -> bool:
    """The athlete's last pain day (its worst score, whatever order a batch's reports came in) is red,
    however long ago it was."""
    if not pain.latest_day:
        return False
    last = max(pain.latest_day.values())
    day_scores = [v for v in (pain.rest.get(last), pain.activity.get(last), pain.morning.get(last)) if v is not None]
    scores = day_scores or [pain.latest[c] for c, d in pain.latest_day.items() if d == last]
    return max(scores) > limits.amber_max
