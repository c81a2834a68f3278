"""`strideline series ATHLETE`: daily chart data (CTL/ATL/TSB, km, pain, e1RM) in local dates."""

from __future__ import annotations

import datetime as dt
import os

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from engine.clock import SystemClock
from engine.runtime import open_store
from engine.series import MAX_SERIES_DAYS, SeriesDay, local_today, series

STORE_HELP = "Store URL or SQLite path (default: $STRIDELINE_STORE_URL or var/strideline.sqlite3)."


def _day(text: str | None, hint: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=hint) from None


def render(athlete_id: str, days: list[SeriesDay]) -> Table:
    table = Table(title=f"Daily series for {athlete_id}", title_justify="left")
    for column in ("date", "CTL", "ATL", "TSB", "ACWR", "km", "7-day km", "worst pain", "e1RM kg"):
        table.add_column(column, justify="right")
    for d in days:
        table.add_row(d.date.isoformat(), f"{d.ctl:.1f}", f"{d.atl:.1f}", f"{d.tsb:.1f}", f"{d.acwr:.2f}",
                      f"{d.km:g}", f"{d.week_km:g}", "-" if d.worst_pain is None else str(d.worst_pain),
                      ", ".join(f"{lift} {kg:g}" for lift, kg in d.e1rm_kg.items()) or "-")
    return table


def show_series(athlete_id: str = typer.Argument(..., help="The athlete's id."),
                start: str = typer.Option(None, "--from", help="First local day, YYYY-MM-DD (default: 27 days before --to)."),
                end: str = typer.Option(None, "--to", help="Last local day, YYYY-MM-DD (default: today in the athlete's zone)."),
                store: str = typer.Option(None, help=STORE_HELP),
                as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON.")) -> None:
    """Show one row per local day: fitness, fatigue, form, ACWR, km, worst pain and e1RM."""
    first, last = _day(start, "--from"), _day(end, "--to")
    events_store = open_store(store or os.environ.get("STRIDELINE_STORE_URL"), SystemClock())
    try:
        events = events_store.read_stream(athlete_id)
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
    days = series(events, first, last)
    if as_json:
        typer.echo(msgspec.json.format(msgspec.json.encode(days).decode()))
    else:
        Console(width=max(Console().width, 120)).print(render(athlete_id, days))


def register(app: typer.Typer) -> None:
    app.command("series")(show_series)
