"""A dramatiq worker process in prometheus-client multiprocess mode, run as a subprocess by tests/ops.

What `strideline worker` does, minus Redis: PROMETHEUS_MULTIPROC_DIR is set before Python starts,
the broker carries dramatiq's own Prometheus middleware (engine.metrics.dramatiq_prometheus), the
process boots, and a simulated cohort runs through the real actors.

Protocol with the test (pipes, no sleeps): half-way through the cohort, while the worker threads
are alive, it runs one sweep and one message that always fails (an error, a delayed retry, a dead
letter: the paths the alerts watch), prints ``LIVE`` and waits for a line on stdin (the test scrapes
meanwhile); at the end it prints the cohort's totals as JSON. The metrics stay in the multiprocess
directory.

    python tests/ops/worker_cohort.py ATHLETES WEEKS SEED STORE_PATH
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    sys.exit("PROMETHEUS_MULTIPROC_DIR must be set before Python starts")

import dramatiq  # noqa: E402

import workers.broker  # noqa: E402,F401 - the global broker, with Strideline's middleware
from engine import metrics  # noqa: E402
from engine.demo import run_demo  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from ops_support import issued_recommendations  # noqa: E402


@dramatiq.actor(queue_name="sweeper", max_retries=1, min_backoff=1, max_backoff=1)
def always_fails() -> None:
    raise RuntimeError("fails on purpose: the retry and dead-letter paths")


class PauseHalfWay:
    """A ``progress`` for run_demo that stops once, half-way, for a live scrape."""

    def __init__(self) -> None:
        self.total = self.done = 0
        self.paused = False

    def add_task(self, description: str, total: int) -> int:
        self.total = total
        return 0

    def update(self, task: int, advance: int) -> None:
        self.done += advance
        if not self.paused and self.done * 2 >= self.total:
            self.paused = True
            from workers import actors

            actors.sweep.send()
            always_fails.send()
            broker = dramatiq.get_broker()
            broker.join("sweeper", fail_fast=False, timeout=60_000)
            broker.dead_letters_by_queue.clear()  # counted; the demo's final drain fails fast on any
            print("LIVE", flush=True)
            sys.stdin.readline()


def main(athletes: int, weeks: int, seed: int, store_path: str) -> None:
    broker = dramatiq.get_broker()
    if not any(type(m).__name__ == "DramatiqPrometheus" for m in broker.middleware):
        prometheus = metrics.dramatiq_prometheus()
        if prometheus is None:
            sys.exit("not in multiprocess mode")
        broker.add_middleware(prometheus)
    broker.emit_after("process_boot")  # what dramatiq's CLI does in each worker process
    result = run_demo(athletes=athletes, weeks=weeks, seed=seed, store_path=Path(store_path), threads=2,
                      start=dt.date(2026, 1, 5), progress=PauseHalfWay())
    print(json.dumps({"events": result.events, "recommendations": issued_recommendations(store_path),
                      "pid": os.getpid()}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
