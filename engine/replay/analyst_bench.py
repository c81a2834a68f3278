"""Wall time of the analysts' three commands on one store, on the local pool and on Ray.

    python -m engine.replay.analyst_bench --store var/demo.sqlite3 --engines local ray --workers 2

Runs, per engine: a replay of two policies (baseline and step20, with the report), a closed loop of
the same two policies (``--athletes`` x ``--seeds`` x ``--weeks``, with the report) and a replay
sweep of a 4 x 2 grid (with its report). Ray runs on a local cluster started first with
``--workers`` CPUs (its start-up is timed apart), or on RAY_ADDRESS when set. Prints one JSON line
per run with the recommendation digest, so the two engines can be seen to agree.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
from pathlib import Path

BASELINE = "engine.policies.baseline:BaselinePolicy"
GRID = ["run.weekly_step=0.05,0.1,0.15,0.2", "phases.settle_days=5,7"]


def _line(**fields) -> None:
    print(json.dumps(fields | {"load_average": round(os.getloadavg()[0], 2)}), flush=True)


def run(store: str, out: Path, engine: str, workers: int, athletes: int, seeds: int, weeks: int) -> None:
    from engine.replay import PolicySpec, replay, simulate, sweep

    step20 = PolicySpec(BASELINE, overrides=(("run.weekly_step", 0.2),), label="step20")
    policies = [BASELINE, step20]
    began = time.perf_counter()
    result = replay(store, policies, out / engine / "replay", workers=workers, engine=engine)
    _line(command="replay", engine=engine, seconds=round(time.perf_counter() - began, 2), events=result.events,
          athletes=result.athletes, policies=2, digest=result.recommendation_digest()[:16])
    began = time.perf_counter()
    loop = simulate(policies, athletes, seeds, weeks=weeks, out_dir=out / engine / "closed-loop", workers=workers,
                    engine=engine)
    _line(command="simulate", engine=engine, seconds=round(time.perf_counter() - began, 2),
          athlete_runs=len(loop.athlete_rows), events=sum(r["events"] for r in loop.athlete_rows))
    began = time.perf_counter()
    grid = sweep(BASELINE, GRID, out / engine / "sweep", source=store, workers=workers, engine=engine)
    _line(command="sweep", engine=engine, seconds=round(time.perf_counter() - began, 2), configs=len(grid.rows),
          events=grid.inner.events, digest=grid.inner.recommendation_digest()[:16])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m engine.replay.analyst_bench")
    parser.add_argument("--store", required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/strideline-bench/analysts"))
    parser.add_argument("--engines", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=16)
    args = parser.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)
    for engine in args.engines:
        if engine == "ray":
            import ray

            began = time.perf_counter()
            if os.environ.get("RAY_ADDRESS"):
                ray.init(log_to_driver=False, logging_level=logging.ERROR)
            else:
                ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)
            _line(command="ray.init", engine=engine, seconds=round(time.perf_counter() - began, 2))
        run(args.store, args.out, engine, args.workers, args.athletes, args.seeds, args.weeks)


if __name__ == "__main__":
    main()
