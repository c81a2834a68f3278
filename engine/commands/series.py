"""`strideline series ATHLETE`: daily chart data (CTL/ATL/TSB, km, pain, e1RM, sleep, fuelling,
phase) in local dates, the columns chosen with ``--metrics``."""

from __future__ import annotations

import datetime as dt
import os

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from engine.clock import SystemClock
from engine.pipeline import load_state
from engine.runtime import open_store
from engine.series import MAX_SERIES_DAYS, METRICS, SeriesDay, UnknownMetric, local_today, select_metrics, series

STORE_HELP = "Store URL or SQLite path (default: $STRIDELINE_STORE_URL or var/strideline.sqlite3)."


def _day(text: str | None, hint: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=hint) from None


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{lift} {kg:g}" for lift, kg in value.items()) or "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def render(athlete_id: str, days: list[SeriesDay], columns: tuple[str, ...] = METRICS) -> Table:
    table = Table(title=f"Daily series for {athlete_id}", title_justify="left")
    for column in ("date", *columns):
        table.add_column(column, justify="right")
    for d in days:
        table.add_row(d.date.isoformat(), *(_cell(getattr(d, c)) for c in columns))
    return table


def show_series(athlete_id: str = typer.Argument(..., help="The athlete's id."),
                start: str = typer.Option(None, "--from", help="First local day, YYYY-MM-DD (default: 27 days before --to)."),
                end: str = typer.Option(None, "--to", help="Last local day, YYYY-MM-DD (default: today in the athlete's zone)."),
                metrics: str = typer.Option(None, "--metrics", help=f"Columns, comma-separated (default: all): {', '.join(METRICS)}."),
                store: str = typer.Option(None, help=STORE_HELP),
                as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON.")) -> None:
    """Show one row per local day: load, fitness, fatigue, form, ACWR, km, pain, e1RM, sleep,
    fuelling and phase (or the --metrics asked for)."""
    first, last = _day(start, "--from"), _day(end, "--to")
    try:
        columns = select_metrics((metrics or "").split(","))
    except UnknownMetric as exc:
        raise typer.BadParameter(str(exc), param_hint="--metrics") from None
    events_store = open_store(store or os.environ.get("STRIDELINE_STORE_URL"), SystemClock())
    try:
        events = events_store.read_stream(athlete_id)
        phases = load_state(events_store, athlete_id)[0].phase.changes if "phase" in columns else []
    finally:
        events_store.close()
    if not events:
        Console(stderr=True).print(f"[red]no athlete {athlete_id!r} in the store[/]")
        raise typer.Exit(1)
    last = last or local_today(dt.datetime.now(dt.timezone.utc), events)
    first = first or last - dt.timedelta(days=27)
    if last < first or (last - first).days >= MAX_SERIES_DAYS:
        raise typer.BadParameter(f"the range must run forward and hold at most {MAX_SERIES_DAYS} days",
                                 param_hint="--from/--to")
    days = series(events, first, last, columns, phases)
    if as_json:
        typer.echo(msgspec.json.format(msgspec.json.encode(days).decode()))
    else:
        Console(width=max(Console().width, 160)).print(render(athlete_id, days, columns))


def register(app: typer.Typer) -> None:
    app.command("series")(show_series)
