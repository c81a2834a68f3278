"""`strideline deliveries list | retry | skip`: dead-lettered recommendations, without editing rows.

    strideline deliveries list [--channel C]            what each channel gave up on, and outboxes behind
    strideline deliveries retry ID [--channel C]        send one again now (or --all of a channel)
    strideline deliveries skip ID --channel C           stop trying: drop a dead letter, or pass over a
                                                        recommendation stuck in retries

When a channel gives up on a recommendation (retries exhausted, or refused for good) the worker
passes over it so the next ones flow, and keeps it in that channel's dead-letter ledger in the store
(engine/outbox.py). ``retry`` delivers it with this machine's notifier settings (the same
environment as `strideline worker`: STRIDELINE_WEBHOOK_URL, ...), so run it where the workers'
configuration is. Exit status: 0 done, 1 the receiver still fails or nothing matched, 2 bad usage.
"""

from __future__ import annotations

import uuid

import typer

from engine import outbox
from engine.commands.options import store_option
from engine.metrics import CHANNELS
from events.envelope import RECOMMENDATION_STREAM_SUFFIX

deliveries_app = typer.Typer(help="Dead-lettered deliveries: list them, send them again, or give up on them.",
                             no_args_is_help=True)
ChannelOption = typer.Option(None, "--channel", help=f"One channel: {', '.join(CHANNELS)} (default: all).")


def register(app: typer.Typer) -> None:
    app.add_typer(deliveries_app, name="deliveries")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _channels(channel: str | None) -> tuple[str, ...]:
    if channel is None:
        return CHANNELS
    if channel not in CHANNELS:
        _fail(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}", 2)
    return (channel,)


def _open(store: str | None):
    from engine.clock import SystemClock
    from engine.runtime import open_store

    return open_store(store, SystemClock())


@deliveries_app.command("list")
def list_dead_letters(channel: str = ChannelOption, store: str = store_option()) -> None:
    """List dead-lettered recommendations per channel, and how many outboxes are behind."""
    opened = _open(store)
    try:
        found = 0
        for name in _channels(channel):
            for athlete_id, entry in outbox.dead_letters(opened, name):
                found += 1
                typer.echo(f"{name:<13} {athlete_id:<20} {entry.recommendation_id}  {entry.kind:<13} "
                           f"{entry.at}  {entry.error or '-'}")
        if not found:
            typer.echo("no dead letters", err=True)
        behind: dict[str, int] = {}
        for name, *_ in outbox.lagging_outboxes(opened, _channels(channel)):
            behind[name] = behind.get(name, 0) + 1
        for name, count in sorted(behind.items()):
            typer.echo(f"{name}: {count} athlete outbox(es) still to deliver (the workers are on it)", err=True)
    finally:
        opened.close()


@deliveries_app.command("retry")
def retry(
    recommendation_id: str = typer.Argument(None, help="The recommendation id (from `deliveries list`)."),
    channel: str = ChannelOption,
    all_: bool = typer.Option(False, "--all", help="Every dead letter (of --channel, or of all channels)."),
    store: str = store_option(),
) -> None:
    """Deliver dead-lettered recommendations again, now; each one delivered leaves the list."""
    from workers import notify_config

    if (recommendation_id is None) == (not all_):
        _fail("give one RECOMMENDATION_ID or --all", 2)
    try:
        notifiers, _ = notify_config.load()
    except notify_config.NotifyConfigError as exc:
        _fail(f"notifier settings: {exc}", 2)
    opened = _open(store)
    try:
        if all_:
            targets = [(c, a, e) for c in _channels(channel) for a, e in outbox.dead_letters(opened, c)]
        else:
            found = outbox.find_dead_letter(opened, recommendation_id, _channels(channel))
            if found is None:
                _fail(f"recommendation {recommendation_id} is not a dead letter"
                      + (f" of {channel}" if channel else "") + " (see `strideline deliveries list`)")
            targets = [found]
        if not targets:
            typer.echo("no dead letters to retry", err=True)
        failed = 0
        for name, athlete_id, entry in targets:
            notifier = notifiers.get(name)
            if notifier is None:
                _fail(f"the {name} channel is not configured here (set the same notifier settings as "
                      "the workers, e.g. STRIDELINE_WEBHOOK_URL and STRIDELINE_WEBHOOK_SECRET)", 2)
            try:
                outbox.redeliver(opened, athlete_id, notifier, entry.recommendation_id)
            except Exception as exc:  # noqa: BLE001 - the receiver's answer, reported as is
                failed += 1
                typer.echo(f"still failing: {name} {entry.recommendation_id}: {type(exc).__name__}: {exc}", err=True)
                continue
            typer.echo(f"delivered {name} {entry.recommendation_id} ({athlete_id})")
        if failed:
            raise typer.Exit(1)
    finally:
        opened.close()


@deliveries_app.command("skip")
def skip(
    recommendation_id: str = typer.Argument(..., help="The recommendation id."),
    channel: str = typer.Option(..., "--channel", help=f"The channel to stop trying: {', '.join(CHANNELS)}."),
    store: str = store_option(),
) -> None:
    """Stop trying to deliver one recommendation on one channel (a dead letter, or one stuck in retries)."""
    _channels(channel)
    try:
        rid = uuid.UUID(recommendation_id)
    except ValueError:
        _fail(f"{recommendation_id!r} is not a recommendation id (a UUID)", 2)
    opened = _open(store)
    try:
        stored = opened.get_event(rid)
        if stored is None or not stored.stream.endswith(RECOMMENDATION_STREAM_SUFFIX):
            _fail(f"no recommendation {recommendation_id} in the store")
        athlete_id = stored.stream.removesuffix(RECOMMENDATION_STREAM_SUFFIX)
        try:
            done = outbox.operator_skip(opened, athlete_id, channel, str(rid))
        except LookupError as exc:
            _fail(str(exc))
        typer.echo(f"{channel} {recommendation_id} ({athlete_id}): {done}")
    finally:
        opened.close()
