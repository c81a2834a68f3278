"""Noise budget (RULES.md 8): how much advice a simulated cohort receives, and how often it contradicts itself.

    .venv/bin/python bench/noise.py                        # 200 athletes x 16 weeks, seed 1
    .venv/bin/python bench/noise.py --athletes 50 --json   # machine-readable figures
    .venv/bin/python bench/noise.py --save-cohort /tmp/c.jsonl               # keep the simulated logs...
    PYTHONPATH=/tmp/before .venv/bin/python bench/noise.py --cohort /tmp/c.jsonl  # ...for an older checkout

Every athlete's simulated log goes through ``engine.decisions.advance`` in memory (no store): one
envelope per event, ``recorded_at`` = the submission's send time (as live ingest stamps it), then the
day boundaries up to the horizon. Only APIs that exist in every version since the advice rework
are used (``advance`` returns the recommendation stream; withdrawals, when the engine has them, are
counted apart), so the script measures an older checkout put first on ``PYTHONPATH``; ``--cohort``
feeds both the same logs even when the simulator changed between them. Seconds are the decisions'
(``advance``), not the simulation's.

Figures, for all athletes and for compliant (diligent) ones: recommendations issued per athlete-week
(median, p90), withdrawals per athlete-week, same-day contradictions, 48 h flip-flops, deloads at one
decision point (the bundling check), counts by kind, topic and rule. The metric functions work on
plain :class:`Rec` records so tests can specify them on a hand-made list.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: bench/ (it has an http.py) must not shadow the stdlib
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import json
import os
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from events import Envelope, NewEvent

DEFAULT_START = dt.date(2026, 1, 5)
FLIP_FLOP_KINDS = frozenset({"progress", "hold", "deload"})
FLIP_FLOP_WINDOW = dt.timedelta(hours=48)
TARGET_MEDIAN_PER_WEEK = 3
"""RULES.md 8: a compliant athlete gets about 3 recommendations a week or fewer."""


class Rec(NamedTuple):
    """One entry of the recommendation stream, reduced to what the noise metrics read."""

    decision_time: dt.datetime
    topic: str
    kind: str
    rule_id: str
    withdrawn: bool = False

    @classmethod
    def of(cls, event) -> Rec:
        """From a RecommendationIssued or RecommendationWithdrawn (a withdrawal has a ``withdrawal_id``)."""
        return cls(event.decision_time, event.topic, event.kind, event.rule_id, hasattr(event, "withdrawal_id"))


def issued(recs: Iterable[Rec]) -> list[Rec]:
    return [r for r in recs if not r.withdrawn]


def local_day(at: dt.datetime, time_zone: str) -> dt.date:
    return at.astimezone(ZoneInfo(time_zone)).date()


# --- the metrics (pure functions of one athlete's stream) ------------------------------------------


def weekly_counts(recs: Iterable[Rec], time_zone: str, first_day: dt.date, end_day: dt.date) -> list[int]:
    """Entries per full week since ``first_day`` (local days; a week ending after ``end_day`` is left out)."""
    weeks = (end_day - first_day).days // 7
    counts = [0] * weeks
    for rec in recs:
        week = (local_day(rec.decision_time, time_zone) - first_day).days // 7
        if 0 <= week < weeks:
            counts[week] += 1
    return counts


def contradicting_days(recs: Iterable[Rec], time_zone: str) -> dict[tuple[str, dt.date], list[Rec]]:
    """The issued advice of each (topic, local day) on which two different kinds were issued, flags
    left out (a flag never contradicts a plan)."""
    groups: dict[tuple[str, dt.date], list[Rec]] = defaultdict(list)
    for rec in issued(recs):
        if rec.kind != "flag":
            groups[rec.topic, local_day(rec.decision_time, time_zone)].append(rec)
    return {key: group for key, group in groups.items() if len({r.kind for r in group}) > 1}


def same_day_contradictions(recs: Iterable[Rec], time_zone: str) -> list[tuple[str, dt.date, tuple[str, ...]]]:
    """(topic, local day, kinds in issue order) for each contradicting day (see ``contradicting_days``)."""
    return [(topic, day, tuple(r.kind for r in group))
            for (topic, day), group in contradicting_days(recs, time_zone).items()]


class FlipFlop(NamedTuple):
    topic: str
    returned_at: dt.datetime
    kinds: str
    """``hold>deload>hold``."""
    rules: str
    """The three rule ids, ``>``-separated."""


def flip_flops(recs: Iterable[Rec], window: dt.timedelta = FLIP_FLOP_WINDOW) -> list[FlipFlop]:
    """Each A, B, A on one topic (consecutive issued progress/hold/deload advice on that topic, B of
    another kind) where the return to A comes within ``window`` of A."""
    by_topic: dict[str, list[Rec]] = defaultdict(list)
    for rec in issued(recs):
        if rec.kind in FLIP_FLOP_KINDS:
            by_topic[rec.topic].append(rec)
    out = []
    for topic, seq in by_topic.items():
        seq.sort(key=lambda r: r.decision_time)  # stable: one decision point keeps its order
        for a, b, c in zip(seq, seq[1:], seq[2:]):
            if a.kind == c.kind != b.kind and c.decision_time - a.decision_time <= window:
                out.append(FlipFlop(topic, c.decision_time, f"{a.kind}>{b.kind}>{c.kind}",
                                    f"{a.rule_id}>{b.rule_id}>{c.rule_id}"))
    return out


def deloads_per_point(recs: Iterable[Rec], *, rule_prefix: str = "") -> list[int]:
    """Deloads issued at each decision point that issued at least one (bundling check: one pain
    event should give one deload). With ``rule_prefix``, only points where a deload's rule id starts
    with it (``pain.``: the red pain events)."""
    at_point: dict[dt.datetime, list[str]] = defaultdict(list)
    for rec in issued(recs):
        if rec.kind == "deload":
            at_point[rec.decision_time].append(rec.rule_id)
    return [len(rules) for rules in at_point.values() if any(r.startswith(rule_prefix) for r in rules)]


def p90(values: list[float]) -> float:
    if len(values) < 2:
        return float(values[0]) if values else 0.0
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


# --- one athlete through the engine ------------------------------------------------------------------


@dataclass
class AthleteRun:
    athlete_id: str
    habit: str
    time_zone: str
    first_day: dt.date
    end_day: dt.date
    events: int
    recs: list[Rec]

    @property
    def exposure_weeks(self) -> float:
        return (self.end_day - self.first_day).days / 7


class LoggedAthlete(msgspec.Struct, frozen=True):
    """One simulated athlete's log as its app sent it (also a line of a ``--save-cohort`` file)."""

    athlete_id: str
    habit: str
    time_zone: str
    submissions: list[tuple[dt.datetime, list[NewEvent]]]
    """(send time, events) per submission, in send order."""


def simulated_cohort(athletes: int, weeks: int, seed: int, start: dt.date = DEFAULT_START) -> Iterator[LoggedAthlete]:
    from engine.simulation import make_athlete, simulate_athlete

    for index in range(athletes):
        profile = make_athlete(index, seed, start).profile
        yield LoggedAthlete(profile.athlete_id, str(profile.habit), profile.time_zone,
                            [(s.send_at, s.events) for s in simulate_athlete(index, weeks, seed, start)])


def simulator_digest() -> str:
    """Which simulator wrote a cohort (two engines compare fairly only on the same logs)."""
    import hashlib

    import engine.simulation
    digest = hashlib.blake2b(digest_size=4)
    for path in sorted(Path(engine.simulation.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def save_cohort(path: Path, header: dict, cohort: Iterable[LoggedAthlete]) -> None:
    with open(path, "wb") as out:
        out.write(msgspec.json.encode(header) + b"\n")
        for athlete in cohort:
            out.write(msgspec.json.encode(athlete) + b"\n")


def read_cohort(path: Path) -> tuple[dict, list[LoggedAthlete]]:
    """A saved cohort, decoded by this checkout's event types (an older one refuses events it lacks)."""
    lines = Path(path).read_bytes().splitlines()
    decoder = msgspec.json.Decoder(LoggedAthlete)
    return json.loads(lines[0]), [decoder.decode(line) for line in lines[1:] if line.strip()]


def envelopes_of(athlete: LoggedAthlete) -> Iterator[Envelope]:
    """The athlete's events as the store would hand them back: versions 1.., one ``recorded_at`` per
    submission (its send time, strictly increasing as the store's clock makes it)."""
    version, last = 0, None
    for send_at, events in athlete.submissions:
        last = recorded = send_at if last is None or send_at > last else last + dt.timedelta(microseconds=1)
        for event in events:
            version += 1
            event_id = event.event_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{athlete.athlete_id}/{version}")
            yield Envelope(event_id=event_id, stream=athlete.athlete_id, version=version,
                           position=version, occurred_at=event.occurred_at, recorded_at=recorded, data=event.data,
                           source=event.source)


def run_athlete(athlete: LoggedAthlete, policy, horizon: dt.datetime) -> AthleteRun:
    """The athlete's whole log through ``advance`` in memory, then the day boundaries to ``horizon``."""
    from engine.decisions import advance
    from projections.athlete import AthleteState

    envelopes = list(envelopes_of(athlete))
    if envelopes:
        horizon = max(horizon, envelopes[-1].recorded_at)
    recs = [Rec.of(e) for e in advance(AthleteState(athlete_id=athlete.athlete_id), envelopes, policy, horizon)]
    tz = athlete.time_zone
    first = local_day(envelopes[0].recorded_at, tz) if envelopes else local_day(horizon, tz)
    return AthleteRun(athlete.athlete_id, athlete.habit, tz, first, local_day(horizon, tz), len(envelopes), recs)


def simulate(athletes: int, weeks: int, seed: int, policy=None, *, cohort: Iterable[LoggedAthlete] | None = None,
             start: dt.date = DEFAULT_START) -> tuple[list[AthleteRun], dict]:
    """Every athlete (simulated now, or ``cohort``) through ``advance``; also the wall and CPU seconds."""
    if policy is None:
        from engine.policies.baseline import BaselinePolicy
        policy = BaselinePolicy()
    horizon = dt.datetime.combine(start + dt.timedelta(weeks=weeks), dt.time(), tzinfo=dt.timezone.utc)
    wall, cpu = time.perf_counter(), time.process_time()
    logs = simulated_cohort(athletes, weeks, seed, start) if cohort is None else cohort
    runs = [run_athlete(athlete, policy, horizon) for athlete in logs]
    return runs, {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
                  "policy": f"{policy.name} {policy.version}", "engine": engine_checkout()}


def engine_checkout() -> str:
    """Which engine was measured: its directory and git commit (with PYTHONPATH, an older checkout)."""
    import subprocess

    import engine
    root = Path(engine.__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "engine", "projections", "events"], cwd=root,
                           capture_output=True, text=True).stdout.strip()
    return f"{root} @ {commit or '?'}{' + uncommitted changes' if dirty else ''}"


# --- the report -----------------------------------------------------------------------------------


@dataclass
class GroupFigures:
    athletes: int = 0
    athlete_weeks: float = 0.0
    events: int = 0
    issued_weekly: list[int] = field(default_factory=list)
    withdrawn_weekly: list[int] = field(default_factory=list)
    messages_weekly: list[int] = field(default_factory=list)
    issued: int = 0
    withdrawn: int = 0
    contradictions: list = field(default_factory=list)
    flip_flops: list = field(default_factory=list)
    deload_points: list[int] = field(default_factory=list)
    red_pain_points: list[int] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)
    topics: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    withdrawal_topics: Counter = field(default_factory=Counter)

    def add(self, run: AthleteRun) -> None:
        mine = issued(run.recs)
        gone = [r for r in run.recs if r.withdrawn]
        self.athletes += 1
        self.athlete_weeks += run.exposure_weeks
        self.events += run.events
        self.issued += len(mine)
        self.withdrawn += len(gone)
        self.issued_weekly += weekly_counts(mine, run.time_zone, run.first_day, run.end_day)
        self.withdrawn_weekly += weekly_counts(gone, run.time_zone, run.first_day, run.end_day)
        self.messages_weekly += weekly_counts(run.recs, run.time_zone, run.first_day, run.end_day)
        zone = ZoneInfo(run.time_zone)
        for (topic, day), group in contradicting_days(mine, run.time_zone).items():
            rules = " > ".join(r.rule_id for r in group)
            timeline = ", ".join(f"{r.kind} ({r.rule_id}) {r.decision_time.astimezone(zone):%H:%M}" for r in group)
            self.contradictions.append((run.athlete_id, topic, day, rules, timeline))
        self.flip_flops += flip_flops(mine)
        self.deload_points += deloads_per_point(mine)
        self.red_pain_points += deloads_per_point(mine, rule_prefix="pain.")
        self.kinds.update(r.kind for r in mine)
        self.topics.update(r.topic for r in mine)
        self.rules.update(r.rule_id for r in mine)
        self.withdrawal_topics.update(r.topic for r in gone)

    def per_100_weeks(self, n: int) -> float:
        return round(100 * n / self.athlete_weeks, 2) if self.athlete_weeks else 0.0

    def summary(self, top: int = 12) -> dict:
        aw = self.athlete_weeks or 1.0

        def dist(values: list[int]) -> dict:
            return {"median": statistics.median(values) if values else 0, "p90": round(p90(values), 1),
                    "mean": round(statistics.fmean(values), 2) if values else 0.0, "weeks": len(values)}

        def bundling(points: list[int]) -> dict:
            return {"points": len(points), "mean": round(statistics.fmean(points), 2) if points else 0.0,
                    "max": max(points, default=0), "more_than_one": sum(p > 1 for p in points)}

        return {
            "athletes": self.athletes, "athlete_weeks": round(self.athlete_weeks, 1), "events": self.events,
            "issued": self.issued, "withdrawn": self.withdrawn,
            "issued_per_athlete_week": dist(self.issued_weekly),
            "withdrawn_per_athlete_week": dist(self.withdrawn_weekly),
            "messages_per_athlete_week": dist(self.messages_weekly),
            "same_day_contradictions": {"count": len(self.contradictions),
                                        "per_100_athlete_weeks": self.per_100_weeks(len(self.contradictions)),
                                        "by_topic": dict(Counter(c[1] for c in self.contradictions).most_common(top)),
                                        "by_rules": dict(Counter(c[3] for c in self.contradictions).most_common(top)),
                                        "examples": [f"{a} {t} {d}: {timeline}"
                                                     for a, t, d, _, timeline in self.contradictions[:5]]},
            "flip_flops_48h": {"count": len(self.flip_flops),
                               "per_100_athlete_weeks": self.per_100_weeks(len(self.flip_flops)),
                               "by_topic": dict(Counter(f.topic for f in self.flip_flops).most_common(top)),
                               "by_pattern": dict(Counter(f.kinds for f in self.flip_flops).most_common(top)),
                               "by_rules": dict(Counter(f.rules for f in self.flip_flops).most_common(top))},
            "deloads_per_decision_point": bundling(self.deload_points),
            "deloads_per_red_pain_point": bundling(self.red_pain_points),
            "by_kind": dict(self.kinds.most_common()),
            "by_topic": dict(self.topics.most_common(top)),
            "withdrawn_by_topic": dict(self.withdrawal_topics.most_common(top)),
            "rules_per_athlete_week": {r: round(n / aw, 3) for r, n in self.rules.most_common(top)},
        }


def report(runs: list[AthleteRun], timing: dict, args) -> dict:
    groups: dict[str, GroupFigures] = defaultdict(GroupFigures)
    for run in runs:
        groups["all"].add(run)
        if run.habit == "diligent":
            groups["compliant"].add(run)
        groups[f"habit:{run.habit}"].add(run)
    out = {"athletes": args.athletes, "weeks": args.weeks, "seed": args.seed, **timing,
           "events": groups["all"].events, "load_average": [round(x, 2) for x in os.getloadavg()],
           "groups": {name: g.summary() for name, g in sorted(groups.items(), key=lambda kv: kv[0] != "all")}}
    compliant = out["groups"].get("compliant", {})
    out["target"] = {
        "compliant_median_per_week": compliant.get("issued_per_athlete_week", {}).get("median"),
        "all_same_day_contradictions": out["groups"]["all"]["same_day_contradictions"]["count"],
        "met": bool(compliant) and compliant["issued_per_athlete_week"]["median"] <= TARGET_MEDIAN_PER_WEEK
        and out["groups"]["all"]["same_day_contradictions"]["count"] == 0,
    }
    return out


def print_text(out: dict) -> None:
    print(f"noise budget: {out['athletes']} athletes x {out['weeks']} weeks, seed {out['seed']}, {out['policy']}; "
          f"{out['events']:,} events in {out['wall_s']} s wall, {out['cpu_s']} s CPU "
          f"(load average {out['load_average'][0]})")
    print(f"engine: {out['engine']}; simulator {out.get('simulator', '?')}")
    for name, g in out["groups"].items():
        if name.startswith("habit:"):
            w = g["issued_per_athlete_week"]
            print(f"  {name:<28} {g['athletes']:>4} athletes: recommendations/athlete-week median {w['median']}, "
                  f"p90 {w['p90']}; contradictions {g['same_day_contradictions']['count']}, "
                  f"flip-flops {g['flip_flops_48h']['count']}")
            continue
        w, x = g["issued_per_athlete_week"], g["withdrawn_per_athlete_week"]
        c, f = g["same_day_contradictions"], g["flip_flops_48h"]
        d, r = g["deloads_per_decision_point"], g["deloads_per_red_pain_point"]
        print(f"[{name}] {g['athletes']} athletes, {g['athlete_weeks']} athlete-weeks, {g['issued']:,} issued, "
              f"{g['withdrawn']:,} withdrawn")
        print(f"  recommendations per athlete-week: median {w['median']}, p90 {w['p90']}, mean {w['mean']} "
              f"({w['weeks']} full weeks)")
        print(f"  withdrawals per athlete-week: median {x['median']}, p90 {x['p90']}, mean {x['mean']}; "
              f"messages delivered (both) median {g['messages_per_athlete_week']['median']}, "
              f"p90 {g['messages_per_athlete_week']['p90']}")
        print(f"  same-day contradictions: {c['count']} ({c['per_100_athlete_weeks']} per 100 athlete-weeks) "
              f"{c['by_topic']}")
        for rules, n in list(c["by_rules"].items())[:5]:
            print(f"    {n} x {rules}")
        for example in c["examples"][:3]:
            print(f"    e.g. {example}")
        print(f"  48 h flip-flops: {f['count']} ({f['per_100_athlete_weeks']} per 100 athlete-weeks) "
              f"{f['by_pattern']}")
        for rules, n in list(f["by_rules"].items())[:3]:
            print(f"    {n} x {rules}")
        print(f"  deloads per decision point with a deload: mean {d['mean']}, max {d['max']}, "
              f"{d['more_than_one']} of {d['points']} points with more than one; red pain points: mean "
              f"{r['mean']}, max {r['max']}, {r['more_than_one']} of {r['points']} with more than one")
        print(f"  by kind: {g['by_kind']}")
        print(f"  by topic: {g['by_topic']}")
        print(f"  top rules per athlete-week: {g['rules_per_athlete_week']}")
    t = out["target"]
    print(f"target (compliant median <= {TARGET_MEDIAN_PER_WEEK}/athlete-week, 0 same-day contradictions): "
          f"median {t['compliant_median_per_week']}, contradictions {t['all_same_day_contradictions']} -> "
          f"{'MET' if t['met'] else 'NOT MET'}")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench/noise.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--athletes", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    ap.add_argument("--save-cohort", type=Path, metavar="FILE", help="also write the simulated logs (JSON lines)")
    ap.add_argument("--cohort", type=Path, metavar="FILE",
                    help="measure the logs of a --save-cohort file instead of simulating (same logs for two engines)")
    args = ap.parse_args(argv)
    if args.athletes < 1 or args.weeks < 1:
        ap.error("--athletes and --weeks must be at least 1")
    if args.cohort:
        try:
            header, cohort = read_cohort(args.cohort)
            args.athletes, args.weeks, args.seed = header["athletes"], header["weeks"], header["seed"]
            simulator = header["simulator"]
        except (OSError, IndexError, KeyError, TypeError, ValueError, msgspec.MsgspecError) as exc:
            ap.error(f"--cohort {args.cohort}: not a --save-cohort file this checkout can read (an event type "
                     f"newer than its vocabulary?): {type(exc).__name__}: {exc}")
    else:
        cohort, simulator = list(simulated_cohort(args.athletes, args.weeks, args.seed)), simulator_digest()
        if args.save_cohort:
            save_cohort(args.save_cohort, {"athletes": args.athletes, "weeks": args.weeks, "seed": args.seed,
                                           "simulator": simulator}, cohort)
    runs, timing = simulate(args.athletes, args.weeks, args.seed, cohort=cohort)
    out = report(runs, timing | {"simulator": simulator}, args)
    if args.json:
        json.dump(out, sys.stdout, indent=2, default=str)
        print()
    else:
        print_text(out)
    return out


if __name__ == "__main__":
    main()
