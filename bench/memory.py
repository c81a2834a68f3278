"""Peak memory of a replay: the analysts' `engine.replay.replay` (when present) over a cohort store,
else a streaming fold over ``store.iter_raw`` grouped per athlete. Peak RSS is read from the kernel
(``ru_maxrss``) for this process and, separately, for the largest worker process it waited for.

Run in a fresh process (``python -m bench.memory STORE``) so nothing else inflates the peak.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path


def _rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def with_engine_replay(store: str, out_dir: str, workers: int, horizon: dt.datetime | None) -> dict:
    from engine.replay import replay
    began = time.perf_counter()
    result = replay(store, ["engine.policies.baseline:BaselinePolicy"], out_dir, horizon=horizon,
                    workers=workers, diff=False, report=False, csv=False)
    seconds = time.perf_counter() - began
    events = getattr(result, "events", None)
    return {"how": "engine.replay.replay (baseline policy, parquet outputs)", "workers": workers,
            "seconds": round(seconds, 1), "events": events,
            "events_per_s": round(events / seconds) if events else None}


def streaming_fold(store: str) -> dict:
    from engine.store.sqlite import SQLiteEventStore, row_to_envelope
    from events.envelope import is_recommendation_stream
    from projections.athlete import AthleteState, evolve
    s = SQLiteEventStore(store, synchronous="OFF")
    states: dict[str, AthleteState] = {}
    n, began = 0, time.perf_counter()
    for batch in s.iter_raw(batch_size=5000):
        for row in batch:
            if is_recommendation_stream(row[2]):
                continue
            state = states.get(row[2])
            if state is None:
                state = states[row[2]] = AthleteState(athlete_id=row[2])
            evolve(state, row_to_envelope(row))
            n += 1
    seconds = time.perf_counter() - began
    s.close()
    return {"how": "streaming fold over iter_raw (every athlete's state held)", "seconds": round(seconds, 1),
            "events": n, "events_per_s": round(n / seconds)}


def main(argv: list[str]) -> None:
    store, out_dir, workers = argv[0], argv[1], int(argv[2]) if len(argv) > 2 else 2
    horizon = dt.datetime.fromisoformat(argv[3]) if len(argv) > 3 else None
    try:
        import engine.replay  # noqa: F401
        result = with_engine_replay(store, out_dir, workers, horizon)
    except ImportError:
        result = streaming_fold(store)
    result["peak_rss_mib_main"] = round(_rss_mib(resource.RUSAGE_SELF), 1)
    result["peak_rss_mib_largest_worker"] = round(_rss_mib(resource.RUSAGE_CHILDREN), 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
