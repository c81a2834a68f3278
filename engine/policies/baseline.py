"""The baseline progression policy: every rule of RULES.md, each number a named config field.

Rule ids name the rule that fired (docs/policy.md lists them with their defaults and sources).
The policy is pure: it reads the projection state and the decision time, nothing else.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from engine.policies.base import Advice
from events.vocabulary import INTENSE_RUN_KINDS, RunKind, RunLogged
from projections import adherence as adh
from projections import capacity as cap
from projections import load as ld
from projections import pain as pn
from projections import phase as ph
from projections import recovery as rec
from projections.athlete import AthleteState
from projections.calendar import local_day, week_of, week_start


class StrengthConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ladder: tuple[tuple[int, int, int], ...] = ((1, 3, 15), (3, 3, 12), (5, 4, 10), (8, 4, 8), (12, 4, 6))
    """Heavy slow resistance (Beyer 2015): (last week, sets, reps) -- wk1 3x15, wk2-3 3x12, ..."""
    load_step: float = 0.05
    min_step_kg: float = 1.0
    deload_factor: float = 0.9
    recent_days: int = 10
    """Exercises logged within this many days get a next-session target."""


class RunConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    weekly_step: float = 0.10
    two_week_max_increase: float = 0.30
    single_run_cap: float = 0.10
    longest_window_days: int = 30
    volume_deload_factor: float = 0.8
    walk_run_levels: int = 12
    walk_run_repeats: int = 2
    start_weekly_km: float = 5.0
    intense_rpe: float = 7.0
    integration_intense_per_week: tuple[int, ...] = (1, 1, 2, 2, 3)
    """Intense sessions allowed per week in integration, by week since entering it."""


class DropOffConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    settled_rest_pain_max: int = 2
    strength_silence_days: int = 10
    volume_share_of_pre_injury: float = 0.9
    low_load_weeks: int = 2
    integration_min_sessions: int = 2
    integration_weeks: int = 2
    no_log_days: int = 5


class ModifierConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    previous_injury_step_factor: float = 0.5
    previous_injury_extra_settle_days: int = 3
    previous_injury_extra_strength_weeks: int = 2
    short_sleep_hours: float = 7.0
    min_nights_logged: int = 4
    under_fuelled_days: int = 3
    window_days: int = 7


class BaselineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pain: pn.PainThresholds = pn.PainThresholds()
    phases: ph.PhaseCriteria = ph.PhaseCriteria()
    strength: StrengthConfig = StrengthConfig()
    run: RunConfig = RunConfig()
    dropoff: DropOffConfig = DropOffConfig()
    modifiers: ModifierConfig = ModifierConfig()
    bsi_hold_days: int = 3


class BaselinePolicy:
    """RULES.md as a policy. ``decide`` returns the advice that holds at ``decision_time``."""

    name = "baseline"
    version = "1.0.0"
    config_type = BaselineConfig

    def __init__(self, config: BaselineConfig | None = None) -> None:
        self.config = config or BaselineConfig()
        c, m = self.config, self.config.modifiers
        self._cautious_phases = msgspec.structs.replace(
            c.phases, settle_days=c.phases.settle_days + m.previous_injury_extra_settle_days,
            strength_min_weeks=c.phases.strength_min_weeks + m.previous_injury_extra_strength_weeks)

    # -- entry point -------------------------------------------------------------------------

    def decide(self, state: AthleteState, decision_time: dt.datetime) -> list[Advice]:
        if not state.profile.enrolled:
            return []
        day = local_day(decision_time, state.profile.time_zone)
        cautious = state.profile.previous_injuries > 0 or "previous_injury" in state.profile.contributors
        criteria = self._cautious_phases if cautious else self.config.phases
        step = self.config.modifiers.previous_injury_step_factor if cautious else 1.0
        light, light_why = pn.traffic_light(state.pain, day, self.config.pain)
        recovery = self._recovery_hold(state, day)
        advice: list[Advice] = []
        phase_change = self._phase_change(state, day, criteria, light, recovery is not None)
        if phase_change is not None:
            advice.append(phase_change)
        advice += self._pain(light, light_why)
        if recovery is not None:
            advice.append(recovery)
        hold = light != pn.GREEN or recovery is not None
        advice += self._strength(state, day, light, hold, step)
        bsi = self._bsi(state, day)
        if not any(a.rule_id == "bsi.running_pain" for a in bsi):  # BSI pain: no running advice but its own
            advice += self._running(state, day, light, hold, step, criteria)
        advice += bsi
        advice += self._dropoffs(state, day, criteria)
        return advice

    # -- phases ------------------------------------------------------------------------------

    def _phase_change(self, s: AthleteState, day: int, c: ph.PhaseCriteria, light: str,
                      recovery_hold: bool) -> Advice | None:
        phase = s.phase.phase
        index = ph.PHASES.index(phase)
        if phase != "settle" and s.profile.last_injury_position > s.phase.entered_position:
            return _phase_advice("regress_phase", "settle", "phase.regress_new_injury",
                                 "A new injury was reported: back to settling symptoms.",
                                 {"from_phase": phase})
        red_days = 0 if phase == "settle" else sum(  # only days after the phase began count, so a
            # regress needs fresh red days before the next one: no cascade on the same pain
            1 for d in range(max(day - self.config.phases.red_window_days, s.phase.entered_day + 1), day + 1)
            if _day_colour(s.pain, d, self.config.pain) == pn.RED)
        if phase != "settle" and red_days >= c.red_days_to_regress:
            return _phase_advice("regress_phase", ph.PHASES[index - 1], "phase.regress_red_pain",
                                 f"Red pain on {red_days} days this week: step back a phase.",
                                 {"from_phase": phase, "red_days": red_days,
                                  "red_days_to_regress": c.red_days_to_regress})
        if light != pn.GREEN or recovery_hold or phase == "integration" or \
                _latest_pain_red(s.pain, self.config.pain):
            return None
        p = s.profile
        if phase == "settle":
            since = max(s.phase.entered_day, s.adherence.first_day)
            ready, why = ph.settle_exit(s.pain, s.load, day, since, p.bone_site, p.clearances, c,
                                        self.config.pain)
            text = "Symptoms have settled for a week: start heavy, progressive strength work."
        elif phase == "strength":
            ready, why = ph.strength_exit(s.capacity, s.pain, day, s.phase.entered_day, p.body_mass_kg, c)
            text = "Strength milestones met: start plyometrics (pogo, then jumps, then hops)."
        elif phase == "plyometric":
            ready, why = ph.plyometric_exit(s.capacity, s.phase.entered_day, p.bone_site, p.clearances, c)
            text = "Readiness tests passed pain-free: begin the walk-run return to running."
        else:
            ready, why = ph.return_to_run_exit(s.load, s.pain, day, p.pre_injury_weekly_km, c,
                                               self.config.pain)
            text = "Pre-injury volume held for two weeks with green pain: reintroduce intensity gradually."
        if not ready:
            return None
        return _phase_advice("advance_phase", ph.PHASES[index + 1], f"phase.{phase}_exit", text,
                             why | {"from_phase": phase})

    # -- pain, recovery ----------------------------------------------------------------------

    def _pain(self, light: str, why: dict) -> list[Advice]:
        if light == pn.RED:
            return [Advice(topic="pain", kind="deload", rule_id="pain.traffic_light_red",
                           explanation="Pain is in the red: reduce load until it settles.",
                           target={"load_factor": self.config.strength.deload_factor}, rationale=why)]
        if light == pn.AMBER:
            return [Advice(topic="pain", kind="hold", rule_id="pain.traffic_light_amber",
                           explanation="Pain is amber: hold the current load; it must be green by next morning.",
                           rationale=why)]
        return []

    def _recovery_hold(self, s: AthleteState, day: int) -> Advice | None:
        m = self.config.modifiers
        first = day - m.window_days
        hours, nights = rec.average_sleep(s.recovery, first, day - 1)
        if hours is not None and nights >= m.min_nights_logged and hours < m.short_sleep_hours:
            return Advice(topic="recovery", kind="hold", rule_id="recovery.short_sleep",
                          explanation="Sleep has averaged under 7 hours this week: hold progression.",
                          rationale={"average_sleep_h": round(hours, 2), "nights": nights,
                                     "short_sleep_hours": m.short_sleep_hours})
        low = rec.under_fuelled_days(s.recovery, first, day - 1)
        if low >= m.under_fuelled_days:
            return Advice(topic="recovery", kind="hold", rule_id="recovery.under_fuelling",
                          explanation="Under-fuelled on several days this week: hold progression and eat enough.",
                          rationale={"under_fuelled_days": low, "threshold": m.under_fuelled_days})
        return None

    # -- strength ----------------------------------------------------------------------------

    def _ladder(self, weeks_in: int) -> tuple[int, int]:
        for last_week, sets, reps in self.config.strength.ladder:
            if weeks_in <= last_week:
                return sets, reps
        return self.config.strength.ladder[-1][1:]

    def _strength(self, s: AthleteState, day: int, light: str, hold: bool, step: float) -> list[Advice]:
        if s.phase.phase == "settle":
            return []
        cfg = self.config.strength
        weeks_in = (day - _strength_start(s)) // 7 + 1
        sets, reps = self._ladder(weeks_in)
        out = []
        for exercise, last in sorted(s.capacity.last_session.items()):
            if last.day < day - cfg.recent_days:
                continue
            why = {"last_load_kg": last.load_kg, "last_reps": last.reps, "last_sets": last.sets,
                   "target_reps": reps, "target_sets": sets, "ladder_week": weeks_in, "pain": light}
            topic = f"strength:{exercise}"
            if light == pn.RED:
                load = _round_load(last.load_kg * cfg.deload_factor)
                out.append(Advice(topic=topic, kind="deload", rule_id="strength.deload_red",
                                  explanation=f"Red pain: deload {exercise} to {load} kg for {sets}x{reps}.",
                                  target={"exercise": exercise, "load_kg": load, "sets": sets, "reps": reps},
                                  rationale=why))
            elif last.reps >= reps and last.sets >= sets and not hold:
                load = _round_load(max(last.load_kg * (1 + cfg.load_step * step),
                                       last.load_kg + cfg.min_step_kg * step))
                out.append(Advice(topic=topic, kind="progress", rule_id="strength.hsr_progress",
                                  explanation=f"All sets hit target with green pain: {exercise} {load} kg for {sets}x{reps}.",
                                  target={"exercise": exercise, "load_kg": load, "sets": sets, "reps": reps},
                                  rationale=why | {"load_step": cfg.load_step * step}))
            else:
                out.append(Advice(topic=topic, kind="hold", rule_id="strength.hsr_hold",
                                  explanation=f"Hold {exercise} at {last.load_kg} kg for {sets}x{reps} until all sets reach target with green pain.",
                                  target={"exercise": exercise, "load_kg": last.load_kg, "sets": sets, "reps": reps},
                                  rationale=why))
        return out

    # -- running -----------------------------------------------------------------------------

    def _running(self, s: AthleteState, day: int, light: str, hold: bool, step: float,
                 c: ph.PhaseCriteria) -> list[Advice]:
        phase = s.phase.phase
        if phase not in ("return_to_run", "integration"):
            return []
        cfg, out = self.config.run, []
        level = _walk_run_level(s.load, cfg)
        if phase == "return_to_run" and level < cfg.walk_run_levels:
            current = _current_walk_run_level(s.load, cfg)
            if light != pn.GREEN and current > 1:
                out.append(Advice(topic="run:walk_run", kind="deload", rule_id="run.walk_run_back",
                                  explanation=f"Pain after walk-run: go back to level {current - 1}.",
                                  target={"walk_run_level": current - 1},
                                  rationale={"level": current, "completed_level": level, "pain": light}))
            else:
                nxt = level if hold else level + 1
                out.append(Advice(topic="run:walk_run", kind="hold" if hold else "progress",
                                  rule_id="run.walk_run_level",
                                  explanation=f"Walk-run level {nxt}: repeat each level twice with a rest day between.",
                                  target={"walk_run_level": max(1, nxt)},
                                  rationale={"completed_level": level, "repeats": cfg.walk_run_repeats}))
            return out
        week = week_of(day)
        last_km = ld.week_km(s.load, week_start(week - 1))
        before_km = ld.week_km(s.load, week_start(week - 2))
        pre = s.profile.pre_injury_weekly_km
        base = max(last_km, cfg.start_weekly_km)
        why = {"last_week_km": round(last_km, 1), "two_weeks_ago_km": round(before_km, 1),
               "pre_injury_weekly_km": pre, "weekly_step": cfg.weekly_step * step}
        if light == pn.RED:
            target, kind, rule = base * cfg.volume_deload_factor, "deload", "run.volume_deload"
            text = "Red pain: cut next week's running volume."
        elif hold:
            target, kind, rule = last_km, "hold", "run.volume_hold"
            text = "Hold next week's running volume at last week's."
        else:
            target = min(base * (1 + cfg.weekly_step * step),
                         max(before_km, cfg.start_weekly_km) * (1 + cfg.two_week_max_increase))
            if phase == "return_to_run" and pre > 0:
                target = min(target, pre)
            kind, rule = "progress", "run.volume_progress"
            text = "Build volume first: next week's easy running target."
        out.append(Advice(topic="run:volume", kind=kind, rule_id=rule,
                          explanation=f"{text} ({round(target, 1)} km)",
                          target={"weekly_km": round(target, 1)}, rationale=why))
        longest = ld.longest_before(s.load, day + 1, cfg.longest_window_days)
        if longest > 0:
            cap_km = round(longest * (1 + cfg.single_run_cap), 1)
            out.append(Advice(topic="run:long_cap", kind="progress" if not hold else "hold",
                              rule_id="run.single_run_cap",
                              explanation=f"Keep your next long run under {cap_km} km (+10% over your 30-day longest).",
                              target={"long_run_cap_km": cap_km},
                              rationale={"longest_30d_km": round(longest, 1), "cap": cfg.single_run_cap}))
        last = s.load.last_run
        if last is not None and last.day >= day - 1 and last.previous_longest_km > 0 and \
                last.km > last.previous_longest_km * (1 + cfg.single_run_cap):
            over = last.km / last.previous_longest_km - 1
            out.append(Advice(topic="run:spike", kind="flag", rule_id="run.single_run_spike",
                              explanation=f"That run was {over:.0%} longer than your 30-day longest: injury risk rises; keep the next ones shorter.",
                              target={"long_run_cap_km": round(last.previous_longest_km * (1 + cfg.single_run_cap), 1)},
                              rationale={"run_km": last.km, "longest_30d_km": last.previous_longest_km,
                                         "increase": round(over, 3), "cap": cfg.single_run_cap}))
        if phase == "integration":
            weeks_in = max(0, (day - s.phase.entered_day) // 7)
            allowed = cfg.integration_intense_per_week[min(weeks_in, len(cfg.integration_intense_per_week) - 1)]
            out.append(Advice(topic="run:intensity", kind="hold" if hold else "progress",
                              rule_id="integration.intensity",
                              explanation=f"Reintroduce intensity gradually: up to {allowed} quality session(s) this week.",
                              target={"intense_sessions_per_week": allowed}, rationale={"weeks_in_integration": weeks_in}))
        return out

    # -- bone stress -------------------------------------------------------------------------

    def _bsi(self, s: AthleteState, day: int) -> list[Advice]:
        p, out = s.profile, []
        if p.bone_site is None:
            return out
        hold_from = day - self.config.bsi_hold_days + 1
        pain_days = [d for d in range(hold_from, day + 1)
                     if s.pain.activity.get(d, 0) > 0 and (d in s.load.km or d in s.load.walk_run_levels)]
        if pain_days and s.phase.phase in ("return_to_run", "integration"):
            level = _current_walk_run_level(s.load, self.config.run)
            out.append(Advice(topic="bsi", kind="deload", rule_id="bsi.running_pain",
                              explanation=f"Bone stress: any pain while running means stop, drop back a stage and hold {self.config.bsi_hold_days} days.",
                              target={"no_running_days": self.config.bsi_hold_days,
                                      "walk_run_level": max(1, level - 1)},
                              rationale={"pain_day_offset": day - pain_days[-1], "bone_site": p.bone_site,
                                         "level": level}))
        if p.high_risk_bsi and not ph.has_clearance(p.clearances) and s.phase.phase in ("settle", "plyometric"):
            out.append(Advice(topic="clinician", kind="flag", rule_id="bsi.clearance_required",
                              explanation="High-risk bone stress site: a clinician must clear you before running.",
                              target={"refer_to_clinician": True}, rationale={"bone_site": p.bone_site}))
        return out

    # -- drop-off points ---------------------------------------------------------------------

    def _dropoffs(self, s: AthleteState, day: int, c: ph.PhaseCriteria) -> list[Advice]:
        cfg, phase, out = self.config.dropoff, s.phase.phase, []
        silent = adh.days_since_last_log(s.adherence, day)
        if silent is not None and silent >= cfg.no_log_days:
            out.append(_flag("dropoff:silent", "adherence.no_logs",
                             f"Nothing logged for {silent} days: check in before the rehab stalls.",
                             {"days_since_last_log": silent, "phase": phase}))
        if phase in ("settle", "strength"):
            rest = s.pain.latest.get("rest")
            settled = rest is not None and rest <= cfg.settled_rest_pain_max
            last_lift = max((d for d, n in s.capacity.lift_sets.items() if n), default=None)
            if phase == "strength":  # never lifting in the strength phase is stopping too
                last_lift = max(last_lift or 0, s.phase.entered_day)
            stopped = last_lift is not None and day - last_lift >= cfg.strength_silence_days
            week_km = sum(km for d, km in s.load.km.items() if day - 6 <= d <= day)
            pre = s.profile.pre_injury_weekly_km
            jumped = pre > 0 and week_km >= cfg.volume_share_of_pre_injury * pre
            if settled and (stopped or jumped):
                out.append(_flag("dropoff:1", "dropoff.1_exit_at_pain_relief",
                                 "Pain has settled but capacity has not: keep the strength work going before running more.",
                                 {"rest_pain": rest, "days_since_strength": None if last_lift is None else day - last_lift,
                                  "running_km_7d": round(week_km, 1), "pre_injury_weekly_km": pre},
                                 drop_off_point=1))
        if phase == "strength":
            week = week_of(day)
            low_weeks = 0
            for w in range(week - cfg.low_load_weeks, week):
                sessions, heavy = adh.strength_week(s.capacity, w)
                first = week_start(w)
                light = cap.sessions_in(s.capacity.low_load_sets, first, first + 6)
                if sessions > 0 and heavy == 0 and light > 0:  # RULES.md 2: low-load, not merely moderate
                    low_weeks += 1
            if low_weeks >= cfg.low_load_weeks and week - cfg.low_load_weeks >= week_of(s.phase.entered_day):
                out.append(_flag("dropoff:2", "dropoff.2_exit_before_strength",
                                 "Strength work has stayed light for two weeks: load heavier (<= 8 reps, RPE >= 7).",
                                 {"low_load_weeks": low_weeks, "weeks_needed": cfg.low_load_weeks},
                                 drop_off_point=2))
        if phase == "return_to_run":
            intense = _intense_runs(s, day - 6, day, self.config.run.intense_rpe)
            met, _ = ph.volume_weeks_met(s.load, s.pain, day, s.profile.pre_injury_weekly_km, c, self.config.pain)
            if intense and met < c.volume_weeks:
                out.append(_flag("dropoff:3", "dropoff.3_intensity_too_early",
                                 "Intensity before volume: keep runs easy until pre-injury volume is back.",
                                 {"intense_runs_7d": intense, "volume_weeks_met": met}, drop_off_point=3))
        if phase == "integration":
            week = week_of(day)
            weeks = [adh.strength_week(s.capacity, w)[0] for w in range(week - cfg.integration_weeks, week)]
            if all(n < cfg.integration_min_sessions for n in weeks) and \
                    week - cfg.integration_weeks >= week_of(s.phase.entered_day):
                out.append(_flag("dropoff:4", "dropoff.4_strength_dropped",
                                 "Strength has dropped below twice a week: keep 2-3 sessions to stay injury-free.",
                                 {"sessions_per_week": ",".join(map(str, weeks)),
                                  "min_sessions": cfg.integration_min_sessions}, drop_off_point=4))
        return out


def _phase_advice(kind: str, new_phase: str, rule: str, text: str, why: dict) -> Advice:
    return Advice(topic="phase", kind=kind, rule_id=rule, explanation=text,
                  target={"phase": new_phase}, rationale=why, new_phase=new_phase)


def _flag(topic: str, rule: str, text: str, why: dict, drop_off_point: int | None = None) -> Advice:
    target = {} if drop_off_point is None else {"drop_off_point": drop_off_point}
    return Advice(topic=topic, kind="flag", rule_id=rule, explanation=text, target=target, rationale=why)


def _day_colour(pain: pn.PainState, day: int, limits: pn.PainThresholds) -> str | None:
    worst = None
    for per_day in (pain.rest, pain.activity, pain.morning):
        score = per_day.get(day)
        if score is not None and (worst is None or score > worst):
            worst = score
    if worst is None:
        return None
    return pn.GREEN if worst <= limits.green_max else pn.AMBER if worst <= limits.amber_max else pn.RED


def _latest_pain_red(pain: pn.PainState, limits: pn.PainThresholds) -> bool:
    """The athlete's last pain report (worst context on its day) is red, however long ago it was."""
    if not pain.latest_day:
        return False
    last = max(pain.latest_day.values())
    return max(pain.latest[c] for c, d in pain.latest_day.items() if d == last) > limits.amber_max


def _strength_start(s: AthleteState) -> int:
    for change in reversed(s.phase.changes):
        if change.phase == "strength":
            return change.day
    return s.phase.entered_day


def _walk_run_level(load: ld.LoadState, cfg: RunConfig) -> int:
    """Highest walk-run level done ``walk_run_repeats`` times on non-consecutive days (0: none)."""
    if not load.walk_run_levels:
        return cfg.walk_run_levels if load.km else 0
    days_by_level: dict[int, list[int]] = {}
    for day, level in load.walk_run_levels.items():
        days_by_level.setdefault(level, []).append(day)
    best = 0
    for level, days in days_by_level.items():
        days.sort()
        spaced = 1 + sum(1 for a, b in zip(days, days[1:]) if b - a >= 2)
        if spaced >= cfg.walk_run_repeats:
            best = max(best, level)
    return best


def _intense_runs(s: AthleteState, first_day: int, last_day: int, intense_rpe: float) -> int:
    """Tempo/interval/race runs, or pace-led runs (RPE >= ``intense_rpe``), on first_day..last_day."""
    return sum(1 for e in s.entries.values()
               if first_day <= e.day <= last_day and isinstance(e.data, RunLogged)
               and (e.data.kind in INTENSE_RUN_KINDS
                    or (e.data.kind not in (RunKind.WALK_RUN, RunKind.WALK) and e.data.rpe >= intense_rpe)))


def _current_walk_run_level(load: ld.LoadState, cfg: RunConfig) -> int:
    """The level of the latest run: its walk-run level, or the top level if it was continuous (0: none)."""
    if not load.km:
        return 0
    return load.walk_run_levels.get(max(load.km), cfg.walk_run_levels)


def _round_load(kg: float) -> float:
    return round(kg * 2) / 2
