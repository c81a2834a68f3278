"""`strideline ingest | project | view | recommendations | athletes erase`: one athlete from the
command line."""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec
import typer
from rich.console import Console

from engine import pipeline
from engine.runtime import build_runtime
from engine.store.base import StoreError
from engine.views import athlete_view
from events import InvalidEvent

STORE_HELP = "Store URL or SQLite path (default: $STRIDELINE_STORE_URL or var/strideline.sqlite3)."


def _read_batch(path: Path) -> bytes:
    """A JSON array as is; JSON Lines (one event per line) joined into one array."""
    raw = path.read_bytes() if str(path) != "-" else sys.stdin.buffer.read()
    text = raw.strip()
    if text.startswith(b"["):
        return text
    lines = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, 1):
        try:
            msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            raise InvalidEvent(f"line {number} is not JSON ({exc})") from None
    return b"[" + b",".join(lines) + b"]"


def ingest(
    athlete_id: str = typer.Argument(..., help="The athlete's id (letters, digits, '_' or '-')."),
    file: Path = typer.Argument(..., help="JSON array or JSON Lines of events; '-' for stdin."),
    expected_version: int = typer.Option(None, help="Refuse the batch unless the stream is at this version."),
    store: str = typer.Option(None, help=STORE_HELP),
    project: bool = typer.Option(True, help="Run the projector for the athlete after appending."),
) -> None:
    """Validate and append a file of events for one athlete (all or nothing)."""
    console = Console(stderr=True)
    runtime = build_runtime(store_url=store)
    try:
        result = runtime.ingestor.append_json(athlete_id, _read_batch(file), expected_version)
    except OSError as exc:
        console.print(f"[red]cannot read {file}: {exc.strerror}[/]")
        raise typer.Exit(2) from None
    except (InvalidEvent, StoreError) as exc:
        console.print(f"[red]rejected, nothing stored:[/] {exc}")
        raise typer.Exit(1) from None
    note = " (already stored: nothing new)" if result.deduplicated else ""
    console.print(f"stored {len(result.events)} event(s) for {athlete_id}, "
                  f"versions {result.events[0].version}-{result.last_version}{note}")
    if project:
        outcome = pipeline.project_athlete(runtime.store, athlete_id, runtime.policy)
        console.print(f"projected {outcome.events_folded} event(s): {len(outcome.recommendations)} new recommendation(s)")


def view(athlete_id: str = typer.Argument(..., help="The athlete's id."),
         store: str = typer.Option(None, help=STORE_HELP)) -> None:
    """Print the coach's view of an athlete (phase, capacity, load, pain, adherence) as JSON."""
    runtime = build_runtime(store_url=store)
    if runtime.store.stream_version(athlete_id) == 0:
        Console(stderr=True).print(f"[red]no athlete {athlete_id!r} in the store[/]")
        raise typer.Exit(1)
    state = pipeline.current_state(runtime.store, athlete_id, runtime.policy)
    typer.echo(msgspec.json.format(msgspec.json.encode(athlete_view(state, runtime.clock.now())).decode()))


def recommendations(athlete_id: str = typer.Argument(..., help="The athlete's id."),
                    store: str = typer.Option(None, help=STORE_HELP),
                    limit: int = typer.Option(20, min=1, help="Show the latest N.")) -> None:
    """List an athlete's latest recommendations with their rule and explanation."""
    runtime = build_runtime(store_url=store)
    for rec in pipeline.recommendations(runtime.store, athlete_id)[-limit:]:
        typer.echo(f"{rec.decision_time.isoformat()}  {rec.kind:<13} {rec.rule_id:<32} {rec.explanation}")


athletes_app = typer.Typer(help="Athletes: erase (GDPR right to erasure).", no_args_is_help=True)


@athletes_app.command("erase")
def erase(athlete_id: str = typer.Argument(..., help="The athlete's id."),
          store: str = typer.Option(None, help=STORE_HELP),
          yes: bool = typer.Option(False, "--yes", help="Confirm: erasure cannot be undone."),
          redis_url: str = typer.Option(None, "--redis-url", envvar="STRIDELINE_REDIS_URL",
                                        help="Also purge the athlete's Redis stream entries and dead letters.")) -> None:
    """Erase an athlete by crypto-shredding: their data key is destroyed, so every stored event and
    recommendation of theirs becomes unreadable; projections, outboxes and Redis entries are purged."""
    from engine.store.factory import open_store
    from engine.tenancy.erasure import erase_athlete

    console = Console(stderr=True)
    if not yes:
        console.print(f"[red]refusing without --yes:[/] erasing {athlete_id!r} cannot be undone")
        raise typer.Exit(2)
    opened = open_store(store)
    try:
        report = erase_athlete(opened, athlete_id, by_key="cli", redis_url=redis_url or None)
    finally:
        opened.close()
    if report.already_erased:
        console.print(f"{athlete_id} was already erased at {report.erased_at}")
        return
    console.print(f"erased {athlete_id}: {report.events_unreadable} stored event(s) are now unreadable; "
                  f"{report.redis_entries_deleted} Redis entr(y/ies) deleted; later appends answer 410")


def register(app: typer.Typer) -> None:
    app.add_typer(athletes_app, name="athletes")
    app.command("ingest")(ingest)
    app.command("view")(view)
    app.command("recommendations")(recommendations)
