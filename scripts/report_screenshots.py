"""Regenerate the report screenshots of docs/replay.md, so the docs show what the code draws.

    .venv/bin/python scripts/report_screenshots.py [--out docs/img] [--athletes 30] [--weeks 12]

Builds a demo store (``strideline demo``'s pipeline) in a scratch directory, runs a replay
(baseline and the docs' step20 config), a closed loop and a sweep, and renders each report.html in
headless chromium (Debian's ``chromium``; scripts/test.sh installs it) at 1280 px wide.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "engine.policies.baseline:BaselinePolicy"
STEP20 = f"step20={BASELINE}@{REPO / 'docs' / 'examples' / 'step20.toml'}"


def browser() -> str:
    found = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if found is None:
        sys.exit("chromium is not installed: apt-get install chromium (scripts/test.sh installs it)")
    return found


def screenshot(report: Path, png: Path, height: int) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size=1280,{height}", f"--screenshot={png}", report.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    print(f"{png} <- {report}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scripts/report_screenshots.py")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--athletes", type=int, default=30)
    parser.add_argument("--weeks", type=int, default=16)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from engine.demo import run_demo
    from engine.replay import PolicySpec, replay, simulate, sweep

    settle4 = PolicySpec(BASELINE, overrides=(("phases.settle_days", 4),), label="settle4")

    with tempfile.TemporaryDirectory(prefix="strideline-shots-") as scratch:
        work = Path(scratch)
        store = work / "demo.sqlite3"
        run_demo(athletes=args.athletes, weeks=args.weeks, seed=1, store_path=store, threads=2,
                 start=dt.date(2026, 1, 5))
        replay(store, [BASELINE, STEP20, settle4], work / "replay", workers=2)
        simulate([BASELINE, STEP20, settle4], athletes=12, seeds=3, weeks=args.weeks, out_dir=work / "loop",
                 workers=2)
        sweep(BASELINE, ["run.weekly_step=0.05,0.1,0.2", "phases.settle_days=5,7"], work / "sweep", source=store,
              workers=2)
        screenshot(work / "replay" / "report.html", args.out / "replay-report.png", 2200)
        screenshot(work / "loop" / "report.html", args.out / "closed-loop-report.png", 2200)
        screenshot(work / "sweep" / "report.html", args.out / "sweep-report.png", 1600)


if __name__ == "__main__":
    main()
