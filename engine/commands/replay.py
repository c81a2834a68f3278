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
ENGINE_HELP = "Where the jobs run: local (this machine's worker processes) or ray (Ray tasks)."
RAY_ADDRESS_HELP = "Ray cluster address for --engine ray (default: RAY_ADDRESS, else a new local cluster)."
REFERENCE_HELP = "The policy label the others are compared with (default: the first policy)."
SUMMARY_WIDTH = 100


def _fail(console: Console, exc: Exception) -> None:
    if isinstance(exc, ModuleNotFoundError):
        name = (exc.name or "a module").split(".")[0]
        message = (f"{name} is not installed: run pip install -e . (or bash scripts/demo.sh) to install "
                   "Strideline with its default dependencies")
    else:
        message = str(exc)
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # one line, whatever the width
    raise typer.Exit(1)


def _errors():
    from engine.policies.base import PolicyLoadError
    from engine.replay.errors import ReplayError
    from engine.store.base import StoreError

    return (ReplayError, PolicyLoadError, StoreError, ValueError, OSError, ModuleNotFoundError)


def _engine_option():
    return typer.Option("local", "--engine", help=ENGINE_HELP, case_sensitive=False)


def _ray_address_option():
    return typer.Option(None, "--ray-address", envvar="RAY_ADDRESS", help=RAY_ADDRESS_HELP)


def _print_verdict(console: Console, comparison: list[dict], measures) -> None:
    from engine.replay.compare import verdict

    for _, text in verdict(comparison, measures):
        console.print(f"[bold]verdict:[/] {escape(text)}")


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
    report: bool = typer.Option(True, help="Write report.html, charts/*.png and athletes/*.html."),
    reference: str = typer.Option(None, help=REFERENCE_HELP),
    engine: str = _engine_option(),
    ray_address: str = _ray_address_option(),
) -> None:
    """Replay a store or an exported log under one or more policies; write tables and a report."""
    console = Console()
    try:
        from engine.replay.backtest import replay as run
        from engine.replay.compare import REPLAY_MEASURES

        source = _source(store, input_)
        result = run(source, policy or [DEFAULT_POLICY], out, horizon=_horizon(horizon), workers=workers,
                     diff=diff, report=report, reference=reference, engine=engine.lower(),
                     ray_address=ray_address, progress=True)
    except _errors() as exc:
        _fail(console, exc)
    where = f"{workers} worker(s)" if result.engine == "local" else "Ray"
    console.print(f"[bold]replayed[/] {result.events:,} events of {result.athletes:,} athletes as of "
                  f"{result.horizon.isoformat()} in {result.seconds:.1f} s "
                  f"({result.events_per_second:,.0f} events/s, {where}) -> {out}")
    rows = result.athlete_metrics.to_pylist()
    quarantined = sum(r.get("quarantined", 0) for r in rows if r["policy"] == rows[0]["policy"]) if rows else 0
    if quarantined:  # the fold set them aside, live and here alike: listed by `strideline quarantine list`
        console.print(f"{quarantined} event(s) quarantined (not foldable): see `strideline quarantine list`")
    _metrics_table(console, result.metrics.to_pylist(), REPLAY_KEYS, "Outcome metrics")
    _print_verdict(console, result.comparison, REPLAY_MEASURES)
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
    report: bool = typer.Option(True, help="Write report.html and charts/*.png."),
    reference: str = typer.Option(None, help=REFERENCE_HELP),
    engine: str = _engine_option(),
    ray_address: str = _ray_address_option(),
) -> None:
    """Closed loop: the same simulated cohort coached by each policy; outcomes with 95% intervals."""
    console = Console()
    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not a date like 2026-01-05", param_hint="--start") from None
    try:
        from engine.replay.closedloop import CLOSED_LOOP_METRICS
        from engine.replay.compare import CLOSED_LOOP_MEASURES
        from engine.replay.loopresults import simulate as run

        result = run(policy or [DEFAULT_POLICY], athletes, seeds, weeks=weeks, first_seed=first_seed,
                     start=first_day, out_dir=out, workers=workers, report=report, reference=reference,
                     engine=engine.lower(), ray_address=ray_address, progress=True)
    except _errors() as exc:
        _fail(console, exc)
    console.print(f"[bold]closed loop[/]: {athletes} athletes x {seeds} seeds x {len(result.policies)} "
                  f"policies, {weeks} weeks, in {result.seconds:.1f} s -> {out}")
    table = Table(title="Outcomes (mean across seeds, 95% interval)", title_justify="left")
    table.add_column("metric", overflow="fold")
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
    _print_verdict(console, result.comparison, CLOSED_LOOP_MEASURES)
    if "report" in result.files:
        console.print(f"report: {result.files['report']}")


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
    objective: str = typer.Option(None, help="The metric configs are ranked on (default: reached_return_to_run "
                                             "in replay, reached_pre_injury_volume in closed loop)."),
    out: Path = typer.Option(Path("var/sweep"), "--out", "-o", help="Output directory."),
    workers: int = typer.Option(1, min=1, max=256, help="Worker processes."),
    report: bool = typer.Option(True, help="Write report.html (a heatmap per outcome, the ranking)."),
    engine: str = _engine_option(),
    ray_address: str = _ray_address_option(),
) -> None:
    """Evaluate a grid of policy configs in one run: one row per config, ranked (sweep.parquet, sweep.csv)."""
    console = Console()
    try:
        from engine.replay.sweep import sweep as run

        source = None if closed_loop else _source(store, input_)
        result = run(policy, grid, out, source=source, closed_loop=closed_loop, athletes=athletes, seeds=seeds,
                     weeks=weeks, horizon=_horizon(horizon), objective=objective, workers=workers, report=report,
                     engine=engine.lower(), ray_address=ray_address, progress=True)
    except _errors() as exc:
        _fail(console, exc)
    summary = Console(width=min(console.width, SUMMARY_WIDTH))
    summary.print(sweep_summary(result))
    summary.print(f"sweep table: {result.files['sweep']}")
    if "report" in result.files:
        summary.print(f"report: {result.files['report']}")


def sweep_summary(result, limit: int = 10) -> Table:
    """The best configs on the objective and two other outcomes: fits in 100 columns."""
    paths = [p for p, _ in result.grid]
    others = [m for m in result.measures if m.key != result.objective][:2]
    objective = next(m for m in result.measures if m.key == result.objective)
    table = Table(title=f"Sweep: {len(result.rows)} configs, best {min(limit, len(result.rows))} on "
                        f"{objective.key} ({'higher' if objective.better > 0 else 'lower'} is better)",
                  title_justify="left")
    table.add_column("#", justify="right")
    for path in paths:
        table.add_column(escape(path.rsplit(".", 1)[-1]), justify="right")
    for measure in [objective] + others:
        table.add_column(escape(measure.key.replace("_", " ")), justify="right", overflow="fold")
    for row in result.ranked()[:limit]:
        table.add_row(_fmt(row["rank"]), *[escape(str(row[f"config.{p}"])) for p in paths],
                      *[_fmt(row.get(m.key)) for m in [objective] + others])
    return table


def export(
    store: str = typer.Option(None, help="Store URL or SQLite path to export."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.jsonl or .parquet)."),
    format_: str = typer.Option(None, "--format", help="jsonl or parquet (default: from the suffix)."),
) -> None:
    """Export the whole log, in position order: JSONL (one envelope per line) or Parquet."""
    console = Console()
    try:
        from engine.replay import export as run

        count = run(store, out, format_, progress=True)
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
