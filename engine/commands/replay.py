"""`strideline replay | simulate | sweep | export | import`: analysts' replay and backtest (docs/replay.md)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

POLICY_HELP = ("Policy as label=module:attr@config.toml (label= and @config, .toml or .json, optional); "
               "repeat for several. Default: engine.policies.baseline:BaselinePolicy.")
DEFAULT_POLICY = "engine.policies.baseline:BaselinePolicy"
WORKERS_HELP = "Worker processes (athletes are split across them by a stable hash)."


def _fail(console: Console, exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {escape(str(exc))}")
    raise typer.Exit(1)


def _errors():
    from engine.policies.base import PolicyLoadError
    from engine.replay.errors import ReplayError
    from engine.store.base import StoreError

    return (ReplayError, PolicyLoadError, StoreError, ValueError, OSError)


def _source(store: str | None, input_: Path | None) -> str:
    from engine.store.factory import resolve_url

    if store and input_:
        raise typer.BadParameter("give --store or --input, not both")
    return str(input_) if input_ else resolve_url(store)


def _horizon(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date-time", param_hint="--horizon") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.3g}" if isinstance(value, float) else f"{value:,}"


def _metrics_table(console: Console, rows: list[dict], keys: list[str], title: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for row in rows:
        table.add_column(escape(str(row.get("policy", row.get("config")))), justify="right")
    for key in keys:
        table.add_row(escape(key), *[_fmt(r.get(key)) for r in rows])
    console.print(table)


REPLAY_KEYS = ["athletes", "events", "recommendations", "reached_strength", "reached_return_to_run",
               "reached_integration", "median_days_to_return_to_run", "flare_ups_per_athlete",
               "dropoff_flags_per_athlete", "adherence", "spikes_allowed", "spike_flags"]


def replay(
    policy: list[str] = typer.Option(None, "--policy", "-p", help=POLICY_HELP),
    store: str = typer.Option(None, help="Store URL or SQLite path (default: STRIDELINE_STORE_URL or var/strideline.sqlite3)."),
    input_: Path = typer.Option(None, "--input", "-i", help="An exported log (.jsonl or .parquet) instead of a store."),
    out: Path = typer.Option(Path("var/replay"), "--out", "-o", help="Output directory."),
    horizon: str = typer.Option(None, help="'As of' time (ISO 8601; default: the last recorded_at in the log)."),
    workers: int = typer.Option(1, min=1, max=256, help=WORKERS_HELP),
    diff: bool = typer.Option(True, help="Write the disagreement table (with two or more policies)."),
    report: bool = typer.Option(True, help="Write report.html and charts/*.png."),
) -> None:
    """Replay a store or an exported log under one or more policies; write tables and a report."""
    from engine.replay.backtest import replay as run
    from engine.replay.progress import RichProgress

    console = Console()
    try:
        source = _source(store, input_)
        with RichProgress() as progress:
            result = run(source, policy or [DEFAULT_POLICY], out, horizon=_horizon(horizon), workers=workers,
                         diff=diff, report=report, progress=progress)
    except _errors() as exc:
        _fail(console, exc)
    console.print(f"[bold]replayed[/] {result.events:,} events of {result.athletes:,} athletes as of "
                  f"{result.horizon.isoformat()} in {result.seconds:.1f} s "
                  f"({result.events_per_second:,.0f} events/s, {workers} worker(s)) -> {out}")
    _metrics_table(console, result.metrics.to_pylist(), REPLAY_KEYS, "Outcome metrics")
    if "report" in result.files:
        console.print(f"report: {result.files['report']}")


def simulate(
    policy: list[str] = typer.Option(None, "--policy", "-p", help=POLICY_HELP),
    athletes: int = typer.Option(50, min=1, max=100_000, help="Simulated athletes per seed."),
    seeds: int = typer.Option(5, min=1, max=1000, help="Cohorts (seeds first-seed, first-seed+1, ...)."),
    weeks: int = typer.Option(16, min=1, max=104, help="Simulated weeks."),
    first_seed: int = typer.Option(1, help="The first seed."),
    start: str = typer.Option("2026-01-05", help="First simulated day (YYYY-MM-DD)."),
    out: Path = typer.Option(Path("var/closed-loop"), "--out", "-o", help="Output directory."),
    workers: int = typer.Option(1, min=1, max=256, help="Worker processes."),
    report: bool = typer.Option(True, help="Write report.html and charts/closed_loop.png."),
) -> None:
    """Closed loop: the same simulated cohort coached by each policy; outcomes with 95% intervals."""
    from engine.replay.closedloop import CLOSED_LOOP_METRICS
    from engine.replay.loopresults import simulate as run
    from engine.replay.progress import RichProgress

    console = Console()
    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not a date like 2026-01-05", param_hint="--start") from None
    try:
        with RichProgress() as progress:
            result = run(policy or [DEFAULT_POLICY], athletes, seeds, weeks=weeks, first_seed=first_seed,
                         start=first_day, out_dir=out, workers=workers, report=report, progress=progress)
    except _errors() as exc:
        _fail(console, exc)
    console.print(f"[bold]closed loop[/]: {athletes} athletes x {seeds} seeds x {len(result.policies)} "
                  f"policies, {weeks} weeks, in {result.seconds:.1f} s -> {out}")
    table = Table(title="Outcomes (mean across seeds, 95% interval)", title_justify="left")
    table.add_column("metric")
    labels = [p["label"] for p in result.policies]
    for label in labels:
        table.add_column(escape(label), justify="right")
    for metric, _ in CLOSED_LOOP_METRICS:
        cells = []
        for label in labels:
            s = result.interval(label, metric)
            cells.append(f"{_fmt(s['mean'])} [{_fmt(s['low'])}, {_fmt(s['high'])}]")
        table.add_row(metric, *map(escape, cells))
    console.print(table)


def sweep(
    policy: str = typer.Option(DEFAULT_POLICY, "--policy", "-p", help="The base policy: module:attr, optionally @config.toml."),
    grid: list[str] = typer.Option(..., "--grid", "-g", help="field.path=v1,v2,... (repeat: cartesian product)."),
    closed_loop: bool = typer.Option(False, "--closed-loop", help="Evaluate each config in closed loop instead of replay."),
    store: str = typer.Option(None, help="Replay mode: store URL or SQLite path."),
    input_: Path = typer.Option(None, "--input", "-i", help="Replay mode: an exported log."),
    horizon: str = typer.Option(None, help="Replay mode: 'as of' time (ISO 8601)."),
    athletes: int = typer.Option(50, min=1, help="Closed loop: athletes per seed."),
    seeds: int = typer.Option(3, min=1, help="Closed loop: seeds."),
    weeks: int = typer.Option(16, min=1, max=104, help="Closed loop: weeks."),
    out: Path = typer.Option(Path("var/sweep"), "--out", "-o", help="Output directory."),
    workers: int = typer.Option(1, min=1, max=256, help="Worker processes."),
    report: bool = typer.Option(False, help="Also write the replay/closed-loop report."),
) -> None:
    """Evaluate a grid of policy configs in one run: one row per config (sweep.parquet, sweep.csv)."""
    from engine.replay.progress import RichProgress
    from engine.replay.sweep import sweep as run

    console = Console()
    try:
        source = None if closed_loop else _source(store, input_)
        with RichProgress() as progress:
            result = run(policy, grid, out, source=source, closed_loop=closed_loop, athletes=athletes, seeds=seeds,
                         weeks=weeks, horizon=_horizon(horizon), workers=workers, report=report, progress=progress)
    except _errors() as exc:
        _fail(console, exc)
    keys = [k for k in result.rows[0] if k != "config"][:14]
    _metrics_table(console, result.rows, keys, f"Sweep: {len(result.rows)} configs")
    console.print(f"sweep table: {result.files['sweep']}")


def export(
    store: str = typer.Option(None, help="Store URL or SQLite path to export."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.jsonl or .parquet)."),
    format_: str = typer.Option(None, "--format", help="jsonl or parquet (default: from the suffix)."),
) -> None:
    """Export the whole log, in position order: JSONL (one envelope per line) or Parquet."""
    from engine.replay.logio import export_log
    from engine.replay.progress import RichProgress
    from engine.store.factory import open_store, resolve_url

    console = Console()
    try:
        s = open_store(resolve_url(store))
        try:
            with RichProgress() as progress:
                progress.start("exporting", s.last_position())
                count = export_log(s, out, format_, progress=progress.advance)
        finally:
            s.close()
    except _errors() as exc:
        _fail(console, exc)
    console.print(f"exported {count:,} events -> {out}")


def import_(
    input_: Path = typer.Option(..., "--input", "-i", help="An exported log (.jsonl or .parquet)."),
    store: str = typer.Option(..., help="SQLite store to create or fill (it must hold no events)."),
    format_: str = typer.Option(None, "--format", help="jsonl or parquet (default: from the suffix)."),
) -> None:
    """Import an exported log into an empty SQLite store, keeping ids, versions, positions and times."""
    from engine.replay.logio import import_log
    from engine.replay.progress import RichProgress
    from engine.store.factory import open_store

    console = Console()
    try:
        if not input_.is_file():
            raise FileNotFoundError(f"{input_}: no such file")
        s = open_store(store)
        try:
            with RichProgress() as progress:
                progress.start("importing", None)
                count = import_log(s, input_, format_, progress=progress.advance)
        finally:
            s.close()
    except _errors() as exc:
        _fail(console, exc)
    console.print(f"imported {count:,} events -> {store}")


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
    app.command("simulate")(simulate)
    app.command("sweep")(sweep)
    app.command("export")(export)
    app.command("import")(import_)
