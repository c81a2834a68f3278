"""``strideline demo``'s own figure: the coached cohort through the in-process pipeline, timed.

Each run is a fresh process (``run_demo`` with the CLI's defaults, its own store under bench/out),
so wall and CPU seconds (user + system, every thread) are the demo's alone. ``before=<git ref>``
runs the same thing on that commit's code (``git archive`` into a temporary directory, first on
``PYTHONPATH``): before and after measured in one run, on the same machine state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_SCRIPT = """
import datetime as dt, json, resource, sys, time
from pathlib import Path
from engine.demo import run_demo
from engine.logs import configure_logging
configure_logging("WARNING")
athletes, weeks, seed, store = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
r = run_demo(athletes=athletes, weeks=weeks, seed=seed, store_path=store, threads=2, start=dt.date(2026, 1, 5))
usage = resource.getrusage(resource.RUSAGE_SELF)
import engine.demo
print(json.dumps({"events": r.events, "recommendations": r.recommendations, "withdrawals": r.withdrawals,
                  "seconds": round(r.seconds, 2), "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                  "synchronous": getattr(engine.demo, "STORE_SYNCHRONOUS", "FULL")}))
"""


def run(out: Path, *, athletes: int = 50, weeks: int = 24, seed: int = 2, before: str | None = None) -> dict:
    """One demo run (``before``: on that git ref's code); events/s over the demo's own timer, and
    per CPU-second of the whole process (start-up and imports included, a few % of it)."""
    out.mkdir(parents=True, exist_ok=True)
    store = out / f"demo-{'before' if before else 'after'}.sqlite3"
    with tempfile.TemporaryDirectory(prefix="strideline-demo-") as tree:
        env = dict(os.environ)
        cwd = REPO
        if before:
            archive = subprocess.run(["git", "archive", before], cwd=REPO, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
            env["PYTHONPATH"], cwd = tree, Path(tree)
        line = subprocess.run([sys.executable, "-c", _SCRIPT, str(athletes), str(weeks), str(seed), str(store)],
                              cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.splitlines()[-1]
    r = json.loads(line)
    r.update(code=before or "working tree", athletes=athletes, weeks=weeks, seed=seed,
             events_per_s=round(r["events"] / r["seconds"]), events_per_cpu_s=round(r["events"] / r["process_cpu_s"]))
    return r
