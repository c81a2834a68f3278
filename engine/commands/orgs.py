"""`strideline orgs create | list | configure | assign`, `strideline keys import` and
`strideline audit ATHLETE`: organisations, the one-time import of an old key file, and who
appended to and read an athlete's data.

    strideline orgs create clinic-a --name "Clinic A"
    strideline orgs configure clinic-a --webhook-url https://a.example/hooks --webhook-secret-env A_SECRET
    strideline keys create --org clinic-a --name coach-app --scope ingest --scope read [--athlete ID ...]
    strideline keys import var/keys.sqlite3 --org clinic-a     once, when upgrading from a key file
    strideline audit ath-0001
"""

from __future__ import annotations

import os

import msgspec
import typer

from engine.commands.keys import keys_app
from engine.store.factory import redact

orgs_app = typer.Typer(help="Organisations: create, list, delivery settings, assign athletes.",
                       no_args_is_help=True)

StoreOption = typer.Option(None, "--store", help=(
    "Event store: a PostgreSQL URL or a SQLite path (default: $STRIDELINE_STORE_URL, then "
    "var/strideline.sqlite3)."))


def register(app: typer.Typer) -> None:
    app.add_typer(orgs_app, name="orgs")
    app.command("audit")(audit_command)
    keys_app.command("import")(import_keys)


def _orgs(store: str | None):
    from engine.keys import KeyStore

    return KeyStore(store)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@orgs_app.command("create")
def create(org_id: str = typer.Argument(..., help="Short id: lowercase letters, digits, '_' or '-'."),
           name: str = typer.Option(None, "--name", help="Display name (default: the id)."),
           store: str = StoreOption) -> None:
    """Create an organisation (a coaching company or a clinic brand)."""
    keys = _orgs(store)
    try:
        org = keys.orgs.create(org_id, name)
    except ValueError as exc:
        _fail(str(exc), 2)
    finally:
        keys.close()
    typer.echo(f"created organisation {org.id} ({org.name})")


@orgs_app.command("list")
def list_orgs(store: str = StoreOption) -> None:
    """List organisations with their delivery settings (never a secret)."""
    keys = _orgs(store)
    try:
        orgs = keys.orgs.list()
    finally:
        keys.close()
    if not orgs:
        typer.echo("no organisations yet: `strideline orgs create ID --name NAME`", err=True)
    for org in orgs:
        from engine.tenancy.webhooks import redact_url

        hook = redact_url(org.webhook_url) if org.webhook_url else "-"
        typer.echo(f"{org.id:<20} {org.name:<30} webhook {hook}  secret {'set' if org.has_webhook_secret else '-'}"
                   f"  stream {org.redis_stream or '-'}")


@orgs_app.command("configure")
def configure(org_id: str = typer.Argument(...),
              webhook_url: str = typer.Option(None, "--webhook-url", help="https:// URL of the org's webhook."),
              webhook_secret_env: str = typer.Option(None, "--webhook-secret-env", help=(
                  "Name of an environment variable holding the secret (at least 32 bytes); "
                  "never pass a secret on the command line.")),
              redis_stream: str = typer.Option(None, "--redis-stream", help="The org's Redis stream name."),
              allow_insecure: bool = typer.Option(False, "--allow-insecure", help=(
                  "Accept http:// and short secrets (a local test receiver only).")),
              store: str = StoreOption) -> None:
    """Set an organisation's webhook URL and secret and its Redis stream."""
    from engine.tenancy.orgs import UnknownOrganisation

    secret = None
    if webhook_secret_env:
        secret = os.environ.get(webhook_secret_env)
        if not secret:
            _fail(f"environment variable {webhook_secret_env} is empty or unset", 2)
    keys = _orgs(store)
    try:
        org = keys.orgs.configure(org_id, webhook_url=webhook_url, webhook_secret=secret,
                                  redis_stream=redis_stream, allow_insecure=allow_insecure)
    except UnknownOrganisation as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc), 2)
    finally:
        keys.close()
    typer.echo(f"configured {org.id}")


@orgs_app.command("assign")
def assign(org_id: str = typer.Argument(...),
           athletes: list[str] = typer.Argument(..., help="Athlete ids appended outside the API."),
           store: str = StoreOption) -> None:
    """Put athletes that have no organisation yet (appended by the CLI or before upgrading) into one."""
    keys = _orgs(store)
    try:
        done = keys.orgs.assign(org_id, athletes)
    except (LookupError, ValueError) as exc:
        _fail(str(exc))
    finally:
        keys.close()
    typer.echo(f"assigned {done} athlete(s) to {org_id}")


def import_keys(path: str = typer.Argument(..., help="The old key file (var/keys.sqlite3)."),
                org: str = typer.Option(None, "--org", help="Organisation of the imported keys (default: default)."),
                store: str = StoreOption) -> None:
    """Copy an old per-host key file's keys (hashes only) into the store, once; then delete the file."""
    keys = _orgs(store)
    try:
        imported = keys.import_key_file(path, org=org)
    except (OSError, LookupError, ValueError) as exc:
        _fail(str(exc))
    finally:
        keys.close()
    typer.echo(f"imported {len(imported)} key(s) into {redact(str(store or '')) or 'the store'}; "
               f"the key file {path} is no longer read: delete it")


def audit_command(athlete_id: str = typer.Argument(..., help="The athlete's id."),
                  store: str = StoreOption,
                  json_out: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Who appended to and who read an athlete's data (key ids, organisations, times, endpoints)."""
    from engine.store.factory import open_store
    from engine.tenancy.audit import audit

    opened = open_store(store)
    try:
        report = audit(opened, athlete_id)
    finally:
        opened.close()
    if json_out:
        typer.echo(msgspec.json.format(msgspec.json.encode(report).decode()))
        return
    state = f"erased {report.erased_at}" if report.erased_at else "live"
    typer.echo(f"athlete {athlete_id}: organisation {report.org_id or '-'}, {state}")
    typer.echo("appended:")
    for a in report.appends:
        who = f"key {a.key_id} ({a.org_id})" if a.key_id else "engine / CLI"
        typer.echo(f"  {who:<34} {a.events:>6} event(s) to {a.stream}  {a.first_recorded_at} .. {a.last_recorded_at}")
    typer.echo("read:")
    for r in report.reads:
        typer.echo(f"  {r.at}  key {r.key_id} ({r.org_id})  {r.action}")
