"""One simulated athlete: a day-by-day step from habits, phase and tissue to logged events.

The athlete keeps its own notion of its rehab phase (settle -> strength -> plyometric ->
return_to_run -> integration), advancing by plausible criteria of its own; it knows nothing of
the engine's phase projection. ``day(date, advice)`` lives one local day and returns what the app
sends, as ``(send_at, NewEvent)`` pairs in send order.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from engine.simulation import sessions as ss
from engine.simulation.advice import Advice
from engine.simulation.logbook import Logbook
from engine.simulation.profile import (
    DEFAULT_MIX, LOW_RISK_SITES, AthleteProfile, CohortMix, Habit, enrol_date,
)
from engine.simulation.tissue import DEFAULT_TISSUE, Tissue, TissueParams
from events.envelope import NewEvent
from events.vocabulary import (
    AssessmentRecorded, AthleteEnrolled, ClearanceRecorded, ClearanceScope, Context, Contributor,
    FuellingLogged, InjuryReported, InjuryType, PainReported, RunKind, SleepLogged,
)

UTC = dt.timezone.utc
PHASES = ("settle", "strength", "plyometric", "return_to_run", "integration")
_INTENSE = (RunKind.TEMPO, RunKind.TEMPO, RunKind.INTERVAL, RunKind.RACE, RunKind.EASY)


class SimulatedAthlete:
    def __init__(self, profile: AthleteProfile, rng: random.Random, start: dt.date, *,
                 mix: CohortMix = DEFAULT_MIX, tissue: TissueParams = DEFAULT_TISSUE) -> None:
        p = self.profile = profile
        self.rng = rng
        self.enrolled_on = enrol_date(profile, start)
        self.zone = ZoneInfo(p.time_zone)
        self.tissue = Tissue(rng, p.injury_type, p.onset_days_before, p.body_mass_kg, p.previous_injuries,
                             p.under_fuels, strong=p.habit is Habit.STRENGTH_DROPPED, params=tissue)
        self.log = Logbook(rng, p.late_rate, mix.typo_rate, mix.duplicate_rate)
        self.habit = p.habit
        self.drops_strength = p.drops_strength
        self.injury = (p.injury_type, p.site, p.bone_site)
        self.previous_injuries = p.previous_injuries
        self.quit = False
        self.gap_until = 0
        self.sleep_h = 7.5
        self.under_today = False
        self.active_yesterday = False
        self.pending_injury: InjuryReported | None = None
        self.week = [0.0, 0, 0, 0]  # run km, heavy sessions, lift days, worst activity pain
        self.weeks: list[list] = []
        self.hold_today = False
        self.morning_base = 2.0
        self._enter("settle")

    @property
    def athlete_id(self) -> str:
        return self.profile.athlete_id

    def _ri(self, a: int, b: int) -> int:
        return a + int(self.rng.random() * (b - a + 1))

    def _enter(self, phase: str) -> None:
        self.phase, self.phase_day = phase, 0
        if phase == "settle":
            self.streak = 0
            self.walked_30 = self.tender_day = -99
            self.cleared = False
            self.clinic_day = None
            self.exit_mode = (False, False)  # (stopped strength, running back at pre-injury volume)
            self.exit_trigger = None
            if self.habit is Habit.EXIT_AT_PAIN_RELIEF:
                in_settle = self.rng.random() < 0.5
                self.exit_trigger = ("settle", self._ri(3, 6)) if in_settle else ("strength", self._ri(5, 20))
            self.flare_until = -1
        elif phase == "strength":
            self.heavy_weeks = 0
            self.sessions = 0
            self.last_calf_test = -99
            self.self_advance_day = self._ri(42, 63) if self.profile.low_load_weeks == 99 else None
        elif phase == "plyometric":
            self.plyo_sessions, self.last_plyo, self.last_test, self.ready = 0, -9, -99, False
        elif phase == "return_to_run":
            # Eager athletes who passed the jog test comfortably skip the first levels.
            start_level = 1 + min(5, max(0, int((self.tissue.capacity - 0.6) * 15))) if self.profile.eager else 1
            self.level, self.level_done, self.last_run, self.easy_stage = start_level, 0, -9, False
            self.weekly_target = 0.0
            self.intense_from = self._ri(3, 12) if self.habit is Habit.INTENSITY_EARLY else None
        elif phase == "integration":
            self.weekly_target = self.profile.pre_injury_weekly_km * (1.0 + 0.1 * self.rng.random())
            self.drop_from = self._ri(0, 4) if self.drops_strength else None

    # --- the step ---------------------------------------------------------------------------------

    def day(self, date: dt.date, advice: Advice | None = None) -> list[tuple[dt.datetime, NewEvent]]:
        """Live one local day; return what the app sends, as (send_at, event) in send order."""
        n = (date - self.enrolled_on).days
        if n < 0 or self.quit:
            return []
        self.n = n
        p, rng, log = self.profile, self.rng, self.log
        noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=self.zone)
        log.start_day(dt.datetime(date.year, date.month, date.day, tzinfo=UTC) - noon.utcoffset())
        if n == 0:
            self._onboard(date)
            self._night()
            return log.out
        if p.quit_day is not None and n >= p.quit_day:
            self.quit = True
            return []
        if date.weekday() == 0:
            self._new_week()
        self.hold_today = False
        if advice is not None:
            self._follow(advice)
        logging = n > self.gap_until or self.pending_injury is not None
        if logging and p.logging_gaps and n > 7 and rng.random() < 0.03:
            self.gap_until = n + self._ri(3, 11)
            logging = False
        self.logging = logging
        wake = p.wake_minute + self._ri(-20, 20)
        evening = p.bed_minute - self._ri(10, 50)
        self._morning(date, wake, logging)
        self.after_pain: list = []
        end = self._train(date.weekday(), wake, evening)
        self._evening(max(evening, end + 5), logging)
        self._night()
        return log.out

    def _onboard(self, date: dt.date) -> None:
        p, log = self.profile, self.log
        m = self._ri(18 * 60, 20 * 60)
        t = log.at(m)
        injury = InjuryReported(injury_type=p.injury_type, onset_date=date - dt.timedelta(days=p.onset_days_before),
                                site=p.site, bone_site=p.bone_site, previous_running_injuries=p.previous_injuries,
                                previous_same_site=p.previous_same_site)
        enrolled = AthleteEnrolled(body_mass_kg=p.body_mass_kg, time_zone=p.time_zone,
                                   pre_injury_weekly_km=p.pre_injury_weekly_km,
                                   pre_injury_longest_run_km=p.pre_injury_longest_run_km)
        pain = PainReported(score=self.tissue.rest_pain(self.rng), context=Context.REST,
                            bony_tenderness=self.tissue.tender())
        log.log(m + 2, [(t, enrolled), (t, injury), (t, pain)], late_ok=False)
        m2 = m + self._ri(20, 80)
        log.log(m2, [(log.at(m2), AssessmentRecorded(contributors=list(p.contributors)))], late_ok=False)

    def _morning(self, date: dt.date, wake: int, logging: bool) -> None:
        p, rng, t, log = self.profile, self.rng, self.tissue, self.log
        items = []
        at = log.at(wake)
        if self.pending_injury is not None:
            items.append((at, self.pending_injury))
            if rng.random() < 0.5:
                contributors = [Contributor.TRAINING_LOAD_ERROR, Contributor.PREVIOUS_INJURY]
                if self.tissue.days_since_strength > 7:
                    contributors.append(Contributor.STRENGTH_DEFICIT)
                items.append((at, AssessmentRecorded(contributors=contributors, note="re-assessed after a new injury")))
            self.pending_injury = None
        if rng.random() < p.log_sleep:
            items.append((at, SleepLogged(hours=round(self.sleep_h, 1), quality=min(5, max(1, int(self.sleep_h - 3.5))))))
        rest = t.rest_pain(rng)
        self.rest_today = rest
        morning = rest if rng.random() < 0.7 else min(10, rest + 1)
        baseline = self.morning_base
        self.streak = self.streak + 1 if rest <= 2 and morning <= max(baseline, 2) else 0
        self.morning_base = baseline * 0.8 + morning * 0.2
        self.rest_in_evening = True
        if (self.active_yesterday or self.phase == "settle") and rng.random() < p.log_rest_pain:
            items.append((at, PainReported(score=morning, context=Context.NEXT_MORNING, bony_tenderness=t.tender())))
        elif rng.random() < p.log_rest_pain * 0.5:
            items.append((at, PainReported(score=rest, context=Context.REST, bony_tenderness=t.tender())))
            self.rest_in_evening = False
        if t.tender():
            self.tender_day = self.n
        self.active_yesterday = False
        if logging and items:
            log.morning(wake + self._ri(3, 25), items)

    def _evening(self, minute: int, logging: bool) -> None:
        p, rng, log = self.profile, self.rng, self.log
        self.under_today = rng.random() < (0.55 if p.under_fuels else 0.05)
        items = list(self.after_pain)
        at = log.at(minute - 1)
        if rng.random() < p.log_fuel:
            kcal = None
            if p.tracks_calories:
                kcal = float(round(p.body_mass_kg * (self._ri(22, 30) if self.under_today else self._ri(34, 45)), -1))
            items.append((at, FuellingLogged(under_fuelled=self.under_today, energy_kcal=kcal)))
        exited = self.exit_mode != (False, False)
        if self.rest_in_evening and rng.random() < p.log_rest_pain * (0.6 if exited else 1.0):
            items.append((at, PainReported(score=self.rest_today, context=Context.REST, bony_tenderness=self.tissue.tender())))
        if logging:
            if items or log.evening:
                log.close_evening(minute, items)
        else:
            log.hold_over()

    def _night(self) -> None:
        p, rng, t = self.profile, self.rng, self.tissue
        mean = 6.3 if p.short_sleep else 7.6
        self.sleep_h = min(11.0, max(3.5, mean + (rng.random() + rng.random() - 1.0) * 1.6))
        recovery = 1.0 if self.sleep_h >= 7 else max(0.45, 1.0 - (7.0 - self.sleep_h) * 0.35)
        if self.under_today:
            recovery *= 0.6
        self.recovery = recovery
        if t.end_of_day(rng, recovery):
            self._reinjure()
        else:
            self._advance()
        self.phase_day += 1

    # --- training by phase ------------------------------------------------------------------------

    def _session_minute(self, wake: int) -> int:
        return max(wake + 30, self.profile.session_minute + self._ri(-25, 25))

    def _send(self, minute: int, items: list, evening: int) -> None:
        if self.logging and items:
            self.log.log(minute + self._ri(1, 12), items, evening_minute=evening)

    def _train(self, wd: int, wake: int, evening: int) -> int:
        """Today's training; returns the local minute it ended."""
        p, rng = self.profile, self.rng
        adherence = p.adherence * (0.5 if self.n <= self.gap_until else 1.0)
        if rng.random() > adherence:
            return wake
        minute = self._session_minute(wake)
        if self.exit_mode != (False, False):
            return self._exited(wd, minute, evening)
        phase = self.phase
        if phase == "settle":
            return self._settle(wd, minute, evening)
        end = minute
        if phase in ("return_to_run", "integration"):
            end = self._running(wd, minute, evening)
        elif phase == "plyometric" and self.n - self.last_plyo >= 2:
            end = self._plyometrics(minute, evening)
        if phase == "strength" and self.walk_today(0.25):
            self._send(minute + 35, ss.walk(rng, self.tissue, self.log.at(minute + 35), self._ri(30, 45), False), evening)
            end = minute + 40
        if wd in p.strength_weekdays:
            end = self._lifts(wd, end + 10, evening)
        return end

    def walk_today(self, chance: float) -> bool:
        return self.rng.random() < chance

    def _settle(self, wd: int, minute: int, evening: int) -> int:
        p, rng, t, log = self.profile, self.rng, self.tissue, self.log
        end = minute
        if t.bsi or rng.random() < 0.3:
            minutes = min(45, 15 + 2 * self.phase_day - int(3 * t.bone)) if t.bsi else self._ri(25, 45)
            if minutes >= 10:
                end = minute + minutes
                items = ss.walk(rng, t, log.at(end), minutes, t.bsi or rng.random() < 0.3)
                if minutes >= 30 and (len(items) == 1 or items[1][1].score <= 1):
                    self.walked_30 = self.n
                self._send(end, items, evening)
        if wd in p.strength_weekdays and self.exit_mode[0] is False:
            end += 15
            self._send(end, ss.settle_lifts(rng, t, log.at(end), p.side, p.body_mass_kg), evening)
            self.active_yesterday = True
        self.active_yesterday = True
        return end

    def _lifts(self, wd: int, minute: int, evening: int) -> int:
        p, rng, t = self.profile, self.rng, self.tissue
        phase = self.phase
        if phase == "strength":
            heavy = not (self.habit is Habit.LOW_LOAD and self.phase_day < 7 * p.low_load_weeks)
            reps = ss.HSR_REPS[min(self.phase_day // 7, 11)]
        else:
            if phase == "integration" and self.drop_from is not None and self.phase_day >= self.drop_from:
                if rng.random() > 0.12:
                    return minute
            if phase in ("plyometric", "return_to_run") and wd == p.strength_weekdays[-1]:
                return minute
            heavy, reps = True, ss.MAINTENANCE_REPS[self.n & 3]
        self.sessions = getattr(self, "sessions", 0) + 1
        calf_test = phase == "strength" and self.n - self.last_calf_test >= 10
        if calf_test:
            self.last_calf_test = self.n
        end = minute + self._ri(35, 60)
        items = ss.strength_session(rng, t, self.log.at(end), p.side, heavy=heavy, reps=reps,
                                    session_no=self.sessions, recovery=self.recovery, calf_test=calf_test)
        if rng.random() < 0.35:
            items.append((self.log.at(end), PainReported(score=t.activity_pain(rng), context=Context.AFTER)))
        self._send(end, items, evening)
        self.week[2] += 1
        self.week[1] += heavy
        self.active_yesterday = True
        return end

    def _plyometrics(self, minute: int, evening: int) -> int:
        end = minute + self._ri(15, 30)
        items = ss.plyometric_session(self.rng, self.tissue, self.log.at(end), self.plyo_sessions)
        self.plyo_sessions += 1
        self.last_plyo = self.n
        self.week[3] = max(self.week[3], max(e.pain for _, e in items))
        self._send(end, items, evening)
        if self.plyo_sessions >= 4 and self.phase_day >= 7 and self.n - self.last_test >= 5:
            end += self._ri(10, 20)
            items, self.ready = ss.readiness_tests(self.rng, self.tissue, self.log.at(end))
            self.last_test = self.n
            self._send(end, items, evening)
        self.active_yesterday = True
        return end

    def _run(self, minute: int, evening: int, kind: RunKind, km: float = 0.0, level: int | None = None,
             rpe: float | None = None) -> tuple[int, int]:
        p, t = self.profile, self.tissue
        pace = p.easy_pace
        guess = 30 if kind is RunKind.WALK_RUN else int(km * pace) + 5
        end = minute + guess
        items, pain = ss.run(self.rng, t, self.log.at(end), kind, km, pace, p.pre_injury_weekly_km, level, rpe)
        self.week[0] += items[0][1].distance_km
        self.week[3] = max(self.week[3], pain)
        self.last_run = self.n
        self._send(end, items, evening)
        if self.rng.random() < 0.45:
            self.after_pain.append((self.log.at(end + self._ri(30, 120) if end + 125 < evening else end),
                                    PainReported(score=max(0, pain - self._ri(0, 2)), context=Context.AFTER)))
        self.active_yesterday = True
        return end, pain

    def _running(self, wd: int, minute: int, evening: int) -> int:
        """Return to run (walk-run levels, then easy volume) and integration running."""
        p, rng = self.profile, self.rng
        runs = p.run_weekdays
        integration = self.phase == "integration"
        walk_run = not integration and not self.easy_stage
        if wd not in runs:
            return minute
        if walk_run and not p.eager and self.n - self.last_run < 2:
            return minute
        long_day = wd == runs[-1] and not walk_run
        if long_day:
            minute = max(minute - 600, self.profile.wake_minute + 45) if minute > 15 * 60 else minute
        intense = self.intense_from is not None and self.phase_day >= self.intense_from and rng.random() < 0.55 \
            if not integration else (wd == runs[0] and self.n % 28 < 21)
        if intense and (integration or self.easy_stage or self.level >= 5):
            kind = _INTENSE[int(rng.random() * 5)] if not integration else (RunKind.TEMPO if self.n % 14 < 7 else RunKind.INTERVAL)
            if integration and self.n % 28 >= 21:
                kind = RunKind.RACE
            km = {RunKind.TEMPO: 7.0, RunKind.INTERVAL: 8.0, RunKind.RACE: 5.0, RunKind.EASY: 6.0}[kind] * (0.8 + 0.4 * rng.random())
            end, _ = self._run(minute, evening, kind, km, rpe=round(7.0 + rng.random(), 1) if kind is RunKind.EASY else None)
            return end
        if walk_run:
            end, pain = self._run(minute, evening, RunKind.WALK_RUN, level=self.level)
            limit = 0 if self.tissue.bsi else 3
            if pain <= limit and not self.hold_today:
                self.level_done += 1
                if self.level_done >= (1 if p.eager else 2):
                    self.level, self.level_done = self.level + 1, 0
                    if self.level > 12:
                        self.level, self.easy_stage = 12, True
                        last_week = self.weeks[-1][0] if self.weeks else 0.0
                        self.weekly_target = max(16.0, 1.1 * last_week, 4 * self.tissue.longest_30d())
            elif pain >= 5 or (self.tissue.bsi and pain > 0):
                self.level, self.level_done = max(1, self.level - 1), 0
            return end
        target = self.weekly_target
        if long_day:
            longest = self.tissue.longest_30d()
            km = max(target * (0.3 if not p.eager else 0.38), target - self.week[0])
            if longest > 0:
                km = min(km, longest * (1.3 if p.eager else 1.1))
            end, _ = self._run(minute, evening, RunKind.LONG, max(km, 3.0))
            return end
        # Easy runs share what is left of the week's target (a missed run is made up later).
        planned = target * (0.7 if not p.eager else 0.62) / (len(runs) - 1)
        left = sum(1 for d in runs[:-1] if d >= wd)
        km = max(3.0, min(1.5 * planned, (target * (0.7 if not p.eager else 0.62) - self.week[0]) / max(1, left)))
        end, _ = self._run(minute, evening, RunKind.EASY, km)
        return end

    def _exited(self, wd: int, minute: int, evening: int) -> int:
        """Drop-off 1: pain has settled, so strength stops and/or running jumps back to normal."""
        p, rng = self.profile, self.rng
        stopped_strength, running_back = self.exit_mode
        end = minute
        days = self.n - self.exit_day
        if wd in p.run_weekdays and self.n > self.flare_until and (running_back or days > 10):
            weekly = p.pre_injury_weekly_km * (min(1.0, 0.6 + days * 0.04) if running_back else min(0.8, 0.4 + days * 0.015))
            if wd == p.run_weekdays[-1]:
                end, pain = self._run(minute, evening, RunKind.LONG, max(3.0, min(p.pre_injury_longest_run_km, weekly * 0.4)))
            else:
                end, pain = self._run(minute, evening, RunKind.EASY, max(3.0, weekly * 0.6 / (len(p.run_weekdays) - 1)))
            if pain >= 7:
                self.flare_until = self.n + self._ri(2, 5)
        if not stopped_strength and wd in p.strength_weekdays:
            end = self._lifts(wd, end + 10, evening) if self.phase == "strength" else self._settle(wd, end + 10, evening)
        return end

    # --- phase changes ----------------------------------------------------------------------------

    def _advance(self) -> None:
        p, t, n = self.profile, self.tissue, self.n
        phase = self.phase
        if self.exit_trigger is not None and self.exit_mode == (False, False) and phase == self.exit_trigger[0]:
            when = self.exit_trigger[1]
            if (phase == "settle" and self.streak >= when) or (phase == "strength" and self.phase_day >= when):
                running_back = self.rng.random() < 0.65
                self.exit_mode = (not running_back or self.rng.random() < 0.6, running_back)
                self.exit_day = n
            return
        if self.exit_mode != (False, False):
            return
        if phase == "settle":
            if t.bsi and p.high_risk_bsi and not self.cleared:
                if self.clinic_day is None and t.bone < 1.3 and self.streak >= 3:
                    self.clinic_day = n + self._ri(2, 6)
                if self.clinic_day is not None and n >= self.clinic_day:
                    self._clearance()
                return
            bsi_ok = not t.bsi or (n - self.tender_day >= 7 and n - self.walked_30 <= 7)
            if self.streak >= 7 and bsi_ok:
                self._enter("strength")
        elif phase == "strength":
            if self.self_advance_day is not None and self.phase_day >= self.self_advance_day:
                self._enter("return_to_run")
            elif (self.heavy_weeks >= 6 and t.one_rm["squat"] >= p.body_mass_kg and t.calf_reps >= 20
                  and t.irritability <= 3):
                self._enter("plyometric")
        elif phase == "plyometric" and self.ready:
            self._enter("return_to_run")

    def _clearance(self) -> None:
        self.cleared = True
        m = self._ri(14 * 60, 16 * 60)
        self.log.log(m + self._ri(5, 60), [(self.log.at(m), ClearanceRecorded(scope=ClearanceScope.RUNNING,
                                                                               clinician="Sports physician"))],
                     late_ok=False)

    def _new_week(self) -> None:
        week = self.week
        self.weeks = (self.weeks + [week])[-3:]
        self.week = [0.0, 0, 0, 0]
        p = self.profile
        if self.exit_mode != (False, False):
            return
        if self.phase == "strength" and week[1] >= 2:
            self.heavy_weeks += 1
        elif self.phase == "return_to_run":
            if self.easy_stage:
                step = 1.25 if p.eager else 1.12
                if week[3] >= 5:
                    step = 0.85
                self.weekly_target = min(p.pre_injury_weekly_km * 1.15, max(self.weekly_target, week[0]) * step)
            last_two = self.weeks[-2:]
            if len(last_two) == 2 and all(w[0] >= p.pre_injury_weekly_km and w[3] <= 3 for w in last_two):
                self._enter("integration")
        elif self.phase == "integration":
            self.weekly_target = p.pre_injury_weekly_km * (1.0 + 0.1 * self.rng.random()) * (0.8 if week[3] >= 6 else 1.0)

    def _reinjure(self) -> None:
        rng, t = self.rng, self.tissue
        injury_type, site, bone_site = self.injury
        same = rng.random() < 0.65
        if not same:
            bsi = rng.random() < (0.5 if self.profile.under_fuels else 0.2)
            if bsi:
                bone_site = LOW_RISK_SITES[int(rng.random() * len(LOW_RISK_SITES))]
                injury_type, site = InjuryType.BONE_STRESS, bone_site.value.replace("_", " ")
            else:
                injury_type, site, bone_site = InjuryType.TENDINOPATHY, "achilles" if site != "achilles" else "patellar tendon", None
        self.previous_injuries += 1
        date = self.enrolled_on + dt.timedelta(days=self.n)
        self.pending_injury = InjuryReported(injury_type=injury_type, onset_date=date, site=site, bone_site=bone_site,
                                             previous_running_injuries=min(50, self.previous_injuries),
                                             previous_same_site=same)
        self.injury = (injury_type, site, bone_site)
        t.reinjure(rng, injury_type is InjuryType.BONE_STRESS)
        if self.habit is Habit.EXIT_AT_PAIN_RELIEF and rng.random() < 0.5:
            self.habit = Habit.DILIGENT
        self._enter("settle")

    # --- closed loop ------------------------------------------------------------------------------

    def _follow(self, advice: Advice) -> None:
        if self.rng.random() >= self.profile.follows_advice:
            return
        if advice.phase in PHASES and advice.phase != self.phase:
            self._enter(advice.phase)
        if "hold" in advice.kinds:
            self.hold_today = True
        if "deload" in advice.kinds and self.phase in ("return_to_run", "integration"):
            self.weekly_target *= 0.8
            if self.phase == "return_to_run":
                self.level = max(1, self.level - 1)
        targets = advice.targets
        if "walk_run_level" in targets and self.phase == "return_to_run":
            self.level = max(1, min(12, int(targets["walk_run_level"])))
        if "weekly_km" in targets and self.phase in ("return_to_run", "integration"):
            self.weekly_target = float(targets["weekly_km"])
        flags = advice.flags
        if "drop_off_1" in flags:
            self.exit_mode, self.exit_trigger = (False, False), None
        if "drop_off_2" in flags and self.habit is Habit.LOW_LOAD:
            self.habit = Habit.DILIGENT
            if self.phase == "strength":
                self.self_advance_day = None
        if "drop_off_3" in flags and self.phase == "return_to_run":
            self.intense_from = None
        if "drop_off_4" in flags:
            self.drops_strength = False
            if self.phase == "integration":
                self.drop_from = None
