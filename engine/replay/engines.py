"""Where the jobs of a replay, simulation or sweep run: the local process pool, or a Ray cluster.

Jobs are the same picklable objects either way (one partition of athletes, or one slice of a
simulated cohort), and results come back in job order, so the outputs do not depend on the engine.
``local`` (the default) forks worker processes on this machine (``engine.replay.pool``). ``ray``
submits each job as a Ray task (one CPU each) to the cluster at ``address`` (else ``RAY_ADDRESS``,
else a local cluster started with this machine's CPUs); a driver that already called
``ray.init`` keeps its own connection. Ray is an optional extra: ``pip install -e ".[ray]"``.

On a cluster, every node needs Strideline installed and must reach the store (PostgreSQL, or a
SQLite file / exported log on shared storage); replay tasks send their part files back through
Ray's object store, so no shared output directory is needed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.replay import pool
from engine.replay.errors import ReplayError

ENGINES = ("local", "ray")
RAY_INSTALL = 'Ray is not installed: pip install -e ".[ray]" (or pip install "strideline[ray]")'


@dataclass(frozen=True)
class Engine:
    """``local`` (process pool of ``workers``) or ``ray`` (tasks on the cluster at ``address``)."""

    name: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ReplayError(f"unknown engine {self.name!r}: use one of {', '.join(ENGINES)}")

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    def slots(self, workers: int) -> int:
        """How many jobs run at once: ``workers`` locally, the cluster's CPUs on Ray."""
        if self.is_local:
            return workers
        return max(1, int(_connect(self.address).cluster_resources().get("CPU", 1)))

    def run(self, fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int,
            progress: pool.Progress | None = None) -> list[Any]:
        """``[fn(job) for job in jobs]`` on this engine, in job order."""
        if self.is_local:
            return pool.run_jobs(fn, jobs, workers, progress)
        return _run_on_ray(fn, jobs, progress, self.address)


def as_engine(engine: Engine | str | None, address: str | None = None) -> Engine:
    """An ``Engine`` from a name; the address only matters to Ray (a RAY_ADDRESS set in the
    environment does not stop a local run)."""
    if isinstance(engine, Engine):
        return engine
    name = engine or "local"
    return Engine(name, (address or None) if name == "ray" else None)


def _ray():
    try:
        import ray
    except ModuleNotFoundError:
        raise ReplayError(RAY_INSTALL) from None
    return ray


def _connect(address: str | None):
    """The ``ray`` module, connected: the driver's own session, else ``address``/RAY_ADDRESS, else local."""
    ray = _ray()
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "logging_level": logging.ERROR}
        if address is None:
            options["num_cpus"] = os.cpu_count() or 1
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ReplayError(f"cannot connect to Ray at {address or 'a new local cluster'}: {exc}") from None
    return ray


def _call(fn: Callable[[Any], Any], job: Any) -> tuple[Any, int, int]:
    """Run in a Ray worker: the job, with its progress counted and returned alongside the result."""
    counts = [0, 0]

    def count(events: int, athletes: int) -> None:
        counts[0] += events
        counts[1] += athletes

    with pool.reporting_to(count):
        result = fn(job)
    return result, counts[0], counts[1]


def _run_on_ray(fn: Callable[[Any], Any], jobs: Sequence[Any], progress: pool.Progress | None,
                address: str | None) -> list[Any]:
    ray = _connect(address)
    task = ray.remote(num_cpus=1, max_retries=0)(_call)
    refs = [task.remote(fn, job) for job in jobs]
    order = {ref: i for i, ref in enumerate(refs)}
    results: dict[int, Any] = {}
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1, timeout=0.5)
            for ref in done:
                try:
                    result, events, athletes = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the job's own exception, as the pool raises it
                    cause = getattr(exc, "cause", None)
                    if isinstance(cause, BaseException):
                        raise cause from None
                    raise
                results[order[ref]] = result
                if progress is not None and (events or athletes):
                    progress(events, athletes)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    return [results[i] for i in range(len(jobs))]
