"""`strideline metrics`: print the Prometheus exposition of a store's adherence once.

    strideline metrics [--store URL] [--at 2026-03-02T08:00:00+00:00] [--all]

The adherence collector scans the saved projections exactly as the API's /metrics does (athletes
by phase, strength target, heavy share, drop-off flags, days since last log, projections behind).
``--all`` adds this process's own metrics, which for a one-shot command are mostly zeros.
"""

from __future__ import annotations

import datetime as dt

import typer


def metrics(
    store: str = typer.Option(None, help="Store URL or SQLite path (default: $STRIDELINE_STORE_URL)."),
    at: str = typer.Option(None, help="Evaluate adherence as of this ISO time (default: now)."),
    all_metrics: bool = typer.Option(False, "--all", help="Also print this process's own metrics."),
) -> None:
    """Print the adherence metrics of a store in Prometheus text format, once."""
    from prometheus_client import CollectorRegistry, generate_latest

    from engine import metrics as m
    from engine.clock import ManualClock, SystemClock
    from engine.runtime import open_store

    clock = SystemClock()
    if at is not None:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            raise typer.BadParameter(f"{at!r} is not an ISO time like 2026-03-02T08:00:00+00:00",
                                     param_hint="--at") from None
        clock = ManualClock(when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc))
    opened = open_store(store, clock)
    try:
        collector = m.AdherenceCollector(opened, clock.now, ttl=0)
        if all_metrics:
            registry = m.registry(adherence=collector)
        else:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(collector)
        typer.echo(generate_latest(registry).decode(), nl=False)
    finally:
        opened.close()


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
