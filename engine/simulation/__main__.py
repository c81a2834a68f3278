"""Measure the simulator: ``python -m engine.simulation --athletes 2000 --weeks 16``.

Prints the number of events and submissions, the generation rate (events per second of CPU time
and of wall time), and the cohort's habit mix. Consumes the stream without storing it.
"""

from __future__ import annotations

import argparse
import collections
import time

from engine.simulation.cohort import athlete_profiles, cohort_size_hint, simulate_cohort


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m engine.simulation", description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    wall, cpu = time.perf_counter(), time.process_time()
    events = submissions = 0
    kinds: collections.Counter[str] = collections.Counter()
    for submission in simulate_cohort(args.athletes, args.weeks, args.seed):
        submissions += 1
        events += len(submission.events)
        for event in submission.events:
            kinds[type(event.data).__name__] += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.athletes} athletes x {args.weeks} weeks (seed {args.seed}): {events:,} events in "
          f"{submissions:,} submissions (hint {cohort_size_hint(args.athletes, args.weeks):,})")
    print(f"{events / cpu:,.0f} events/s CPU ({cpu:.2f} s), {events / wall:,.0f} events/s wall ({wall:.2f} s)")
    print("events:", ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))
    habits = collections.Counter(str(p.habit) for p in athlete_profiles(min(args.athletes, 2000), args.seed))
    print("habits (first 2000):", ", ".join(f"{k} {v}" for k, v in habits.most_common()))


if __name__ == "__main__":
    main()
