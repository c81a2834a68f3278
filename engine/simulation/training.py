"""What a simulated athlete does on a day, by phase, and how the session is logged.

A mixin of :class:`engine.simulation.athlete.SimulatedAthlete`: the methods read and update the
athlete's phase state, its tissue (the truth) and its week's tallies, and hand what is logged to
the athlete's :class:`~engine.simulation.logbook.Logbook`.
"""

from __future__ import annotations

from engine.simulation import sessions as ss
from engine.simulation.profile import Habit
from events.vocabulary import Context, PainReported, RunKind

_INTENSE = (RunKind.TEMPO, RunKind.TEMPO, RunKind.INTERVAL, RunKind.RACE, RunKind.EASY)
"""What an intensity-early athlete does instead of an easy run (EASY here means pace-led, RPE >= 7)."""
_QUALITY_KM = {RunKind.TEMPO: 7.0, RunKind.INTERVAL: 8.0, RunKind.RACE: 5.0, RunKind.EASY: 6.0}


class Training:
    """Training by phase (mixed into SimulatedAthlete)."""

    __slots__ = ()

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
        if self.exited:
            return self._exited(wd, minute, evening)
        phase = self.phase
        if phase == "settle":
            return self._settle(wd, minute, evening)
        end = minute
        if phase in ("return_to_run", "integration"):
            end = self._running(wd, minute, evening)
        elif phase == "plyometric" and self.n - self.last_plyo >= 2:
            end = self._plyometrics(minute, evening)
        if phase == "strength" and rng.random() < 0.25:
            self._send(minute + 35, ss.walk(rng, self.tissue, self.log.at(minute + 35), self._ri(30, 45), False), evening)
            end = minute + 40
        if wd in p.strength_weekdays:
            end = self._lifts(wd, end + 10, evening)
        return end

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
        elif not t.bsi and rng.random() < 0.25:  # easy cross-training instead of a walk
            minutes = self._ri(30, 45)
            end = minute + minutes
            self._send(end, ss.cross_training(rng, t, log.at(end), minutes), evening)
        if wd in p.strength_weekdays and not self.exit_mode[0]:
            end += 15
            self._send(end, ss.settle_lifts(rng, t, log.at(end), p.side, p.body_mass_kg), evening)
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
        self.sessions += 1
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
        if integration:
            week = self.phase_day // 7
            kind = (RunKind.RACE if long_day and week % 4 == 3 else
                    (RunKind.TEMPO if week % 2 == 0 else RunKind.INTERVAL) if wd == runs[0] else None)
        else:
            intense = (self.intense_from is not None and self.phase_day >= self.intense_from
                       and (self.easy_stage or self.level >= 5) and rng.random() < 0.45)
            kind = _INTENSE[int(rng.random() * 5)] if intense else None
        if kind is not None:
            km = _QUALITY_KM[kind] * (0.8 + 0.4 * rng.random())
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
            if self.long_run_cap is not None:
                km = min(km, self.long_run_cap)
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
