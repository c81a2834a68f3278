"""`strideline advice ATHLETE`: the advice in force per topic ("today's plan"), as a table or JSON."""

from __future__ import annotations

import datetime as dt
import os

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from engine.advice import AdviceInForce, UnknownAthlete, advice_in_force
from engine.clock import SystemClock
from engine.runtime import open_store

STORE_HELP = "Store URL or SQLite path (default: $STRIDELINE_STORE_URL or var/strideline.sqlite3)."


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date-time", param_hint="--at") from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no UTC offset (e.g. 2026-03-05T08:00:00+00:00)",
                                 param_hint="--at")
    return moment


def _targets(target: dict) -> str:
    return ", ".join(f"{name} {value}" for name, value in target.items()) or "-"


def render(advice: AdviceInForce) -> Table:
    table = Table(title=f"Advice in force for {advice.athlete_id} on {advice.local_date.isoformat()} "
                        f"({advice.time_zone})", title_justify="left")
    for column in ("topic", "kind", "local date", "explanation", "targets"):
        table.add_column(column, overflow="fold")
    for item in advice.items:
        table.add_row(item.topic, item.kind, item.local_date.isoformat(), item.explanation, _targets(item.target))
    return table


def advice(athlete_id: str = typer.Argument(..., help="The athlete's id."),
           store: str = typer.Option(None, help=STORE_HELP),
           as_json: bool = typer.Option(False, "--json", help="Print the advice in force as JSON."),
           at: str = typer.Option(None, help="Read the advice in force at this ISO 8601 moment (default: now).")
           ) -> None:
    """Show the advice in force for an athlete: one row per topic, with its local date and targets."""
    moment = _moment(at)
    events = open_store(store or os.environ.get("STRIDELINE_STORE_URL"), SystemClock())
    try:
        current = advice_in_force(events, athlete_id, moment)
    except UnknownAthlete:
        Console(stderr=True).print(f"[red]no athlete {athlete_id!r} in the store[/]")
        raise typer.Exit(1) from None
    finally:
        events.close()
    if as_json:
        typer.echo(msgspec.json.format(msgspec.json.encode(current).decode()))
    elif not current.items:
        typer.echo(f"no advice in force for {athlete_id} on {current.local_date.isoformat()} ({current.time_zone})")
    else:
        Console(width=max(Console().width, 120)).print(render(current))


def register(app: typer.Typer) -> None:
    app.command("advice")(advice)
