"""`strideline quarantine list`: the events the projector could not fold and set aside.

An event the fold cannot apply (projections.athlete.fold_or_quarantine) is recorded in the athlete's
projection and counted (``strideline_events_quarantined_total``, alert ``StridelineEventsQuarantined``);
the athlete's projection goes on without it. This lists them from the stored projections, so an
operator can see which events, of whom, and why, then correct them (``entry.retracted`` /
``entry.amended``) or fix the fold and `strideline rebuild --athlete ID`.
"""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Events the projector quarantined (could not fold).", no_args_is_help=True)
    group.command("list")(list_quarantined)
    app.add_typer(group, name="quarantine")


def quarantined(store, athlete: str | None = None) -> list[dict]:
    """One row per quarantined event, by athlete then stream version."""
    from engine import pipeline

    rows = []
    for athlete_id in [athlete] if athlete else pipeline.athletes(store):
        state, checkpoint = pipeline.load_state(store, athlete_id)
        for item in state.quarantined:
            rows.append({"athlete_id": athlete_id, "version": item.version, "position": item.position,
                         "event_id": item.event_id, "type": item.type, "reason": item.reason,
                         "projected_to": checkpoint})
    return rows


def list_quarantined(
    store: str | None = typer.Option(None, "--store", help="Store URL or SQLite path (default: $STRIDELINE_STORE_URL)."),
    athlete: str | None = typer.Option(None, "--athlete", help="Only this athlete."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List quarantined events (athlete, version, event id, type, reason) from the stored projections."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from engine.store.factory import open_store

    try:
        opened = open_store(store)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable server: say which
        typer.echo(f"error: cannot open the store: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        if athlete is not None and opened.stream_version(athlete) == 0:
            typer.echo(f"error: no athlete {athlete!r} in the store", err=True)
            raise typer.Exit(2)
        rows = quarantined(opened, athlete)
    finally:
        opened.close()
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    if not rows:
        typer.echo("no quarantined events")
        return
    table = Table(title=f"{len(rows)} quarantined event(s)", title_justify="left")
    for column in ("athlete", "version", "event id", "type", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(escape(row["athlete_id"]), str(row["version"]), row["event_id"], escape(row["type"]),
                      escape(row["reason"]))
    Console().print(table)
