"""The baseline progression policy: RULES.md as advice, one piece per topic, quiet by design.

Topics: ``phase`` (advance/regress), ``strength`` (the week's strength plan), ``run`` (the week's
running plan: walk-run level, or weekly km and long-run cap), ``plyometric`` (the next drill),
``pain`` (a hold or a deload that carries every reduced target: one pain picture, one advice),
``recovery`` (sleep or fuelling hold), ``bsi``, ``clinician``, ``run:spike``, ``run:ladder`` and the
drop-off flags. While pain or recovery holds progression, the hold (or deload) speaks for the
strength and running plans (``covers``), so a red score gives one deload, not one per exercise.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from engine.policies.base import Advice
from engine.policies.baseline import phases, running
from engine.policies.baseline import strength as st
from engine.policies.baseline.config import BaselineConfig
from engine.policies.baseline.dropoffs import dropoffs, flag
from events.vocabulary import Drill
from projections import capacity as cap
from projections import load as ld
from projections import pain as pn
from projections import phase as ph
from projections import recovery as rec
from projections.athlete import AthleteState
from projections.calendar import local_day, week_of, week_start

PLANS = ("strength", "run")
DRILL_NAMES = ("double-leg pogo", "jumps (double-leg jumps, box jumps or skipping)", "single-leg hops")
DRILL_CODES = (str(Drill.POGO), str(Drill.DOUBLE_LEG_JUMP), str(Drill.SINGLE_LEG_HOP))


class BaselinePolicy:
    """RULES.md as a policy. ``decide`` returns the advice that holds at ``decision_time``."""

    name = "baseline"
    version = "2.0.0"
    config_type = BaselineConfig

    def __init__(self, config: BaselineConfig | None = None) -> None:
        self.config = config or BaselineConfig()
        c, m = self.config, self.config.modifiers
        self._cautious_phases = msgspec.structs.replace(
            c.phases, settle_days=c.phases.settle_days + m.previous_injury_extra_settle_days,
            strength_min_weeks=c.phases.strength_min_weeks + m.previous_injury_extra_strength_weeks)

    def decide(self, state: AthleteState, decision_time: dt.datetime) -> list[Advice]:
        if not state.profile.enrolled:
            return []
        cfg, s = self.config, state
        day = local_day(decision_time, s.profile.time_zone)
        cautious = s.profile.previous_injuries > 0 or "previous_injury" in s.profile.contributors
        criteria = self._cautious_phases if cautious else cfg.phases
        step = cfg.modifiers.previous_injury_step_factor if cautious else 1.0
        light, light_why = pn.traffic_light(s.pain, day, cfg.pain)
        recovery = self._recovery_hold(s, day)
        change = phases.change(cfg, s, day, criteria, light, recovery is not None)
        if change is not None:
            return [change]  # the runner records it and asks again in the new phase
        mode = st.DELOAD if light == pn.RED else st.HOLD if light == pn.AMBER or recovery else st.PROGRESS
        ladder, judged = running.judge(s, cfg.run, cfg.pain)
        bsi = self._bsi(s, day, ladder)
        running_plan = None if any(a.topic == "bsi" for a in bsi) else \
            self._run(s, day, mode, step, ladder, judged)  # bone-stress pain: its own advice, not the plan
        plans = [a for a in (self._strength(s, day, mode, step), running_plan) if a is not None]
        advice: list[Advice] = []
        if mode == st.PROGRESS:
            advice += plans
        elif light != pn.GREEN:
            advice.append(self._pain(light, light_why, plans))
        else:
            advice.append(msgspec.structs.replace(recovery, target=_merged(plans), covers=PLANS))
        advice += bsi
        advice += self._run_flags(s, day, judged, ladder)
        plyo = self._plyometric(s, day, criteria)
        if plyo is not None:
            advice.append(plyo)
        advice += dropoffs(cfg, s, day, criteria)
        return advice

    # -- pain and recovery --------------------------------------------------------------------

    def _pain(self, light: str, why: dict, plans: list[Advice]) -> Advice:
        targets = ", ".join(a.explanation.split(": ", 1)[-1].rstrip(".") for a in plans) or "no loaded work to change"
        if light == pn.RED:
            return Advice(topic="pain", kind="deload", rule_id="pain.traffic_light_red", covers=PLANS,
                          explanation=f"Pain is red ({why['reason']}): deload until it settles: {targets}.",
                          target={"load_factor": self.config.strength.deload_factor} | _merged(plans),
                          rationale=why)
        return Advice(topic="pain", kind="hold", rule_id="pain.traffic_light_amber", covers=PLANS,
                      explanation=f"Pain is amber ({why['reason']}): hold, no progression, and it must be green "
                                  f"by next morning: {targets}.",
                      target={"hold": True}, rationale=why)  # the held loads are the last ones: named in
        # the explanation, not in the target, so a new plan week alone does not re-issue the hold

    def _recovery_hold(self, s: AthleteState, day: int) -> Advice | None:
        m = self.config.modifiers
        first = day - m.window_days
        hours, nights = rec.average_sleep(s.recovery, first, day - 1)
        if hours is not None and nights >= m.min_nights_logged and hours < m.short_sleep_hours:
            return Advice(topic="recovery", kind="hold", rule_id="recovery.short_sleep",
                          explanation=f"Sleep averaged {hours:.1f} h over {nights} nights this week (under "
                                      f"{m.short_sleep_hours:g} h): hold progression until it recovers.",
                          rationale={"average_sleep_h": round(hours, 2), "nights": nights,
                                     "short_sleep_hours": m.short_sleep_hours})
        low = rec.under_fuelled_days(s.recovery, first, day - 1)
        if low >= m.under_fuelled_days:
            return Advice(topic="recovery", kind="hold", rule_id="recovery.under_fuelling",
                          explanation=f"Under-fuelled on {low} days this week (limit {m.under_fuelled_days - 1}): "
                                      "hold progression and eat enough to adapt.",
                          rationale={"under_fuelled_days": low, "threshold": m.under_fuelled_days})
        return None

    # -- the week's plans ---------------------------------------------------------------------

    def _strength(self, s: AthleteState, day: int, mode: str, step: float) -> Advice | None:
        if s.phase.phase == "settle":
            return None
        stage, targets = st.plan(self.config.strength, s, day, mode, step)
        if not targets:
            return None
        week, sets, reps = stage
        kind = st.kind_of(targets) if mode == st.PROGRESS else mode
        words = "; ".join(t.words() for t in targets)
        rule = "strength.hsr_progress" if kind == st.PROGRESS else "strength.hsr_hold" if mode != st.DELOAD \
            else "strength.deload_red"
        return Advice(topic="strength", kind=kind, rule_id=rule,
                      explanation=f"Strength plan, heavy slow resistance week {week} ({sets}x{reps}): {words}",
                      target=st.targets_dict(stage, targets),
                      rationale={"ladder_week": week, "target_sets": sets, "target_reps": reps,
                                 "load_step": self.config.strength.load_step * step, "mode": mode})

    def _run(self, s: AthleteState, day: int, mode: str, step: float, ladder: running.Ladder,
             judged: list[running.JudgedRun]) -> Advice | None:
        phase, cfg = s.phase.phase, self.config.run
        if phase not in ("return_to_run", "integration"):
            return None
        if phase == "return_to_run" and not ladder.complete:
            level = ladder.next_level
            if mode == st.DELOAD:
                level = max(1, min(level, ladder.last_level or level) - 1)
            elif mode == st.HOLD:
                level = max(1, min(level, ladder.last_level or 1))
            back = ladder.painful_day is not None and level < ladder.painful_level
            kind = "deload" if mode == st.DELOAD or (back and level < ladder.painful_level) else \
                "hold" if mode == st.HOLD else "progress"  # stable while the level is unchanged
            rule = "run.walk_run_back" if back or mode == st.DELOAD else "run.walk_run_level"
            why = f"you have completed level {ladder.completed} of {cfg.walk_run_levels}"
            if back:
                why += f"; level {ladder.painful_level} hurt, so level {ladder.painful_level - 1} must be repeated " \
                       "pain-free first"
            return Advice(topic="run", kind=kind, rule_id=rule,
                          explanation=f"Running plan: walk-run level {level} of {cfg.walk_run_levels} ({why}); do "
                                      f"each level {cfg.walk_run_repeats} times, a rest day between, pain-free "
                                      "before moving up.",
                          target={"walk_run_level": level},
                          rationale={"completed_level": ladder.completed, "last_level": ladder.last_level,
                                     "painful_level": ladder.painful_level, "repeats": cfg.walk_run_repeats})
        plan_from = week_start(week_of(day))
        last_km = ld.week_km(s.load, plan_from - 7)
        before_km = ld.week_km(s.load, plan_from - 14)
        pre = s.profile.pre_injury_weekly_km
        base = max(last_km, cfg.start_weekly_km)
        if mode == st.DELOAD:
            target = base * cfg.volume_deload_factor
        elif mode == st.HOLD:
            target = last_km
        else:
            target = min(base * (1 + cfg.weekly_step * step),
                         max(before_km, cfg.start_weekly_km) * (1 + cfg.two_week_max_increase))
            if phase == "return_to_run" and pre > 0:
                target = min(target, pre)
        target = round(target, 1)
        longest = running.longest_eligible(s, judged, plan_from, cfg.longest_window_days)
        out = {"weekly_km": target}
        words = f"{target:g} km this week (last week {last_km:.1f} km, the week before {before_km:.1f} km"
        words += f", pre-injury {pre:g} km)" if phase == "return_to_run" else ")"
        if longest > 0:
            out["long_run_cap_km"] = round(longest * (1 + cfg.single_run_cap), 1)
            words += f"; longest run at most {out['long_run_cap_km']:g} km (+{cfg.single_run_cap:.0%} over your " \
                     f"30-day longest, {longest:g} km)"
        if phase == "integration":
            weeks_in = max(0, (day - s.phase.entered_day) // 7)
            allowed = cfg.integration_intense_per_week[min(weeks_in, len(cfg.integration_intense_per_week) - 1)]
            out["intense_sessions_per_week"] = allowed
            words += f"; up to {allowed} quality session(s) a week (week {weeks_in + 1} of integration)"
        kind, rule = ("progress", "run.volume_progress") if target > last_km + 0.05 else \
            ("hold", "run.volume_hold") if target >= last_km - 0.05 or mode != st.PROGRESS else \
            ("deload", "run.volume_limit")
        if mode == st.DELOAD:
            kind, rule = "deload", "run.volume_deload"
        return Advice(topic="run", kind=kind, rule_id=rule,
                      explanation=f"Running plan, volume first: {words}.", target=out,
                      rationale={"last_week_km": round(last_km, 1), "two_weeks_ago_km": round(before_km, 1),
                                 "pre_injury_weekly_km": pre, "weekly_step": cfg.weekly_step * step,
                                 "longest_30d_km": round(longest, 1)})

    # -- plyometrics, bone stress, run flags --------------------------------------------------

    def _plyometric(self, s: AthleteState, day: int, c: ph.PhaseCriteria) -> Advice | None:
        if s.phase.phase != "plyometric":
            return None
        entered = s.phase.entered_day
        done = ph.drill_stage(s.capacity, 0, day, c.readiness_max_pain)
        counted = ph.plyometric_days(s.capacity, entered, day)
        stage = min(done, cap.DRILL_STAGES - 1)
        return Advice(topic="plyometric", kind="progress", rule_id="plyometric.drill_ladder",
                      explanation=f"Plyometrics: {DRILL_NAMES[stage]} next, at least 48 h after the last session "
                                  f"({len(counted)} of {c.plyometric_min_sessions} spaced sessions so far, {done} of "
                                  f"{cap.DRILL_STAGES} drills done pain-free); move up only when the drill was "
                                  f"pain-free (at most {c.readiness_max_pain}/10) and fine the next day.",
                      target={"drill": DRILL_CODES[stage], "drill_stage": stage + 1},
                      rationale={"drills_done": done, "spaced_sessions": len(counted),
                                 "min_sessions": c.plyometric_min_sessions})

    def _bsi(self, s: AthleteState, day: int, ladder: running.Ladder) -> list[Advice]:
        p, out, hold = s.profile, [], self.config.bsi_hold_days
        if p.bone_site is None:
            return out
        pain_days = [d for d in range(day - hold + 1, day + 1)
                     if s.pain.activity.get(d, 0) > 0 and (d in s.load.km or d in s.load.walk_run_levels)]
        if pain_days and s.phase.phase in ("return_to_run", "integration"):
            level = ladder.painful_level if ladder.painful_day == pain_days[-1] else ladder.last_level
            back = max(1, min(level, self.config.run.walk_run_levels) - 1)
            resume = running.date_words(pain_days[-1] + hold)
            out.append(Advice(topic="bsi", kind="deload", rule_id="bsi.running_pain", covers=("run",),
                              explanation=f"Bone stress: pain while running on {running.date_words(pain_days[-1])}. "
                                          f"Stop running for {hold} days; from {resume} resume at walk-run level "
                                          f"{back} and repeat it pain-free before level {back + 1} again.",
                              target={"no_running_days": hold, "walk_run_level": back},
                              rationale={"pain_day_offset": day - pain_days[-1], "bone_site": p.bone_site,
                                         "level": level}))
        if p.high_risk_bsi and not ph.has_clearance(p.clearances) and s.phase.phase in ("settle", "plyometric"):
            out.append(Advice(topic="clinician", kind="flag", rule_id="bsi.clearance_required",
                              explanation=f"High-risk bone stress site ({p.bone_site}): a clinician must clear you "
                                          "before running.",
                              target={"refer_to_clinician": True}, rationale={"bone_site": p.bone_site}))
        return out

    def _run_flags(self, s: AthleteState, day: int, judged: list[running.JudgedRun],
                   ladder: running.Ladder) -> list[Advice]:
        cfg, out = self.config.run, []
        spikes = running.flagged(s, judged, day, cfg.flag_days, "spike")
        if spikes:
            arrived = [j for j in spikes if j.key in s.arrived] or spikes  # news first (a late sync),
            r = max(arrived, key=lambda j: (j.day, j.km / j.reference_km))  # then the latest run
            over = r.km / r.reference_km - 1
            cap_km = round(r.reference_km * (1 + cfg.single_run_cap), 1)
            out.append(_run_flag(r, flag("run:spike", "run.single_run_spike",
                            f"Your {r.km:g} km run on {running.date_words(r.day)} was {over:.0%} longer than your "
                            f"longest in the 30 days before it ({r.reference_km:g} km): injury risk rises. Keep long "
                            f"runs under {cap_km:g} km; that run does not raise your cap.",
                            {"run_km": r.km, "longest_30d_km": r.reference_km, "increase": round(over, 3),
                             "cap": cfg.single_run_cap, "run_day_offset": day - r.day})))
        skips = running.flagged(s, judged, day, cfg.flag_days, "ladder_skip")
        if skips and s.phase.phase == "return_to_run":
            r = skips[-1]
            out.append(_run_flag(r, flag("run:ladder", "run.ladder_skipped",
                            f"A continuous {r.km:g} km run on {running.date_words(r.day)} skipped the walk-run ladder "
                            f"(level {r.level_when_run} of {cfg.walk_run_levels} completed): go back to walk-run level "
                            f"{ladder.next_level}; that run is not a base for your caps.",
                            {"run_km": r.km, "completed_level": r.level_when_run,
                             "walk_run_levels": cfg.walk_run_levels})))
        return out


def _run_flag(run: running.JudgedRun, advice: Advice) -> Advice:
    """A run flag names its run (km and local date): a second spike while the first is still
    flagged is news, not the same flag again."""
    return msgspec.structs.replace(advice, target={"run_km": run.km,
                                                   "run_date": dt.date.fromordinal(run.day).isoformat()})


def _merged(plans: list[Advice]) -> dict[str, float | int | str | bool]:
    out: dict[str, float | int | str | bool] = {}
    for plan in plans:
        out |= plan.target
    return out
