"""The composition root's parts: one object holding the adapters every entry point shares.

Built once per process (CLI command, API server, worker process) from settings; workers, HTTP and
the CLI receive it rather than reaching for globals of their own.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from engine.clock import Clock, SystemClock
from engine.ingest import Ingestor
from engine.notifiers import LogNotifier, Notifier, Routing
from engine.policies.base import Policy, load_policy
from engine.store.base import EventStore

DEFAULT_POLICY = "engine.policies.baseline:BaselinePolicy"


@dataclass
class Runtime:
    store: EventStore
    policy: Policy
    clock: Clock
    ingestor: Ingestor
    notifiers: dict[str, Notifier] = field(default_factory=dict)
    routing: Routing = field(default_factory=Routing)
    settle_margin: dt.timedelta = dt.timedelta(seconds=2)
    """Day boundaries are evaluated only once they are this far in the past (in-flight appends)."""

    def horizon(self) -> dt.datetime:
        return self.clock.now() - self.settle_margin


def open_store(url: str | None, clock: Clock, synchronous: str | None = None) -> EventStore:
    try:
        from engine.store.factory import open_store as factory  # PostgreSQL support, when present
        return factory(url, clock=clock) if synchronous is None else factory(url, clock=clock,
                                                                             synchronous=synchronous)
    except ImportError:
        from engine.store.sqlite import DEFAULT_PATH, SQLiteEventStore
        path = (url or "").removeprefix("sqlite:///") or str(DEFAULT_PATH)
        return SQLiteEventStore(path, clock=clock, synchronous=synchronous or "FULL")


def build_runtime(*, store: EventStore | None = None, store_url: str | None = None,
                  policy: Policy | None = None, policy_spec: str | None = None,
                  policy_config: str | None = None, clock: Clock | None = None,
                  notifiers: dict[str, Notifier] | None = None) -> Runtime:
    """Wire a runtime from explicit parts or the environment (STRIDELINE_STORE_URL, STRIDELINE_POLICY)."""
    clock = clock or SystemClock()
    if store is None:
        store = open_store(store_url or os.environ.get("STRIDELINE_STORE_URL"), clock)
    if policy is None:
        policy = load_policy(policy_spec or os.environ.get("STRIDELINE_POLICY", DEFAULT_POLICY),
                             policy_config or os.environ.get("STRIDELINE_POLICY_CONFIG"))
    return Runtime(store=store, policy=policy, clock=clock, ingestor=Ingestor(store, clock=clock),
                   notifiers=notifiers if notifiers is not None else {"log": LogNotifier()})
