"""Run independent jobs serially or in worker processes, with progress from inside the jobs.

Jobs are plain picklable objects; each worker process opens what it needs itself (the store, the
policies). Progress travels over a multiprocessing queue as (events, athletes) increments. Results
come back in job order, so the caller's output never depends on which process ran what.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue as queue_mod
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

Progress = Callable[[int, int], None]
"""(events done, athletes done) since the last call."""

_report: Progress | None = None


def report(events: int, athletes: int) -> None:
    """Called by jobs: forwards progress to the parent (or the serial caller)."""
    if _report is not None:
        _report(events, athletes)


@contextlib.contextmanager
def reporting_to(progress: Progress | None):
    """Within the block, jobs' ``report`` calls go to ``progress`` (the serial path, Ray tasks)."""
    global _report
    previous, _report = _report, progress
    try:
        yield
    finally:
        _report = previous


def _init_worker(progress_queue) -> None:
    global _report
    _report = lambda e, a: progress_queue.put((e, a))  # noqa: E731
    for reset in _RESETS:  # nothing opened by the parent (store connections) is used in a child
        reset()


_RESETS: list[Callable[[], None]] = []


def on_worker_start(reset: Callable[[], None]) -> None:
    """Register a per-process cache reset, run first in every worker process."""
    _RESETS.append(reset)


def _context():
    """``fork`` on Linux (no re-import of ``__main__``: works from scripts and notebooks without a
    main guard; caches are reset in the child), else ``spawn``. STRIDELINE_REPLAY_START_METHOD
    overrides it."""
    method = os.environ.get("STRIDELINE_REPLAY_START_METHOD") or ("fork" if sys.platform.startswith("linux")
                                                                   else "spawn")
    return mp.get_context(method)


def run_jobs(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int,
             progress: Progress | None = None) -> list[Any]:
    """``[fn(job) for job in jobs]``, in ``workers`` processes when > 1. The first job error is
    raised (with the worker's own exception type and message) once pending jobs are cancelled."""
    if workers <= 1 or len(jobs) <= 1:
        with reporting_to(progress):
            return [fn(job) for job in jobs]
    ctx = _context()
    progress_queue = ctx.Queue()
    results: dict[int, Any] = {}
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx,
                             initializer=_init_worker, initargs=(progress_queue,)) as pool:
        futures: dict[Future, int] = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(progress_queue, progress)
                for future in done:
                    results[futures[future]] = future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            _stop(pool)  # the first error decides: do not wait for the other partitions
            raise
        _drain(progress_queue, progress)
    return [results[i] for i in range(len(jobs))]


def _stop(pool: ProcessPoolExecutor) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()


def _drain(progress_queue, progress: Progress | None) -> None:
    events = athletes = 0
    while True:
        try:
            e, a = progress_queue.get_nowait()
        except queue_mod.Empty:
            break
        events += e
        athletes += a
    if progress and (events or athletes):
        progress(events, athletes)
