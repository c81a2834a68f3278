"""`strideline demo`: coach a simulated cohort on the embedded default and print what happened."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.demo import run_demo, summarise
from engine.logs import configure_logging
from engine.store.sqlite import SQLiteEventStore


def demo(
    athletes: int = typer.Option(50, min=1, max=10_000, help="Simulated athletes."),
    weeks: int = typer.Option(24, min=1, max=104, help="Simulated weeks (24: long enough for the walk-run "
                                                          "ladder and integration)."),
    seed: int = typer.Option(2, help="Simulation seed (same seed, same cohort, same recommendations; 2 is "
                                       "a cohort where, within 24 weeks, athletes reach every phase and drop-off point)."),
    store: Path = typer.Option(Path("var/demo.sqlite3"), help="SQLite file to create (replaced if present)."),
    threads: int = typer.Option(2, min=1, max=16, help="In-process worker threads."),
    start: str = typer.Option("2026-01-05", help="First simulated day (YYYY-MM-DD)."),
    timelines: int = typer.Option(3, min=0, help="Athlete timelines to print."),
    coached: bool = typer.Option(True, help="Athletes live under the advice in force (--no-coached: their own "
                                            "habits only, open loop)."),
) -> None:
    """Simulate a cohort through the in-process pipeline into SQLite and summarise the coaching.

    The pipeline runs as `strideline serve` runs it (worker threads, the sweeper and its day ticks),
    delivering to the log only: a simulated cohort's advice must not reach a real webhook."""
    if os.environ.get("STRIDELINE_WEBHOOK_URL"):
        typer.echo("error: the demo delivers its simulated advice to the log only; unset STRIDELINE_WEBHOOK_URL "
                   "(webhooks are delivered by `strideline serve` and `strideline worker`)", err=True)
        raise typer.Exit(2)
    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not a date like 2026-01-05", param_hint="--start") from None
    configure_logging("WARNING")
    console = Console()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        result = run_demo(athletes=athletes, weeks=weeks, seed=seed, store_path=store, threads=threads,
                          start=first_day, progress=progress, coached=coached)
    console.print(f"[bold]Strideline demo[/]: {result.athletes} athletes, {weeks} weeks, "
                  f"{result.events:,} events -> {result.recommendations:,} recommendations "
                  f"({result.withdrawals:,} withdrawn later) "
                  f"in {result.seconds:.1f} s ({result.events / result.seconds:,.0f} events/s), store {result.store_path}")
    s = SQLiteEventStore(store)
    summary = summarise(s, result.end, timelines)
    s.close()
    _table(console, "Athletes per phase", "phase", summary["phases"],
           order=["settle", "strength", "plyometric", "return_to_run", "integration"])
    _table(console, "Drop-off flags by point", "drop-off point", summary["dropoffs"],
           extra=("athletes", summary["athletes_flagged"]))
    _table(console, "Recommendations by kind", "kind", summary["kinds"])
    _table(console, "Advice withdrawn, by reason", "reason", summary["withdrawn"])
    _table(console, "Most frequent rules", "rule", dict(summary["rules"].most_common(12)))
    for story in summary["timelines"]:
        console.rule(f"{story['athlete_id']} - now in {story['phase']}")
        for day, phase, rule in story["changes"]:
            console.print(f"  {day}  -> {phase:<14} ({rule})")
        for day, kind, rule, text, why in story["key_recommendations"]:
            console.print(f"  {day}  {kind:<13} {rule}: {text}")
            console.print(f"              [dim]{_compact(why)}[/]")


def _compact(why: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in list(why.items())[:6])


def _table(console: Console, title: str, label: str, counts, order=None, extra=None) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    table.add_column("count", justify="right")
    if extra:
        table.add_column(extra[0], justify="right")
    keys = order or sorted(counts, key=lambda k: (-counts[k], k))
    for key in keys:
        row = [key, str(counts.get(key, 0))]
        if extra:
            row.append(str(extra[1].get(key, 0)))
        table.add_row(*row)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
