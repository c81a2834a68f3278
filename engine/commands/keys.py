"""`strideline keys create | list | revoke`: API keys for the HTTP API.

    strideline keys create --scope ingest --scope read --name app1   prints the key once
    strideline keys list                                             id, name, scopes, state
    strideline keys revoke ID

Only a SHA-256 hash of each key is stored, in the event store (``--store``, formerly ``--path``;
default ``$STRIDELINE_STORE_URL``). Scopes: ``ingest`` (append events), ``read`` (events, view, recommendations),
``admin`` (everything, including key management over HTTP).
"""

from __future__ import annotations

import typer

from engine.commands.options import chosen, hidden_alias, store_option
from engine.keys import KeyStore, LastAdminKey, UnknownKey

keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)

PathOption = store_option("The event store keys live in: a PostgreSQL URL or a SQLite path "
                          "(default: $STRIDELINE_STORE_URL, then var/strideline.sqlite3).")
PathAlias = hidden_alias("--path")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who or what uses the key (e.g. the app's name)."),
    scope: list[str] = typer.Option(..., "--scope", help="ingest, read or admin; repeat for several."),
    org: str = typer.Option(None, "--org", help="The key's organisation (default: `default`, created if missing)."),
    athlete: list[str] = typer.Option(None, "--athlete", help="Bind the key to these athletes (a caseload); repeat."),
    path: str = PathOption,
    old_path: str = PathAlias,
) -> None:
    """Create a key and print it once (store it now: only its hash is kept)."""
    try:
        issued = KeyStore(chosen(path, old_path)).create(name, scope, org=org, caseload=athlete or None)
    except (ValueError, LookupError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    record = issued.record
    typer.echo(f"created key {record.id} ({record.name}) with scopes: "
               f"{', '.join(s.value for s in record.scopes)}", err=True)
    typer.echo("the key is shown once; send it as `Authorization: Bearer <key>`:", err=True)
    typer.echo(issued.key)


@keys_app.command("list")
def list_keys(path: str = PathOption, old_path: str = PathAlias) -> None:
    """List keys: id, name, scopes, created, revoked (never the secret)."""
    records = KeyStore(chosen(path, old_path)).list()
    if not records:
        typer.echo("no keys yet: `strideline keys create --name NAME --scope read`", err=True)
        return
    for r in records:
        state = f"revoked {r.revoked_at.isoformat()}" if r.revoked_at else "active"
        typer.echo(f"{r.id}  {r.name:<24} {','.join(s.value for s in r.scopes):<20} "
                   f"created {r.created_at.isoformat()}  {state}")


@keys_app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key's id (from `keys list`)."),
           path: str = PathOption, old_path: str = PathAlias) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    try:
        record = KeyStore(chosen(path, old_path)).revoke(key_id)
    except UnknownKey:
        typer.echo(f"error: no key has id {key_id!r}", err=True)
        raise typer.Exit(1) from None
    except LastAdminKey as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {record.id} ({record.name})")
